// sensitive_complaint_pattern (MISCONDUCT, HIGH).
//
// At least min_complaints (2) complaints against an officer in one of `categories`
// (SEXUAL_MISCONDUCT, ABUSE_OF_POSITION) within window (365 days), by received_at. Key: the
// officer. window_start/window_end are the first and last complaint counted; after an alert, the
// complaints up to and including its window_end no longer count towards the next alert for the
// same officer. Decided at each such complaint in event-time order (CountWindow).
#include <set>

#include "alert_builder.h"
#include "count_window.h"
#include "registry.h"

namespace vigil {
namespace {

std::string CategoryName(int category) {
  std::string name = v1::Complaint::Category_Name(static_cast<v1::Complaint::Category>(category));
  for (char& c : name) c = c == '_' ? ' ' : static_cast<char>(std::tolower(c));
  return name;
}

class SensitiveComplaintPattern final : public Operator {
 public:
  explicit SensitiveComplaintPattern(const v1::RulesConfig& config)
      : config_(config.sensitive_complaint_pattern()),
        window_(config_.window_days() * kDay, config_.min_complaints()),
        categories_(config_.categories().begin(), config_.categories().end()) {
    info_ = {"sensitive_complaint_pattern", v1::Alert::MISCONDUCT,
             "At least minComplaints complaints against one officer in the sensitive categories "
             "(by default sexual misconduct and abuse of position) received within windowDays. "
             "After an alert, the complaints it counted no longer count towards the next one for "
             "that officer."};
    for (int category : categories_) {
      if (!category_names_.empty()) category_names_ += " or ";
      category_names_ += CategoryName(category);
    }
  }

  const RuleInfo& info() const override { return info_; }

  void OnEvent(const state::StoredEvent& event, OperatorContext& ctx) const override {
    if (!event.envelope().has_complaint()) return;
    const auto& complaint = event.envelope().complaint();
    if (!categories_.count(complaint.category())) return;
    const std::string& officer = complaint.officer_id();
    if (auto counted = window_.AddAt(ctx, officer, event.ref(), ctx.time().complaint_lateness)) {
      Alert(officer, *counted, ctx);
    }
  }

  void OnTimer(Millis, std::string_view key, std::string_view, OperatorContext& ctx) const override {
    window_.ExpireAt(ctx, key, ctx.time().complaint_lateness);
  }

 private:
  void Alert(const std::string& officer, const std::vector<state::EventRef>& counted,
             OperatorContext& ctx) const {
    AlertSpec spec;
    spec.rule_id = info_.rule_id;
    spec.kind = info_.kind;
    spec.severity = config_.severity();
    spec.officer_id = officer;
    SetCounted(spec, counted);
    spec.summary = "Officer " + officer + " received " + std::to_string(counted.size()) +
                   " complaints of " + category_names_ + " in " +
                   FormatSpan(spec.window_end - spec.window_start) + " (" +
                   FormatTime(spec.window_start) + " to " + FormatTime(spec.window_end) + ").";
    ctx.Emit(BuildAlert(spec));
  }

  v1::SensitiveComplaintPatternConfig config_;
  CountWindow window_;
  std::set<int> categories_;
  std::string category_names_;
  RuleInfo info_;
};

}  // namespace

std::unique_ptr<Operator> MakeSensitiveComplaintPattern(const v1::RulesConfig& config) {
  return std::make_unique<SensitiveComplaintPattern>(config);
}

}  // namespace vigil
