// Watermarks: event-time progress per input partition and for the engine.
//
// A partition's watermark trails the highest event time seen in it by max_out_of_orderness. The
// engine's watermark is the minimum over non-idle partitions, and never goes back. A partition is
// idle only when its source says it is caught up (at the broker's high-water mark, or the end of a
// file), never because nothing arrived for a while: a slow partition holds the watermark back
// instead of having its events wrongly declared late. A partition with no events yet and not caught
// up holds the engine watermark at -infinity. When every partition is idle, the engine watermark is
// the greatest partition watermark.
#pragma once

#include <cstdint>
#include <map>
#include <utility>

#include "event_time.h"

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
  bool HasEvents(SourcePartition p) const;
  Millis MaxEventTime(SourcePartition p) const;
  // The engine watermark (monotonic).
  Millis Current();
  // Moves the engine watermark to +infinity (end of a bounded run).
  void Finish() { finished_ = true; }

 private:
  struct State {
    Millis max_event_time = kMinTime;
    bool has_events = false;
    bool idle = false;
  };
  Millis lag_;
  std::map<SourcePartition, State> partitions_;
  Millis engine_ = kMinTime;
  bool finished_ = false;
};

}  // namespace vigil
