#include "replay/replay_kafka.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <tuple>

#include "kafka/kafka.h"
#include "kafka/kafka_io.h"
#include "replay/replay.h"

namespace vigil {
namespace {

constexpr uint64_t kCheckpointEvery = 20000;  // as a file replay: bounds what is held in memory
constexpr int kTimeoutMs = 10000;

// One input partition of the range: where it starts, where it ends, whether it is done.
struct RangePartition {
  Stream stream;
  std::string topic;
  int32_t partition = 0;
  int64_t start = 0;
  int64_t end = 0;  // the high-water mark when reading started (exclusive)
  bool done = false;
  SourcePartition source() const { return {static_cast<int32_t>(stream), partition}; }
};

// Asks for the first offset of each partition whose record timestamp is at least `at`
// (offsetsForTimes): -1 where there is none.
Result<std::vector<int64_t>> OffsetsForTime(rd_kafka_t* rk, const std::vector<RangePartition>& partitions,
                                            Millis at) {
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto& p : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition)->offset = at;
  }
  rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, list.get(), kTimeoutMs);
  if (err) return Status::Error(KafkaError(err));
  std::vector<int64_t> offsets;
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].err) return Status::Error(KafkaError(list->elems[i].err));
    offsets.push_back(list->elems[i].offset);
  }
  return offsets;
}

// Sets each partition's start to its first record stamped at or after `since`, or its end when
// it has none. Every record is stamped at 1 ms or later, so a broker that finds no record at or
// after 1 ms in a partition that has records cannot answer by time (librdkafka's mock cluster
// answers -1 to every such question): those partitions are read from their beginning, which
// is slower but uses the same events, since only event times decide.
void FindStarts(rd_kafka_t* rk, std::vector<RangePartition>& partitions, Millis since) {
  Result<std::vector<int64_t>> starts = OffsetsForTime(rk, partitions, std::max<Millis>(since, 1));
  Result<std::vector<int64_t>> firsts = OffsetsForTime(rk, partitions, 1);
  if (!starts.ok() || !firsts.ok()) {
    std::cerr << "replay: no offsets by time (" << (starts.ok() ? firsts : starts).status().message()
              << "); reading " << partitions.front().topic << " from its beginning\n";
    return;
  }
  for (size_t i = 0; i < partitions.size(); ++i) {
    RangePartition& p = partitions[i];
    if (p.start < p.end && (*firsts)[i] < 0) {
      static bool told = false;
      if (!told) std::cerr << "replay: the broker does not find records by time; reading from the beginning\n";
      told = true;
      continue;
    }
    p.start = (*starts)[i] < 0 ? p.end : std::clamp<int64_t>((*starts)[i], p.start, p.end);
  }
}

// Every partition of the three input topics, with the range's start and end offsets.
Result<std::vector<RangePartition>> PlanPartitions(rd_kafka_t* rk, const KafkaRangeOptions& options) {
  std::vector<RangePartition> all;
  for (Stream stream : {Stream::kRoster, Stream::kAccess, Stream::kComplaint}) {
    const std::string& topic = options.topics.For(stream);
    Result<int> count = PartitionCount(rk, topic);
    if (!count.ok()) return Status::Error(count.status().message() + " at " + options.brokers);
    std::vector<RangePartition> partitions;
    for (int32_t p = 0; p < *count; ++p) {
      Result<std::pair<int64_t, int64_t>> offsets = QueryOffsets(rk, topic, p);
      if (!offsets.ok()) return offsets.status();
      partitions.push_back({stream, topic, p, offsets->first, offsets->second});
    }
    FindStarts(rk, partitions, options.from - options.time.LatenessFor(stream));
    all.insert(all.end(), partitions.begin(), partitions.end());
  }
  return all;
}

// Reads the planned partitions and feeds the pipelines, as `vigil run` feeds its processor.
class RangeFeeder {
 public:
  RangeFeeder(const KafkaRangeOptions& options, const std::vector<Pipeline*>& pipelines,
              const std::function<void(size_t, const v1::Alert&)>& on_alert,
              const std::function<void(size_t, const DeadLetter&)>& on_dead_letter)
      : options_(options), pipelines_(pipelines), on_alert_(on_alert), on_dead_letter_(on_dead_letter) {}

  Result<RangeReport> Run();

 private:
  Status Start();
  void Handle(const rd_kafka_message_t& m);
  void Use(RangePartition& p, const rd_kafka_message_t& m);
  void MarkDone(RangePartition& p);
  void Flush();
  void Checkpoint();
  void Report(bool done);
  // Reading stops at a partition once it shows an event time past this (see replay_kafka.h).
  Millis StopAfter(Stream stream) const {
    return options_.to + options_.time.LatenessFor(stream) + options_.time.max_out_of_orderness;
  }
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }

  const KafkaRangeOptions& options_;
  const std::vector<Pipeline*>& pipelines_;
  const std::function<void(size_t, const v1::Alert&)>& on_alert_;
  const std::function<void(size_t, const DeadLetter&)>& on_dead_letter_;
  KafkaHandle consumer_;
  std::vector<RangePartition> partitions_;
  std::map<std::pair<std::string, int32_t>, size_t> index_;  // (topic, partition) -> partitions_
  size_t open_ = 0;  // partitions assigned and not done
  RangeReport report_;
  Millis reached_ = kMinTime;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_report_ = started_;
};

Status RangeFeeder::Start() {
  // Assigned, never subscribed: no group is joined and nothing is committed (the group id is only
  // there because librdkafka wants one; it is this process's own).
  KafkaSettings settings = options_.consumer_settings;
  settings["group.id"] = "vigil-replay-" + std::to_string(getpid());
  settings["enable.auto.commit"] = "false";
  settings["enable.auto.offset.store"] = "false";
  Result<KafkaHandle> consumer = MakeConsumer(options_.brokers, settings);
  if (!consumer.ok()) return consumer.status();
  consumer_ = std::move(*consumer);
  Result<std::vector<RangePartition>> planned = PlanPartitions(consumer_.get(), options_);
  if (!planned.ok()) return planned.status();
  partitions_ = std::move(*planned);
  report_.partitions = static_cast<int>(partitions_.size());
  for (Pipeline* pipeline : pipelines_) {
    for (const auto& p : partitions_) pipeline->core->watermarks().Track(p.source());
  }
  PartitionList assignment(rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size())));
  for (size_t i = 0; i < partitions_.size(); ++i) {
    RangePartition& p = partitions_[i];
    index_[{p.topic, p.partition}] = i;
    if (p.start >= p.end) {
      MarkDone(p);  // nothing of the range here: idle from the start
      continue;
    }
    ++open_;
    rd_kafka_topic_partition_list_add(assignment.get(), p.topic.c_str(), p.partition)->offset = p.start;
  }
  if (open_ == 0) return Status::Ok();
  rd_kafka_resp_err_t err = rd_kafka_assign(consumer_.get(), assignment.get());
  if (err) return Status::Error("cannot read the input topics: " + KafkaError(err));
  return Status::Ok();
}

void RangeFeeder::MarkDone(RangePartition& p) {
  if (p.done) return;
  p.done = true;
  if (p.start < p.end) {
    --open_;
    PartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition);
    rd_kafka_pause_partitions(consumer_.get(), list.get());  // what it fetches beyond is not wanted
  }
  for (Pipeline* pipeline : pipelines_) pipeline->core->watermarks().SetIdle(p.source());
}

void RangeFeeder::Handle(const rd_kafka_message_t& m) {
  if (m.err && m.err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    std::cerr << "replay: " << rd_kafka_message_errstr(&m) << " (retrying)\n";
    return;
  }
  auto found = index_.find({rd_kafka_topic_name(m.rkt), m.partition});
  if (found == index_.end()) return;
  RangePartition& p = partitions_[found->second];
  if (p.done) return;
  if (m.err || m.offset >= p.end) {  // its end, or written after the start: not ours
    if (m.offset >= p.end) MarkDone(p);
    return;
  }
  ++report_.records;
  Use(p, m);
  if (m.offset + 1 >= p.end) MarkDone(p);
}

void RangeFeeder::Use(RangePartition& p, const rd_kafka_message_t& m) {
  std::string_view value(static_cast<const char*>(m.payload), m.payload ? m.len : 0);
  std::string_view key(m.key ? static_cast<const char*>(m.key) : "", m.key ? m.key_len : 0);
  // Records are found by their timestamp, but an event's own time decides whether it is used.
  Result<v1::Envelope> event = DecodeInputRecord(p.stream, value);
  rd_kafka_timestamp_type_t stamp_type;
  const Millis at = event.ok() ? EventTime(*event) : rd_kafka_message_timestamp(&m, &stamp_type);
  if (at > StopAfter(p.stream)) return MarkDone(p);
  const bool in_range = at >= options_.from && at <= options_.to;
  if (!in_range) {
    if (event.ok()) ++report_.outside;
    return;
  }
  std::string position = p.topic + "/" + std::to_string(p.partition) + "/" + std::to_string(m.offset);
  if (!event.ok()) {
    ++report_.invalid;
    for (Pipeline* pipeline : pipelines_) {
      pipeline->core->RejectInvalid(
          {std::string(key), std::string(value), "invalid: " + event.status().message(), position});
    }
    return Flush();
  }
  ++report_.events;
  reached_ = std::max(reached_, at);
  const uint32_t scope = static_cast<uint32_t>(p.partition);  // as `vigil run`: co-partitioned
  const RecordOrigin origin{key, value, p.topic, p.partition, m.offset};
  for (Pipeline* pipeline : pipelines_) {
    pipeline->core->IngestEvent(*event, p.source(), scope, origin);
    pipeline->core->Advance();
  }
  Flush();
  if (report_.events % kCheckpointEvery == 0) Checkpoint();
}

void RangeFeeder::Flush() {
  for (size_t i = 0; i < pipelines_.size(); ++i) {
    for (const auto& alert : pipelines_[i]->core->TakeAlerts()) on_alert_(i, alert);
    for (const auto& letter : pipelines_[i]->core->TakeDeadLetters()) on_dead_letter_(i, letter);
  }
}

void RangeFeeder::Checkpoint() {
  for (Pipeline* pipeline : pipelines_) {
    pipeline->core->PrepareCheckpoint();
    pipeline->store->Checkpoint(false);
  }
}

void RangeFeeder::Report(bool done) {
  if (!options_.progress) return;
  const auto now = std::chrono::steady_clock::now();
  if (!done && now - last_report_ < std::chrono::seconds(1)) return;
  last_report_ = now;
  options_.progress({report_.records, report_.events, reached_, Seconds(), done});
}

Result<RangeReport> RangeFeeder::Run() {
  if (options_.from > options_.to) return Status::Error("--from is after --to");
  Status started = Start();
  if (!started.ok()) return started;
  while (open_ > 0 && !(options_.stop && options_.stop->load())) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_.get(), 200);
    if (m) {
      Handle(*m);
      rd_kafka_message_destroy(m);
    }
    Report(false);
  }
  rd_kafka_consumer_close(consumer_.get());
  if (options_.stop && options_.stop->load()) return Status::Error("stopped before the end of the range");
  for (Pipeline* pipeline : pipelines_) pipeline->core->Finish();
  Flush();
  Checkpoint();
  report_.seconds = Seconds();
  Report(true);
  return report_;
}

bool AlertOrder(const v1::Alert& a, const v1::Alert& b) {
  return std::pair(ToMillis(a.window_end()), a.alert_id()) < std::pair(ToMillis(b.window_end()), b.alert_id());
}

Status WriteAlerts(const std::string& path, const std::vector<v1::Alert>& alerts) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return Status::Error("cannot write output file " + path);
  for (const auto& alert : alerts) out << ToJsonLine(alert) << "\n";
  out.flush();
  if (!out) return Status::Error("writing " + path + " failed");
  return Status::Ok();
}

Status CheckAlertsTopic(const KafkaReplayOptions& options) {
  const Topics& topics = options.range.topics;
  for (const std::string* input : {&topics.roster, &topics.access, &topics.complaints}) {
    if (options.alerts_topic == *input) {
      return Status::Error("--alerts-topic " + options.alerts_topic + " is an input topic");
    }
  }
  return Status::Ok();
}

std::string Eta(const RangeProgress& p, Millis from, Millis to) {
  if (p.done) return "done";
  if (p.reached <= from || to <= from) return "ETA ?";
  double share = std::min(1.0, double(p.reached - from) / double(to - from));
  return "ETA " + FormatSpan(static_cast<Millis>(p.seconds * (1 - share) / share * 1000));
}

}  // namespace

Result<RangeReport> FeedKafkaRange(
    const KafkaRangeOptions& options, const std::vector<Pipeline*>& pipelines,
    const std::function<void(size_t, const v1::Alert&)>& on_alert,
    const std::function<void(size_t, const DeadLetter&)>& on_dead_letter) {
  RangeFeeder feeder(options, pipelines, on_alert, on_dead_letter);
  return feeder.Run();
}

Result<TimeRange> ParseTimeRange(const std::string& from, const std::string& to) {
  TimeRange range;
  for (auto [name, text, out] : {std::tuple{"from", &from, &range.from}, std::tuple{"to", &to, &range.to}}) {
    Result<Millis> time = ParseTime(*text);
    if (!time.ok()) {
      return Status::Error("--" + std::string(name) + " " + *text +
                           ": expected an RFC 3339 time such as 2026-03-01T00:00:00Z");
    }
    *out = *time;
  }
  if (range.from > range.to) return Status::Error("--from " + from + " is after --to " + to);
  return range;
}

TimeSettings WiderMargins(const TimeSettings& a, const TimeSettings& b) {
  return {std::max(a.max_out_of_orderness, b.max_out_of_orderness),
          std::max(a.roster_grace, b.roster_grace), std::max(a.roster_lateness, b.roster_lateness),
          std::max(a.access_lateness, b.access_lateness),
          std::max(a.complaint_lateness, b.complaint_lateness)};
}

std::function<void(const RangeProgress&)> StderrProgress(const std::string& command, Millis from, Millis to) {
  const bool terminal = isatty(STDERR_FILENO);
  return [terminal, command, from, to, last = std::chrono::steady_clock::time_point()](
             const RangeProgress& p) mutable {
    const auto now = std::chrono::steady_clock::now();
    if (!terminal && !p.done && now - last < std::chrono::seconds(5)) return;
    last = now;
    char line[256];
    std::snprintf(line, sizeof line, "%s: %llu events (%llu/s), event time %s, %s",
                  command.c_str(), static_cast<unsigned long long>(p.events),
                  static_cast<unsigned long long>(p.events / std::max(p.seconds, 1e-3)),
                  p.reached == kMinTime ? "-" : FormatTime(p.reached).c_str(), Eta(p, from, to).c_str());
    if (terminal) {
      std::cerr << "\r\033[K" << line << (p.done ? "\n" : "") << std::flush;
    } else {
      std::cerr << line << "\n";
    }
  };
}

Result<KafkaReplayReport> RunKafkaReplay(const KafkaReplayOptions& options,
                                         const v1::RulesConfig& config) {
  if (options.output.empty() && options.alerts_topic.empty()) {
    return Status::Error("give --output or --alerts-topic");
  }
  if (Status topic = CheckAlertsTopic(options); !topic.ok()) return topic;
  std::unique_ptr<TempDir> temp;
  Result<std::string> state_dir_or = ReplayStateDir(options.state_dir, temp);
  if (!state_dir_or.ok()) return state_dir_or.status();
  const std::string state_dir = *state_dir_or;
  std::string dead_letter_path = options.dead_letters;
  if (dead_letter_path.empty() && !options.output.empty()) {
    dead_letter_path = options.output + ".dead-letters.ndjson";
  }
  std::ofstream dead_letters;
  Pipeline pipeline = MakePipeline(config, OpenRocksBackend(state_dir, RocksOptions{}));
  KafkaRangeOptions range = options.range;
  range.time = TimeSettings::From(config);
  std::vector<v1::Alert> alerts;
  Result<RangeReport> read = FeedKafkaRange(
      range, {&pipeline}, [&](size_t, const v1::Alert& alert) { alerts.push_back(alert); },
      [&](size_t, const DeadLetter& letter) {
        if (dead_letter_path.empty()) return;
        if (!dead_letters.is_open()) dead_letters.open(dead_letter_path, std::ios::trunc);
        dead_letters << DeadLetterJson(letter) << "\n";
      });
  if (!read.ok()) return read.status();
  std::sort(alerts.begin(), alerts.end(), AlertOrder);
  if (!options.output.empty()) {
    if (Status written = WriteAlerts(options.output, alerts); !written.ok()) return written;
  }
  if (!options.alerts_topic.empty()) {
    Status published = PublishAlerts(range.brokers, options.alerts_topic, alerts);
    if (!published.ok()) return published;
  }
  KafkaReplayReport report;
  report.range = *read;
  report.metrics = pipeline.core->metrics();
  report.rules_version = pipeline.rules_version;
  return report;
}

}  // namespace vigil
