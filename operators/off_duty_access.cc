// off_duty_access (MISCONDUCT).
//
// A SEARCH, RECORD_VIEW or LOGIN at t while the effective roster (as of t + roster_grace) covers t
// with REST_DAY, ANNUAL_LEAVE or SICK and with no ON_DUTY or OVERTIME shift. One alert per
// (officer, covering off-duty shift_id; the smallest if several), taken at the first qualifying
// access in event-time order: HIGH if SICK covers that access, else MEDIUM; window_start =
// window_end = its time. Each access is decided once the watermark passes t + roster_grace.
//
// New-core port of operators/off_duty_access.cc (same alerts, id for id). Per officer: the
// accesses waiting for their decision, oldest first, with one timer at the oldest one's decision
// time (not a timer per access: an officer makes dozens of accesses a shift), and the off-duty
// shifts already alerted, each forgotten by a cleanup timer once no decision can ask about it.
#include <algorithm>
#include <cctype>
#include <memory>
#include <string>
#include <vector>

#include "events.pb.h"
#include "registry.h"
#include "runtime/core.h"
#include "rulekit/codec.h"
#include "runtime/rule.h"
#include "state/byte_codec.h"

namespace vigil {
namespace {

constexpr uint32_t kDecideTag = 0;  // the oldest pending access's decision time
constexpr uint32_t kForgetTag = 1;  // cleanup: forget alerted shifts whose time has come

bool CountsAsUse(int32_t action) {
  return action == v1::AccessEvent::SEARCH || action == v1::AccessEvent::RECORD_VIEW ||
         action == v1::AccessEvent::LOGIN;
}

bool IsOffDuty(int32_t s) {
  return s == v1::RosterChange::REST_DAY || s == v1::RosterChange::ANNUAL_LEAVE ||
         s == v1::RosterChange::SICK;
}

constexpr uint32_t kOffDutyBits = OfficerRoster::StatusBit(v1::RosterChange::REST_DAY) |
                                  OfficerRoster::StatusBit(v1::RosterChange::ANNUAL_LEAVE) |
                                  OfficerRoster::StatusBit(v1::RosterChange::SICK);

bool IsWorking(int32_t s) { return s == v1::RosterChange::ON_DUTY || s == v1::RosterChange::OVERTIME; }

std::string StatusName(int32_t s) {
  std::string name = v1::RosterChange::Status_Name(static_cast<v1::RosterChange::Status>(s));
  for (char& c : name) c = c == '_' ? ' ' : static_cast<char>(std::tolower(c));
  return name;
}

// One officer's memory.
class OffDutyState final : public RuleState {
 public:
  struct Pending {
    Ref ref;
    uint16_t system = 0;  // index into systems
    uint8_t action = 0;
  };
  // pending[head..] are the accesses waiting for their decision, sorted by (time, event_id); those
  // before `head` are decided, kept until they are half the vector so that deciding the oldest
  // moves nothing (an erase at the front per decision moved every access still waiting).
  std::vector<Pending> pending;
  size_t head = 0;
  std::vector<IdString> systems;  // the system names of pending accesses, each once
  // Off-duty shifts that have had their alert, until their end + roster_grace + the largest
  // allowed lateness.
  rulekit::ShiftMarks alerted;

  bool waiting() const { return head < pending.size(); }
  const Pending& oldest() const { return pending[head]; }
  // Index of `system` in systems, added if new; names no pending access uses are dropped first
  // when the list is full (an officer uses a few systems, so this is rare).
  uint16_t SystemIndex(std::string_view system);
  // Inserts an access in order; true if it is now the oldest waiting.
  bool Insert(Pending access);
  // After decisions of the `decided` oldest accesses waiting.
  void DropDecided(size_t decided);

  void Encode(std::string& out) const override;
  bool Decode(std::string_view bytes) override;
  bool empty() const override { return !waiting() && alerted.empty(); }
  size_t MemoryBytes() const override {
    return pending.capacity() * sizeof(Pending) + systems.capacity() * sizeof(IdString) +
           id_heap_bytes_ + alerted.MemoryBytes();
  }

 private:
  static constexpr size_t kMaxSystems = 64;
  void CompactSystems();
  void EraseDecided();  // the accesses before head
  size_t id_heap_bytes_ = 0;  // heap bytes of the long ids in pending and systems
};

uint16_t OffDutyState::SystemIndex(std::string_view system) {
  for (size_t i = 0; i < systems.size(); ++i) {
    if (systems[i].view() == system) return static_cast<uint16_t>(i);
  }
  if (systems.size() >= kMaxSystems) CompactSystems();
  systems.emplace_back(system);
  id_heap_bytes_ += rulekit::HeapBytes(systems.back());
  return static_cast<uint16_t>(systems.size() - 1);
}

bool OffDutyState::Insert(Pending access) {
  id_heap_bytes_ += rulekit::HeapBytes(access.ref.event_id);
  const auto first = pending.begin() + static_cast<std::ptrdiff_t>(head);
  // Accesses mostly come in order: the place is usually the end.
  if (first == pending.end() || !RefBefore(access.ref, pending.back().ref)) {
    pending.push_back(std::move(access));
    return pending.size() - 1 == head;
  }
  auto by_time = [](const Pending& a, const Pending& b) { return RefBefore(a.ref, b.ref); };
  auto at = std::upper_bound(first, pending.end(), access, by_time);
  const bool is_oldest = at == first;
  pending.insert(at, std::move(access));
  return is_oldest;
}

void OffDutyState::EraseDecided() {
  if (head == 0) return;
  const auto end = pending.begin() + static_cast<std::ptrdiff_t>(head);
  if (id_heap_bytes_ != 0) {
    for (auto it = pending.begin(); it != end; ++it) id_heap_bytes_ -= rulekit::HeapBytes(it->ref.event_id);
  }
  pending.erase(pending.begin(), end);
  head = 0;
}

void OffDutyState::CompactSystems() {
  EraseDecided();
  std::vector<IdString> used;
  std::vector<int> renumbered(systems.size(), -1);
  for (Pending& p : pending) {
    if (renumbered[p.system] < 0) {
      renumbered[p.system] = static_cast<int>(used.size());
      used.push_back(systems[p.system]);
    }
    p.system = static_cast<uint16_t>(renumbered[p.system]);
  }
  for (const IdString& s : systems) id_heap_bytes_ -= rulekit::HeapBytes(s);
  for (const IdString& s : used) id_heap_bytes_ += rulekit::HeapBytes(s);
  systems = std::move(used);
}

void OffDutyState::DropDecided(size_t decided) {
  head += decided;
  if (head == pending.size()) {
    // An empty queue needs no names; the vector keeps its capacity.
    pending.clear();
    head = 0;
    systems.clear();
    id_heap_bytes_ = 0;
  } else if (head * 2 >= pending.size()) {
    EraseDecided();  // moves fewer accesses than were decided since the last time: amortized O(1)
  }
}

// Format: systems; pending accesses (times as deltas from the previous one's); alerted shifts.
void OffDutyState::Encode(std::string& out) const {
  ByteWriter w(out);
  w.U64(systems.size());
  for (const IdString& s : systems) w.Bytes(s.view());
  w.U64(pending.size() - head);
  rulekit::PutRefs(
      w, rulekit::Span<Pending>(pending.data() + head, pending.size() - head), 0,
      2 * rulekit::kMaxVarint, [](const Pending& p) -> const Ref& { return p.ref; },
      [](char* p, const Pending& access) {
        p = rulekit::PutU64(p, access.system);
        return rulekit::PutU64(p, access.action);
      });
  alerted.Encode(w);
}

bool OffDutyState::Decode(std::string_view bytes) {
  ByteReader r(bytes);
  uint64_t n;
  std::string_view text;
  head = 0;
  id_heap_bytes_ = 0;
  if (!r.U64(&n) || n > kMaxSystems) return false;
  systems.resize(n);
  for (IdString& s : systems) {
    if (!r.Bytes(&text)) return false;
    s.Assign(text);
    id_heap_bytes_ += rulekit::HeapBytes(s);
  }
  if (!r.U64(&n) || n > bytes.size()) return false;
  pending.resize(n);
  Millis previous = 0;
  for (Pending& p : pending) {
    uint64_t system, action;
    if (!r.ReadRef(&p.ref, previous) || !r.U64(&system) || !r.U64(&action)) return false;
    if (system >= systems.size() || action > 0xff) return false;
    p.system = static_cast<uint16_t>(system);
    p.action = static_cast<uint8_t>(action);
    previous = p.ref.time;
    id_heap_bytes_ += rulekit::HeapBytes(p.ref.event_id);
  }
  return alerted.Decode(r) && r.done();
}

class OffDutyAccess final : public Rule {
 public:
  explicit OffDutyAccess(const v1::RulesConfig& config) : config_(config.off_duty_access()) {
    info_ = {"off_duty_access", v1::Alert::MISCONDUCT,
             "A search, record view or log-in while the officer's effective roster (as of the "
             "access plus roster grace) shows rest day, annual leave or sick leave and no on-duty "
             "or overtime shift. One alert per off-duty shift, at its first such access: HIGH "
             "when on sick leave, MEDIUM otherwise."};
  }

  const RuleInfo& info() const override { return info_; }
  uint32_t streams() const override { return StreamBit(Stream::kAccess); }
  std::unique_ptr<RuleState> NewState() const override { return std::make_unique<OffDutyState>(); }

  void OnEvent(const EventView& event, RuleContext& ctx) const override {
    if (!event.is_access() || !CountsAsUse(event.action)) return;
    OffDutyState& state = ctx.Mutable<OffDutyState>();
    OffDutyState::Pending pending;
    pending.ref = RefOf(event);
    pending.action = static_cast<uint8_t>(event.action);
    pending.system = state.SystemIndex(event.system);
    if (state.Insert(std::move(pending))) {
      ctx.SetTimer(DecisionTime(state.oldest(), ctx), kDecideTag);
    }
  }

  void OnTimer(Millis at, uint32_t tag, RuleContext& ctx) const override {
    const OffDutyState* found = ctx.Find<OffDutyState>();
    if (!found) return;
    if (tag == kForgetTag) return Forget(at, *found, ctx);
    // An earlier timer of accesses already decided finds nothing due: the state stays unchanged.
    if (!found->waiting() || DecisionTime(found->oldest(), ctx) > at) return;
    // Decides, oldest first, the accesses due at `at`: every roster version that counts for them
    // (changed_at <= time + grace) has been delivered by now.
    OffDutyState& state = ctx.Mutable<OffDutyState>();
    const Millis grace = ctx.time().roster_grace;
    // An access that no off-duty version covers (the usual case) cannot alert: no Covering().
    const OfficerRoster& roster = ctx.roster();
    size_t decided = state.head;
    while (decided < state.pending.size() && state.pending[decided].ref.time + grace <= at) {
      const OffDutyState::Pending& access = state.pending[decided];
      if (roster.MayCover(access.ref.time, kOffDutyBits)) Decide(access, state, ctx);
      ++decided;
    }
    state.DropDecided(decided - state.head);
    if (state.waiting()) ctx.SetTimer(DecisionTime(state.oldest(), ctx), kDecideTag);
  }

 private:
  static Millis DecisionTime(const OffDutyState::Pending& access, RuleContext& ctx) {
    return access.ref.time + ctx.time().roster_grace;
  }

  static void Forget(Millis at, const OffDutyState& found, RuleContext& ctx) {
    if (found.alerted.AnyDue(at)) ctx.Mutable<OffDutyState>().alerted.ForgetDue(at);
  }

  // Decide writes state.alerted only, so `access` (in state.pending) stays valid.
  void Decide(const OffDutyState::Pending& access, OffDutyState& state, RuleContext& ctx) const {
    const Millis t = access.ref.time;
    ctx.roster().Covering(t, t + ctx.time().roster_grace, &covering_);
    const EffectiveShiftView* off_shift = nullptr;  // smallest shift_id: Covering() is ordered
    bool sick = false;
    for (const auto& shift : covering_) {
      if (IsWorking(shift.status)) return;
      if (!IsOffDuty(shift.status)) continue;
      if (!off_shift) off_shift = &shift;
      sick = sick || shift.status == v1::RosterChange::SICK;
    }
    if (!off_shift || state.alerted.Has(off_shift->shift_id)) return;
    const Millis forget_at = off_shift->end + ctx.time().roster_grace + ctx.time().MaxLateness();
    state.alerted.Add(off_shift->shift_id, forget_at);
    ctx.ScheduleCleanup(forget_at, kForgetTag);
    ctx.Emit(MakeAlert(access, state.systems[access.system], *off_shift, sick, ctx));
  }

  RuleAlert MakeAlert(const OffDutyState::Pending& access, std::string_view system,
                      const EffectiveShiftView& off_shift, bool sick, RuleContext& ctx) const {
    const v1::Alert::Severity severity =
        config_.has_severity() ? config_.severity() : (sick ? v1::Alert::HIGH : v1::Alert::MEDIUM);
    RuleAlert alert = NewAlert(info_, severity, ctx.officer_id());
    const Millis t = access.ref.time;
    alert.window_start = alert.window_end = t;
    const auto action = static_cast<v1::AccessEvent::Action>(access.action);
    alert.summary = "Officer " + alert.officer_id + " made a " +
                    v1::AccessEvent::Action_Name(action) + " on " +
                    (system.empty() ? std::string("a force system") : std::string(system)) +
                    " at " + FormatTime(t) + " while rostered " + StatusName(off_shift.status) +
                    " (shift " + std::string(off_shift.shift_id) + ") with no duty shift.";
    alert.evidence = {access.ref, *off_shift.ref};
    alert.score = 1;
    return alert;
  }

  v1::OffDutyAccessConfig config_;
  RuleInfo info_;
  // Reused by every decision (the core is single-threaded): no allocation per access.
  mutable std::vector<EffectiveShiftView> covering_;
};

}  // namespace

const RuleDescriptor kOffDutyAccessRule = {
    "off_duty_access",
    v1::Alert::MISCONDUCT,
    [](const v1::RulesConfig& config) { return config.off_duty_access().enabled(); },
    [](const v1::RulesConfig& config) -> std::unique_ptr<Rule> {
      return std::make_unique<OffDutyAccess>(config);
    },
};

}  // namespace vigil
