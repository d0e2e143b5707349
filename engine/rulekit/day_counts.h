// DayCounts: one value per UTC day, each day decided ("closed") exactly once, for the new core
// (the successor of vigil::DayBuckets, engine/day_buckets.h, with the same decisions).
//
// The building block of the rules that decide per UTC day (access_volume_spike counts look-ups
// per day; bradford_factor records which days were sick days). A day is decided when the
// watermark passes its decision instant, DecisionInstant(day, offset) = day start + offset (the
// day's end for a daily count; noon plus roster grace for a roster fact): the rule calls
// ScheduleClose(), which sets a timer for that instant, and in OnTimer calls Close(), which says
// whether this is the day's first decision. A day closes once: an event that arrives after that
// (within allowed lateness) still updates the day's value, so it counts in later days' decisions,
// but Close() returns false for it again, so no decision is ever made twice or withdrawn.
//
// A value type held inside a rule's per-officer RuleState (kept for up to a million officers, so
// 16 bytes a day). Prune with DropClosedBefore() once no decision can look back that far. Values
// are int64 (a count, or bit flags). The latest day is found in O(1), any other in O(log n): a
// rule's events mostly fall on the latest day. Not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "time/event_time.h"
#include "state/byte_codec.h"

namespace vigil {
class RuleContext;
}

namespace vigil::rulekit {

class DayCounts {
 public:
  struct Bucket {
    int64_t value = 0;
    int32_t day_number = 0;  // days since 1970-01-01 (valid event times fit in 32 bits)
    bool closed = false;
    Millis day() const { return static_cast<Millis>(day_number) * kDay; }
  };
  // What Add() did, so that the rule needs no second look-up on its hot path.
  struct Added {
    bool created;  // the day had no bucket before
    bool closed;   // the day is already decided
  };

  bool empty() const { return buckets_.empty(); }
  const std::vector<Bucket>& buckets() const { return buckets_; }

  // The value of `day` (any instant in it); 0 for a day without a bucket.
  int64_t value(Millis day) const;
  void Set(Millis day, int64_t value);
  // Adds `delta` to the day's value. Inline for its common case, today's bucket (the latest).
  Added Add(Millis day, int64_t delta) {
    const int32_t n = DayNumber(day);
    if (!buckets_.empty() && buckets_.back().day_number == n) {
      buckets_.back().value += delta;
      return {false, buckets_.back().closed};
    }
    return AddElsewhere(n, delta);
  }
  // True once the day's decision has been made.
  bool closed(Millis day) const;
  // Marks the day decided (creating its bucket if needed). Returns true the first time only.
  bool Close(Millis day);
  // Calls fn(value) for `count` consecutive days from `first_day` in day order, days without a
  // bucket giving 0. No allocation: decisions call it once per day decided.
  template <typename Fn>
  void VisitRange(Millis first_day, int count, Fn&& fn) const;
  // The same values as a vector.
  std::vector<int64_t> Range(Millis first_day, int count) const;
  // Forgets closed buckets of days before `day` (open days are always kept).
  void DropClosedBefore(Millis day);

  // The instant at which `day` is decided: its start plus `offset`.
  static Millis DecisionInstant(Millis day, Millis offset) { return DayStart(day) + offset; }
  // The day whose decision instant is `at`.
  static Millis DayOfDecision(Millis at, Millis offset) { return DayStart(at - offset); }
  // Sets the timer (at the day's decision instant, with `tag`) that will close `day`, unless the
  // day is closed already. Setting it again for the same day fires it once.
  void ScheduleClose(RuleContext& ctx, Millis day, Millis offset, uint32_t tag) const;

  // Forgetting, for a rule that looks back `lookback` from each day it decides: it sets a cleanup
  // timer (ScheduleCleanup) at CleanupTime(day, reach) for the days it adds, `reach` being the
  // lookback plus the time after a day's start within which a late event can still touch it, and
  // calls Cleanup() from that timer's OnTimer(at). Cleanup forgets the closed days before
  // min(the day before at's, `late_from`) - lookback, `late_from` being the earliest day a late
  // event can still touch, and, unless nothing is left, sets the next cleanup (`tag`, after `at`)
  // for the latest day kept. It returns that bound: whatever the rule keeps by day beside the
  // counts can go before it.
  static Millis CleanupTime(Millis day, Millis reach) { return DayStart(day + reach) + 2 * kDay; }
  Millis Cleanup(Millis at, Millis late_from, Millis lookback, Millis reach, uint32_t tag,
                 RuleContext& ctx);

  // Days as deltas from the previous one: a month of counts takes about 3 bytes a day.
  void Encode(ByteWriter& out) const;
  bool Decode(ByteReader& in);
  size_t MemoryBytes() const { return buckets_.capacity() * sizeof(Bucket); }

 private:
  // floor(t / kDay) with one division by a constant (DayStart(t) / kDay, in half the work: this is
  // on the hot path of a rule that sees every access event).
  static int32_t DayNumber(Millis t) {
    const Millis q = t / kDay;
    return static_cast<int32_t>(q * kDay > t ? q - 1 : q);
  }
  // The first bucket of a day >= `day_number`.
  std::vector<Bucket>::const_iterator LowerBound(int32_t day_number) const;
  const Bucket* Find(Millis day) const;
  Bucket& FindOrAdd(int32_t day_number, bool* created);
  Added AddElsewhere(int32_t day_number, int64_t delta);

  std::vector<Bucket> buckets_;  // ordered by day
};

template <typename Fn>
void DayCounts::VisitRange(Millis first_day, int count, Fn&& fn) const {
  const int32_t first = DayNumber(first_day);
  auto it = LowerBound(first);
  for (int i = 0; i < count; ++i) {
    if (it != buckets_.end() && it->day_number == first + i) {
      fn(it->value);
      ++it;
    } else {
      fn(int64_t{0});
    }
  }
}

}  // namespace vigil::rulekit
