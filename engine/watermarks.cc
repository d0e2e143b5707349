#include "watermarks.h"

#include <algorithm>

namespace vigil {

void Watermarks::Track(SourcePartition p) { partitions_.try_emplace(p); }

void Watermarks::Untrack(SourcePartition p) { partitions_.erase(p); }

void Watermarks::Observe(SourcePartition p, Millis event_time) {
  State& s = partitions_[p];
  s.max_event_time = std::max(s.max_event_time, event_time);
  s.has_events = true;
  s.idle = false;
}

void Watermarks::SetIdle(SourcePartition p) { partitions_[p].idle = true; }

void Watermarks::Restore(SourcePartition p, Millis max_event_time) {
  State& s = partitions_[p];
  s.max_event_time = std::max(s.max_event_time, max_event_time);
  s.has_events = true;
}

Millis Watermarks::PartitionWatermark(SourcePartition p) const {
  auto it = partitions_.find(p);
  if (it == partitions_.end() || !it->second.has_events) return kMinTime;
  return it->second.max_event_time - lag_;
}

bool Watermarks::HasEvents(SourcePartition p) const {
  auto it = partitions_.find(p);
  return it != partitions_.end() && it->second.has_events;
}

Millis Watermarks::MaxEventTime(SourcePartition p) const {
  auto it = partitions_.find(p);
  return it == partitions_.end() ? kMinTime : it->second.max_event_time;
}

Millis Watermarks::Current() {
  if (finished_) return kMaxTime;
  Millis min_active = kMaxTime;
  Millis max_any = kMinTime;
  bool any_active = false;
  for (const auto& [p, s] : partitions_) {
    Millis wm = s.has_events ? s.max_event_time - lag_ : kMinTime;
    max_any = std::max(max_any, wm);
    if (!s.idle) {
      any_active = true;
      min_active = std::min(min_active, wm);
    }
  }
  Millis candidate = any_active ? min_active : max_any;
  engine_ = std::max(engine_, candidate);
  return engine_;
}

}  // namespace vigil
