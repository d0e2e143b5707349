// LiveProbe: what `vigil run` publishes about its work for GET /metrics and GET /readyz
// (engine/http/ops_server.h). The engine's thread never waits on a scrape: it copies its counters
// into a LiveMetrics at most every LiveProbe::kPublishEvery (and at once after a checkpoint or a
// rebalance) and hands the copy over under a mutex held only for the swap; a scrape takes a copy
// of the last one. A scrape therefore sees figures up to that old, never a torn set.
//
// Only counts and positions by topic, partition and rule: no officer id, event id or any other
// personal data goes in here.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "histogram.h"
#include "runtime/outputs.h"
#include "time/event_time.h"

namespace vigil {

// Bucket bounds, in seconds, of the checkpoint and snapshot duration histograms: a checkpoint is
// a synced RocksDB batch (milliseconds), a snapshot of a large state can take seconds.
inline std::vector<double> CheckpointSecondsBounds() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

struct PartitionLag {
  std::string topic;
  int32_t partition = 0;
  int64_t records = 0;  // high watermark minus the next offset to read (0 when caught up)
};

struct LiveMetrics {
  ProcessorMetrics processor;
  uint64_t records = 0;           // records consumed, valid or not
  uint64_t wrong_partition = 0;   // dead-lettered: not on the partition their key hashes to
  uint64_t published_alerts = 0;  // acknowledged by Kafka
  std::vector<PartitionLag> lag;  // assigned partitions whose high watermark the consumer knows
  std::optional<Millis> watermark;  // the engine's event-time watermark; none before any event
  uint64_t checkpoints = 0;
  uint64_t snapshots = 0;
  // Time the processing thread spent on each checkpoint (building its batch, and waiting for the
  // previous one to be durable); snapshot_seconds: the same, for the checkpoints that were snapshots.
  Histogram checkpoint_seconds{CheckpointSecondsBounds()};
  Histogram snapshot_seconds{CheckpointSecondsBounds()};
  size_t state_memory_bytes = 0;   // the rules' state, hold and duplicate ids in memory
  size_t memory_budget_bytes = 0;  // --memory-budget-mb
  size_t assigned_partitions = 0;  // input partitions assigned, each with its state loaded
  // Tasks (partition numbers) assigned but not processed, as their input no longer holds what
  // their state needs (retention deleted it); why, for the first.
  size_t refused_tasks = 0;
  std::string refused_reason;
};

class LiveProbe {
 public:
  static constexpr std::chrono::milliseconds kPublishEvery{100};

  void Publish(LiveMetrics metrics) {
    std::lock_guard<std::mutex> lock(mutex_);
    metrics_ = std::move(metrics);
  }
  // The last published figures (defaults before the first).
  LiveMetrics Get() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return metrics_;
  }

 private:
  mutable std::mutex mutex_;
  LiveMetrics metrics_;
};

}  // namespace vigil
