#include "time/watermarks.h"

#include <algorithm>

namespace vigil {

uint32_t Watermarks::Find(SourcePartition p) const {
  if (p.source >= 0 && p.source < kDirect && p.partition >= 0 && p.partition < kDirect) {
    if (static_cast<size_t>(p.source) >= direct_.size()) return kNone;
    const std::vector<uint32_t>& row = direct_[p.source];
    return static_cast<size_t>(p.partition) < row.size() ? row[p.partition] : kNone;
  }
  auto it = far_.find(p);
  return it == far_.end() ? kNone : it->second;
}

Watermarks::State& Watermarks::Get(SourcePartition p) {
  uint32_t* where;
  if (p.source >= 0 && p.source < kDirect && p.partition >= 0 && p.partition < kDirect) {
    if (static_cast<size_t>(p.source) >= direct_.size()) direct_.resize(p.source + 1);
    std::vector<uint32_t>& row = direct_[p.source];
    if (static_cast<size_t>(p.partition) >= row.size()) row.resize(p.partition + 1, kNone);
    where = &row[p.partition];
  } else {
    where = &far_.try_emplace(p, kNone).first->second;
  }
  if (*where != kNone) return states_[*where];
  if (!free_.empty()) {
    *where = free_.back();
    free_.pop_back();
  } else {
    *where = static_cast<uint32_t>(states_.size());
    states_.emplace_back();
  }
  State& s = states_[*where];
  s = State();
  s.tracked = true;
  // A new partition: not idle, no events, so the minimum is -infinity (the maximum stays).
  ++active_;
  min_active_ = kMinTime;
  return s;
}

void Watermarks::Recompute() {
  active_ = 0;
  min_active_ = kMaxTime;
  max_any_ = kMinTime;
  for (const State& s : states_) {
    if (!s.tracked) continue;
    const Millis wm = WatermarkOf(s);
    max_any_ = std::max(max_any_, wm);
    if (!s.idle) {
      ++active_;
      min_active_ = std::min(min_active_, wm);
    }
  }
  stale_ = false;
}

void Watermarks::Track(SourcePartition p) { Get(p); }

void Watermarks::Untrack(SourcePartition p) {
  uint32_t* where;
  if (p.source >= 0 && p.source < kDirect && p.partition >= 0 && p.partition < kDirect) {
    if (static_cast<size_t>(p.source) >= direct_.size()) return;
    std::vector<uint32_t>& row = direct_[p.source];
    if (static_cast<size_t>(p.partition) >= row.size()) return;
    where = &row[p.partition];
  } else {
    auto it = far_.find(p);
    if (it == far_.end()) return;
    where = &it->second;
  }
  if (*where == kNone) return;
  states_[*where].tracked = false;
  free_.push_back(*where);
  *where = kNone;
  if (p.source >= kDirect || p.partition >= kDirect || p.source < 0 || p.partition < 0) far_.erase(p);
  stale_ = true;
}

void Watermarks::Observe(SourcePartition p, Millis event_time) { ObserveState(Get(p), event_time); }

void Watermarks::ObserveState(State& s, Millis event_time) {
  const Millis before = WatermarkOf(s);
  const bool was_idle = s.idle;
  s.max_event_time = std::max(s.max_event_time, event_time);
  s.has_events = true;
  s.idle = false;
  if (stale_) return;
  const Millis after = WatermarkOf(s);
  max_any_ = std::max(max_any_, after);
  if (was_idle) {
    min_active_ = active_ == 0 ? after : std::min(min_active_, after);
    ++active_;
  } else if (after != before && before == min_active_) {
    stale_ = true;  // the partition holding the minimum moved on: some other may hold it now
  }
}

void Watermarks::SetIdle(SourcePartition p) {
  State& s = Get(p);
  if (s.idle) return;
  s.idle = true;
  if (stale_) return;
  --active_;
  if (active_ > 0 && WatermarkOf(s) == min_active_) stale_ = true;
}

void Watermarks::Restore(SourcePartition p, Millis max_event_time) {
  State& s = Get(p);
  s.max_event_time = std::max(s.max_event_time, max_event_time);
  s.has_events = true;
  stale_ = true;
}

Millis Watermarks::PartitionWatermark(SourcePartition p) const {
  const uint32_t i = Find(p);
  return i == kNone ? kMinTime : WatermarkOf(states_[i]);
}

bool Watermarks::HasEvents(SourcePartition p) const {
  const uint32_t i = Find(p);
  return i != kNone && states_[i].has_events;
}

Millis Watermarks::MaxEventTime(SourcePartition p) const {
  const uint32_t i = Find(p);
  return i == kNone ? kMinTime : states_[i].max_event_time;
}

}  // namespace vigil
