// Watermarks: event-time progress per input partition and for the engine.
//
// A partition's watermark trails the highest event time seen in it by max_out_of_orderness. The
// engine's watermark is the minimum over non-idle partitions, and never goes back. A partition is
// idle only when its source says it is caught up (at the broker's high-water mark, or the end of a
// file), never because nothing arrived for a while: a slow partition holds the watermark back
// instead of having its events wrongly declared late. A partition with no events yet and not caught
// up holds the engine watermark at -infinity. When every partition is idle, the engine watermark is
// the greatest partition watermark.
//
// Cost: partitions are found through a table indexed by (source, partition), and the minimum over
// non-idle partitions and the maximum over all are kept up to date as they change, so Observe()
// and Current() are O(1) but when the partition holding the minimum moves on (or one is idled,
// revoked or restored): then the next Current() takes one pass over the partitions.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "time/event_time.h"

namespace vigil {

// An input partition: a topic index (or a file) and a partition number.
struct SourcePartition {
  int32_t source = 0;
  int32_t partition = 0;
  bool operator<(const SourcePartition& o) const {
    return std::pair(source, partition) < std::pair(o.source, o.partition);
  }
};

class Watermarks {
 public:
  explicit Watermarks(Millis max_out_of_orderness) : lag_(max_out_of_orderness) {}

  void Track(SourcePartition p);    // known, not idle, until events or idleness say otherwise
  void Untrack(SourcePartition p);  // revoked
  void Observe(SourcePartition p, Millis event_time);  // an event arrived: not idle
  void SetIdle(SourcePartition p);  // caught up with its source
  // Restores a partition's highest event time after a restart.
  void Restore(SourcePartition p, Millis max_event_time);

  Millis PartitionWatermark(SourcePartition p) const;
  // The same by slot, for a caller that reads a partition's watermark and then observes an event
  // of it (the core, per event) with one look-up: Slot() is kUnknown for a partition never seen
  // (watermark -infinity; Observe() adds it). A slot stays valid until the partition is untracked.
  static constexpr uint32_t kUnknown = 0xffffffffu;
  uint32_t Slot(SourcePartition p) const { return Find(p); }
  Millis PartitionWatermarkAt(uint32_t slot) const { return WatermarkOf(states_[slot]); }
  void ObserveAt(uint32_t slot, Millis event_time) { ObserveState(states_[slot], event_time); }
  bool HasEvents(SourcePartition p) const;
  Millis MaxEventTime(SourcePartition p) const;
  // The engine watermark (monotonic).
  Millis Current() {
    if (finished_) return kMaxTime;
    if (stale_) Recompute();
    const Millis candidate = active_ > 0 ? min_active_ : max_any_;
    if (candidate > engine_) engine_ = candidate;
    return engine_;
  }
  // Moves the engine watermark to +infinity (end of a bounded run).
  void Finish() { finished_ = true; }

 private:
  static constexpr uint32_t kNone = kUnknown;
  // (source, partition) pairs in this range are found by index; others through `far_`.
  static constexpr int32_t kDirect = 4096;
  struct State {
    Millis max_event_time = kMinTime;
    bool has_events = false;
    bool idle = false;
    bool tracked = false;  // false: a free slot
  };
  Millis WatermarkOf(const State& s) const { return s.has_events ? s.max_event_time - lag_ : kMinTime; }
  uint32_t Find(SourcePartition p) const;
  // The slot of p, added (not idle, no events) if new.
  State& Get(SourcePartition p);
  void Recompute();
  void ObserveState(State& s, Millis event_time);

  Millis lag_;
  std::vector<State> states_;
  std::vector<uint32_t> free_;
  std::vector<std::vector<uint32_t>> direct_;  // [source][partition] -> slot, kNone when none
  std::map<SourcePartition, uint32_t> far_;
  // Over tracked partitions, valid unless stale_: how many are not idle, the minimum watermark of
  // those, the maximum watermark of all.
  uint32_t active_ = 0;
  Millis min_active_ = kMaxTime;
  Millis max_any_ = kMinTime;
  bool stale_ = false;
  Millis engine_ = kMinTime;
  bool finished_ = false;
};

}  // namespace vigil
