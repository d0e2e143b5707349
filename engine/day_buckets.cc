#include "day_buckets.h"

#include <algorithm>

namespace vigil {
namespace {
constexpr size_t kRecordSize = 8 + 8 + 1;
}  // namespace

DayBuckets DayBuckets::Load(KeySpace& space, std::string_view key) {
  const DayBuckets* stored = space.Find<DayBuckets>(key);
  return stored ? *stored : DayBuckets();
}

void DayBuckets::Save(KeySpace& space, std::string_view key) const {
  if (buckets_.empty()) {
    space.Delete(key);
  } else {
    space.Overwrite<DayBuckets>(key) = *this;
  }
}

bool DayBuckets::Decode(std::string_view bytes, DayBuckets* out) {
  out->buckets_.clear();
  if (bytes.size() % kRecordSize != 0) return false;
  out->buckets_.reserve(bytes.size() / kRecordSize);
  for (size_t at = 0; at < bytes.size(); at += kRecordSize) {
    Bucket b;
    b.day = ReadI64(bytes.substr(at, 8));
    b.value = ReadI64(bytes.substr(at + 8, 8));
    b.closed = bytes[at + 16] != 0;
    out->buckets_.push_back(b);
  }
  return true;
}

void DayBuckets::Encode(std::string& out) const {
  out.clear();
  out.reserve(buckets_.size() * kRecordSize);
  for (const auto& b : buckets_) {
    AppendI64(out, b.day);
    AppendI64(out, b.value);
    out.push_back(b.closed ? 1 : 0);
  }
}

const DayBuckets::Bucket* DayBuckets::Find(Millis day) const {
  day = DayStart(day);
  auto it = std::lower_bound(buckets_.begin(), buckets_.end(), day,
                             [](const Bucket& b, Millis d) { return b.day < d; });
  return it != buckets_.end() && it->day == day ? &*it : nullptr;
}

DayBuckets::Bucket* DayBuckets::Find(Millis day) {
  return const_cast<Bucket*>(static_cast<const DayBuckets*>(this)->Find(day));
}

DayBuckets::Bucket& DayBuckets::FindOrAdd(Millis day) {
  day = DayStart(day);
  auto it = std::lower_bound(buckets_.begin(), buckets_.end(), day,
                             [](const Bucket& b, Millis d) { return b.day < d; });
  if (it != buckets_.end() && it->day == day) return *it;
  Bucket b;
  b.day = day;
  return *buckets_.insert(it, b);
}

int64_t DayBuckets::value(Millis day) const {
  const Bucket* b = Find(day);
  return b ? b->value : 0;
}

void DayBuckets::Set(Millis day, int64_t value) { FindOrAdd(day).value = value; }

void DayBuckets::Add(Millis day, int64_t delta) { FindOrAdd(day).value += delta; }

bool DayBuckets::closed(Millis day) const {
  const Bucket* b = Find(day);
  return b && b->closed;
}

bool DayBuckets::Close(Millis day) {
  Bucket& b = FindOrAdd(day);
  if (b.closed) return false;
  b.closed = true;
  return true;
}

std::vector<int64_t> DayBuckets::Range(Millis first_day, int count) const {
  first_day = DayStart(first_day);
  std::vector<int64_t> values(static_cast<size_t>(std::max(count, 0)), 0);
  auto it = std::lower_bound(buckets_.begin(), buckets_.end(), first_day,
                             [](const Bucket& b, Millis d) { return b.day < d; });
  for (; it != buckets_.end(); ++it) {
    const Millis index = (it->day - first_day) / kDay;
    if (index >= count) break;
    values[static_cast<size_t>(index)] = it->value;
  }
  return values;
}

void DayBuckets::DropClosedBefore(Millis day) {
  day = DayStart(day);
  buckets_.erase(std::remove_if(buckets_.begin(), buckets_.end(),
                                [&](const Bucket& b) { return b.closed && b.day < day; }),
                 buckets_.end());
}

void DayBuckets::ScheduleClose(OperatorContext& ctx, std::string_view timer_key, Millis day,
                               Millis offset) const {
  if (closed(day)) return;
  ctx.SetTimer(DecisionInstant(day, offset), timer_key);
}

}  // namespace vigil
