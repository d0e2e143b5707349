// off_duty_access (MISCONDUCT).
//
// A SEARCH, RECORD_VIEW or LOGIN at t while the effective roster (as of t + roster_grace) covers t
// with REST_DAY, ANNUAL_LEAVE or SICK and with no ON_DUTY or OVERTIME shift. One alert per
// (officer, covering off-duty shift_id; the smallest if several), taken at the first qualifying
// access in event-time order: HIGH if SICK covers that access, else MEDIUM; window_start =
// window_end = its time. Each access is decided once the watermark passes t + roster_grace.
#include <algorithm>

#include "alert_builder.h"
#include "count_window.h"
#include "registry.h"

namespace vigil {
namespace {

// Accesses wait, per officer, in one list under 'q' officer with one timer at the earliest one's
// decision time (rather than a timer per access: an officer makes dozens of accesses a shift).
constexpr char kQueue = 'q';   // state and timer key: 'q' officer -> PendingAccesses
constexpr char kForget = 'x';  // timer: forget that a shift was alerted (key: 'x' shift key)

bool CountsAsUse(v1::AccessEvent::Action action) {
  return action == v1::AccessEvent::SEARCH || action == v1::AccessEvent::RECORD_VIEW ||
         action == v1::AccessEvent::LOGIN;
}

bool IsOffDuty(v1::RosterChange::Status s) {
  return s == v1::RosterChange::REST_DAY || s == v1::RosterChange::ANNUAL_LEAVE ||
         s == v1::RosterChange::SICK;
}

bool IsWorking(v1::RosterChange::Status s) {
  return s == v1::RosterChange::ON_DUTY || s == v1::RosterChange::OVERTIME;
}

std::string StatusName(v1::RosterChange::Status s) {
  std::string name = v1::RosterChange::Status_Name(s);
  for (char& c : name) c = c == '_' ? ' ' : static_cast<char>(std::tolower(c));
  return name;
}

class OffDutyAccess final : public Operator {
 public:
  explicit OffDutyAccess(const v1::RulesConfig& config) : config_(config.off_duty_access()) {
    info_ = {"off_duty_access", v1::Alert::MISCONDUCT,
             "A search, record view or log-in while the officer's effective roster (as of the "
             "access plus roster grace) shows rest day, annual leave or sick leave and no on-duty "
             "or overtime shift. One alert per off-duty shift, at its first such access: HIGH "
             "when on sick leave, MEDIUM otherwise."};
  }

  const RuleInfo& info() const override { return info_; }

  void OnEvent(const state::StoredEvent& event, OperatorContext& ctx) const override {
    if (!event.envelope().has_access()) return;
    const auto& access = event.envelope().access();
    if (!CountsAsUse(access.action())) return;
    const std::string key = std::string(1, kQueue) + access.officer_id();
    auto& queue = *ctx.state().Mutable<state::PendingAccesses>(key).mutable_accesses();
    state::PendingAccess pending;
    *pending.mutable_ref() = event.ref();
    pending.set_action(access.action());
    pending.set_system(access.system());
    auto by_time = [](const auto& a, const auto& b) { return EventBefore(a.ref(), b.ref()); };
    const auto position =
        std::upper_bound(queue.begin(), queue.end(), pending, by_time) - queue.begin();
    queue.Add(std::move(pending));  // then moved into place (Add may move the elements' array)
    std::rotate(queue.begin() + position, queue.end() - 1, queue.end());
    if (position == 0) ctx.SetTimer(DecisionTime(queue[0], ctx), key);
  }

  void OnTimer(Millis at, std::string_view key, std::string_view,
               OperatorContext& ctx) const override {
    if (key.empty()) return;
    if (key[0] == kForget) {
      ctx.state().Delete(key.substr(1));
      return;
    }
    const state::PendingAccesses* queue = ctx.state().Find<state::PendingAccesses>(key);
    if (key[0] != kQueue || !queue) return;
    // Decides, oldest first, the accesses due at `at`: every roster version that counts for them
    // (changed_at <= time + grace) has been delivered by now. Decide writes only other keys, so
    // `queue` stays valid.
    const std::string officer_id(key.substr(1));
    int decided = 0;
    while (decided < queue->accesses_size() && DecisionTime(queue->accesses(decided), ctx) <= at) {
      Decide(officer_id, queue->accesses(decided++), ctx);
    }
    if (decided == queue->accesses_size()) {
      ctx.state().Delete(key);
      return;
    }
    auto& left = *ctx.state().Mutable<state::PendingAccesses>(key).mutable_accesses();
    left.DeleteSubrange(0, decided);
    ctx.SetTimer(DecisionTime(left[0], ctx), key);
  }

 private:
  static Millis DecisionTime(const state::PendingAccess& access, OperatorContext& ctx) {
    return access.ref().time_ms() + ctx.time().roster_grace;
  }

  void Decide(const std::string& officer_id, const state::PendingAccess& access,
              OperatorContext& ctx) const {
    const Millis t = access.ref().time_ms();
    const Millis as_of = t + ctx.time().roster_grace;
    std::vector<EffectiveShift> covering = ctx.roster().Covering(officer_id, t, as_of);
    const EffectiveShift* off_shift = nullptr;  // smallest shift_id: Covering() is ordered
    bool sick = false;
    for (const auto& shift : covering) {
      if (IsWorking(shift.status)) return;
      if (!IsOffDuty(shift.status)) continue;
      if (!off_shift) off_shift = &shift;
      sick = sick || shift.status == v1::RosterChange::SICK;
    }
    if (!off_shift) return;
    std::string marker = EffectiveRoster::ShiftKey(officer_id, off_shift->shift_id);
    if (ctx.state().Get(marker)) return;  // this shift already has its alert
    ctx.state().Put(marker, "");
    ctx.ScheduleCleanup(off_shift->end + ctx.time().roster_grace + ctx.time().MaxLateness(),
                        std::string(1, kForget) + marker);

    AlertSpec spec;
    spec.rule_id = info_.rule_id;
    spec.kind = info_.kind;
    spec.severity = config_.has_severity() ? config_.severity()
                                           : (sick ? v1::Alert::HIGH : v1::Alert::MEDIUM);
    spec.officer_id = officer_id;
    spec.window_start = spec.window_end = t;
    const auto action = static_cast<v1::AccessEvent::Action>(access.action());
    spec.summary = "Officer " + officer_id + " made a " + v1::AccessEvent::Action_Name(action) +
                   " on " +
                   (access.system().empty() ? "a force system" : access.system()) + " at " +
                   FormatTime(t) + " while rostered " + StatusName(off_shift->status) +
                   " (shift " + off_shift->shift_id + ") with no duty shift.";
    spec.evidence = {access.ref(), off_shift->ref};
    spec.score = 1;
    ctx.Emit(BuildAlert(spec));
  }

  v1::OffDutyAccessConfig config_;
  RuleInfo info_;
};

}  // namespace

std::unique_ptr<Operator> MakeOffDutyAccess(const v1::RulesConfig& config) {
  return std::make_unique<OffDutyAccess>(config);
}

}  // namespace vigil
