// overtime_overlap (MISCONDUCT, MEDIUM).
//
// An effective OVERTIME shift overlapping (positive length) an effective SICK or ANNUAL_LEAVE
// shift of the same officer, both as of the overtime shift's end + roster_grace. One alert per
// overtime shift_id, decided once the watermark passes that instant; the window is the overtime
// shift. If the shift's effective version as of that instant has moved its end later, the
// decision waits for the new end + roster_grace; if it has moved it earlier, the shift is decided
// as of the first such instant at which it is effective.
//
// State: one marker per decided overtime shift (so it is decided once), kept as long as the
// roster keeps the shift.
#include "alert_builder.h"
#include "registry.h"

namespace vigil {
namespace {

constexpr char kDecide = 'd';   // timer 'd' officer '\0' shift_id at end + roster_grace
constexpr char kDecided = 'm';  // 'm' officer '\0' shift_id -> "" once decided
constexpr char kForget = 'x';   // timer 'x' officer '\0' shift_id: forget the marker

class OvertimeOverlap final : public Operator {
 public:
  explicit OvertimeOverlap(const v1::RulesConfig& config) : config_(config.overtime_overlap()) {
    info_ = {"overtime_overlap", v1::Alert::MISCONDUCT,
             "An overtime shift that overlaps a sick-leave or annual-leave shift of the same "
             "officer, both as the effective roster stands at the overtime shift's end plus roster "
             "grace. One alert per overtime shift."};
  }

  const RuleInfo& info() const override { return info_; }

  void OnEvent(const state::StoredEvent& event, OperatorContext& ctx) const override {
    if (!event.envelope().has_roster()) return;
    const auto& version = event.envelope().roster();
    if (version.status() != v1::RosterChange::OVERTIME) return;
    ctx.SetTimer(ToMillis(version.end()) + ctx.time().roster_grace,
                 std::string(1, kDecide) +
                     EffectiveRoster::ShiftKey(version.officer_id(), version.shift_id()));
  }

  void OnTimer(Millis at, std::string_view key, std::string_view, OperatorContext& ctx) const override {
    if (key.empty()) return;
    const std::string shift_key(key.substr(1));
    const std::string marker = std::string(1, kDecided) + shift_key;
    if (key[0] == kForget) {
      ctx.state().Delete(marker);
      return;
    }
    if (key[0] != kDecide || ctx.state().Get(marker)) return;
    const size_t split = shift_key.find('\0');
    const std::string officer = shift_key.substr(0, split);
    const std::string shift_id = shift_key.substr(split + 1);

    const EffectiveShift* overtime = nullptr;
    std::vector<EffectiveShift> shifts = ctx.roster().ShiftsAsOf(officer, at);
    for (const auto& s : shifts) {
      if (s.shift_id == shift_id) overtime = &s;
    }
    if (!overtime || overtime->status != v1::RosterChange::OVERTIME) return;
    if (at < overtime->end + ctx.time().roster_grace) return;  // its end moved: decided later

    ctx.state().Put(marker, "");
    ctx.ScheduleCleanup(at + ctx.time().MaxLateness(), std::string(1, kForget) + shift_key);
    std::vector<const EffectiveShift*> leave;
    for (const auto& s : shifts) {
      const auto status = s.status;
      if ((status == v1::RosterChange::SICK || status == v1::RosterChange::ANNUAL_LEAVE) &&
          s.start < overtime->end && overtime->start < s.end) {
        leave.push_back(&s);
      }
    }
    if (!leave.empty()) Alert(officer, *overtime, leave, ctx);
  }

 private:
  void Alert(const std::string& officer, const EffectiveShift& overtime,
             const std::vector<const EffectiveShift*>& leave, OperatorContext& ctx) const {
    const EffectiveShift& first = *leave.front();  // smallest shift_id
    const Millis overlap = std::min(overtime.end, first.end) - std::max(overtime.start, first.start);
    AlertSpec spec;
    spec.rule_id = info_.rule_id;
    spec.kind = info_.kind;
    spec.severity = config_.severity();
    spec.officer_id = officer;
    spec.window_start = overtime.start;
    spec.window_end = overtime.end;
    std::string status = first.status == v1::RosterChange::SICK ? "sick leave" : "annual leave";
    spec.summary = "Officer " + spec.officer_id + " is rostered for overtime shift " +
                   overtime.shift_id + " (" + FormatTime(overtime.start) + " to " +
                   FormatTime(overtime.end) + ") overlapping " + FormatSpan(overlap) + " of " +
                   status + " (shift " + first.shift_id + ")" +
                   (leave.size() > 1 ? " and " + std::to_string(leave.size() - 1) + " more leave shift(s)" : "") +
                   ".";
    spec.evidence.push_back(overtime.ref);
    for (const auto* s : leave) spec.evidence.push_back(s->ref);
    spec.score = static_cast<double>(overlap) / kHour;
    ctx.Emit(BuildAlert(spec));
  }

  v1::OvertimeOverlapConfig config_;
  RuleInfo info_;
};

}  // namespace

std::unique_ptr<Operator> MakeOvertimeOverlap(const v1::RulesConfig& config) {
  return std::make_unique<OvertimeOverlap>(config);
}

}  // namespace vigil
