// Determinism, proven: the same events and rules give the same alerts byte for byte, ids included,
// from a file, from Kafka with 1, 3 and 8 partitions, with any batch size, and live; a time range replayed from Kafka is
// a file replay of exactly the events in that range; every alert names its rules version.
//
// "Byte for byte" compares serialized alerts. An alert read from Kafka also says where each piece
// of evidence is (partition, offset), which a file cannot: across sources those two fields are
// left out of the comparison, and a Kafka replay is compared with a live run over the same topics
// with them in.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "harness.h"
#include "kafka/kafka_io.h"
#include "live/live_engine.h"
#include "live_fixtures.h"
#include "kafka/mock_broker.h"
#include "replay/replay_kafka.h"
#include "rules_config.h"
#include "synthetic_force.h"

namespace vigil::testing {
namespace {

// 800 officers over 14 days: about 20,000 events, under 5 MiB even in one partition, and with the
// busy rules several hundred alerts of several rules.
constexpr int kOfficers = 800;
constexpr int kDays = 14;

std::string WriteForce(const std::string& dir) {
  SyntheticForceOptions options;
  options.officers = kOfficers;
  options.days = kDays;
  SyntheticForce force(options);
  const std::string path = dir + "/events.ndjson";
  std::ofstream out(path);
  force.Generate([&](const v1::Envelope& event) { out << ToJsonLine(event) << "\n"; });
  return path;
}

v1::RulesConfig BusyConfig() {
  Result<v1::RulesConfig> config = ParseRulesConfig(kBusyRules);
  REQUIRE(config.ok());
  return *config;
}

// Serialized alerts, sorted; `positions` false leaves out where the evidence was read.
std::vector<std::string> Bytes(std::vector<v1::Alert> alerts, bool positions) {
  std::vector<std::string> out;
  for (auto& alert : alerts) {
    if (!positions) {
      for (auto& e : *alert.mutable_evidence()) {
        e.clear_partition();
        e.clear_offset();
      }
    }
    std::string bytes;
    REQUIRE(alert.SerializeToString(&bytes));
    out.push_back(std::move(bytes));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// CHECKs two alert lists are equal as bytes, saying how many differ when they are not.
void CheckSameBytes(const std::vector<v1::Alert>& expected, const std::vector<v1::Alert>& got,
                    bool positions) {
  const std::vector<std::string> a = Bytes(expected, positions), b = Bytes(got, positions);
  std::vector<std::string> only_a, only_b;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only_a));
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(only_b));
  CHECK_MESSAGE(only_a.empty(), only_a.size() << " of " << a.size() << " expected alerts missing");
  CHECK_MESSAGE(only_b.empty(), only_b.size() << " of " << b.size() << " alerts not expected");
  CHECK(a.size() == b.size());
}

struct KafkaRun {
  std::vector<v1::Alert> alerts;
  RangeReport report;
};

Result<RangeReport> FeedRange(const std::string& brokers, Millis from, Millis to, const v1::RulesConfig& config,
                              const KafkaSettings& consumer_settings, std::vector<v1::Alert>& alerts) {
  TempDir state("vigil-test-range-");
  Pipeline pipeline = MakePipeline(config, OpenRocksBackend(state.path(), RocksOptions{}));
  KafkaRangeOptions options;
  options.brokers = brokers;
  options.consumer_settings = consumer_settings;
  options.from = from;
  options.to = to;
  options.time = TimeSettings::From(config);
  return FeedKafkaRange(
      options, {&pipeline}, [&](size_t, const v1::Alert& a) { alerts.push_back(a); },
      [](size_t, const DeadLetter&) {});
}

KafkaRun ReplayRange(const std::string& brokers, Millis from, Millis to, const v1::RulesConfig& config,
                     const KafkaSettings& consumer_settings = {}) {
  KafkaRun run;
  Result<RangeReport> report = FeedRange(brokers, from, to, config, consumer_settings, run.alerts);
  REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.status().message()));
  run.report = *report;
  return run;
}

// Fetches of at most a few KiB, so that the range reader gets its records in many small batches
// (fetch.max.bytes may not be below message.max.bytes, hence that one too).
const KafkaSettings kSmallFetches = {
    {"fetch.max.bytes", "4096"}, {"max.partition.fetch.bytes", "2048"}, {"message.max.bytes", "4096"}};

// The event file produced as `vigil produce` does (ProduceEventFile) but in producer batches of
// at most 2 KiB: a broker returns whole batches whatever the fetch sizes, so small fetches
// alone would not make small batches out of ProduceEventFile's batches of up to 10,000 records.
uint64_t ProduceInSmallBatches(const std::string& brokers, const std::string& events) {
  Result<KafkaHandle> producer = MakeProducer(brokers, {{"batch.size", "2048"}, {"linger.ms", "0"}});
  REQUIRE(producer.ok());
  uint64_t produced = 0;
  for (const auto& line : ReadLines(events)) {
    Result<v1::Envelope> event = ParseEventJson(line);
    REQUIRE(event.ok());
    REQUIRE(ProduceRecordAt(producer->get(), Topics{}.For(StreamOf(*event)), OfficerId(*event),
                            EncodeEvent(*event), std::max<Millis>(EventTime(*event), 1)).ok());
    rd_kafka_poll(producer->get(), 0);
    ++produced;
  }
  REQUIRE(rd_kafka_flush(producer->get(), 60000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  return produced;
}

// A mock cluster with `partitions` per topic holding the event file, produced as `vigil produce`.
struct FileOnKafka {
  FileOnKafka(const std::string& events, int partitions) {
    REQUIRE(broker.CreateVigilTopics(Topics{}, partitions).ok());
    Result<ProduceReport> produced = ProduceEventFile(broker.bootstrap(), events, Topics{}, false);
    REQUIRE_MESSAGE(produced.ok(), (produced.ok() ? "" : produced.status().message()));
    records = produced->produced;
  }
  MockBroker broker;
  uint64_t records = 0;
};

std::vector<v1::Alert> AlertsOnTopic(const std::string& brokers, const std::string& topic) {
  std::vector<v1::Alert> alerts;
  REQUIRE(ReadTopic(brokers, topic, ReadOptions{}, [&](const rd_kafka_message_t& m) {
            v1::Alert alert;
            REQUIRE(alert.ParseFromArray(m.payload, static_cast<int>(m.len)));
            alerts.push_back(alert);
          }).ok());
  return alerts;
}

std::vector<v1::Alert> RunLiveUntilCaughtUp(const std::string& brokers, const v1::RulesConfig& config) {
  TempDir state("vigil-test-live-");
  LiveOptions options;
  options.brokers = brokers;
  options.state_dir = state.path();
  options.until_caught_up = true;
  options.progress = false;
  Result<LiveReport> report = RunLive(options, config);
  REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.status().message()));
  return AlertsOnTopic(brokers, Topics{}.alerts);
}

size_t RulesFired(const std::vector<v1::Alert>& alerts) {
  std::set<std::string> rules;
  for (const auto& a : alerts) rules.insert(a.rule_id());
  return rules.size();
}

const Millis kEverything[2] = {0, kMaxTime / 2};

}  // namespace

TEST_CASE("replay determinism: file, Kafka with 1, 3 and 8 partitions, and live give the same alerts") {
  TempDir dir("vigil-test-determinism-");
  const std::string events = WriteForce(dir.path());
  const v1::RulesConfig config = BusyConfig();
  const std::vector<v1::Alert> from_file = ReplayFile(events, config);
  REQUIRE(from_file.size() >= 100);
  REQUIRE(RulesFired(from_file) >= 3);
  for (const auto& alert : from_file) REQUIRE(alert.rules_version() == RulesVersion(config));

  for (int partitions : {1, 3, 8}) {
    CAPTURE(partitions);
    FileOnKafka kafka(events, partitions);
    KafkaRun replayed = ReplayRange(kafka.broker.bootstrap(), kEverything[0], kEverything[1], config);
    CHECK(replayed.report.events == kafka.records);
    CHECK(replayed.report.partitions == 3 * partitions);
    CheckSameBytes(from_file, replayed.alerts, false);
    // Evidence read from Kafka says where it was read.
    for (const auto& alert : replayed.alerts) {
      for (const auto& e : alert.evidence()) REQUIRE((e.has_partition() && e.has_offset()));
    }
    if (partitions == 3) {  // live, on the same topics: the same alerts, positions included
      CheckSameBytes(replayed.alerts, RunLiveUntilCaughtUp(kafka.broker.bootstrap(), config), true);
    }
  }
}

TEST_CASE("replay determinism with any batch size: records in many small batches give the same alert bytes") {
  TempDir dir("vigil-test-batches-");
  const std::string events = WriteForce(dir.path());
  const v1::RulesConfig config = BusyConfig();
  MockBroker broker;
  REQUIRE(broker.CreateVigilTopics(Topics{}, 3).ok());
  const uint64_t records = ProduceInSmallBatches(broker.bootstrap(), events);
  KafkaRun defaults = ReplayRange(broker.bootstrap(), kEverything[0], kEverything[1], config);
  KafkaRun small = ReplayRange(broker.bootstrap(), kEverything[0], kEverything[1], config, kSmallFetches);
  REQUIRE(defaults.alerts.size() >= 100);
  CHECK(defaults.report.events == records);
  CHECK(small.report.events == records);
  // The same topics, so the same positions: byte for byte with them in; and the file's alerts.
  CheckSameBytes(defaults.alerts, small.alerts, true);
  CheckSameBytes(ReplayFile(events, config), small.alerts, false);
  // The settings do reach the consumer: a bad one is an error, not ignored.
  std::vector<v1::Alert> unused;
  CHECK_FALSE(FeedRange(broker.bootstrap(), 0, 1, config, {{"fetch.max.bytes", "lots"}}, unused).ok());
}

TEST_CASE("replay of a time range from Kafka is a file replay of exactly the events in the range") {
  TempDir dir("vigil-test-range-");
  const std::string events = WriteForce(dir.path());
  const v1::RulesConfig config = BusyConfig();
  const Millis start = SyntheticForceOptions{}.start;
  // Not on day boundaries, and long enough for the day-window rules to fire inside it.
  const Millis from = start + 4 * kDay + 6 * kHour + 30 * kMinute;
  const Millis to = start + 10 * kDay + 17 * kHour + 45 * kMinute;
  const std::string in_range = WriteEventsInRange(events, from, to, dir.path() + "/range.ndjson");
  const std::vector<v1::Alert> expected = ReplayFile(in_range, config);
  REQUIRE(!expected.empty());
  const std::vector<v1::Alert> everything = ReplayFile(events, config);

  FileOnKafka kafka(events, 3);
  KafkaRun replayed = ReplayRange(kafka.broker.bootstrap(), from, to, config);
  CHECK(replayed.report.events == ReadLines(in_range).size());
  CheckSameBytes(expected, replayed.alerts, false);
  // The range matters: not all of history's alerts. (The mock cluster cannot find offsets by time,
  // so here the reader starts at the beginning; it stops once past the range.)
  CHECK(Bytes(expected, false) != Bytes(everything, false));
  MESSAGE("read " << replayed.report.records << " of " << kafka.records << " records for the range");
  CHECK(replayed.report.records < kafka.records);
}

TEST_CASE("vigil replay --brokers: file and topic outputs, isolation from the live group, bad usage") {
  TempDir dir("vigil-test-replay-cli-");
  const std::string events = WriteForce(dir.path());
  const v1::RulesConfig config = BusyConfig();
  const std::string rules = dir.path() + "/rules.json";
  std::ofstream(rules) << kBusyRules;
  FileOnKafka kafka(events, 3);
  const std::string brokers = kafka.broker.bootstrap();
  REQUIRE(kafka.broker.CreateTopic("replay.alerts", 3).ok());
  const std::string vigil = std::string(VIGIL_BINARY) + " replay --quiet --brokers " + brokers;
  const std::string range = " --from 2026-01-08T00:00:00Z --to 2026-01-15T12:00:00+00:00";
  const std::string output = dir.path() + "/alerts.ndjson";
  REQUIRE(RunShell(vigil + range + " --rules " + rules + " --output " + output +
                   " --alerts-topic replay.alerts") == 0);

  KafkaRun direct = ReplayRange(brokers, *ParseTime("2026-01-08T00:00:00Z"),
                                *ParseTime("2026-01-15T12:00:00Z"), config);
  REQUIRE(!direct.alerts.empty());
  CheckSameBytes(direct.alerts, ReadAlerts(output), true);
  CheckSameBytes(direct.alerts, AlertsOnTopic(brokers, "replay.alerts"), true);
  // Sorted by window end, so the file does not depend on how partitions were interleaved.
  std::vector<v1::Alert> written = ReadAlerts(output);
  CHECK(std::is_sorted(written.begin(), written.end(), [](const v1::Alert& a, const v1::Alert& b) {
    return ToMillis(a.window_end()) < ToMillis(b.window_end());
  }));
  // The live engine's group has committed nothing and its alert topic is empty.
  for (const auto& [partition, offset] : CommittedInputOffsets(brokers, 3)) CHECK(offset < 0);
  CHECK(AlertsOnTopic(brokers, Topics{}.alerts).empty());

  CHECK(RunShell(vigil + " --from yesterday --to 2026-01-15T00:00:00Z --output " + output) == 2);
  CHECK(RunShell(vigil + " --from 2026-01-15T00:00:00Z --to 2026-01-08T00:00:00Z --output " + output) == 2);
  CHECK(RunShell(vigil + range) == 2);                                           // no output
  CHECK(RunShell(vigil + " --to 2026-01-15T00:00:00Z --output " + output) == 2);  // no --from
  CHECK(RunShell(vigil + range + " --input " + events + " --output " + output) == 2);
  CHECK(RunShell(vigil + range + " --alerts-topic vigil.access") == 2);  // an input topic
}

TEST_CASE("rules version: defaults spelt out or left out give one version, any change another") {
  auto version = [](const std::string& json) {
    Result<v1::RulesConfig> config = ParseRulesConfig(json);
    REQUIRE_MESSAGE(config.ok(), (config.ok() ? "" : config.status().message()));
    return RulesVersion(*config);
  };
  const std::string defaults = RulesVersion(DefaultRulesConfig());
  CHECK(defaults.size() == 12);
  CHECK(defaults.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(version("{}") == defaults);
  CHECK(version(R"({"repeatedSubjectLookup": {"minLookups": 3, "description": "mine"}})") == defaults);
  CHECK(version(R"({"sensitiveComplaintPattern": {"categories": ["ABUSE_OF_POSITION", "SEXUAL_MISCONDUCT"]}})") ==
        defaults);
  CHECK(version(R"({"repeatedSubjectLookup": {"minLookups": 4}})") != defaults);
  CHECK(version(R"({"time": {"maxOutOfOrdernessSeconds": 301}})") != defaults);
  CHECK(version(R"({"offDutyAccess": {"enabled": false}})") != defaults);

  // `vigil rules --check` prints it; alert ids do not depend on it.
  TempDir dir("vigil-test-version-");
  const std::string rules = dir.path() + "/rules.json";
  std::ofstream(rules) << R"({"bradfordFactor": {"threshold": 300}})";
  const std::string out = dir.path() + "/check.txt";
  REQUIRE(RunShell(std::string(VIGIL_BINARY) + " rules --check " + rules + " > " + out) == 0);
  const std::string changed = version(R"({"bradfordFactor": {"threshold": 300}})");
  CHECK(ReadLines(out).at(0).find("rules version " + changed) != std::string::npos);
  const std::vector<std::string> lines = {
      Access("a1", "MP1", "2026-03-01T08:00:00Z", "SEARCH", "P1"),
      Access("a2", "MP1", "2026-03-02T08:00:00Z", "SEARCH", "P1"),
      Access("a3", "MP1", "2026-03-03T08:00:00Z", "SEARCH", "P1")};
  std::vector<v1::Alert> a = ReplayRule("repeated_subject_lookup", lines);
  std::vector<v1::Alert> b = ReplayRule("repeated_subject_lookup", lines, R"({"bradfordFactor": {"threshold": 300}})");
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  CHECK(a[0].alert_id() == b[0].alert_id());
  CHECK(a[0].rules_version() == defaults);
  CHECK(b[0].rules_version() == changed);
}

}  // namespace vigil::testing
