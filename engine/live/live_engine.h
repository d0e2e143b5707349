// LiveEngine: `vigil run`. Consumes the input topics in a consumer group, runs the rules with
// state in RocksDB, and publishes alerts to the alert topic and rejected records to the
// dead-letter topic.
//
// Checkpoint protocol (engine/live/CHECKPOINTS.md has the reasoning): every alert and dead letter is
// put in the outbox and produced with the idempotent producer as soon as it is decided, without
// waiting; its acknowledgement is taken as it arrives. Every checkpoint interval (one interval
// after the previous checkpoint started),
//   1. the next offset and highest event time of every assigned partition, the outbox entries
//      decided since the last checkpoint, all operator state, and the outbox deletions and
//      published positions of the acknowledgements received so far are written to RocksDB in ONE
//      atomic, synced batch;
//   2. once it is durable, the offsets of step 1 are committed to the consumer group
//      (asynchronously).
// A crash before the batch holding an entry re-decides it from the last snapshot; the read-back
// below finds the record if it reached Kafka, and the re-decision is dropped.
// Only a snapshot (every LiveOptions::snapshot_interval_ms, the run's first checkpoint, on stop and
// on a rebalance) writes the operator state and input offsets (and commits those); the checkpoints
// between write the outbox and published positions only, so their cost does not grow with the
// event rate. A crash re-reads the input since the last snapshot: the output topics are read back
// from where they stood at that snapshot, and what is decided again and was already published is
// dropped by id.
// On start, partitions resume from the offsets in RocksDB, which match the state there (from the
// beginning when it has none: no state, so everything must be read). An outbox left by a crash is
// compared with the tail of the alert and dead-letter topics (from the positions acknowledged
// before it was written): what is already there is dropped, the rest is published before anything
// else. The group's committed offsets are informational. On stop, the engine waits for every
// acknowledgement and writes one more batch, so that it leaves no outbox behind.
//
// Shadow rules (LiveOptions::shadow_rules): a second Core reads the same records in the
// same pass, with its state under a key prefix of its own in the same RocksDB (SharedBatch) and
// its alerts in the same outbox, so that both rule sets' state, outbox and the input offsets are
// in each checkpoint's one batch; its alerts go to Topics::alerts_shadow only. A failure of the
// shadow rules stops them for the run, never the live rules.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "alert.pb.h"
#include "event.h"
#include "kafka/partitioning.h"
#include "live/health.h"
#include "live/live_probe.h"
#include "pipeline.h"
#include "state/kv_backend.h"
#include "runtime/outputs.h"
#include "rules.pb.h"

namespace vigil {

struct LiveOptions {
  std::string brokers;
  std::string group = "vigil";
  std::string state_dir = "vigil-state";
  Topics topics;
  // The partitioner the input topics' producers use (`vigil run --partitioner`). The engine
  // refuses input topics of different partition counts (at start and on every assignment), and a
  // valid record that is not on the partition its key hashes to under it, or has no key on a
  // topic of more than one partition, goes to the dead-letter topic as `wrong_partition`: its
  // officer's other events are in another partition's state.
  Partitioner partitioner = Partitioner::kConsistentRandom;
  // A second rule set evaluated on the same input (`vigil run --shadow-rules`), its alerts
  // published to topics.alerts_shadow, exactly once. Absent: the engine is as without it.
  std::optional<v1::RulesConfig> shadow_rules;
  bool until_caught_up = false;
  // A task (a partition number) whose input topics no longer hold what its state here needs (from
  // its saved offset, or from the beginning when it has none here: retention deleted it) is
  // refused by default: paused, not processed, the engine not ready and a bounded run ended, so
  // that no task goes on from incomplete windows unsaid. With this, it is processed from the
  // oldest record held instead, with a warning (`vigil run --start-from-retained`).
  bool start_from_retained = false;
  int checkpoint_interval_ms = 1000;
  // How often a checkpoint is also a snapshot (engine/live/CHECKPOINTS.md): the rules' state and the
  // input offsets are written only then; the checkpoints between write the outbox and published
  // positions only, and a crash re-reads the input since the last snapshot. 0, or at most the
  // checkpoint interval: every checkpoint is a snapshot.
  int snapshot_interval_ms = 10000;
  RocksOptions storage;  // the state store's options; its memory_budget_bytes is set from the budget
  // The one memory budget (`--memory-budget-mb`): RocksDB's block cache and write buffers get their
  // share of it (SplitMemoryBudget), the core's records, held events and duplicate ids the rest
  // (split evenly with the shadow rules' core when there is one). 0: RocksDB as `storage` says,
  // the core unbounded.
  size_t memory_budget_bytes = 0;
  // How long the group waits for a member that stopped answering (a crashed engine) before it
  // gives its partitions to another; a restarted engine waits this long for its own partitions.
  // At least 2000: librdkafka's mock cluster waits (session timeout - 1 s) for members to rejoin
  // a rebalance, and never ends a rebalance when that is 0.
  int session_timeout_ms = 10000;
  bool progress = true;
  const std::atomic<bool>* stop = nullptr;  // set to finish the batch, checkpoint and leave
  // Set once nothing more will be produced (the demo's generator is done): the engine then
  // behaves as with until_caught_up, taking the end offsets at that moment.
  const std::atomic<bool>* input_closed = nullptr;
  std::atomic<uint64_t>* records_consumed = nullptr;  // progress for a producer pacing itself
  // Set, once each checkpoint's batch is durable, to the number of records it covers: an event a
  // test can wait for ("a checkpoint covering N records is durable") instead of for wall time.
  std::atomic<uint64_t>* records_durable = nullptr;
  // Fault tests only (0: no limit): read at most this many records of each input partition in
  // this run, then go on checkpointing, publishing and taking acknowledgements as if the topics
  // held no more, so that how much input a run sees is set by the test, not by how fast the
  // machine is. A run at its limit never ends by --until-caught-up. `vigil run` takes it from
  // VIGIL_PAUSE_AFTER (engine/live/crash_points.h).
  uint64_t read_limit = 0;
  Health* health = nullptr;  // where the engine reports its state; optional
  // Where the engine publishes its counters for GET /metrics and /readyz; optional. Published from
  // the engine's thread at most every LiveProbe::kPublishEvery, never waiting on a reader.
  LiveProbe* probe = nullptr;
  // Called for each alert once Kafka has acknowledged it (e.g. the demo's live display).
  std::function<void(const v1::Alert&)> on_published;
};

struct LiveReport {
  ProcessorMetrics metrics;
  uint64_t records = 0;  // records consumed, valid or not
  // Records dead-lettered as `wrong_partition` (not in metrics.invalid; no rules saw them).
  uint64_t wrong_partition = 0;
  uint64_t published_alerts = 0;
  ProcessorMetrics shadow_metrics;       // the shadow rules' (zero without them)
  uint64_t published_shadow_alerts = 0;  // on topics.alerts_shadow
  std::string shadow_failure;            // why the shadow rules stopped part way; empty if not
  // Outbox records found already on their topic when a crash's outbox was recovered (not re-sent).
  uint64_t recovered_already_published = 0;
  // Alerts and dead letters decided again after a crash (re-read since the snapshot) and dropped
  // because the dead run had already published them.
  uint64_t redecided_dropped = 0;
  uint64_t checkpoints = 0;
  uint64_t snapshots = 0;
  // Time the processing thread spent building snapshots' batches (input waits meanwhile): in all,
  // and the longest one.
  double snapshot_hold_seconds = 0;
  double snapshot_hold_max_seconds = 0;
  // The longest wait of the processing thread, at a checkpoint while running, for the previous
  // batch to be durable (a checkpoint waits for it before building its own).
  double write_wait_max_seconds = 0;
  double seconds = 0;
};

// Runs until stopped (or, with until_caught_up, until the input is processed). Bad configuration
// and unreachable topics are Status errors; storage failure throws FatalError.
Result<LiveReport> RunLive(const LiveOptions& options, const v1::RulesConfig& config);

// How the engine shares options.memory_budget_bytes: `rocks` for RocksDB's block cache and write
// buffers, `core` for each core's records, held events and duplicate ids (the rules' core, and the
// shadow rules' as much again: the core share is halved when there are shadow rules). No budget:
// RocksDB as options.storage says, the cores unbounded (core 0).
MemoryShares LiveMemoryShares(const LiveOptions& options);

}  // namespace vigil
