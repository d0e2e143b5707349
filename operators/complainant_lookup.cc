// complainant_lookup (MISCONDUCT, HIGH), contract rule 3: a SEARCH/RECORD_VIEW by an officer of a
// subject who complained about that officer, from `before` = 7 days before the complaint was
// received to `after` = 180 days after, whatever the case_ref. One alert per complaint (the
// earliest such access); the window spans the complaint's receipt and that access.
//
// As the old core (operators/complainant_lookup.cc), alert for alert: "earliest" is among the
// look-ups delivered when the complaint is; a complaint left waiting alerts at the first matching
// look-up delivered after it, and an earlier one arriving late changes nothing.
//
// State per officer: its look-ups grouped by UTC day, each day one append-only byte buffer
// (kept while a complaint could still arrive that reaches back to it), and its complaints not yet
// matched (kept until no access can fall in their window any more). Look-ups are every access
// the officer makes, dozens a day, and the largest state of all the rules; they are read only
// when a complaint arrives, which is rare. So a look-up is about 16 bytes appended to its
// day's buffer, and checked against the officer's waiting complaints, of which there are almost
// never any.
#include <algorithm>
#include <iterator>
#include <optional>

#include "registry.h"
#include "runtime/core.h"
#include "rulekit/codec.h"
#include "rulekit/front_coding.h"
#include "state/byte_codec.h"

namespace vigil {
namespace {

// One look-up as it is kept, about 16 bytes in the realistic synthetic force (40 stored whole):
// its subject and event id each as the length of the prefix it shares with the day's previous
// look-up's and the rest as length-prefixed bytes (an officer's event ids differ in their last
// digits, and a record view mostly names the subject just searched), then zigzag varints of its
// time, offset and partition after the previous look-up's (the first's after the day's start, 0
// and 0).
struct Lookup {
  std::string_view subject;
  Ref ref;
};

// The last look-up written or read: the base of the next one.
struct LookupBase {
  rulekit::TextBase subject;
  rulekit::RefBase ref;
};

// One UTC day of an officer's look-ups, in arrival order.
struct LookupDay {
  Millis day = 0;
  LookupBase last;  // the look-up appended last (time: the day's start before the first)
  rulekit::AppendBuffer bytes;

  explicit LookupDay(Millis d = 0) : day(d) { last.ref.time = d; }

  void Append(const EventView& event) {
    char* p = bytes.Room(rulekit::MaxFrontCodedBytes(event.subject_id) +
                         rulekit::RefBase::MaxPutBytes(event.event_id.size()));
    p = last.subject.Put(p, event.subject_id);
    p = last.ref.Put(p, event.event_id, event.time, event.offset, event.partition);
    bytes.Commit(p);
  }
};

// Reads a day's look-ups in order. Next() fills `out` (its views valid until the next call; its
// ref's event id reused: no allocation for inline ids) and is false at the end or on malformed
// bytes (checked when a state is decoded).
class LookupReader {
 public:
  explicit LookupReader(const LookupDay& day) : in_(day.bytes.view()), ref_(day.day) {}
  bool Next(Lookup* out) {
    if (in_.done() || !rulekit::ReadFrontCoded(in_, &subject_) || !ref_.Next(in_)) return false;
    out->subject = subject_;
    out->ref.event_id.Assign(ref_.event_id);
    out->ref.time = ref_.time;
    out->ref.offset = ref_.offset;
    out->ref.partition = static_cast<int32_t>(ref_.partition);
    out->ref.stream = static_cast<uint8_t>(Stream::kAccess);
    return true;
  }
  bool done() const { return in_.done(); }
  // The last look-up read, as the base of the next one appended.
  LookupBase last() const { return {{IdString(subject_)}, ref_.base()}; }

 private:
  ByteReader in_;
  std::string subject_;
  rulekit::RefBaseReader ref_;
};

struct WaitingComplaint {
  Ref ref;
  IdString complainant;
};

class ComplainantState final : public RuleState {
 public:
  std::vector<LookupDay> days;                // sorted by day
  std::vector<WaitingComplaint> complaints;  // unmatched, in arrival order

  // The day's buffer for a look-up at t; `created` tells whether it is new.
  LookupDay& DayOf(Millis t, bool* created);
  // Drops the days whose look-ups `expired` says no complaint can reach any more (a prefix).
  template <typename Expired>
  void ForgetDays(Expired expired) {
    size_t n = 0;
    while (n < days.size() && expired(days[n].day)) ++n;
    days.erase(days.begin(), days.begin() + n);
    earlier_days_counted_ = false;
  }

  void Encode(std::string& out) const override;
  bool Decode(std::string_view bytes) override;
  bool empty() const override { return days.empty() && complaints.empty(); }
  // O(1) in the usual case (called after every change): the days before the last are summed
  // again only after one of them changed (a late look-up, a forgotten day, a new latest day).
  size_t MemoryBytes() const override;

 private:
  static size_t HeapBytes(const LookupDay& day);
  mutable size_t earlier_days_bytes_ = 0;  // HeapBytes of every day but the last
  mutable bool earlier_days_counted_ = false;
};

LookupDay& ComplainantState::DayOf(Millis t, bool* created) {
  const Millis day = DayStart(t);
  *created = false;
  if (!days.empty() && days.back().day == day) return days.back();
  earlier_days_counted_ = false;
  // A late look-up: its day is near the end.
  auto slot = days.end();
  while (slot != days.begin() && std::prev(slot)->day > day) --slot;
  if (slot != days.begin() && std::prev(slot)->day == day) return *std::prev(slot);
  *created = true;
  LookupDay fresh(day);
  // About as many look-ups as the day before: one allocation per officer and day (with room for
  // Room()'s bound). When the new day is the latest, the one before is mostly done: its spare
  // capacity goes back (a late look-up grows it again).
  if (!days.empty()) fresh.bytes.Reserve(days.back().bytes.size() + 128);
  if (!days.empty() && slot == days.end()) days.back().bytes.ShrinkToFit();
  return *days.insert(slot, std::move(fresh));
}

void ComplainantState::Encode(std::string& out) const {
  ByteWriter w(out);
  w.U64(days.size());
  Millis previous = 0;
  for (const LookupDay& day : days) {
    w.I64(day.day - previous);
    previous = day.day;
    w.Bytes(day.bytes.view());
  }
  w.U64(complaints.size());
  for (const WaitingComplaint& c : complaints) {
    w.WriteRef(c.ref);
    w.Bytes(c.complainant.view());
  }
}

bool ComplainantState::Decode(std::string_view bytes) {
  ByteReader r(bytes);
  uint64_t n;
  if (!r.U64(&n) || n > bytes.size()) return false;
  days.clear();
  days.resize(n);
  earlier_days_counted_ = false;
  Millis previous = 0;
  for (size_t i = 0; i < days.size(); ++i) {
    LookupDay& day = days[i];
    std::string_view lookups;
    if (!r.I64(&day.day) || !r.Bytes(&lookups)) return false;
    day.day += previous;
    if (i > 0 && day.day <= previous) return false;  // sorted, each day once
    previous = day.day;
    day.bytes.Assign(lookups);
    // Checked whole here, so that a scan can trust its bytes; the last one is the next's base.
    LookupReader reader(day);
    Lookup lookup;
    while (reader.Next(&lookup)) {
    }
    if (!reader.done()) return false;
    day.last = reader.last();
  }
  if (!r.U64(&n) || n > bytes.size()) return false;
  complaints.assign(n, WaitingComplaint{});
  for (WaitingComplaint& c : complaints) {
    std::string_view complainant;
    if (!r.ReadRef(&c.ref) || !r.Bytes(&complainant)) return false;
    c.complainant.Assign(complainant);
  }
  return r.done();
}

size_t ComplainantState::HeapBytes(const LookupDay& day) {
  return day.bytes.capacity() + rulekit::HeapBytes(day.last.subject.last) +
         rulekit::HeapBytes(day.last.ref.event_id.last);
}

size_t ComplainantState::MemoryBytes() const {
  if (!earlier_days_counted_) {
    earlier_days_bytes_ = 0;
    for (size_t i = 0; i + 1 < days.size(); ++i) earlier_days_bytes_ += HeapBytes(days[i]);
    earlier_days_counted_ = true;
  }
  return days.capacity() * sizeof(LookupDay) + complaints.capacity() * sizeof(WaitingComplaint) +
         earlier_days_bytes_ + (days.empty() ? 0 : HeapBytes(days.back()));
}

class ComplainantLookup final : public Rule {
 public:
  explicit ComplainantLookup(const v1::RulesConfig& config)
      : config_(config.complainant_lookup()),
        before_(config_.before_days() * kDay),
        after_(config_.after_days() * kDay) {
    info_ = {"complainant_lookup", v1::Alert::MISCONDUCT,
             "A search or record view by an officer of a person who complained about that "
             "officer, from beforeDays before the complaint was received to afterDays after, "
             "whatever the case reference. One alert per complaint, at the earliest such access."};
  }

  const RuleInfo& info() const override { return info_; }
  uint32_t streams() const override {
    return StreamBit(Stream::kAccess) | StreamBit(Stream::kComplaint);
  }
  std::unique_ptr<RuleState> NewState() const override {
    return std::make_unique<ComplainantState>();
  }

  void OnEvent(const EventView& event, RuleContext& ctx) const override {
    if (event.is_access() && event.IsSubjectLookup()) {
      OnLookup(event, ctx);
    } else if (event.is_complaint()) {
      OnComplaint(event, ctx);
    }
  }

  // Cleanup: a day of look-ups goes once no acceptable complaint can reach back to it; a complaint
  // once no acceptable access can fall in its window (never at the end of a bounded run). By the
  // timer's own instant `at` (hour-rounded as it was scheduled), not the watermark: when the
  // watermark jumps (a lagging partition's batch arrives, a partition goes idle, a restart), the
  // timer fires while events between it and the watermark are still held, and a complaint among
  // them may reach back to a day whose forget time lies between the two.
  void OnTimer(Millis at, uint32_t, RuleContext& ctx) const override {
    if (!ctx.Find<ComplainantState>()) return;
    auto& state = ctx.Mutable<ComplainantState>();
    state.ForgetDays([&](Millis day) { return LookupsExpire(day, ctx.time()) <= at; });
    // A complaint's timer is at received + after + access lateness, hour-rounded: it goes then.
    const Millis horizon = at - ctx.time().access_lateness - after_;
    auto& complaints = state.complaints;
    auto unreachable = [&](const WaitingComplaint& c) { return c.ref.time <= horizon; };
    complaints.erase(std::remove_if(complaints.begin(), complaints.end(), unreachable),
                     complaints.end());
  }

 private:
  // When a day's look-ups can go: no complaint received after its end plus `before` can reach
  // back to it, and one received earlier is dead-lettered once the watermark passes by more than
  // the complaint lateness.
  Millis LookupsExpire(Millis day, const TimeSettings& time) const {
    return day + kDay + before_ + time.complaint_lateness;
  }

  bool InWindow(Millis lookup, Millis received) const {
    return lookup >= received - before_ && lookup <= received + after_;
  }

  void OnLookup(const EventView& event, RuleContext& ctx) const {
    auto& state = ctx.Mutable<ComplainantState>();
    bool created;
    LookupDay& day = state.DayOf(event.time, &created);
    if (created) ctx.ScheduleCleanup(LookupsExpire(day.day, ctx.time()));
    day.Append(event);
    if (!state.complaints.empty()) MatchWaiting(event, state, ctx);
  }

  // Alerts the waiting complaints by this person (in their arrival order) whose window holds the
  // look-up, and forgets them; the others keep their order.
  void MatchWaiting(const EventView& event, ComplainantState& state, RuleContext& ctx) const {
    auto& complaints = state.complaints;
    size_t kept = 0;
    for (size_t i = 0; i < complaints.size(); ++i) {
      WaitingComplaint& c = complaints[i];
      if (c.complainant.view() == event.subject_id && InWindow(event.time, c.ref.time)) {
        Alert(ctx.officer_id(), event.subject_id, c.ref, RefOf(event), ctx);
        continue;
      }
      if (kept != i) complaints[kept] = std::move(c);
      ++kept;
    }
    complaints.erase(complaints.begin() + kept, complaints.end());
  }

  void OnComplaint(const EventView& event, RuleContext& ctx) const {
    const Millis received = event.time;
    const ComplainantState* found = ctx.Find<ComplainantState>();
    std::optional<Ref> first;
    if (found) {
      first = EarliestLookup(*found, event.complainant_id, received - before_, received + after_);
    }
    if (first) {
      Alert(ctx.officer_id(), event.complainant_id, RefOf(event), *first, ctx);
      return;
    }
    ctx.Mutable<ComplainantState>().complaints.push_back({RefOf(event), event.complainant_id});
    ctx.ScheduleCleanup(received + after_ + ctx.time().access_lateness);
  }

  // The officer's earliest look-up of `person` (ties by event_id) with from <= time <= to. Days
  // come in order and hold disjoint times: the first day with a match holds the earliest.
  static std::optional<Ref> EarliestLookup(const ComplainantState& state, std::string_view person,
                                           Millis from, Millis to) {
    std::optional<Ref> best;
    for (const LookupDay& day : state.days) {
      if (day.day + kDay <= from) continue;
      if (day.day > to) break;
      LookupReader reader(day);
      Lookup lookup;
      while (reader.Next(&lookup)) {
        const Ref& ref = lookup.ref;
        if (lookup.subject != person || ref.time < from || ref.time > to) continue;
        if (!best || RefBefore(ref, *best)) best = ref;
      }
      if (best) break;
    }
    return best;
  }

  void Alert(std::string_view officer, std::string_view person, const Ref& complaint,
             const Ref& lookup, RuleContext& ctx) const {
    const Millis received = complaint.time;
    const Millis looked = lookup.time;
    RuleAlert alert = NewAlert(info_, config_.severity(), officer);
    alert.subject_id = std::string(person);
    alert.window_start = std::min(received, looked);
    alert.window_end = std::max(received, looked);
    std::string when = looked >= received ? FormatSpan(looked - received) + " after"
                                          : FormatSpan(received - looked) + " before";
    if (looked == received) when = "at the time";
    alert.summary = "Officer " + alert.officer_id + " looked up " + alert.subject_id + " " + when +
                    " a complaint by that person against the officer was received (" +
                    FormatTime(received) + ").";
    alert.evidence = {complaint, lookup};
    alert.score = 1;
    ctx.Emit(std::move(alert));
  }

  v1::ComplainantLookupConfig config_;
  Millis before_;
  Millis after_;
  RuleInfo info_;
};

}  // namespace

const RuleDescriptor kComplainantLookupRule = {
    "complainant_lookup",
    v1::Alert::MISCONDUCT,
    [](const v1::RulesConfig& config) { return config.complainant_lookup().enabled(); },
    [](const v1::RulesConfig& config) -> std::unique_ptr<Rule> {
      return std::make_unique<ComplainantLookup>(config);
    },
};

}  // namespace vigil
