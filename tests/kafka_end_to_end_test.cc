// produce -> run -> consume through librdkafka's mock cluster (real Kafka protocol, real RocksDB)
// must give the same alerts as replay of the same file.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <google/protobuf/util/json_util.h>

#include "harness.h"
#include "kafka/kafka_io.h"
#include "live/live_engine.h"
#include "live_fixtures.h"
#include "kafka/mock_broker.h"
#include "rules_config.h"

namespace vigil::testing {
namespace {

namespace fs = std::filesystem;

// Every alert on the alert topic, in partition order.
std::vector<v1::Alert> PublishedAlerts(const std::string& brokers) {
  std::vector<v1::Alert> alerts;
  REQUIRE(ReadTopic(brokers, Topics{}.alerts, ReadOptions{}, [&](const rd_kafka_message_t& m) {
            v1::Alert alert;
            REQUIRE(alert.ParseFromArray(m.payload, static_cast<int>(m.len)));
            alerts.push_back(alert);
          }).ok());
  return alerts;
}

struct LiveResult {
  std::vector<v1::Alert> alerts;
  std::vector<std::string> dead_letter_reasons;
  LiveReport report;
};

LiveResult RunThroughKafka(const std::string& events, const v1::RulesConfig& config,
                           int partitions) {
  MockBroker broker;
  const Topics topics;
  REQUIRE(broker.CreateVigilTopics(topics, partitions).ok());
  Result<ProduceReport> produced = ProduceEventFile(broker.bootstrap(), events, topics, false);
  REQUIRE_MESSAGE(produced.ok(), (produced.ok() ? "" : produced.status().message()));

  TempDir state("vigil-test-run-");
  LiveOptions options = BoundedRun(broker.bootstrap(), state.path());
  Result<LiveReport> report = RunLive(options, config);
  REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.status().message()));

  LiveResult result;
  result.report = *report;
  result.alerts = PublishedAlerts(broker.bootstrap());
  ReadOptions read;
  REQUIRE(ReadTopic(broker.bootstrap(), topics.dlq, read, [&](const rd_kafka_message_t& m) {
            rd_kafka_headers_t* headers = nullptr;
            const void* value = nullptr;
            size_t size = 0;
            if (!rd_kafka_message_headers(&m, &headers) &&
                !rd_kafka_header_get_last(headers, "vigil.reason", &value, &size)) {
              result.dead_letter_reasons.emplace_back(static_cast<const char*>(value), size);
            }
          }).ok());
  return result;
}

v1::RulesConfig ConfigFor(const fs::path& events) {
  std::string name = events.filename().string();
  fs::path rules = events.parent_path() / (name.substr(0, name.size() - strlen(".events.ndjson")) + ".rules.json");
  Result<v1::RulesConfig> config = LoadRulesConfig(fs::exists(rules) ? rules.string() : "");
  REQUIRE_MESSAGE(config.ok(), (config.ok() ? "" : config.status().message()));
  return *config;
}

}  // namespace

TEST_CASE("kafka: run shares its one memory budget between RocksDB and the cores") {
  LiveOptions options;
  options.memory_budget_bytes = size_t{256} << 20;
  MemoryShares shares = LiveMemoryShares(options);
  CHECK(shares.rocks == size_t{64} << 20);  // a quarter, as SplitMemoryBudget
  CHECK(shares.core == size_t{192} << 20);
  CHECK(shares.rocks + shares.core == options.memory_budget_bytes);
  options.shadow_rules = DefaultRulesConfig();
  shares = LiveMemoryShares(options);
  CHECK(shares.core == size_t{96} << 20);  // the rules' core and the shadow rules' core each
  CHECK(shares.rocks + 2 * shares.core == options.memory_budget_bytes);
  options.memory_budget_bytes = 0;  // none: RocksDB as its options say, the cores unbounded
  options.storage.memory_budget_bytes = size_t{32} << 20;
  shares = LiveMemoryShares(options);
  CHECK(shares.rocks == size_t{32} << 20);
  CHECK(shares.core == 0);
}

TEST_CASE("kafka: run agrees with replay on the sample force, alert for alert") {
  const std::string events = std::string(VIGIL_SOURCE_DIR) + "/tests/scenarios/shared/sample-force.events.ndjson";
  const v1::RulesConfig config = DefaultRulesConfig();
  std::vector<v1::Alert> replayed = ReplayFile(events, config);
  LiveResult live = RunThroughKafka(events, config, 4);
  REQUIRE(!replayed.empty());
  CHECK(SortedIds(live.alerts) == SortedIds(replayed));
  CHECK(live.report.metrics.too_late == 2);
  // The two too-late events are on the dead-letter topic with their reason.
  CHECK(live.dead_letter_reasons == std::vector<std::string>{"too_late", "too_late"});
}

TEST_CASE("kafka: run agrees with replay on every scenario in tests/scenarios") {
  const fs::path dir = fs::path(VIGIL_SOURCE_DIR) / "tests" / "scenarios";
  int scenarios = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.size() < 14 || name.substr(name.size() - 14) != ".events.ndjson") continue;
    ++scenarios;
    CAPTURE(name);
    v1::RulesConfig config = ConfigFor(entry.path());
    std::vector<v1::Alert> replayed = ReplayFile(entry.path().string(), config);
    LiveResult live = RunThroughKafka(entry.path().string(), config, 2);
    CHECK(SortedIds(live.alerts) == SortedIds(replayed));
  }
  MESSAGE(scenarios << " scenarios compared");
}

TEST_CASE("kafka: a record that is not a valid event goes to the dead-letter topic and the run goes on") {
  MockBroker broker;
  const Topics topics;
  REQUIRE(broker.CreateVigilTopics(topics, 1).ok());
  Result<KafkaHandle> producer = MakeProducer(broker.bootstrap());
  REQUIRE(producer.ok());
  REQUIRE(ProduceRecord(producer->get(), topics.access, "MP1", "\xff\xfe not protobuf").ok());
  v1::Envelope bad_lat;
  auto* a = bad_lat.mutable_access();
  a->set_event_id("a-bad");
  a->set_officer_id("MP1");
  a->set_action(v1::AccessEvent::SEARCH);
  a->set_lat(123);
  *a->mutable_occurred_at() = ToTimestamp(1000);
  REQUIRE(ProduceRecord(producer->get(), topics.access, "MP1", EncodeEvent(bad_lat)).ok());
  REQUIRE(ProduceRecord(producer->get(), topics.access, "MP1", std::string(100 * 1024, 'x')).ok());
  REQUIRE(Flush(producer->get(), 10000).ok());

  TempDir state("vigil-test-run-");
  LiveOptions options = BoundedRun(broker.bootstrap(), state.path());
  Result<LiveReport> report = RunLive(options, DefaultRulesConfig());
  REQUIRE(report.ok());
  CHECK(report->metrics.invalid == 3);

  std::vector<std::pair<std::string, std::string>> letters;  // reason, source
  REQUIRE(ReadTopic(broker.bootstrap(), topics.dlq, ReadOptions{}, [&](const rd_kafka_message_t& m) {
            std::string json = RecordAsJson(topics, topics.dlq, m);
            letters.emplace_back(json, "");
          }).ok());
  REQUIRE(letters.size() == 3);
  CHECK(letters[0].first.find("\"source\":\"vigil.access/0/0\"") != std::string::npos);
  CHECK(letters[1].first.find("lat") != std::string::npos);
  CHECK(letters[2].first.find("oversized") != std::string::npos);
}

}  // namespace vigil::testing

namespace vigil::testing {

TEST_CASE("kafka: stopped half-way and restarted on the same state, run publishes each alert once") {
  const std::string events = std::string(VIGIL_SOURCE_DIR) + "/tests/scenarios/shared/sample-force.events.ndjson";
  const v1::RulesConfig config = DefaultRulesConfig();
  std::vector<v1::Alert> replayed = ReplayFile(events, config);

  MockBroker broker;
  const Topics topics;
  REQUIRE(broker.CreateVigilTopics(topics, 4).ok());
  REQUIRE(ProduceEventFile(broker.bootstrap(), events, topics, false).ok());
  TempDir state("vigil-test-restart-");

  // First run: stopped (as by SIGTERM) once 20,000 records are in, mid-stream.
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> consumed{0};
  LiveOptions first = BoundedRun(broker.bootstrap(), state.path());
  first.until_caught_up = false;
  first.stop = &stop;
  first.records_consumed = &consumed;
  std::thread stopper([&] {
    while (consumed.load() < 20000) std::this_thread::yield();
    stop = true;
  });
  Result<LiveReport> partial = RunLive(first, config);
  stopper.join();
  REQUIRE(partial.ok());
  CHECK(partial->records < 61201);

  // Second run on the same state directory (another group, so nothing comes from the group's
  // committed offsets: the engine must resume from what RocksDB says), to the end.
  LiveOptions second = first;
  second.stop = nullptr;
  second.records_consumed = nullptr;
  second.group = "vigil-restarted";
  second.until_caught_up = true;
  Result<LiveReport> rest = RunLive(second, config);
  REQUIRE(rest.ok());
  CHECK(partial->records + rest->records == 61201);

  CHECK(SortedIds(PublishedAlerts(broker.bootstrap())) == SortedIds(replayed));
}

}  // namespace vigil::testing
