// complaint_accumulation (MISCONDUCT, MEDIUM).
//
// At least min_complaints (3) complaints against an officer within window (365 days), by
// received_at; every Complaint event is one complaint. Key: the officer. window_start/window_end
// are the first and last complaint counted; after an alert, the complaints up to and including its
// window_end no longer count towards the next alert for the same officer. Decided at each
// complaint as it is delivered in event-time order (CountWindow).
#include "alert_builder.h"
#include "count_window.h"
#include "registry.h"

namespace vigil {
namespace {

class ComplaintAccumulation final : public Operator {
 public:
  explicit ComplaintAccumulation(const v1::RulesConfig& config)
      : config_(config.complaint_accumulation()),
        window_(config_.window_days() * kDay, config_.min_complaints()) {
    info_ = {"complaint_accumulation", v1::Alert::MISCONDUCT,
             "At least minComplaints complaints against one officer, of any category, received "
             "within windowDays. After an alert, the complaints it counted no longer count "
             "towards the next one for that officer."};
  }

  const RuleInfo& info() const override { return info_; }

  void OnEvent(const state::StoredEvent& event, OperatorContext& ctx) const override {
    if (!event.envelope().has_complaint()) return;
    const std::string& officer = event.envelope().complaint().officer_id();
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
                   " complaints in " + FormatSpan(spec.window_end - spec.window_start) + " (" +
                   FormatTime(spec.window_start) + " to " + FormatTime(spec.window_end) +
                   "), at least " + std::to_string(config_.min_complaints()) + " within " +
                   std::to_string(config_.window_days()) + " days.";
    ctx.Emit(BuildAlert(spec));
  }

  v1::ComplaintAccumulationConfig config_;
  CountWindow window_;
  RuleInfo info_;
};

}  // namespace

std::unique_ptr<Operator> MakeComplaintAccumulation(const v1::RulesConfig& config) {
  return std::make_unique<ComplaintAccumulation>(config);
}

}  // namespace vigil
