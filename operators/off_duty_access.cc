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

// A waiting access as the rule reads it from the state's buffer. OffDutyState::Reader::Next
// reads what every pass over the accesses needs (its time and flags); Complete adds the rest (for
// a decision that alerts, a rewrite, the encoding). Its id views into the buffer, valid until the
// state's accesses change.
struct Access {
  Millis time = 0;
  uint8_t action = 0;
  uint8_t system = 0;  // index into OffDutyState::systems
  // Whether its decision may alert: an off-duty version covered it when it arrived, or since
  // while its decision was still to come, or its decision was due on arrival. Only these are
  // decided; the others are dropped once their decision time has passed.
  bool may_alert = true;
  size_t flag_at = 0;  // where its flag byte is (its system index follows)
  size_t next = 0;     // where the next one starts
  // Complete() only:
  std::string_view event_id;
  int64_t offset = 0;
  int64_t partition = 0;
};

Ref RefOf(const Access& access) {
  Ref ref;
  ref.event_id.Assign(access.event_id);
  ref.time = access.time;
  ref.offset = access.offset;
  ref.partition = static_cast<int32_t>(access.partition);
  ref.stream = static_cast<uint8_t>(Stream::kAccess);  // the rule reads access events only
  return ref;
}

// One officer's memory: the accesses waiting for their decision, oldest first by (time,
// event_id), packed in one byte buffer (about 32 bytes each, against 80 as a struct with its Ref:
// an officer on duty has tens waiting, and at a million officers that was most of the rule
// state). Each access: its event id's length (a varint), a flag byte (the action, kCannotAlert
// when it may not alert), its system as an index into `systems`, its time, offset (8 bytes each)
// and partition (4), then its event id. Fixed widths, not varints, because a pass over the
// accesses reads the length, the flag and the time only, and appending one writes no varint but
// the length; the flag and the system index change in place. Accesses mostly arrive
// in order and are appended; a late one rewrites the buffer. Beside it: the off-duty shifts
// already alerted.
class OffDutyState final : public RuleState {
 public:
  static constexpr uint8_t kCannotAlert = 0x80;  // in the flag byte, beside the action (< 0x80)
  static constexpr size_t kMaxSystems = 64;      // fits the one-byte index

  // Reads the waiting accesses, oldest first.
  class Reader {
   public:
    explicit Reader(const OffDutyState& state) : bytes_(state.bytes_.view()), pos_(state.head_at_) {}
    // The next access's time and flags into *access; false after the last.
    bool Next(Access* access) {
      if (pos_ >= bytes_.size()) return false;
      ReadHeader(bytes_, pos_, access);
      pos_ = access->next;
      return true;
    }
    // Where the access after the last read starts.
    size_t pos() const { return pos_; }

   private:
    std::string_view bytes_;
    size_t pos_;
  };

  std::vector<IdString> systems;  // the system names of waiting accesses, each once
  // Off-duty shifts that have had their alert, until their end + roster_grace + the largest
  // allowed lateness.
  rulekit::ShiftMarks alerted;

  bool waiting() const { return count_ > 0; }
  // The oldest waiting access (waiting()).
  Access Oldest() const;
  // The oldest waiting access that may alert, if any.
  bool OldestMayAlert(Access* access) const;
  // Adds the offset, partition and event id to an access Reader::Next read.
  void Complete(Access* access) const;
  // How many accesses, from the oldest waiting, cannot alert and have passed(access) (their
  // decision time has passed): those DropOldest may drop undecided.
  template <typename Passed>
  size_t UndecidableDue(Passed passed) const {
    Reader reader(*this);
    Access access;
    size_t n = 0;
    while (reader.Next(&access) && !access.may_alert && passed(access)) ++n;
    return n;
  }
  // Index of `system` in systems, added if new; names no waiting access uses are dropped first
  // when the list is full (an officer uses a few systems, so this is rare).
  uint8_t SystemIndex(std::string_view system);
  // Adds an access in order.
  void Insert(const EventView& event, uint8_t system, bool may_alert);
  // Lets every waiting access that cannot alert and is_covered(access) alert.
  template <typename IsCovered>
  void LetAlert(IsCovered is_covered) {
    Reader reader(*this);
    Access access;
    while (reader.Next(&access)) {
      if (!access.may_alert && is_covered(access)) bytes_.data()[access.flag_at] &= ~kCannotAlert;
    }
  }
  // Drops the `n` oldest waiting accesses (decided, or due and unable to alert).
  void DropOldest(size_t n);

  void Encode(std::string& out) const override;
  bool Decode(std::string_view bytes) override;
  bool empty() const override { return !waiting() && alerted.empty(); }
  size_t MemoryBytes() const override {
    return bytes_.capacity() + systems.capacity() * sizeof(IdString) + id_heap_bytes_ +
           alerted.MemoryBytes();
  }

 private:
  // After the id's length: the flag, the system index, the time, the offset and the partition.
  static constexpr size_t kHeaderBytes = 2 + 8 + 8 + 4;
  // The most bytes one access takes in the buffer, for an event id of `id_size` bytes.
  static size_t MaxAccessBytes(size_t id_size) { return rulekit::kMaxVarint + kHeaderBytes + id_size; }
  // Inline: it runs for every access of every pass.
  __attribute__((always_inline)) static void ReadHeader(std::string_view bytes, size_t at,
                                                        Access* access);
  static char* PutAccess(char* out, const Access& access);
  void Append(const Access& access);
  // Whether `access` comes after every waiting one in (time, event_id) order, or ties the latest.
  bool IsLatest(const Access& access) const;
  void InsertLate(const Access& access);
  void CompactSystems();
  void Clear();

  rulekit::AppendBuffer bytes_;  // [head_at_, size): the waiting accesses; before: dropped
  size_t head_at_ = 0;
  size_t tail_at_ = 0;           // where the latest access starts
  Millis tail_time_ = 0;         // its time
  size_t count_ = 0;
  size_t id_heap_bytes_ = 0;     // heap bytes of the long names in systems
};

// Written by PutAccess in this run (Decode checks what it reads before it appends it).
inline void OffDutyState::ReadHeader(std::string_view bytes, size_t at, Access* access) {
  const auto* start = reinterpret_cast<const uint8_t*>(bytes.data()) + at;
  const uint8_t* p = start;
  size_t id_size = *p++;
  if (id_size >= 0x80) {  // an id of 128 bytes or more
    id_size &= 0x7f;
    for (int shift = 7; p[-1] >= 0x80; shift += 7) id_size |= size_t{*p++ & 0x7fu} << shift;
  }
  access->flag_at = at + static_cast<size_t>(p - start);
  access->next = access->flag_at + kHeaderBytes + id_size;
  access->action = p[0] & ~kCannotAlert;
  access->may_alert = (p[0] & kCannotAlert) == 0;
  access->system = p[1];
  std::memcpy(&access->time, p + 2, 8);
}

void OffDutyState::Complete(Access* access) const {
  const char* p = bytes_.data() + access->flag_at + 10;
  int32_t partition;
  std::memcpy(&access->offset, p, 8);
  std::memcpy(&partition, p + 8, 4);
  access->partition = partition;
  access->event_id = std::string_view(p + 12, access->next - (access->flag_at + kHeaderBytes));
}

char* OffDutyState::PutAccess(char* out, const Access& access) {
  out = rulekit::PutU64(out, access.event_id.size());
  *out++ = static_cast<char>(access.action | (access.may_alert ? 0 : kCannotAlert));
  *out++ = static_cast<char>(access.system);
  const auto partition = static_cast<int32_t>(access.partition);
  std::memcpy(out, &access.time, 8);
  std::memcpy(out + 8, &access.offset, 8);
  std::memcpy(out + 16, &partition, 4);
  out += 20;
  if (!access.event_id.empty()) std::memcpy(out, access.event_id.data(), access.event_id.size());
  return out + access.event_id.size();
}

Access OffDutyState::Oldest() const {
  Access access;
  ReadHeader(bytes_.view(), head_at_, &access);
  return access;
}

bool OffDutyState::OldestMayAlert(Access* access) const {
  Reader reader(*this);
  while (reader.Next(access)) {
    if (access->may_alert) return true;
  }
  return false;
}

uint8_t OffDutyState::SystemIndex(std::string_view system) {
  for (size_t i = 0; i < systems.size(); ++i) {
    if (systems[i].view() == system) return static_cast<uint8_t>(i);
  }
  if (systems.size() >= kMaxSystems) CompactSystems();
  systems.emplace_back(system);
  id_heap_bytes_ += rulekit::HeapBytes(systems.back());
  return static_cast<uint8_t>(systems.size() - 1);
}

void OffDutyState::Insert(const EventView& event, uint8_t system, bool may_alert) {
  Access access;
  access.event_id = event.event_id;
  access.time = event.time;
  access.offset = event.offset;
  access.partition = event.partition;
  access.action = static_cast<uint8_t>(event.action);
  access.system = system;
  access.may_alert = may_alert;
  if (IsLatest(access)) return Append(access);
  InsertLate(access);
}

bool OffDutyState::IsLatest(const Access& access) const {
  if (count_ == 0 || access.time > tail_time_) return true;
  if (access.time < tail_time_) return false;
  Access latest;
  ReadHeader(bytes_.view(), tail_at_, &latest);
  Complete(&latest);
  return access.event_id >= latest.event_id;
}

void OffDutyState::Append(const Access& access) {
  char* out = bytes_.Room(MaxAccessBytes(access.event_id.size()));
  tail_at_ = bytes_.size();
  tail_time_ = access.time;
  bytes_.Commit(PutAccess(out, access));
  ++count_;
}

// A late access: rare enough to decode and rewrite the whole buffer.
void OffDutyState::InsertLate(const Access& late) {
  static thread_local std::vector<Access> accesses;
  accesses.clear();
  Reader reader(*this);
  size_t bound = MaxAccessBytes(late.event_id.size());
  for (Access access; reader.Next(&access);) {
    Complete(&access);
    accesses.push_back(access);
    bound += MaxAccessBytes(access.event_id.size());
  }
  auto before = [](const Access& a, const Access& b) {
    return a.time != b.time ? a.time < b.time : a.event_id < b.event_id;
  };
  accesses.insert(std::upper_bound(accesses.begin(), accesses.end(), late, before), late);
  rulekit::AppendBuffer rewritten;  // the ids of `accesses` view into bytes_ until the move
  rewritten.Reserve(std::max(bound, bytes_.capacity()));
  char* out = rewritten.Room(bound);
  for (const Access& access : accesses) {
    tail_at_ = static_cast<size_t>(out - rewritten.data());
    out = PutAccess(out, access);
  }
  rewritten.Commit(out);
  bytes_ = std::move(rewritten);
  tail_time_ = accesses.back().time;
  head_at_ = 0;
  count_ = accesses.size();
}

void OffDutyState::DropOldest(size_t n) {
  if (n == 0) return;
  if (n >= count_) return Clear();  // an empty queue needs no names
  Reader reader(*this);
  Access access;
  for (size_t i = 0; i < n; ++i) reader.Next(&access);
  head_at_ = reader.pos();
  count_ -= n;
  // The dropped bytes go once they are half the buffer: each access is moved at most once on
  // average, however many are dropped at a time.
  if (head_at_ * 2 < bytes_.size()) return;
  const std::string_view rest = bytes_.view().substr(head_at_);
  std::memmove(bytes_.data(), rest.data(), rest.size());
  bytes_.Commit(bytes_.data() + rest.size());
  tail_at_ -= head_at_;
  head_at_ = 0;
  // After a burst the buffer may be far larger than what is left: give it back.
  if (bytes_.capacity() > 4 * bytes_.size() + 256) bytes_.ShrinkToFit();
}

void OffDutyState::Clear() {
  bytes_.Assign({});  // keeps its capacity for the officer's next accesses
  head_at_ = tail_at_ = count_ = 0;
  tail_time_ = 0;
  systems.clear();
  id_heap_bytes_ = 0;
}

// Keeps the systems waiting accesses name, in the order they are first named, and renumbers the
// accesses' one-byte indices in place.
void OffDutyState::CompactSystems() {
  std::vector<IdString> used;
  std::vector<int> renumbered(systems.size(), -1);
  Reader reader(*this);
  for (Access access; reader.Next(&access);) {
    if (renumbered[access.system] < 0) {
      renumbered[access.system] = static_cast<int>(used.size());
      used.push_back(systems[access.system]);
    }
    bytes_.data()[access.flag_at + 1] = static_cast<char>(renumbered[access.system]);
  }
  for (const IdString& s : systems) id_heap_bytes_ -= rulekit::HeapBytes(s);
  for (const IdString& s : used) id_heap_bytes_ += rulekit::HeapBytes(s);
  systems = std::move(used);
}

// Format (not the buffer's): systems; waiting accesses as refs (times as deltas from the previous
// one's) each followed by its system index and its action, with kCannotAlertFormat or-ed in when
// the access may not alert; alerted shifts. A state written before may_alert existed reads as
// every access may alert, which is what its one timer (at the oldest) assumed.
constexpr uint64_t kCannotAlertFormat = 0x100;

void OffDutyState::Encode(std::string& out) const {
  ByteWriter w(out);
  w.U64(systems.size());
  for (const IdString& s : systems) w.Bytes(s.view());
  w.U64(count_);
  if (count_ > 0) {
    const size_t bound = (bytes_.size() - head_at_) + count_ * (rulekit::kMaxRefFixed + 2 * rulekit::kMaxVarint);
    rulekit::Reserve room(w, bound);
    char* p = room.Begin();
    Millis previous = 0;
    Reader reader(*this);
    for (Access access; reader.Next(&access);) {
      Complete(&access);
      p = rulekit::PutBytes(p, access.event_id);
      p = rulekit::PutI64(p, access.time - previous);
      p = rulekit::PutI64(p, access.offset);
      p = rulekit::PutI64(p, access.partition);
      *p++ = static_cast<char>(Stream::kAccess);
      p = rulekit::PutU64(p, access.system);
      p = rulekit::PutU64(p, access.action | (access.may_alert ? 0 : kCannotAlertFormat));
      previous = access.time;
    }
    room.Commit(p);
  }
  alerted.Encode(w);
}

bool OffDutyState::Decode(std::string_view bytes) {
  ByteReader r(bytes);
  uint64_t n;
  std::string_view text;
  Clear();
  if (!r.U64(&n) || n > kMaxSystems) return false;
  systems.resize(n);
  for (IdString& s : systems) {
    if (!r.Bytes(&text)) return false;
    s.Assign(text);
    id_heap_bytes_ += rulekit::HeapBytes(s);
  }
  if (!r.U64(&n) || n > bytes.size()) return false;
  Millis previous = 0;
  Ref ref;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t system, action;
    if (!r.ReadRef(&ref, previous) || !r.U64(&system) || !r.U64(&action)) return false;
    const uint64_t kind = action & ~kCannotAlertFormat;
    if (system >= systems.size() || kind >= kCannotAlert || action > (kCannotAlertFormat | kind)) {
      return false;
    }
    Access access;
    access.event_id = ref.event_id.view();
    access.time = ref.time;
    access.offset = ref.offset;
    access.partition = ref.partition;
    access.system = static_cast<uint8_t>(system);
    access.action = static_cast<uint8_t>(kind);
    access.may_alert = (action & kCannotAlertFormat) == 0;
    Append(access);  // in order, as Encode wrote them
    previous = ref.time;
  }
  return alerted.Decode(r) && r.done();
}

Millis DecisionTime(const Access& access, const RuleContext& ctx) {
  return access.time + ctx.time().roster_grace;
}

// Whether an access's decision is made (or, for one that cannot alert, would have been).
struct DecisionPassed {
  const RuleContext& ctx;
  bool operator()(const Access& access) const { return ctx.Passed(DecisionTime(access, ctx)); }
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
    state.DropOldest(state.UndecidableDue(DecisionPassed{ctx}));
    const uint8_t system = state.SystemIndex(event.system);
    const Millis decide_at = event.time + ctx.time().roster_grace;
    // Due on arrival (a late access): decided in this delivery's turn, where a roster version
    // delivered after it may still count, so it gets its timer as every access once did.
    const bool may_alert = ctx.roster().MayCover(event.time, kOffDutyBits) || ctx.Passed(decide_at);
    state.Insert(event, system, may_alert);
    if (may_alert) ctx.SetTimer(decide_at, kDecideTag);
  }

  void OnTimer(Millis at, uint32_t tag, RuleContext& ctx) const override {
    const OffDutyState* found = ctx.Find<OffDutyState>();
    if (!found) return;
    if (tag == kForgetTag) return Forget(at, *found, ctx);
    // An earlier timer of accesses already decided finds nothing due: the state stays unchanged.
    if (!found->waiting() || DecisionTime(found->Oldest(), ctx) > at) return;
    // Decides, oldest first, the accesses due at `at` that may alert: every roster version that
    // counts for them (changed_at <= time + grace) has been delivered by now. The others are due
    // too, and no version covering them came before their decision: they are dropped.
    OffDutyState& state = ctx.Mutable<OffDutyState>();
    const OfficerRoster& roster = ctx.roster();
    size_t decided = 0;
    OffDutyState::Reader reader(state);
    for (Access access; reader.Next(&access) && DecisionTime(access, ctx) <= at; ++decided) {
      // MayCover again: the versions that covered it may have been forgotten since.
      if (access.may_alert && roster.MayCover(access.time, kOffDutyBits)) {
        state.Complete(&access);
        Decide(access, state, ctx);
      }
    }
    state.DropOldest(decided);
    if (Access next; state.OldestMayAlert(&next)) ctx.SetTimer(DecisionTime(next, ctx), kDecideTag);
  }

 private:
  // An off-duty version covering [start, end): every waiting access it covers whose decision is
  // still to come may alert now. (Only such a version can change what MayCover says.)
  static void OnRosterVersion(const EventView& version, RuleContext& ctx) {
    if (!IsOffDuty(version.status)) return;
    const OffDutyState* found = ctx.Find<OffDutyState>();
    if (!found) return;
    auto covered = [&](const Access& access) {
      return access.time >= version.start && access.time < version.end &&
             !ctx.Passed(DecisionTime(access, ctx));
    };
    OffDutyState::Reader reader(*found);
    Access first;
    bool any = false;
    while (!any && reader.Next(&first)) any = !first.may_alert && covered(first);
    if (!any) return;  // none newly covered: the state stays unchanged
    const Millis first_decision = DecisionTime(first, ctx);
    ctx.Mutable<OffDutyState>().LetAlert(covered);
    // The oldest access that may alert needs its timer; those after it get theirs in turn.
    ctx.SetTimer(first_decision, kDecideTag);
  }

  static void Forget(Millis at, const OffDutyState& found, RuleContext& ctx) {
    const size_t undecidable = found.UndecidableDue(DecisionPassed{ctx});
    if (!found.alerted.AnyDue(at) && undecidable == 0) return;
    OffDutyState& state = ctx.Mutable<OffDutyState>();
    state.alerted.ForgetDue(at);
    state.DropOldest(undecidable);
  }

  // Decide writes state.alerted only, so `access` (viewing into the state's buffer) stays valid.
  void Decide(const Access& access, OffDutyState& state, RuleContext& ctx) const {
    const Millis t = access.time;
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

  RuleAlert MakeAlert(const Access& access, std::string_view system,
                      const EffectiveShiftView& off_shift, bool sick, RuleContext& ctx) const {
    const v1::Alert::Severity severity =
        config_.has_severity() ? config_.severity() : (sick ? v1::Alert::HIGH : v1::Alert::MEDIUM);
    RuleAlert alert = NewAlert(info_, severity, ctx.officer_id());
    const Millis t = access.time;
    alert.window_start = alert.window_end = t;
    const auto action = static_cast<v1::AccessEvent::Action>(access.action);
    alert.summary = "Officer " + alert.officer_id + " made a " +
                    v1::AccessEvent::Action_Name(action) + " on " +
                    (system.empty() ? std::string("a force system") : std::string(system)) +
                    " at " + FormatTime(t) + " while rostered " + StatusName(off_shift.status) +
                    " (shift " + std::string(off_shift.shift_id) + ") with no duty shift.";
    alert.evidence = {RefOf(access), *off_shift.ref};
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
