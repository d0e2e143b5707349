// off_duty_access (MISCONDUCT).
//
// A SEARCH, RECORD_VIEW or LOGIN at t while the effective roster (as of t + roster_grace) covers t
// with REST_DAY, ANNUAL_LEAVE or SICK and with no ON_DUTY or OVERTIME shift. One alert per
// (officer, covering off-duty shift_id; the smallest if several), taken at the first qualifying
// access in event-time order: HIGH if SICK covers that access, else MEDIUM; window_start =
// window_end = its time. Each access is decided once the watermark passes t + roster_grace.
//
// New-core port of operators/off_duty_access.cc (same alerts, id for id). Per officer: the
// accesses waiting for their decision, oldest first, and the off-duty shifts already alerted, each
// forgotten by a cleanup timer once no decision can ask about it. Almost no access is covered by
// any off-duty roster version the officer holds (OfficerRoster::MayCover), and such a decision
// cannot alert, so only accesses that may alert get a decision timer: one covered when it arrives
// (or already due then), and those a later roster version covers before their decision is due
// (RuleContext::Passed tells which decisions are still to come, exactly). The oldest access that
// may alert always has a timer at its decision time. Every other access is kept until its
// decision time has passed (a roster version delivered later may still cover it), then dropped
// undecided the next time the officer's state is touched.
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

constexpr uint32_t kDecideTag = 0;  // the decision time of an access that may alert
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
    // Whether its decision may alert: an off-duty version covered it when it arrived, or since
    // while its decision was still to come, or its decision was due on arrival. Only these are
    // decided; the others are dropped once their decision time has passed.
    bool may_alert = true;
  };
  // pending[head..] are the accesses waiting for their decision, sorted by (time, event_id); those
  // before `head` are decided or dropped, kept until they are half the vector so that dropping the
  // oldest moves nothing (an erase at the front per decision moved every access still waiting).
  std::vector<Pending> pending;
  size_t head = 0;
  std::vector<IdString> systems;  // the system names of pending accesses, each once
  // Off-duty shifts that have had their alert, until their end + roster_grace + the largest
  // allowed lateness.
  rulekit::ShiftMarks alerted;

  bool waiting() const { return head < pending.size(); }
  const Pending& oldest() const { return pending[head]; }
  // The oldest waiting access that may alert, or nullptr.
  const Pending* OldestMayAlert() const;
  // How many accesses, from the oldest waiting, cannot alert and have passed(access) (their
  // decision time has passed): those DropDecided may drop undecided.
  template <typename Passed>
  size_t UndecidableDue(Passed passed) const {
    size_t n = head;
    while (n < pending.size() && !pending[n].may_alert && passed(pending[n])) ++n;
    return n - head;
  }
  // Index of `system` in systems, added if new; names no pending access uses are dropped first
  // when the list is full (an officer uses a few systems, so this is rare).
  uint16_t SystemIndex(std::string_view system);
  // Inserts an access in order.
  void Insert(Pending access);
  // After decisions (or drops) of the `decided` oldest accesses waiting.
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

const OffDutyState::Pending* OffDutyState::OldestMayAlert() const {
  for (size_t i = head; i < pending.size(); ++i) {
    if (pending[i].may_alert) return &pending[i];
  }
  return nullptr;
}

void OffDutyState::Insert(Pending access) {
  id_heap_bytes_ += rulekit::HeapBytes(access.ref.event_id);
  const auto first = pending.begin() + static_cast<std::ptrdiff_t>(head);
  // Accesses mostly come in order: the place is usually the end.
  if (first == pending.end() || !RefBefore(access.ref, pending.back().ref)) {
    pending.push_back(std::move(access));
    return;
  }
  auto by_time = [](const Pending& a, const Pending& b) { return RefBefore(a.ref, b.ref); };
  pending.insert(std::upper_bound(first, pending.end(), access, by_time), std::move(access));
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
  if (decided == 0) return;
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

// Format: systems; pending accesses (times as deltas from the previous one's; the action with
// kCannotAlert or-ed in when the access may not alert); alerted shifts. A state written before
// may_alert existed reads as every access may alert, which is what its one timer (at the oldest)
// assumed.
constexpr uint64_t kCannotAlert = 0x100;

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
        return rulekit::PutU64(p, access.action | (access.may_alert ? 0 : kCannotAlert));
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
    if (system >= systems.size() || action > (kCannotAlert | 0xff)) return false;
    p.system = static_cast<uint16_t>(system);
    p.action = static_cast<uint8_t>(action & 0xff);
    p.may_alert = (action & kCannotAlert) == 0;
    previous = p.ref.time;
    id_heap_bytes_ += rulekit::HeapBytes(p.ref.event_id);
  }
  return alerted.Decode(r) && r.done();
}

Millis DecisionTime(const OffDutyState::Pending& access, const RuleContext& ctx) {
  return access.ref.time + ctx.time().roster_grace;
}

// Whether an access's decision is made (or, for one that cannot alert, would have been).
struct DecisionPassed {
  const RuleContext& ctx;
  bool operator()(const OffDutyState::Pending& access) const {
    return ctx.Passed(DecisionTime(access, ctx));
  }
};

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
  // Roster events too: a version may make a waiting access one that may alert.
  uint32_t streams() const override {
    return StreamBit(Stream::kAccess) | StreamBit(Stream::kRoster);
  }
  std::unique_ptr<RuleState> NewState() const override { return std::make_unique<OffDutyState>(); }

  void OnEvent(const EventView& event, RuleContext& ctx) const override {
    if (event.is_roster()) return OnRosterVersion(event, ctx);
    if (!event.is_access() || !CountsAsUse(event.action)) return;
    OffDutyState& state = ctx.Mutable<OffDutyState>();
    state.DropDecided(state.UndecidableDue(DecisionPassed{ctx}));
    OffDutyState::Pending pending;
    pending.ref = RefOf(event);
    pending.action = static_cast<uint8_t>(event.action);
    pending.system = state.SystemIndex(event.system);
    const Millis decide_at = DecisionTime(pending, ctx);
    // Due on arrival (a late access): decided in this delivery's turn, where a roster version
    // delivered after it may still count, so it gets its timer as every access once did.
    pending.may_alert = ctx.roster().MayCover(event.time, kOffDutyBits) || ctx.Passed(decide_at);
    const bool may_alert = pending.may_alert;
    state.Insert(std::move(pending));
    if (may_alert) ctx.SetTimer(decide_at, kDecideTag);
  }

  void OnTimer(Millis at, uint32_t tag, RuleContext& ctx) const override {
    const OffDutyState* found = ctx.Find<OffDutyState>();
    if (!found) return;
    if (tag == kForgetTag) return Forget(at, *found, ctx);
    // An earlier timer of accesses already decided finds nothing due: the state stays unchanged.
    if (!found->waiting() || DecisionTime(found->oldest(), ctx) > at) return;
    // Decides, oldest first, the accesses due at `at` that may alert: every roster version that
    // counts for them (changed_at <= time + grace) has been delivered by now. The others are due
    // too, and no version covering them came before their decision: they are dropped.
    OffDutyState& state = ctx.Mutable<OffDutyState>();
    const OfficerRoster& roster = ctx.roster();
    size_t decided = state.head;
    while (decided < state.pending.size() && DecisionTime(state.pending[decided], ctx) <= at) {
      const OffDutyState::Pending& access = state.pending[decided];
      // MayCover again: the versions that covered it may have been forgotten since.
      if (access.may_alert && roster.MayCover(access.ref.time, kOffDutyBits)) {
        Decide(access, state, ctx);
      }
      ++decided;
    }
    state.DropDecided(decided - state.head);
    if (const OffDutyState::Pending* next = state.OldestMayAlert()) {
      ctx.SetTimer(DecisionTime(*next, ctx), kDecideTag);
    }
  }

 private:
  // An off-duty version covering [start, end): every waiting access it covers whose decision is
  // still to come may alert now. (Only such a version can change what MayCover says.)
  static void OnRosterVersion(const EventView& version, RuleContext& ctx) {
    if (!IsOffDuty(version.status)) return;
    const OffDutyState* found = ctx.Find<OffDutyState>();
    if (!found) return;
    auto newly_covered = [&](const OffDutyState::Pending& access) {
      return !access.may_alert && access.ref.time >= version.start &&
             access.ref.time < version.end && !ctx.Passed(DecisionTime(access, ctx));
    };
    const auto& waiting = found->pending;
    auto first = std::find_if(waiting.begin() + static_cast<std::ptrdiff_t>(found->head),
                              waiting.end(), newly_covered);
    if (first == waiting.end()) return;  // nothing changes: the state stays unchanged
    const size_t first_index = static_cast<size_t>(first - waiting.begin());
    OffDutyState& state = ctx.Mutable<OffDutyState>();
    for (size_t i = first_index; i < state.pending.size(); ++i) {
      if (newly_covered(state.pending[i])) state.pending[i].may_alert = true;
    }
    // The oldest access that may alert needs its timer; those after it get theirs in turn.
    ctx.SetTimer(DecisionTime(state.pending[first_index], ctx), kDecideTag);
  }

  static void Forget(Millis at, const OffDutyState& found, RuleContext& ctx) {
    const size_t undecidable = found.UndecidableDue(DecisionPassed{ctx});
    if (!found.alerted.AnyDue(at) && undecidable == 0) return;
    OffDutyState& state = ctx.Mutable<OffDutyState>();
    state.alerted.ForgetDue(at);
    state.DropDecided(undecidable);
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
