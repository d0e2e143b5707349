// Bounded replay of a time range of the input topics (`vigil replay --brokers B --from T --to T`),
// and the range reader under it, for any command that runs rules over Kafka history (`vigil diff`).
//
// What is read. For each input partition, from the first record whose timestamp is at least
// `from` minus the stream's allowed lateness (rd_kafka_offsets_for_times; `vigil produce` stamps
// each record with its event time, and a producer that stamps the time it saw the event stamps a
// little later, never earlier, so the margin only costs a few records), up to the first record
// whose timestamp is beyond `to` plus the stream's allowed lateness plus maxOutOfOrderness, or the
// partition's end as it was when reading started. An event of the range after such a record
// would be too late for a live engine (that record moved its partition's watermark past it by
// more than the allowed lateness), so stopping there loses nothing a live run would use.
// Only events whose event time lies in [from, to] are used; the others do not move watermarks.
//
// How it is fed. Exactly as `vigil run` feeds its processor: each input partition is its own
// source with its own watermark and its own state scope (the partition number), a partition is
// idle once read to its end, and at the end every pending window closes. So the alerts are those
// of a live run over the same records, and those of a file replay of the same events (ids and
// every field; evidence from Kafka also names the record's partition and offset), whatever the
// number of partitions and however librdkafka interleaves them, as long as no event is late
// within its partition (tests/replay_kafka_test.cc proves it for 1, 3 and 8 partitions).
//
// Isolation. Its own consumer, by assignment: no consumer group is joined and nothing is
// committed, so a live engine's group, offsets and state are never touched.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "alert.pb.h"
#include "event.h"
#include "time/event_time.h"
#include "kafka/kafka.h"
#include "pipeline.h"
#include "runtime/outputs.h"
#include "rules.pb.h"
#include "rules_config.h"
#include "status.h"

namespace vigil {

// Where a range read has got to, for progress reports.
struct RangeProgress {
  uint64_t records = 0;  // records read, in the range or not
  uint64_t events = 0;   // events in [from, to] fed to the pipelines
  Millis reached = kMinTime;  // highest event time fed so far
  double seconds = 0;
  bool done = false;  // the last report
};

struct KafkaRangeOptions {
  std::string brokers;
  Topics topics;
  Millis from = 0;  // inclusive, event time
  Millis to = 0;    // inclusive, event time
  // Lateness and disorder margins of the rule set the range is replayed with (reading margins).
  TimeSettings time = TimeSettings::From(DefaultRulesConfig());
  // Merged into the range consumer's configuration (e.g. fetch.max.bytes for small batches).
  // The settings that keep the read isolated (group.id, enable.auto.commit,
  // enable.auto.offset.store) are this reader's own and cannot be overridden.
  KafkaSettings consumer_settings;
  const std::atomic<bool>* stop = nullptr;  // set: stop early (the pipelines are not finished)
  std::function<void(const RangeProgress&)> progress;  // about once a second, and at the end
};

struct RangeReport {
  uint64_t records = 0;   // records read
  uint64_t events = 0;    // events in [from, to] fed
  uint64_t outside = 0;   // valid events read but outside [from, to]
  uint64_t invalid = 0;   // records in the range that are not valid events (dead-lettered)
  int partitions = 0;     // input partitions read
  double seconds = 0;
};

// Reads the input topics' events in [from, to] and feeds them to every pipeline in `pipelines`
// (one pass over Kafka for all of them, e.g. rule sets A and B), then finishes them. Outputs are
// handed over as they appear: on_alert(i, alert) and on_dead_letter(i, letter) for pipelines[i].
// Errors: bad options, a missing topic, Kafka unreachable when starting.
Result<RangeReport> FeedKafkaRange(
    const KafkaRangeOptions& options, const std::vector<Pipeline*>& pipelines,
    const std::function<void(size_t, const v1::Alert&)>& on_alert,
    const std::function<void(size_t, const DeadLetter&)>& on_dead_letter);

// `vigil replay --brokers`: one rule set over a range, alerts to a file (NDJSON, sorted by
// window end then alert id, so the file is the same whatever the interleaving of partitions)
// and/or to a topic.
struct KafkaReplayOptions {
  KafkaRangeOptions range;
  std::string output;        // NDJSON alerts; empty: none
  std::string dead_letters;  // NDJSON dead letters; empty: <output>.dead-letters.ndjson, or none
  std::string alerts_topic;  // publish the alerts here; empty: none
  std::string state_dir;     // empty: a temporary directory, removed afterwards
};

struct KafkaReplayReport {
  RangeReport range;
  ProcessorMetrics metrics;
  std::string rules_version;
};

Result<KafkaReplayReport> RunKafkaReplay(const KafkaReplayOptions& options,
                                         const v1::RulesConfig& config);

// A range as given on a command line: --from and --to in RFC 3339 (inclusive event times).
struct TimeRange {
  Millis from = 0;
  Millis to = 0;
};
// Errors name the option and its value ("--from yesterday: expected an RFC 3339 time such as
// 2026-03-01T00:00:00Z"), or say that --from is after --to.
Result<TimeRange> ParseTimeRange(const std::string& from, const std::string& to);

// Reading margins wide enough for every rule set in one pass: each lateness and the
// out-of-orderness the larger of the two. Records read beyond a set's own margins are events
// outside [from, to] or too late for it, which it never uses, so the wider margins lose nothing.
TimeSettings WiderMargins(const TimeSettings& a, const TimeSettings& b);

// Progress on stderr, each line starting "<command>: ": a one-line bar rewritten in place when
// stderr is a terminal (events, events/s, event time reached, ETA from the share of [from, to]
// covered), else a plain line every few seconds.
std::function<void(const RangeProgress&)> StderrProgress(const std::string& command, Millis from, Millis to);

}  // namespace vigil
