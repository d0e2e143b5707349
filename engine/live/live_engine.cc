#include "live/live_engine.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <mutex>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "state/background_writer.h"
#include "live/crash_points.h"
#include "kafka/kafka.h"
#include "kafka/kafka_io.h"
#include "pipeline.h"
#include "runtime/event_view.h"
#include "state/shared_batch.h"

namespace vigil {
namespace {

constexpr uint32_t kGlobalScope = 0xffffffffu;  // keys not tied to an input partition
constexpr size_t kMaxEventBytes = 64 * 1024;
constexpr int kMaxBatch = 5000;
// Records encoded ahead of a snapshot per idle turn of the loop (StageSnapshot): about a
// millisecond, so an event arriving meanwhile waits no longer than that.
constexpr size_t kStageRecords = 256;

// What librdkafka reports about the cluster through its callbacks and the consumer queue.
struct ClusterHealth {
  std::mutex mutex;
  std::string last_error;  // since the last progress report; empty while healthy
  std::string outage;      // set when every broker is down, taken by WatchKafka()
  bool fatal = false;
};

// Acknowledgements of the records the engine produced, collected by the delivery callback (which
// runs in the engine's thread, inside rd_kafka_poll/flush on the producer).
struct Delivery {
  uint64_t seq;  // the outbox entry's sequence number (the record's opaque)
  std::string topic;
  int32_t partition;
  int64_t offset;
};
struct Deliveries {
  std::vector<Delivery> acknowledged;  // not yet taken by TakeAcknowledgements()
  uint64_t failed = 0;
  std::string first_error;
};

// An outbox entry: live entries (alerts and dead letters) are in `outbox`, the shadow rules'
// alerts in `shadow-outbox`; one sequence of numbers for both (the production order).
struct OutboxItem {
  uint64_t seq;
  state::OutboxEntry entry;
  bool shadow = false;
};

// An outbox entry produced to Kafka and not acknowledged yet.
struct InFlight {
  OutboxItem item;
  std::chrono::steady_clock::time_point produced;
};

// kBackground: the batch is written on the writer's thread and the checkpoint's later steps
// (publishing, committing offsets) follow once it is durable (CompleteWrite), while processing
// goes on. kComplete: they are all done, offsets committed synchronously, when Checkpoint returns
// (on a rebalance and on stop).
enum class CheckpointMode { kBackground, kComplete };

struct PartitionPosition {
  int64_t next_offset = -1;     // -1: nothing consumed yet in this run
  int64_t end_at_start = -1;    // high watermark when assigned (for --until-caught-up)
  bool paused = false;          // at LiveOptions::read_limit
};

// The state directory's database, in this version's state format (or a FatalError saying why not).
std::unique_ptr<KvBackend> OpenState(const LiveOptions& options) {
  RocksOptions storage = options.storage;
  storage.memory_budget_bytes = LiveMemoryShares(options).rocks;
  return CheckedStateFormat(OpenRocksBackend(options.state_dir, storage), options.state_dir);
}

// The pipeline options of the engine's cores (the rules', and the shadow rules' if any).
PipelineOptions CoreOptionsOf(const LiveOptions& options) {
  return PipelineOptions{options.topics, LiveMemoryShares(options).core};
}

class LiveEngine {
 public:
  LiveEngine(const LiveOptions& options, const v1::RulesConfig& config)
      : options_(options),
        pipeline_(MakePipeline(config, StateBackend(), CoreOptionsOf(options))),
        processor_(*pipeline_.core),
        outbox_(*pipeline_.store, ScopePrefix(kGlobalScope, "outbox")),
        shadow_outbox_(*pipeline_.store, ScopePrefix(kGlobalScope, "shadow-outbox")),
        published_(*pipeline_.store, ScopePrefix(kGlobalScope, "published")),
        snapshot_published_(*pipeline_.store, ScopePrefix(kGlobalScope, "snapshot-published")),
        snapshot_dropped_(*pipeline_.store, ScopePrefix(kGlobalScope, "snapshot-dropped")),
        health_(options.health ? *options.health : own_health_) {
    if (shared_batch_) {
      shadow_ = MakePipeline(*options.shadow_rules, shared_batch_->Follower(), CoreOptionsOf(options));
    }
  }

  Result<LiveReport> Run();

 private:
  std::unique_ptr<KvBackend> StateBackend();
  void PrepareShadowState();
  bool ShadowActive() const { return shadow_.core && report_.shadow_failure.empty(); }
  template <typename Fn>
  void InShadow(Fn fn);
  void WriteBatch(bool snapshot);
  void SaveSnapshotPositions();
  bool DecidedBefore(char kind, const std::string& id);
  Status Connect();
  Result<std::vector<TopicPartitionCount>> InputPartitionCounts();
  void KeepPartitionCounts(const std::vector<TopicPartitionCount>& counts);
  static void OnClientError(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);
  static void OnOffsetsCommitted(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                 rd_kafka_topic_partition_list_t* offsets, void* opaque);
  void NoteKafkaError(rd_kafka_resp_err_t err, const std::string& reason);
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque);
  void Assign(rd_kafka_topic_partition_list_t* partitions);
  void Revoke(rd_kafka_topic_partition_list_t* partitions);
  struct AssignedInput {
    int stream = -1;
    std::optional<int64_t> saved;
    int64_t oldest = 0;
    std::string gap;  // empty when the topic holds what the state needs
  };
  AssignedInput LoadAssigned(const rd_kafka_topic_partition_t& tp);
  void SetTaskOwned(int stream, int32_t partition, bool owned);
  void NoteHistoryGaps(const std::map<int32_t, std::string>& gaps);
  bool Refused(int32_t partition) const { return !refused_.empty() && refused_.count(partition); }
  int StreamIndex(const char* topic) const;
  void Handle(const rd_kafka_message_t& m);
  bool OnItsPartition(int stream, const rd_kafka_message_t& m, std::string_view key) const;
  void RejectWrongPartition(int stream, const rd_kafka_message_t& m, const RecordOrigin& origin);
  void MoveOutputsToOutbox();
  void Checkpoint(CheckpointMode mode, bool snapshot = true);
  bool StageSnapshot();
  bool SnapshotWanted();  // the memory budget needs the next checkpoint to be a snapshot
  void CompleteWrite();
  using OutboxEntries = std::vector<OutboxItem>;  // by sequence number
  KeySpace& OutboxOf(bool shadow) { return shadow ? shadow_outbox_ : outbox_; }
  OutboxEntries ReadOutbox();
  void RecoverOutbox();
  std::map<int32_t, int64_t> AcknowledgedEnd(KeySpace& positions, const std::string& topic);
  std::map<int32_t, int64_t> ReadBackStart(const std::string& topic);
  void Publish(OutboxEntries entries);
  void TakeAcknowledgements();
  bool AcknowledgementsOverdue() const;
  void ReportOverdueAcknowledgements();
  void WaitForAcknowledgements();
  void SaveAcknowledgedPositions();
  void WatchKafka();
  void SetHealth(HealthState state, const std::string& detail = "");
  Result<LiveReport> Loop();
  void CommitOffsets(const PartitionList& offsets, bool async);
  bool CaughtUp() const;
  void TakeEndOffsets();
  std::pair<int64_t, int64_t> OffsetsOf(const std::string& topic, int32_t partition);
  bool Finishing() const { return options_.until_caught_up || end_offsets_taken_; }
  bool AtReadLimit(const std::string& topic, int32_t partition, PartitionPosition& position);
  void MaybeReport(bool force);
  void PublishMetrics(bool force);
  std::vector<PartitionLag> ConsumerLag() const;
  std::string ShadowProgress() const;

  const LiveOptions& options_;
  BackgroundWriter* writer_ = nullptr;  // the state store's backend; set by pipeline_'s initialiser
  // With shadow rules: their store's writes join the live store's batches (set with writer_).
  std::unique_ptr<SharedBatch> shared_batch_;
  Pipeline pipeline_;
  EventCore& processor_;
  // The shadow rules' store and processor (null without shadow rules); after pipeline_, so
  // destroyed before the backend it reads through.
  Pipeline shadow_;
  KeySpace outbox_;
  KeySpace shadow_outbox_;
  KeySpace published_;  // (topic, partition) -> next offset after the last acknowledged record
  // `published` as it was in the last snapshot's batch (key "", value "1": the marker that one was written).
  KeySpace snapshot_published_;
  // dropped_ as it was in the last snapshot's batch: kind + id, empty values.
  KeySpace snapshot_dropped_;
  // What a dead run may have published after the last snapshot, decided from input this run reads
  // again: kind ('a' alert, 's' shadow alert, 'd' dead letter's source) + id. A decision found here
  // is dropped (and the id forgotten): it is already on Kafka, or in the outbox being published.
  std::set<std::string> dropped_;
  std::set<std::string> dropped_durable_;  // the keys of snapshot_dropped_
  bool snapshot_written_ = false;  // in this run
  uint64_t next_outbox_seq_ = 0;
  // The checkpoint whose batch is being written: what follows once it is durable.
  struct Written {
    PartitionList offsets;  // to commit to the group
    CheckpointMode mode = CheckpointMode::kBackground;
    uint64_t records = 0;   // records read when it was taken
    bool snapshot = true;
  };
  std::optional<Written> written_;
  std::map<std::pair<std::string, int32_t>, uint64_t> read_in_run_;  // for options_.read_limit
  // Outbox entries produced and not yet acknowledged, by sequence number (= production order).
  std::map<uint64_t, InFlight> in_flight_;
  // (topic, partition) -> the offset after the last acknowledged record, not yet in `published`.
  std::map<std::pair<std::string, int32_t>, int64_t> acknowledged_end_;
  std::chrono::steady_clock::time_point last_overdue_report_;
  ClusterHealth cluster_;
  Deliveries deliveries_;
  Health own_health_;
  Health& health_;
  std::chrono::steady_clock::time_point unreachable_since_, last_probe_;
  bool failed_ = false;  // a FatalError is on its way out: no more checkpoints
  std::exception_ptr rebalance_failure_;  // thrown in a rebalance callback, rethrown by Loop()
  std::map<std::pair<int, int32_t>, PartitionPosition> assigned_;  // (stream, partition)
  bool ever_assigned_ = false;
  bool end_offsets_taken_ = false;
  LiveReport report_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_report_ = started_;
  uint64_t invalid_logged_ = 0;
  uint64_t wrong_partition_logged_ = 0;
  // Tasks (partition numbers) assigned here whose state cannot be restored (Assign): paused, not
  // processed, and the engine not ready while it has any; why, by task.
  std::map<int32_t, std::string> refused_;
  // Each input topic's partition count (by stream), as last checked (InputPartitionCounts): what a
  // record's key is hashed against.
  std::array<int32_t, kStreamCount> partition_counts_{};
  // Records dead-lettered as wrong_partition, for the next MoveOutputsToOutbox.
  std::vector<DeadLetter> wrong_partition_letters_;
  // Durations of this run's checkpoints on the processing thread (Checkpoint()), for options_.probe.
  Histogram checkpoint_seconds_{CheckpointSecondsBounds()};
  Histogram snapshot_seconds_{CheckpointSecondsBounds()};
  std::chrono::steady_clock::time_point last_publish_;
  // Last, so destroyed first: closing the consumer may call Revoke(), which uses the members above.
  KafkaHandle producer_;
  KafkaHandle consumer_;
};

// Where the shadow rules' store keeps its keys: in the global scope, outside every partition's.
std::string ShadowStatePrefix() { return ScopePrefix(kGlobalScope, "shadow"); }

std::unique_ptr<KvBackend> LiveEngine::StateBackend() {
  std::unique_ptr<KvBackend> backend = InBackground(OpenState(options_), writer_);
  if (!options_.shadow_rules) return backend;
  shared_batch_ = std::make_unique<SharedBatch>(std::move(backend), ShadowStatePrefix());
  return shared_batch_->Lead();
}

// Present while the shadow rules' state has been part of every batch since it was started, so
// that it matches the live state and offsets. A run without shadow rules, or whose shadow rules
// failed, deletes it in its next batch.
KeySpace InStepMarker(StateStore& live) { return KeySpace(live, ScopePrefix(kGlobalScope, "shadow-in-step")); }

// Shadow state that fell out of step (an earlier run without shadow rules, or theirs failed)
// would miss the input read meanwhile: it is dropped, and the shadow rules start afresh from the
// live engine's positions. The deletions and the marker are written with the first batch.
void LiveEngine::PrepareShadowState() {
  KeySpace marker = InStepMarker(*pipeline_.store);
  const bool in_step = marker.Get("").has_value();
  if (!shadow_.core) {
    if (in_step) marker.Delete("");
    return;
  }
  if (in_step) return;
  std::vector<std::string> stale;
  shadow_.store->Scan("", PrefixEnd(""), [&](std::string_view key, std::string_view) {
    stale.emplace_back(key);
    return true;
  });
  for (const std::string& key : stale) shadow_.store->Delete(key);
  bool live_has_state = false;  // any key of an input partition (those sort before the global scope)
  pipeline_.store->Scan("", std::string(4, '\xff'), [&](std::string_view, std::string_view) {
    live_has_state = true;
    return false;
  });
  if ((live_has_state || !stale.empty()) && options_.progress) {
    std::cerr << "run: the shadow rules start at the live engine's positions (" << stale.size()
              << " records of older shadow state dropped): what they decide depends on events "
                 "read from here on only\n";
  }
  marker.Put("", "1");
}

// Runs fn on the shadow processor unless the shadow rules have failed. A failure of theirs (a
// rule's bug, their state unreadable) stops them for the rest of the run, never the live rules:
// their state is no longer checkpointed and the marker goes, so a restart starts them afresh.
template <typename Fn>
void LiveEngine::InShadow(Fn fn) {
  if (!ShadowActive()) return;
  try {
    fn(*shadow_.core);
  } catch (const std::exception& e) {
    report_.shadow_failure = e.what();
    InStepMarker(*pipeline_.store).Delete("");
    std::cerr << "run: the shadow rules failed (" << e.what() << "); they stop here and the live "
              << "rules go on; a restart runs them again from the live engine's positions\n";
  }
}

// The shadow store's writes are staged into the live store's batch (SharedBatch): its checkpoint
// comes first, right before the live one.
void LiveEngine::WriteBatch(bool snapshot) {
  InShadow([&](EventCore& shadow) {
    shadow.PrepareCheckpoint(snapshot);
    shadow_.store->Checkpoint(/*sync=*/true);
  });
  pipeline_.store->Checkpoint(/*sync=*/true);
  if (shared_batch_) shared_batch_->WriteStaged(/*sync=*/true);
}

std::string OutboxKey(uint64_t seq) {
  std::string key;
  AppendI64(key, static_cast<int64_t>(seq));
  return key;
}

std::string PublishedKey(const std::string& topic, int32_t partition) {
  std::string key = topic;
  key.push_back('\0');
  AppendU32(key, static_cast<uint32_t>(partition));
  return key;
}

void LiveEngine::OnClientError(rd_kafka_t*, int err, const char* reason, void* opaque) {
  static_cast<LiveEngine*>(opaque)->NoteKafkaError(static_cast<rd_kafka_resp_err_t>(err), reason);
}

void LiveEngine::NoteKafkaError(rd_kafka_resp_err_t err, const std::string& reason) {
  std::lock_guard<std::mutex> lock(cluster_.mutex);
  cluster_.last_error = reason;
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) cluster_.outage = reason;
  if (err == RD_KAFKA_RESP_ERR__FATAL) cluster_.fatal = true;
}

// Runs in the engine's thread, inside rd_kafka_flush/poll on the producer.
void LiveEngine::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  Deliveries& d = static_cast<LiveEngine*>(opaque)->deliveries_;
  if (m->err) {
    if (d.failed++ == 0) d.first_error = KafkaError(m->err);
    return;
  }
  d.acknowledged.push_back({static_cast<uint64_t>(reinterpret_cast<uintptr_t>(m->_private)),
                            rd_kafka_topic_name(m->rkt), m->partition, m->offset});
}

// Runs in the engine's thread, inside rd_kafka_consumer_poll (asynchronous commits).
void LiveEngine::OnOffsetsCommitted(rd_kafka_t*, rd_kafka_resp_err_t err,
                                    rd_kafka_topic_partition_list_t*, void* opaque) {
  if (!err || err == RD_KAFKA_RESP_ERR__NO_OFFSET || !static_cast<LiveEngine*>(opaque)->options_.progress) {
    return;
  }
  // Not fatal: RocksDB holds the offsets the engine resumes from; the next checkpoint commits again.
  std::cerr << "run: committing offsets to the group failed: " << KafkaError(err) << "\n";
}

Status LiveEngine::Connect() {
  struct Prepare {
    static void Consumer(rd_kafka_conf_t* conf, void*) {
      rd_kafka_conf_set_rebalance_cb(conf, &LiveEngine::OnRebalance);
      rd_kafka_conf_set_error_cb(conf, &LiveEngine::OnClientError);
      rd_kafka_conf_set_offset_commit_cb(conf, &LiveEngine::OnOffsetsCommitted);
    }
    static void Producer(rd_kafka_conf_t* conf, void*) {
      rd_kafka_conf_set_error_cb(conf, &LiveEngine::OnClientError);
      rd_kafka_conf_set_dr_msg_cb(conf, &LiveEngine::OnDelivery);
    }
  };
  // Both handles' opaque is this engine: rebalances, errors and deliveries come back to it.
  Result<KafkaHandle> consumer = MakeHandle(
      RD_KAFKA_CONSUMER,
      {{"bootstrap.servers", options_.brokers},
       {"group.id", options_.group},
       {"enable.auto.commit", "false"},
       {"enable.auto.offset.store", "false"},
       {"auto.offset.reset", "earliest"},
       {"enable.partition.eof", "true"},
       {"partition.assignment.strategy", "range"},  // co-partitioned topics: same numbers together
       // A restarted engine gets its partitions back within this after a crash (Kafka's default
       // is 45 s); heartbeats keep a live engine in the group however long a batch takes.
       {"session.timeout.ms", std::to_string(options_.session_timeout_ms)},
       {"heartbeat.interval.ms", std::to_string(std::min(1000, options_.session_timeout_ms / 3))},
       // A caught-up fetch waits at most this for new data (default 500 ms): on a real broker
       // only the rate of empty fetches while idle, but the mock cluster always waits the whole
       // time, so it bounds how late a new event is seen there.
       {"fetch.wait.max.ms", "20"},
       {"max.poll.interval.ms", std::to_string(std::max(300000, options_.session_timeout_ms))},
       {"log.connection.close", "false"}},
      &Prepare::Consumer, this);
  if (!consumer.ok()) return consumer.status();
  consumer_ = std::move(consumer.value());
  // Errors (e.g. every broker down) are then served by consumer_poll like messages and rebalances.
  rd_kafka_poll_set_consumer(consumer_.get());

  Result<KafkaHandle> producer = MakeHandle(
      RD_KAFKA_PRODUCER,
      {{"bootstrap.servers", options_.brokers},
       {"enable.idempotence", "true"},
       {"acks", "all"},
       {"linger.ms", "5"},
       {"message.timeout.ms", "0"},  // never give up on an alert: wait for the cluster
       {"log.connection.close", "false"}},
      &Prepare::Producer, this);
  if (!producer.ok()) return producer.status();
  producer_ = std::move(producer.value());

  Result<std::vector<TopicPartitionCount>> counts = InputPartitionCounts();
  if (!counts.ok()) return counts.status();
  Status copartitioned = CheckCoPartitioned(*counts);
  if (!copartitioned.ok()) return copartitioned;
  KeepPartitionCounts(*counts);
  if (shadow_.core) {
    // Checked now: a shadow topic the cluster cannot take would stop the engine at its first alert.
    Result<int> partitions = PartitionCount(producer_.get(), options_.topics.alerts_shadow);
    if (!partitions.ok()) {
      return Status::Error("the shadow alert topic: " + partitions.status().message() + " at " +
                           options_.brokers + " (create it, or name another with --shadow-topic)");
    }
  }
  PartitionList topics(rd_kafka_topic_partition_list_new(3));
  for (const std::string* topic :
       {&options_.topics.roster, &options_.topics.access, &options_.topics.complaints}) {
    rd_kafka_topic_partition_list_add(topics.get(), topic->c_str(), RD_KAFKA_PARTITION_UA);
  }
  rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer_.get(), topics.get());
  if (err) return Status::Error("cannot subscribe to the input topics: " + KafkaError(err));
  return Status::Ok();
}

// The input topics' partition counts, from the cluster (one metadata request per topic).
Result<std::vector<TopicPartitionCount>> LiveEngine::InputPartitionCounts() {
  std::vector<TopicPartitionCount> counts;
  for (int s = 0; s < kStreamCount; ++s) {
    const std::string& topic = options_.topics.For(static_cast<Stream>(s));
    Result<int> partitions = PartitionCount(producer_.get(), topic);
    if (!partitions.ok()) return Status::Error(partitions.status().message() + " at " + options_.brokers);
    counts.push_back({topic, *partitions});
  }
  return counts;
}

// Counts CheckCoPartitioned has accepted, for OnItsPartition (so no record waits on the cluster).
void LiveEngine::KeepPartitionCounts(const std::vector<TopicPartitionCount>& counts) {
  for (int s = 0; s < kStreamCount; ++s) partition_counts_[s] = counts[s].partitions;
}

int LiveEngine::StreamIndex(const char* topic) const {
  for (int s = 0; s < kStreamCount; ++s) {
    if (options_.topics.For(static_cast<Stream>(s)) == topic) return s;
  }
  return -1;
}

void LiveEngine::OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                             rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* engine = static_cast<LiveEngine*>(opaque);
  // An exception must not unwind through librdkafka's C frames: keep it for the engine's loop.
  try {
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      engine->Assign(partitions);
    } else {
      engine->Revoke(partitions);
    }
  } catch (const FatalError&) {
    engine->failed_ = true;
    engine->rebalance_failure_ = std::current_exception();
    rd_kafka_assign(rk, nullptr);
  }
}

void LiveEngine::Assign(rd_kafka_topic_partition_list_t* partitions) {
  // Checked again on every assignment: partitions added to an input topic make the group
  // rebalance. Counts that differ end the run (OnRebalance keeps the FatalError for Loop): the
  // officers' events no longer meet in one partition number. If the cluster cannot say now, the
  // counts checked last stay, and the next assignment checks again.
  Result<std::vector<TopicPartitionCount>> counts = InputPartitionCounts();
  if (counts.ok()) {
    Status copartitioned = CheckCoPartitioned(*counts);
    if (!copartitioned.ok()) throw FatalError(copartitioned.message());
    KeepPartitionCounts(*counts);
  } else if (options_.progress) {
    std::cerr << "run: cannot check the input topics' partition counts on this assignment ("
              << counts.status().message() << "); keeping those checked before\n";
  }
  // A task (a partition number: its officers' state, fed by that partition of each input topic)
  // is processed only from where its state here stands, or, with none, from the beginning of its
  // input; never from a later point the input topics' retention has left it, which would go on
  // silently from incomplete windows (--start-from-retained accepts that, saying so).
  std::vector<AssignedInput> inputs(static_cast<size_t>(partitions->cnt));
  std::map<int32_t, std::string> gaps;  // task -> what its input no longer holds
  for (int i = 0; i < partitions->cnt; ++i) {
    inputs[i] = LoadAssigned(partitions->elems[i]);
    if (!inputs[i].gap.empty()) {
      std::string& gap = gaps[partitions->elems[i].partition];
      gap += (gap.empty() ? "" : "; ") + inputs[i].gap;
    }
  }
  std::vector<int> refused;  // indices into partitions
  for (int i = 0; i < partitions->cnt; ++i) {
    auto& tp = partitions->elems[i];
    const AssignedInput& input = inputs[i];
    if (input.stream < 0) continue;
    const bool lost = gaps.count(tp.partition) > 0;
    SetTaskOwned(input.stream, tp.partition, !lost || options_.start_from_retained);
    if (lost && !options_.start_from_retained) {
      refused.push_back(i);
      continue;
    }
    PartitionPosition position;
    if (lost) {
      tp.offset = std::max(input.saved.value_or(0), input.oldest);
    } else {
      tp.offset = input.saved ? *input.saved : RD_KAFKA_OFFSET_BEGINNING;
    }
    if (input.saved || lost) position.next_offset = tp.offset;
    assigned_[{input.stream, tp.partition}] = position;
  }
  NoteHistoryGaps(gaps);
  ever_assigned_ = true;
  if (Finishing()) TakeEndOffsets();
  rd_kafka_assign(consumer_.get(), partitions);
  if (!refused.empty()) {
    PartitionList paused(rd_kafka_topic_partition_list_new(static_cast<int>(refused.size())));
    for (int i : refused) {
      rd_kafka_topic_partition_list_add(paused.get(), partitions->elems[i].topic, partitions->elems[i].partition);
    }
    rd_kafka_pause_partitions(consumer_.get(), paused.get());
  }
  PublishMetrics(/*force=*/true);
  if (options_.progress) {
    std::cerr << "run: assigned " << partitions->cnt << " partitions of the input topics\n";
  }
}

// One assigned input partition: its stream (-1: not an input topic), the progress its state here
// saved, the oldest offset the topic still holds, and, if that is past what the state needs, why
// its task cannot be restored. Tracks its event time and loads its state.
LiveEngine::AssignedInput LiveEngine::LoadAssigned(const rd_kafka_topic_partition_t& tp) {
  AssignedInput input;
  input.stream = StreamIndex(tp.topic);
  if (input.stream < 0) return input;
  SourcePartition source{input.stream, tp.partition};
  processor_.watermarks().Track(source);
  // RocksDB holds the offset that matches the state; the group's commit may lag behind it.
  // Without saved progress there is no state either: start from the beginning.
  input.saved = processor_.LoadProgress(source, tp.partition);
  // The shadow rules' progress is in step (PrepareShadowState): it restores their watermarks.
  InShadow([&](EventCore& shadow) {
    shadow.watermarks().Track(source);
    shadow.LoadProgress(source, tp.partition);
  });
  input.oldest = OffsetsOf(tp.topic, tp.partition).first;
  if (input.oldest > input.saved.value_or(0)) {
    input.gap = std::string(tp.topic) + "/" + std::to_string(tp.partition) + " holds offsets from " +
                std::to_string(input.oldest) + " but " +
                (input.saved ? "the state here needs them from " + std::to_string(*input.saved)
                             : std::string("there is no state for it here, which needs them from 0"));
  }
  return input;
}

// A task the engine does not process (revoked, or refused) neither holds back the others' event
// time nor is drained by it: its state stays that of its saved progress.
void LiveEngine::SetTaskOwned(int stream, int32_t partition, bool owned) {
  const SourcePartition source{stream, partition};
  processor_.SetScopeOwned(static_cast<uint32_t>(partition), owned);
  InShadow([&](EventCore& shadow) { shadow.SetScopeOwned(static_cast<uint32_t>(partition), owned); });
  if (owned) return;
  processor_.watermarks().Untrack(source);
  InShadow([&](EventCore& shadow) { shadow.watermarks().Untrack(source); });
}

// What Assign found the input topics no longer hold: with --start-from-retained, processed from the
// oldest record held, saying so; otherwise refused, saying why and what to do. A bounded run
// (--until-caught-up) cannot finish without them: it ends.
void LiveEngine::NoteHistoryGaps(const std::map<int32_t, std::string>& gaps) {
  for (const auto& [task, gap] : gaps) {
    if (options_.start_from_retained) {
      std::cerr << "run: partition " << task << " is processed from the oldest records its input "
                << "topics hold (--start-from-retained): " << gap
                << "; windows reaching before them are incomplete\n";
      continue;
    }
    const std::string why = "partition " + std::to_string(task) +
                            " is not processed, as its state cannot be restored: " + gap +
                            " (retention deleted the rest)";
    if (Finishing()) {
      throw FatalError(why + "; keep the retention recovery needs (deploy/README.md), or accept "
                       "incomplete windows with --start-from-retained");
    }
    std::cerr << "run: " << why << "; the engine is not ready while it holds it. Keep the retention "
              << "recovery needs (deploy/README.md), or restart with --start-from-retained to "
              << "process it from the oldest records held, with incomplete windows\n";
    refused_[task] = gap;
  }
}

void LiveEngine::Revoke(rd_kafka_topic_partition_list_t* partitions) {
  // The state of the partitions we lose is durable before they go (unless storage has failed:
  // then nothing more is written, and the next owner resumes from the last good checkpoint).
  if (!failed_) Checkpoint(CheckpointMode::kComplete);
  for (int i = 0; i < partitions->cnt; ++i) {
    int stream = StreamIndex(partitions->elems[i].topic);
    if (stream < 0) continue;
    SetTaskOwned(stream, partitions->elems[i].partition, false);
    assigned_.erase({stream, partitions->elems[i].partition});
    refused_.erase(partitions->elems[i].partition);
  }
  rd_kafka_assign(consumer_.get(), nullptr);
  PublishMetrics(/*force=*/true);
}

// LiveOptions::read_limit (fault tests): a partition that has given its share of records is
// paused. A record fetched beyond the limit is left unread: the partition's offset stays before
// it, so the next run reads it.
bool LiveEngine::AtReadLimit(const std::string& topic, int32_t partition, PartitionPosition& position) {
  if (options_.read_limit == 0) return false;
  // Counted for the whole run: a rebalance that assigns the partition again does not reset it.
  uint64_t& read = read_in_run_[{topic, partition}];
  if (read < options_.read_limit) {
    ++read;
    return false;
  }
  if (!position.paused) {
    PartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
    rd_kafka_pause_partitions(consumer_.get(), list.get());
    position.paused = true;
  }
  return true;
}

void LiveEngine::Handle(const rd_kafka_message_t& m) {
  const char* topic = rd_kafka_topic_name(m.rkt);
  int stream = StreamIndex(topic);
  // Fetched before its task was refused (and paused): left unread.
  if (stream >= 0 && Refused(m.partition)) return;
  if (m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    if (stream < 0) return;
    processor_.watermarks().SetIdle({stream, m.partition});
    InShadow([&](EventCore& shadow) { shadow.watermarks().SetIdle({stream, m.partition}); });
    return;
  }
  if (m.err) {
    NoteKafkaError(m.err, rd_kafka_message_errstr(&m));
    return;
  }
  if (stream < 0) return;
  PartitionPosition& partition = assigned_[{stream, m.partition}];
  if (AtReadLimit(topic, m.partition, partition)) return;
  ++report_.records;
  if (options_.records_consumed) options_.records_consumed->fetch_add(1, std::memory_order_relaxed);
  partition.next_offset = m.offset + 1;
  std::string_view value(static_cast<const char*>(m.payload), m.payload ? m.len : 0);
  std::string_view key(m.key ? static_cast<const char*>(m.key) : "", m.key ? m.key_len : 0);
  const RecordOrigin origin{key, value, topic, m.partition, m.offset};
  const SourcePartition source{stream, m.partition};
  const uint32_t scope = static_cast<uint32_t>(m.partition);
  if (!OnItsPartition(stream, m, key)) {
    // A record that is not a valid event is dead-lettered as invalid wherever it is (below); a
    // valid one here would be correlated apart from its officer's other events.
    EventView view;
    if (value.size() <= kMaxEventBytes && DecodeEventView(static_cast<Stream>(stream), value, &view).ok()) {
      RejectWrongPartition(stream, m, origin);
      return;
    }
  }
  Status taken = value.size() > kMaxEventBytes
                     ? Status::Error("oversized: " + std::to_string(value.size()) + " bytes")
                     : processor_.IngestRecord(static_cast<Stream>(stream), source, scope, origin);
  if (!taken.ok()) {
    const std::string position = origin.Position();
    if (invalid_logged_++ < 100 || invalid_logged_ % 1000 == 0) {
      std::cerr << "run: " << position << ": not a valid event (" << taken.message()
                << "); sent to " << options_.topics.dlq << "\n";
    }
    processor_.RejectInvalid(
        {std::string(key), std::string(value), "invalid: " + taken.message(), position});
    return;
  }
  // Invalid records are the live engine's to dead-letter; the shadow rules see the valid events.
  InShadow([&](EventCore& shadow) {
    (void)shadow.IngestRecord(static_cast<Stream>(stream), source, scope, origin);
  });
}

// Whether the record is on the partition its key hashes to under options_.partitioner, for its
// topic's partition count (../shared/CONTRACT.md: the input topics are co-partitioned by officer id).
// One hash of the key per record, no request to the cluster. Without a key a record's partition
// says nothing of its officer (the producer chose it at random), so on a topic of more than one
// partition it is never on its own.
bool LiveEngine::OnItsPartition(int stream, const rd_kafka_message_t& m, std::string_view key) const {
  const int32_t partitions = partition_counts_[stream];
  if (partitions <= 1) return true;
  if (key.empty()) return false;
  return KeyPartition(options_.partitioner, m.rkt, key, partitions) == m.partition;
}

// To the dead-letter topic, as invalid records go, but counted apart and given to no rules (the
// shadow rules' neither): reason "wrong_partition: <where its key belongs>".
void LiveEngine::RejectWrongPartition(int stream, const rd_kafka_message_t& m, const RecordOrigin& origin) {
  const int32_t partitions = partition_counts_[stream];
  const std::string detail =
      origin.key.empty()
          ? "no key, on a topic of " + std::to_string(partitions) +
                " partitions (the key must be the officer id)"
          : "key hashes to partition " +
                std::to_string(KeyPartition(options_.partitioner, m.rkt, origin.key, partitions)) +
                " of " + std::to_string(partitions) + " under " + PartitionerName(options_.partitioner);
  const std::string position = origin.Position();
  if (wrong_partition_logged_++ < 100 || wrong_partition_logged_ % 1000 == 0) {
    std::cerr << "run: " << position << ": " << detail << "; not given to the rules, sent to "
              << options_.topics.dlq << " (the input topics must be co-partitioned by officer id: "
              << "see vigil run --partitioner)\n";
  }
  ++report_.wrong_partition;
  wrong_partition_letters_.push_back(
      {std::string(origin.key), std::string(origin.value), "wrong_partition: " + detail, position});
}

// Each decided alert and dead letter goes into the outbox (durable with the next checkpoint) and is
// produced at once, before that checkpoint (engine/live/CHECKPOINTS.md, "Producing before the
// checkpoint"): a crash before it re-decides the entry from the last snapshot, and the read-back
// finds the record after that snapshot's `snapshot-published` and drops the re-decision.
void LiveEngine::MoveOutputsToOutbox() {
  OutboxEntries decided;
  auto save = [&](state::OutboxEntry&& entry, bool shadow = false) {
    const uint64_t seq = next_outbox_seq_++;
    OutboxOf(shadow).Save(OutboxKey(seq), entry);
    decided.push_back({seq, std::move(entry), shadow});
  };
  for (auto& alert : processor_.TakeAlerts()) {
    if (DecidedBefore('a', alert.alert_id())) continue;
    state::OutboxEntry entry;
    *entry.mutable_alert() = std::move(alert);
    save(std::move(entry));
  }
  auto dead_letter = [&](DeadLetter& letter) {
    if (DecidedBefore('d', letter.source)) return;
    state::OutboxEntry entry;
    auto* record = entry.mutable_dead_letter();
    record->set_key(std::move(letter.key));
    record->set_value(std::move(letter.value));
    record->set_reason(std::move(letter.reason));
    record->set_source(std::move(letter.source));
    save(std::move(entry));
  };
  for (auto& letter : processor_.TakeDeadLetters()) dead_letter(letter);
  for (auto& letter : std::exchange(wrong_partition_letters_, {})) dead_letter(letter);
  InShadow([&](EventCore& shadow) {
    for (auto& alert : shadow.TakeAlerts()) {
      if (DecidedBefore('s', alert.alert_id())) continue;
      state::OutboxEntry entry;
      *entry.mutable_alert() = std::move(alert);
      save(std::move(entry), /*shadow=*/true);
    }
    // Records too late under the shadow rules' lateness: the dead-letter topic is the live rules'.
    shadow.TakeDeadLetters();
  });
  Publish(std::move(decided));
}

// Decided again after a crash, and already published by the dead run (or by the recovery): dropped
// once, and forgotten (nothing is decided twice in one run).
bool LiveEngine::DecidedBefore(char kind, const std::string& id) {
  if (dropped_.empty()) return false;
  auto it = dropped_.find(std::string(1, kind) + id);
  if (it == dropped_.end()) return false;
  dropped_.erase(it);
  if (report_.redecided_dropped++ == 0 && options_.progress) {
    std::cerr << "run: decided again what the last run had already published after its snapshot: "
              << "dropped, not published twice\n";
  }
  return true;
}

// With a snapshot: `published` as it will be in this batch, copied to `snapshot-published` (where
// the next start reads the output topics back from), and dropped_ to `snapshot-dropped` (the ids
// the re-read since this snapshot may still decide again).
void LiveEngine::SaveSnapshotPositions() {
  std::vector<std::pair<std::string, std::string>> positions;  // a scan's fn must not write
  published_.ScanPrefix("", [&](std::string_view key, std::string_view value) {
    positions.emplace_back(key, value);
    return true;
  });
  for (const auto& [key, value] : positions) snapshot_published_.Put(key, value);
  snapshot_published_.Put("", "1");
  for (const std::string& key : dropped_durable_) {
    if (!dropped_.count(key)) snapshot_dropped_.Delete(key);
  }
  for (const std::string& key : dropped_) {
    if (!dropped_durable_.count(key)) snapshot_dropped_.Put(key, "1");
  }
  dropped_durable_ = dropped_;
}

bool LiveEngine::SnapshotWanted() {
  bool wanted = processor_.SnapshotWanted();
  InShadow([&](EventCore& shadow) { wanted = wanted || shadow.SnapshotWanted(); });
  return wanted;
}

// One idle turn's share of staging, the shadow rules' records too; whether any is left.
bool LiveEngine::StageSnapshot() {
  bool more = processor_.StageSnapshot(kStageRecords);
  InShadow([&](EventCore& shadow) { more = shadow.StageSnapshot(kStageRecords) || more; });
  return more;
}

// engine/live/CHECKPOINTS.md, "The protocol". The processing thread waits neither for the synced batch
// (written by the writer's thread; CompleteWrite takes over once it is durable) nor for Kafka: the
// outbox was produced when decided (MoveOutputsToOutbox), and its acknowledgements are taken as
// they arrive (TakeAcknowledgements) and written with the next batch. Only a snapshot writes the rules' state
// and the input offsets (and commits those to the group); every checkpoint writes the outputs.
void LiveEngine::Checkpoint(CheckpointMode mode, bool snapshot) {
  const auto waiting = std::chrono::steady_clock::now();
  CompleteWrite();  // batches become durable, and are published, in order
  const auto started = std::chrono::steady_clock::now();
  if (mode == CheckpointMode::kBackground) {
    report_.write_wait_max_seconds = std::max(
        report_.write_wait_max_seconds, std::chrono::duration<double>(started - waiting).count());
  }
  // The first batch of a run is a snapshot: it carries the shadow state's reset and the
  // `snapshot-published` marker, which every later batch relies on.
  if (!snapshot_written_) snapshot = true;
  MoveOutputsToOutbox();
  PartitionList offsets(rd_kafka_topic_partition_list_new(static_cast<int>(assigned_.size())));
  for (const auto& [key, position] : assigned_) {
    if (!snapshot || position.next_offset < 0) continue;
    processor_.SaveProgress({key.first, key.second}, static_cast<uint32_t>(key.second),
                            position.next_offset);
    InShadow([&](EventCore& shadow) {
      shadow.SaveProgress({key.first, key.second}, static_cast<uint32_t>(key.second),
                          position.next_offset);
    });
    rd_kafka_topic_partition_list_add(offsets.get(),
                                      options_.topics.For(static_cast<Stream>(key.first)).c_str(),
                                      key.second)->offset = position.next_offset;
  }
  TakeAcknowledgements();
  // A record not yet acknowledged may still land on Kafka before an acknowledged one's position
  // (if reports could come out of order): the positions are saved only when none is in flight, so
  // a durable `published` position never lies after a durable outbox entry's record.
  if (in_flight_.empty()) SaveAcknowledgedPositions();
  if (snapshot) SaveSnapshotPositions();
  processor_.PrepareCheckpoint(snapshot);
  CrashPoint("checkpoint-before-write");
  if (snapshot) CrashPoint("snapshot-before-write");
  // 1-2. The outbox (new entries, and deletions of the acknowledged ones) and the published
  // positions; with a snapshot also state (the shadow rules' too), progress and the snapshot's
  // copy of the positions: in one synced batch, the commit point once the writer has written it.
  WriteBatch(snapshot);
  written_ = Written{std::move(offsets), mode, report_.records, snapshot};
  ++report_.checkpoints;
  if (snapshot) {
    ++report_.snapshots;
    snapshot_written_ = true;
    const double held = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    report_.snapshot_hold_seconds += held;
    report_.snapshot_hold_max_seconds = std::max(report_.snapshot_hold_max_seconds, held);
  }
  if (mode == CheckpointMode::kComplete) CompleteWrite();
  // What the checkpoint cost processing (the wait for the previous batch included); the batch's
  // write itself runs on the writer's thread meanwhile, and a slow one shows in the next wait.
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - waiting).count();
  checkpoint_seconds_.Observe(seconds);
  if (snapshot) snapshot_seconds_.Observe(seconds);
  PublishMetrics(/*force=*/true);
}

// The rest of a checkpoint, once its batch is durable (waiting for it if need be): storage
// failures are thrown here, before the batch's offsets are committed.
void LiveEngine::CompleteWrite() {
  if (!written_) return;
  writer_->Finish();
  Written written = std::move(*written_);
  written_.reset();
  CrashPoint("checkpoint-after-write");
  if (written.snapshot) CrashPoint("snapshot-after-write");
  if (options_.records_durable && written.snapshot) options_.records_durable->store(written.records);
  // The group's offsets (a snapshot's), for tools that read them
  CommitOffsets(written.offsets, written.mode == CheckpointMode::kBackground);
  CrashPoint("checkpoint-after-commit");
}

// Both outboxes, in sequence order.
LiveEngine::OutboxEntries LiveEngine::ReadOutbox() {
  OutboxEntries entries;
  for (bool shadow : {false, true}) {
    OutboxOf(shadow).ScanPrefix("", [&](std::string_view key, std::string_view value) {
      state::OutboxEntry entry;
      if (!entry.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        throw FatalError("outbox record cannot be parsed");
      }
      entries.push_back({static_cast<uint64_t>(ReadI64(key)), std::move(entry), shadow});
      return true;
    });
  }
  std::sort(entries.begin(), entries.end(),
            [](const OutboxItem& a, const OutboxItem& b) { return a.seq < b.seq; });
  return entries;
}

// Where this engine's acknowledged records on `topic` end, per partition, as of the last
// checkpoint: everything a crash may have left half-published lies after these positions.
std::map<int32_t, int64_t> LiveEngine::AcknowledgedEnd(KeySpace& positions, const std::string& topic) {
  std::map<int32_t, int64_t> ends;
  std::string prefix = topic;
  prefix.push_back('\0');
  positions.ScanPrefix(prefix, [&](std::string_view key, std::string_view value) {
    ends[static_cast<int32_t>(ReadU32(key.substr(prefix.size())))] = ReadI64(value);
    return true;
  });
  return ends;
}

// Where the read-back of `topic` starts: the positions of the last snapshot. A state directory
// without the marker has had no snapshot of this version, so every batch it holds was written by
// an older Vigil, in which each checkpoint was a snapshot: `published` is then the snapshot's.
std::map<int32_t, int64_t> LiveEngine::ReadBackStart(const std::string& topic) {
  if (snapshot_published_.Get("").has_value()) return AcknowledgedEnd(snapshot_published_, topic);
  return AcknowledgedEnd(published_, topic);
}

// After a crash the outbox may hold records that were published (all, some or none) before the
// crash stopped the engine from deleting them, and the input since the last snapshot is read
// again, deciding again what the dead run decided (and maybe published) after it. Alerts have
// deterministic ids and dead letters a unique source position, so reading the topics' tails from
// the snapshot's positions says which ones are already there: found outbox entries are dropped,
// and everything found, or in the outbox (published next), is dropped when decided again
// (dropped_). The shadow rules' alerts are compared with the shadow topic only: the same alert id
// can be decided by both rule sets, and each topic must get it once.
void LiveEngine::RecoverOutbox() {
  OutboxEntries entries = ReadOutbox();
  // Without a snapshot of this version (a new state directory, or one of an older Vigil, whose
  // every checkpoint was a snapshot) nothing durable was decided after the last snapshot: only an
  // outbox needs the read-back.
  if (!snapshot_published_.Get("").has_value() && entries.empty()) return;
  // What a recovery before this one found and the re-read had not decided again by the snapshot.
  snapshot_dropped_.ScanPrefix("", [&](std::string_view key, std::string_view) {
    dropped_.emplace(key);
    dropped_durable_.emplace(key);
    return true;
  });
  const bool any_shadow = shadow_.core || std::any_of(entries.begin(), entries.end(),
                                                      [](const OutboxItem& item) { return item.shadow; });
  std::set<std::string> alert_ids, shadow_alert_ids, dead_letter_sources;
  std::vector<std::tuple<const std::string*, std::set<std::string>*, char>> topics = {
      {&options_.topics.alerts, &alert_ids, 'a'}, {&options_.topics.dlq, &dead_letter_sources, 'd'}};
  if (any_shadow) topics.emplace_back(&options_.topics.alerts_shadow, &shadow_alert_ids, 's');
  uint64_t read_back = 0;
  for (const auto& [topic, found, kind] : topics) {
    ReadOptions read;
    read.start_offsets = ReadBackStart(*topic);
    const bool dlq = *topic == options_.topics.dlq;
    Status status = ReadTopic(options_.brokers, *topic, read, [&, found = found](const rd_kafka_message_t& m) {
      if (dlq) {
        found->insert(HeaderValue(m, "vigil.source"));
        return;
      }
      v1::Alert alert;
      if (alert.ParseFromArray(m.payload, static_cast<int>(m.len))) found->insert(alert.alert_id());
    });
    if (!status.ok()) throw FatalError("cannot read " + *topic + " to recover the outbox: " + status.message());
    for (const std::string& id : *found) dropped_.insert(std::string(1, kind) + id);
    read_back += found->size();
  }
  uint64_t already = 0;
  for (const OutboxItem& item : entries) {
    const auto& ids = item.shadow ? shadow_alert_ids : alert_ids;
    const bool alert = item.entry.has_alert();
    const std::string& id = alert ? item.entry.alert().alert_id() : item.entry.dead_letter().source();
    dropped_.insert(std::string(1, alert ? (item.shadow ? 's' : 'a') : 'd') + id);
    bool published = alert ? ids.count(id) > 0 : dead_letter_sources.count(id) > 0;
    if (!published) continue;
    OutboxOf(item.shadow).Delete(OutboxKey(item.seq));
    ++already;
  }
  report_.recovered_already_published = already;
  if (options_.progress && !entries.empty()) {
    std::cerr << "run: recovering from a stop during a checkpoint: " << entries.size()
              << " alerts and dead letters were decided, " << already
              << " of them are already on Kafka; publishing the other " << entries.size() - already
              << "\n";
  }
  if (options_.progress && read_back > 0) {
    std::cerr << "run: " << read_back << " alerts and dead letters are on Kafka after the last "
              << "snapshot; " << dropped_.size() << " will be dropped if decided again\n";
  }
  CrashPoint("recovery-after-read");
}

// Produces durable outbox entries, in sequence order, without waiting for Kafka.
void LiveEngine::Publish(OutboxEntries entries) {
  if (entries.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  for (OutboxItem& item : entries) {
    const state::OutboxEntry& entry = item.entry;
    void* opaque = reinterpret_cast<void*>(static_cast<uintptr_t>(item.seq));
    const std::string& alerts = item.shadow ? options_.topics.alerts_shadow : options_.topics.alerts;
    Status sent = entry.has_alert()
                      ? ProduceRecord(producer_.get(), alerts,
                                      entry.alert().officer_id(), entry.alert().SerializeAsString(),
                                      {}, opaque)
                      : ProduceDeadLetter(producer_.get(), options_.topics.dlq,
                                          {entry.dead_letter().key(), entry.dead_letter().value(),
                                           entry.dead_letter().reason(),
                                           entry.dead_letter().source()},
                                          opaque);
    if (!sent.ok()) throw FatalError(sent.message());
    const uint64_t seq = item.seq;
    in_flight_.emplace(seq, InFlight{std::move(item), now});
  }
  CrashPoint("publish-after-produce");
}

// Takes the acknowledgements the delivery callback has collected: the acknowledged entries are
// deleted from the outbox and their positions noted; both become durable with the next batch.
void LiveEngine::TakeAcknowledgements() {
  if (deliveries_.failed > 0) {
    // Permanent (deliveries never time out, message.timeout.ms=0): the record can never be
    // delivered (e.g. too large for the topic). The outbox keeps it, so nothing is lost; an
    // operator must fix the topic and restart.
    throw FatalError(std::to_string(deliveries_.failed) + " records could not be published: " +
                     deliveries_.first_error);
  }
  if (deliveries_.acknowledged.empty()) return;
  for (const Delivery& d : deliveries_.acknowledged) {
    auto it = in_flight_.find(d.seq);
    if (it == in_flight_.end()) continue;  // not an outbox record (none is produced otherwise)
    const OutboxItem& item = it->second.item;
    OutboxOf(item.shadow).Delete(OutboxKey(d.seq));
    int64_t& end = acknowledged_end_[{d.topic, d.partition}];
    end = std::max(end, d.offset + 1);
    if (item.shadow) {
      ++report_.published_shadow_alerts;
    } else if (item.entry.has_alert()) {
      ++report_.published_alerts;
      if (options_.on_published) options_.on_published(item.entry.alert());
    }
    in_flight_.erase(it);
  }
  deliveries_.acknowledged.clear();
  CrashPoint("publish-after-acknowledged");
}

// Some record has waited more than 5 s for its acknowledgement (the cluster is away or failing).
bool LiveEngine::AcknowledgementsOverdue() const {
  return !in_flight_.empty() &&
         std::chrono::steady_clock::now() - in_flight_.begin()->second.produced > std::chrono::seconds(5);
}

// Deliveries never time out (message.timeout.ms=0): say, every 5 s, why they are waiting.
void LiveEngine::ReportOverdueAcknowledgements() {
  const auto now = std::chrono::steady_clock::now();
  if (!AcknowledgementsOverdue() || now - last_overdue_report_ < std::chrono::seconds(5)) return;
  last_overdue_report_ = now;
  std::string reason;
  {
    std::lock_guard<std::mutex> lock(cluster_.mutex);
    reason = cluster_.last_error.empty() ? "no answer" : cluster_.last_error;
  }
  SetHealth(HealthState::kKafkaUnreachable, "alerts not acknowledged: " + reason);
  std::cerr << "run: waiting for Kafka to acknowledge " << in_flight_.size() << " records ("
            << reason << "); nothing is lost, state is kept\n";
}

// Waits until everything produced is acknowledged (on start, for the recovered outbox, and on
// stop), however long the cluster takes.
void LiveEngine::WaitForAcknowledgements() {
  while (true) {
    Status flushed = Flush(producer_.get(), 5000);  // serves the delivery callback
    TakeAcknowledgements();
    if (flushed.ok()) break;
    ReportOverdueAcknowledgements();
  }
}

// Written with the outbox deletions, so both become durable in the same batch.
void LiveEngine::SaveAcknowledgedPositions() {
  for (const auto& [where, next] : acknowledged_end_) {
    std::string value;
    AppendI64(value, next);
    published_.Put(PublishedKey(where.first, where.second), value);
  }
  acknowledged_end_.clear();
}

void LiveEngine::SetHealth(HealthState state, const std::string& detail) {
  if (!health_.Set(state, detail)) return;
  if (state == HealthState::kKafkaUnreachable) {
    unreachable_since_ = last_probe_ = std::chrono::steady_clock::now();
  }
  if (options_.progress) std::cerr << "run: health: " << health_.Describe() << "\n";
}

// Notices a reported outage, and probes the cluster once a second until it answers again.
void LiveEngine::WatchKafka() {
  std::string outage;
  {
    std::lock_guard<std::mutex> lock(cluster_.mutex);
    if (cluster_.fatal) throw FatalError("Kafka client failed: " + cluster_.last_error);
    outage.swap(cluster_.outage);
  }
  auto now = std::chrono::steady_clock::now();
  if (!outage.empty() && health_.state() == HealthState::kRunning) {
    SetHealth(HealthState::kKafkaUnreachable,
              outage + "; waiting for it, nothing is lost, state is kept");
    return;
  }
  if (health_.state() != HealthState::kKafkaUnreachable || now - last_probe_ < std::chrono::seconds(1) ||
      AcknowledgementsOverdue()) {
    return;
  }
  last_probe_ = now;
  if (!QueryOffsets(consumer_.get(), options_.topics.roster, 0, 1000).ok()) return;
  SetHealth(HealthState::kRunning);
  if (options_.progress) {
    std::cerr << "run: Kafka is reachable again after "
              << std::chrono::duration_cast<std::chrono::seconds>(now - unreachable_since_).count()
              << " s\n";
  }
}

// `offsets` are those of the batch just written: a commit never passes durable state.
void LiveEngine::CommitOffsets(const PartitionList& offsets, bool async) {
  if (offsets->cnt == 0) return;
  // The result of an asynchronous commit comes back to OnOffsetsCommitted, through the consumer's poll.
  rd_kafka_resp_err_t err = rd_kafka_commit(consumer_.get(), offsets.get(), async ? 1 : 0);
  if (err && options_.progress) {
    // Not fatal: RocksDB holds the offsets the engine resumes from.
    std::cerr << "run: committing offsets to the group failed: " << KafkaError(err) << "\n";
  }
}

// Where each assigned partition ends now: the bounded run stops there.
void LiveEngine::TakeEndOffsets() {
  for (auto& [key, position] : assigned_) {
    const std::string& topic = options_.topics.For(static_cast<Stream>(key.first));
    auto [low, high] = OffsetsOf(topic, key.second);
    position.end_at_start = high;
    if (position.next_offset < 0) position.next_offset = low;
  }
  end_offsets_taken_ = true;
}

// A partition's low and high watermarks. Retries while the cluster cannot say (a leader moving,
// brokers away): a bounded run must neither stop nor guess where its input ends.
std::pair<int64_t, int64_t> LiveEngine::OffsetsOf(const std::string& topic, int32_t partition) {
  for (int attempt = 0;; ++attempt) {
    Result<std::pair<int64_t, int64_t>> offsets = QueryOffsets(consumer_.get(), topic, partition, 5000);
    if (offsets.ok()) return *offsets;
    if (attempt % 10 == 0 && options_.progress) {
      std::cerr << "run: cannot learn where " << topic << "/" << partition << " ends yet ("
                << offsets.status().message() << "); retrying\n";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

bool LiveEngine::CaughtUp() const {
  // With no partition (e.g. between losing and regaining them in a rebalance) there is nothing
  // to be caught up with yet.
  if (!ever_assigned_ || assigned_.empty()) return false;
  for (const auto& [key, position] : assigned_) {
    if (position.next_offset < position.end_at_start) return false;
  }
  return true;
}

// "shadow: N alerts, " for the progress line (nothing without shadow rules).
std::string LiveEngine::ShadowProgress() const {
  if (!shadow_.core) return "";
  return "shadow " + std::to_string(shadow_.core->metrics().alerts) + " alerts" +
         (report_.shadow_failure.empty() ? "" : " (failed)") + ", ";
}

void LiveEngine::MaybeReport(bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!options_.progress || (!force && now - last_report_ < std::chrono::seconds(2))) return;
  last_report_ = now;
  double seconds = std::chrono::duration<double>(now - started_).count();
  const auto& m = processor_.metrics();
  std::string kafka;
  {
    std::lock_guard<std::mutex> lock(cluster_.mutex);
    kafka = cluster_.last_error.empty() ? "ok" : "last error: " + cluster_.last_error;
    cluster_.last_error.clear();
  }
  std::cerr << "run: " << report_.records << " records, " << m.events_total() << " events ("
            << static_cast<uint64_t>(m.events_total() / std::max(seconds, 1e-3)) << "/s), "
            << m.alerts << " alerts, " << ShadowProgress() << m.invalid << " invalid, "
            << report_.wrong_partition << " on the wrong partition, " << m.too_late
            << " too late, watermark " << FormatTime(processor_.watermarks().Current())
            << ", kafka " << kafka << ", health " << HealthName(health_.state()) << "\n";
}

// Each assigned partition's lag from librdkafka's cached high watermark (from the last fetch
// response: no request to the cluster); a partition it has no figure for yet is left out.
std::vector<PartitionLag> LiveEngine::ConsumerLag() const {
  std::vector<PartitionLag> lags;
  for (const auto& [key, position] : assigned_) {
    const std::string& topic = options_.topics.For(static_cast<Stream>(key.first));
    int64_t low = 0, high = 0;
    if (rd_kafka_get_watermark_offsets(consumer_.get(), topic.c_str(), key.second, &low, &high) ||
        high < 0) {
      continue;
    }
    const int64_t next = position.next_offset >= 0 ? position.next_offset : low;
    lags.push_back({topic, key.second, std::max<int64_t>(0, high - next)});
  }
  return lags;
}

// Hands a copy of the counters to options_.probe (LiveProbe: the engine never waits on a scrape),
// at most every kPublishEvery unless forced (a checkpoint or a rebalance just changed them).
void LiveEngine::PublishMetrics(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!options_.probe || (!force && now - last_publish_ < LiveProbe::kPublishEvery)) return;
  last_publish_ = now;
  LiveMetrics m;
  m.processor = processor_.metrics();
  m.records = report_.records;
  m.wrong_partition = report_.wrong_partition;
  m.refused_tasks = refused_.size();
  if (!refused_.empty()) {
    m.refused_reason = "partition " + std::to_string(refused_.begin()->first) +
                       "'s state cannot be restored: " + refused_.begin()->second;
  }
  m.published_alerts = report_.published_alerts;
  if (consumer_) m.lag = ConsumerLag();
  // -infinity (a partition without events yet) or +infinity (a finished bounded run): no lag to show.
  const Millis watermark = processor_.watermarks().Current();
  if (watermark > kMinTime && watermark < kMaxTime) m.watermark = watermark;
  m.checkpoints = report_.checkpoints;
  m.snapshots = report_.snapshots;
  m.checkpoint_seconds = checkpoint_seconds_;
  m.snapshot_seconds = snapshot_seconds_;
  m.state_memory_bytes = pipeline_.core->MemoryBytes();
  m.memory_budget_bytes = options_.memory_budget_bytes;
  m.assigned_partitions = assigned_.size();
  options_.probe->Publish(std::move(m));
}

Result<LiveReport> LiveEngine::Run() {
  SetHealth(HealthState::kStarting);
  try {
    Result<LiveReport> report = Loop();
    SetHealth(report.ok() ? HealthState::kStopped : HealthState::kFailed,
              report.ok() ? "" : report.status().message());
    return report;
  } catch (const FatalError& e) {
    failed_ = true;  // the consumer's close must not checkpoint over the failure
    SetHealth(HealthState::kFailed, e.what());
    // Leave the group now, so that the partitions can go to another instance, which resumes
    // from the last durable checkpoint.
    if (consumer_) rd_kafka_consumer_close(consumer_.get());
    throw;
  }
}

Result<LiveReport> LiveEngine::Loop() {
  for (const OutboxItem& item : ReadOutbox()) next_outbox_seq_ = item.seq + 1;
  PrepareShadowState();
  Status connected = Connect();
  if (!connected.ok()) return connected;
  // An outbox left by an earlier run was decided but maybe not (all) published: finish that first.
  RecoverOutbox();
  Publish(ReadOutbox());
  WaitForAcknowledgements();
  CrashPoint("recovery-after-publish");  // before any input is read again
  // A snapshot before any input is read: from here on every start finds the `snapshot-published`
  // marker and reads the output topics back, so what is decided can be produced at once.
  Checkpoint(CheckpointMode::kComplete, /*snapshot=*/true);
  SetHealth(HealthState::kRunning);

  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::milliseconds(options_.checkpoint_interval_ms);
  const auto snapshot_interval =
      std::chrono::milliseconds(std::max(options_.snapshot_interval_ms, options_.checkpoint_interval_ms));
  auto next_checkpoint = Clock::now() + interval;
  auto next_snapshot = Clock::now() + snapshot_interval;
  bool stage_more = true;  // records may be left to stage ahead of the next snapshot
  while (!(options_.stop && options_.stop->load())) {
    // Wait for input at most until the next checkpoint is due (and 100 ms, to notice a stop).
    const auto until_due = std::chrono::ceil<std::chrono::milliseconds>(next_checkpoint - Clock::now());
    const int wait_ms = static_cast<int>(std::clamp<int64_t>(until_due.count(), 0, 100));
    // In the interval before a snapshot, time with no input goes to encoding the records it will
    // write (CHECKPOINTS.md, "Staging"): the snapshot then holds processing only for those changed
    // since. Never when input is waiting, so a backlog is read at full speed.
    const bool stage = stage_more && next_checkpoint >= next_snapshot - interval / 4;
    for (int n = 0; n < kMaxBatch; ++n) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_.get(), n == 0 && !stage ? wait_ms : 0);
      if (!m) {
        if (n == 0 && stage) stage_more = StageSnapshot();
        break;
      }
      stage_more = true;
      Handle(*m);
      rd_kafka_message_destroy(m);
      if (n % 64 == 63 && Clock::now() >= next_checkpoint) break;  // a checkpoint is due
    }
    if (rebalance_failure_) std::rethrow_exception(rebalance_failure_);
    if (written_ && writer_->Done()) CompleteWrite();
    rd_kafka_poll(producer_.get(), 0);  // the producer's error and delivery callbacks
    TakeAcknowledgements();
    ReportOverdueAcknowledgements();
    processor_.Advance();
    InShadow([](EventCore& shadow) { shadow.Advance(); });
    MoveOutputsToOutbox();
    WatchKafka();
    if (!end_offsets_taken_ && options_.input_closed && options_.input_closed->load() &&
        ever_assigned_) {
      TakeEndOffsets();
    }
    if (Finishing() && CaughtUp()) break;
    if (const auto started = Clock::now(); started >= next_checkpoint) {
      // A snapshot is due once its interval has passed (the first checkpoint after it), or at
      // once when the memory budget needs one to let changed records leave memory.
      const bool snapshot = started >= next_snapshot - interval / 4 || SnapshotWanted();
      Checkpoint(CheckpointMode::kBackground, snapshot);
      if (snapshot) next_snapshot = started + snapshot_interval;
      stage_more = true;
      // Checkpoints start one interval apart (an alert waits at most an interval for one), but
      // one that took longer than the interval leaves processing a quarter interval before the next.
      next_checkpoint = std::max(started + interval, Clock::now() + interval / 4);
    }
    MaybeReport(false);
    PublishMetrics(false);
  }
  SetHealth(HealthState::kStopping);
  if (Finishing() && CaughtUp()) {  // close every window
    processor_.Finish();
    InShadow([](EventCore& shadow) { shadow.Finish(); });
  }
  Checkpoint(CheckpointMode::kComplete);
  // Everything decided is on Kafka, and the outbox empty on disk, before the engine leaves.
  WaitForAcknowledgements();
  Checkpoint(CheckpointMode::kComplete);
  // Leaves the group, so that its partitions move on at once rather than after a session timeout.
  rd_kafka_resp_err_t left = rd_kafka_consumer_close(consumer_.get());
  if (rebalance_failure_) std::rethrow_exception(rebalance_failure_);
  if (options_.progress) {
    std::cerr << (left ? "run: checkpoint written; leaving the consumer group failed: " + KafkaError(left)
                       : std::string("run: checkpoint written, left the consumer group"))
              << "\n";
  }
  MaybeReport(true);
  report_.metrics = processor_.metrics();
  if (shadow_.core) report_.shadow_metrics = shadow_.core->metrics();
  report_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  return report_;
}

}  // namespace

MemoryShares LiveMemoryShares(const LiveOptions& options) {
  if (options.memory_budget_bytes == 0) return {options.storage.memory_budget_bytes, 0};
  MemoryShares shares = SplitMemoryBudget(options.memory_budget_bytes);
  if (options.shadow_rules) shares.core /= 2;
  return shares;
}

Result<LiveReport> RunLive(const LiveOptions& options, const v1::RulesConfig& config) {
  std::error_code error;
  std::filesystem::create_directories(options.state_dir, error);
  if (error) return Status::Error("cannot create --state-dir " + options.state_dir + ": " + error.message());
  LiveEngine engine(options, config);
  return engine.Run();
}

}  // namespace vigil
