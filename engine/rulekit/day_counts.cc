#include "rulekit/day_counts.h"

#include <algorithm>

#include "runtime/rule.h"

namespace vigil::rulekit {

std::vector<DayCounts::Bucket>::const_iterator DayCounts::LowerBound(int32_t day_number) const {
  return std::lower_bound(buckets_.begin(), buckets_.end(), day_number,
                          [](const Bucket& b, int32_t d) { return b.day_number < d; });
}

const DayCounts::Bucket* DayCounts::Find(Millis day) const {
  const int32_t n = DayNumber(day);
  if (!buckets_.empty() && buckets_.back().day_number == n) return &buckets_.back();
  auto it = LowerBound(n);
  return it != buckets_.end() && it->day_number == n ? &*it : nullptr;
}

DayCounts::Bucket& DayCounts::FindOrAdd(int32_t n, bool* created) {
  *created = false;
  // The common case first: today's bucket, the latest.
  if (!buckets_.empty() && buckets_.back().day_number == n) return buckets_.back();
  auto it = buckets_.begin() + (LowerBound(n) - buckets_.cbegin());
  if (it != buckets_.end() && it->day_number == n) return *it;
  *created = true;
  Bucket b;
  b.day_number = n;
  return *buckets_.insert(it, b);
}

int64_t DayCounts::value(Millis day) const {
  const Bucket* b = Find(day);
  return b ? b->value : 0;
}

void DayCounts::Set(Millis day, int64_t value) {
  bool created;
  FindOrAdd(DayNumber(day), &created).value = value;
}

DayCounts::Added DayCounts::AddElsewhere(int32_t day_number, int64_t delta) {
  bool created;
  Bucket& b = FindOrAdd(day_number, &created);
  b.value += delta;
  return {created, b.closed};
}

bool DayCounts::closed(Millis day) const {
  const Bucket* b = Find(day);
  return b && b->closed;
}

bool DayCounts::Close(Millis day) {
  bool created;
  Bucket& b = FindOrAdd(DayNumber(day), &created);
  if (b.closed) return false;
  b.closed = true;
  return true;
}

std::vector<int64_t> DayCounts::Range(Millis first_day, int count) const {
  std::vector<int64_t> values;
  values.reserve(static_cast<size_t>(std::max(count, 0)));
  VisitRange(first_day, count, [&](int64_t v) { values.push_back(v); });
  return values;
}

void DayCounts::DropClosedBefore(Millis day) {
  const int32_t n = DayNumber(day);
  buckets_.erase(std::remove_if(buckets_.begin(), buckets_.end(),
                                [&](const Bucket& b) { return b.closed && b.day_number < n; }),
                 buckets_.end());
}

void DayCounts::ScheduleClose(RuleContext& ctx, Millis day, Millis offset, uint32_t tag) const {
  if (closed(day)) return;
  ctx.SetTimer(DecisionInstant(day, offset), tag);
}

Millis DayCounts::Cleanup(Millis at, Millis late_from, Millis lookback, Millis reach, uint32_t tag,
                         RuleContext& ctx) {
  const Millis kept_from = std::min(DayStart(at) - kDay, late_from) - lookback;
  DropClosedBefore(kept_from);
  if (!empty()) ctx.ScheduleCleanup(std::max(CleanupTime(buckets_.back().day(), reach), at + 1), tag);
  return kept_from;
}

void DayCounts::Encode(ByteWriter& out) const {
  out.U64(buckets_.size());
  int64_t previous = 0;
  for (const Bucket& b : buckets_) {
    out.I64(b.day_number - previous);
    out.I64(b.value);
    out.Bool(b.closed);
    previous = b.day_number;
  }
}

bool DayCounts::Decode(ByteReader& in) {
  buckets_.clear();
  uint64_t n;
  if (!in.U64(&n) || n > in.rest().size()) return false;  // each bucket takes 3 bytes or more
  std::vector<Bucket> decoded;
  decoded.reserve(n);
  int64_t day = 0;
  for (uint64_t i = 0; i < n; ++i) {
    int64_t delta;
    Bucket b;
    if (!in.I64(&delta) || !in.I64(&b.value) || !in.Bool(&b.closed)) return false;
    // Days strictly increasing and within 32 bits, as Encode writes them: else the record is
    // damaged (the delta is bounded first so that the sum cannot overflow).
    if (delta < 2 * int64_t{INT32_MIN} || delta > 2 * int64_t{INT32_MAX}) return false;
    day += delta;
    if ((i > 0 && delta <= 0) || day < INT32_MIN || day > INT32_MAX) return false;
    b.day_number = static_cast<int32_t>(day);
    decoded.push_back(b);
  }
  buckets_ = std::move(decoded);
  return true;
}

}  // namespace vigil::rulekit
