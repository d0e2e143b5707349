// repeated_subject_lookup (MISCONDUCT, MEDIUM).
//
// At least min_lookups (3) SEARCH/RECORD_VIEW of the same subject_id with an empty case_ref within
// window (30 days). Key (officer, subject); window_start/window_end are the first and last lookup
// counted; after an alert, lookups up to and including its window_end no longer count towards the
// next alert for the same key.
#include "alert_builder.h"
#include "count_window.h"
#include "registry.h"

namespace vigil {
namespace {

class RepeatedSubjectLookup final : public Operator {
 public:
  explicit RepeatedSubjectLookup(const v1::RulesConfig& config)
      : config_(config.repeated_subject_lookup()),
        window_(config_.window_days() * kDay, config_.min_lookups()) {
    info_ = {"repeated_subject_lookup", v1::Alert::MISCONDUCT,
             "At least minLookups searches or record views of the same person without a case "
             "reference within windowDays, by one officer. After an alert, the look-ups it "
             "counted no longer count towards the next one for that officer and subject."};
  }

  const RuleInfo& info() const override { return info_; }

  void OnEvent(const state::StoredEvent& event, OperatorContext& ctx) const override {
    if (!event.envelope().has_access()) return;
    const auto& access = event.envelope().access();
    if (!IsSubjectLookup(access) || !access.case_ref().empty()) return;
    std::string key = access.officer_id() + '\0' + access.subject_id();
    if (auto counted = window_.AddAt(ctx, key, event.ref(), ctx.time().access_lateness)) {
      Alert(access, *counted, ctx);
    }
  }

  void OnTimer(Millis, std::string_view key, std::string_view, OperatorContext& ctx) const override {
    window_.ExpireAt(ctx, key, ctx.time().access_lateness);
  }

 private:
  void Alert(const v1::AccessEvent& access, const std::vector<state::EventRef>& counted,
             OperatorContext& ctx) const {
    AlertSpec spec;
    spec.rule_id = info_.rule_id;
    spec.kind = info_.kind;
    spec.severity = config_.severity();
    spec.officer_id = access.officer_id();
    spec.subject_id = access.subject_id();
    SetCounted(spec, counted);
    spec.summary = "Officer " + access.officer_id() + " made " + std::to_string(counted.size()) +
                   " look-ups of subject " + access.subject_id() +
                   " without a case reference in " +
                   FormatSpan(spec.window_end - spec.window_start) + " (" +
                   FormatTime(spec.window_start) + " to " + FormatTime(spec.window_end) + ").";
    ctx.Emit(BuildAlert(spec));
  }

  v1::RepeatedSubjectLookupConfig config_;
  CountWindow window_;
  RuleInfo info_;
};

}  // namespace

std::unique_ptr<Operator> MakeRepeatedSubjectLookup(const v1::RulesConfig& config) {
  return std::make_unique<RepeatedSubjectLookup>(config);
}

}  // namespace vigil
