// DayBuckets: one value per UTC day for one key, each day decided ("closed") exactly once.
//
// The building block of the rules that decide per UTC day (access_volume_spike counts look-ups
// per day; bradford_factor records which days were sick days). A day is decided when the
// watermark passes its decision instant, DecisionInstant(day, offset) = day start + offset (the
// day's end for a daily count; noon plus roster grace for a roster fact): the operator calls
// ScheduleClose(), which sets a timer for that instant, and in OnTimer calls Close(), which says
// whether this is the day's first decision. A day closes once: an event that arrives after that
// (within allowed lateness) still updates the day's value, so it counts in later days' decisions,
// but Close() returns false for it again, so no decision is ever made twice or withdrawn.
//
// Lifecycle: Load() from a key of the operator's state, change, Save() back (Save deletes the key
// when no bucket is left). Prune with DropClosedBefore() once no decision can look back that far.
// Values are int64 (a count, or bit flags). Stored as a compact fixed-width encoding
// [day:8][value:8][closed:1] per bucket, ordered by day. Not thread-safe; a value type.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "event_time.h"
#include "operator.h"
#include "state_store.h"

namespace vigil {

class DayBuckets {
 public:
  struct Bucket {
    Millis day = 0;  // start of the UTC day
    int64_t value = 0;
    bool closed = false;
  };

  // The buckets stored under `key` (none if the key is absent).
  static DayBuckets Load(KeySpace& space, std::string_view key);
  // Writes the buckets back under `key`, or deletes the key when there are none.
  void Save(KeySpace& space, std::string_view key) const;
  // The stored form (StateCodec): KeySpace::Find/Mutable<DayBuckets> keep them decoded.
  void Encode(std::string& out) const;
  static bool Decode(std::string_view bytes, DayBuckets* out);

  bool empty() const { return buckets_.empty(); }
  const std::vector<Bucket>& buckets() const { return buckets_; }

  // The value of `day` (any instant in it); 0 for a day without a bucket.
  int64_t value(Millis day) const;
  void Set(Millis day, int64_t value);
  void Add(Millis day, int64_t delta);
  // True once the day's decision has been made.
  bool closed(Millis day) const;
  // Marks the day decided (creating its bucket if needed). Returns true the first time only.
  bool Close(Millis day);
  // Values of `count` consecutive days from `first_day`, days without a bucket counting 0.
  std::vector<int64_t> Range(Millis first_day, int count) const;
  // Forgets closed buckets of days before `day` (open days are always kept).
  void DropClosedBefore(Millis day);

  // The instant at which `day` is decided: its start plus `offset`.
  static Millis DecisionInstant(Millis day, Millis offset) { return DayStart(day) + offset; }
  // The day whose decision instant is `at`.
  static Millis DayOfDecision(Millis at, Millis offset) { return DayStart(at - offset); }
  // Sets the timer (at the day's decision instant, on `timer_key`) that will close `day`, unless
  // the day is closed already. Setting it again for the same day replaces it.
  void ScheduleClose(OperatorContext& ctx, std::string_view timer_key, Millis day,
                     Millis offset) const;

 private:
  Bucket* Find(Millis day);
  const Bucket* Find(Millis day) const;
  Bucket& FindOrAdd(Millis day);

  std::vector<Bucket> buckets_;  // ordered by day
};

}  // namespace vigil
