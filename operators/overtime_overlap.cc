// overtime_overlap (MISCONDUCT, MEDIUM).
//
// An effective OVERTIME shift overlapping (positive length) an effective SICK or ANNUAL_LEAVE
// shift of the same officer, both as of the overtime shift's end + roster_grace. One alert per
// overtime shift_id, decided once the watermark passes that instant; the window is the overtime
// shift. If the shift's effective version as of that instant has moved its end later, the
// decision waits for the new end + roster_grace; if it has moved it earlier, the shift is decided
// as of the first such instant at which it is effective.
//
// New-core port of operators/overtime_overlap.cc (same alerts, id for id). Per officer: the
// decisions due, one per (overtime shift_id, end + roster_grace) of each OVERTIME version, with one
// timer per distinct instant; and the shifts decided, each kept for the largest allowed lateness
// after its decision so that it is decided once.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "events.pb.h"
#include "registry.h"
#include "runtime/rule.h"
#include "state/byte_codec.h"

namespace vigil {
namespace {

constexpr uint32_t kDecideTag = 0;  // decide the shifts due at this instant
constexpr uint32_t kForgetTag = 1;  // cleanup: forget decided shifts whose time has come

bool IsLeave(int32_t s) { return s == v1::RosterChange::SICK || s == v1::RosterChange::ANNUAL_LEAVE; }

// One officer's memory.
class OvertimeState final : public RuleState {
 public:
  struct Due {
    Millis at = 0;  // the version's end + roster_grace
    IdString shift_id;
  };
  std::vector<Due> due;         // sorted by (at, shift_id), each once: the old core's timer order
  rulekit::ShiftMarks decided;  // until the decision + the largest allowed lateness

  void AddDue(Millis at, std::string_view shift_id);
  void Encode(std::string& out) const override;
  bool Decode(std::string_view bytes) override;
  bool empty() const override { return due.empty() && decided.empty(); }
  size_t MemoryBytes() const override;
};

bool DueBefore(const OvertimeState::Due& a, const OvertimeState::Due& b) {
  return a.at != b.at ? a.at < b.at : a.shift_id < b.shift_id;
}

void OvertimeState::AddDue(Millis at, std::string_view shift_id) {
  Due added{at, IdString(shift_id)};
  auto place = std::lower_bound(due.begin(), due.end(), added, DueBefore);
  if (place != due.end() && place->at == at && place->shift_id == added.shift_id) return;
  due.insert(place, std::move(added));
}

// Format: due decisions (times as deltas from the previous one's), then the decided shifts.
void OvertimeState::Encode(std::string& out) const {
  ByteWriter w(out);
  w.U64(due.size());
  Millis previous = 0;
  for (const Due& d : due) {
    w.I64(d.at - previous);
    w.Bytes(d.shift_id.view());
    previous = d.at;
  }
  decided.Encode(w);
}

bool OvertimeState::Decode(std::string_view bytes) {
  ByteReader r(bytes);
  uint64_t n;
  if (!r.U64(&n) || n > bytes.size()) return false;
  due.resize(n);
  Millis previous = 0;
  for (Due& d : due) {
    int64_t delta;
    std::string_view id;
    if (!r.I64(&delta) || !r.Bytes(&id)) return false;
    d.at = previous + delta;
    d.shift_id.Assign(id);
    previous = d.at;
  }
  return decided.Decode(r) && r.done();
}

size_t OvertimeState::MemoryBytes() const {
  size_t bytes = due.capacity() * sizeof(Due) + decided.MemoryBytes();
  for (const Due& d : due) bytes += rulekit::HeapBytes(d.shift_id);
  return bytes;
}

class OvertimeOverlap final : public Rule {
 public:
  explicit OvertimeOverlap(const v1::RulesConfig& config) : config_(config.overtime_overlap()) {
    info_ = {"overtime_overlap", v1::Alert::MISCONDUCT,
             "An overtime shift that overlaps a sick-leave or annual-leave shift of the same "
             "officer, both as the effective roster stands at the overtime shift's end plus roster "
             "grace. One alert per overtime shift."};
  }

  const RuleInfo& info() const override { return info_; }
  uint32_t streams() const override { return StreamBit(Stream::kRoster); }
  std::unique_ptr<RuleState> NewState() const override { return std::make_unique<OvertimeState>(); }

  void OnEvent(const EventView& event, RuleContext& ctx) const override {
    if (!event.is_roster() || event.status != v1::RosterChange::OVERTIME) return;
    const Millis at = event.end + ctx.time().roster_grace;
    ctx.Mutable<OvertimeState>().AddDue(at, event.shift_id);
    ctx.SetTimer(at, kDecideTag);
  }

  void OnTimer(Millis at, uint32_t tag, RuleContext& ctx) const override {
    const OvertimeState* found = ctx.Find<OvertimeState>();
    if (!found) return;
    if (tag == kForgetTag) {
      if (found->decided.AnyDue(at)) ctx.Mutable<OvertimeState>().decided.ForgetDue(at);
      return;
    }
    if (found->due.empty() || found->due.front().at > at) return;
    // Each decision as of its own instant, in (instant, shift_id) order: the old core's order.
    OvertimeState& state = ctx.Mutable<OvertimeState>();
    size_t done = 0;
    for (; done < state.due.size() && state.due[done].at <= at; ++done) {
      Decide(state.due[done].at, state.due[done].shift_id, state, ctx);
    }
    state.due.erase(state.due.begin(), state.due.begin() + static_cast<std::ptrdiff_t>(done));
  }

 private:
  // Decide writes state.decided only, so `shift_id` (in state.due) stays valid.
  void Decide(Millis at, std::string_view shift_id, OvertimeState& state, RuleContext& ctx) const {
    if (state.decided.Has(shift_id)) return;
    ctx.roster().ShiftsAsOf(at, &shifts_);
    auto overtime = std::find_if(shifts_.begin(), shifts_.end(),
                                 [&](const EffectiveShiftView& s) { return s.shift_id == shift_id; });
    if (overtime == shifts_.end() || overtime->status != v1::RosterChange::OVERTIME) return;
    if (at < overtime->end + ctx.time().roster_grace) return;  // its end moved: decided later

    state.decided.Add(shift_id, at + ctx.time().MaxLateness());
    ctx.ScheduleCleanup(at + ctx.time().MaxLateness(), kForgetTag);
    leave_.clear();
    for (const EffectiveShiftView& s : shifts_) {
      if (IsLeave(s.status) && s.start < overtime->end && overtime->start < s.end) {
        leave_.push_back(&s);
      }
    }
    if (!leave_.empty()) ctx.Emit(MakeAlert(*overtime, ctx));
  }

  RuleAlert MakeAlert(const EffectiveShiftView& overtime, RuleContext& ctx) const {
    const EffectiveShiftView& first = *leave_.front();  // smallest shift_id
    const Millis overlap = std::min(overtime.end, first.end) - std::max(overtime.start, first.start);
    RuleAlert alert = NewAlert(info_, config_.severity(), ctx.officer_id());
    alert.window_start = overtime.start;
    alert.window_end = overtime.end;
    const std::string status = first.status == v1::RosterChange::SICK ? "sick leave" : "annual leave";
    const std::string more =
        leave_.size() > 1 ? " and " + std::to_string(leave_.size() - 1) + " more leave shift(s)" : "";
    alert.summary = "Officer " + alert.officer_id + " is rostered for overtime shift " +
                    std::string(overtime.shift_id) + " (" + FormatTime(overtime.start) + " to " +
                    FormatTime(overtime.end) + ") overlapping " + FormatSpan(overlap) + " of " +
                    status + " (shift " + std::string(first.shift_id) + ")" + more + ".";
    alert.evidence.push_back(*overtime.ref);
    for (const EffectiveShiftView* s : leave_) alert.evidence.push_back(*s->ref);
    alert.score = static_cast<double>(overlap) / kHour;
    return alert;
  }

  v1::OvertimeOverlapConfig config_;
  RuleInfo info_;
  // Reused by every decision (the core is single-threaded): no allocation per decision.
  mutable std::vector<EffectiveShiftView> shifts_;
  mutable std::vector<const EffectiveShiftView*> leave_;
};

}  // namespace

const RuleDescriptor kOvertimeOverlapRule = {
    "overtime_overlap",
    v1::Alert::MISCONDUCT,
    [](const v1::RulesConfig& config) { return config.overtime_overlap().enabled(); },
    [](const v1::RulesConfig& config) -> std::unique_ptr<Rule> {
      return std::make_unique<OvertimeOverlap>(config);
    },
};

}  // namespace vigil
