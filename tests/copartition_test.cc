// The co-partitioning guard (issue 14): the live engine refuses input topics whose partition counts
// differ, and sends a record that is not on the partition its key hashes to (under
// `vigil run --partitioner`) to the dead-letter topic with reason wrong_partition, counted, logged
// and kept from the rules (the shadow rules too), while the rest of the input gives exactly the
// alerts it gives without it. On librdkafka's mock cluster with real RocksDB; records are placed
// by librdkafka's own producer partitioners, or on a partition chosen by the test.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "child_process.h"
#include "harness.h"
#include "http/ops_server.h"
#include "kafka/kafka_io.h"
#include "kafka/partitioning.h"
#include "live/live_engine.h"
#include "kafka/mock_broker.h"
#include "live_fixtures.h"
#include "rules_config.h"

namespace vigil::testing {
namespace {

constexpr int kPartitions = 4;

// Valid events that change the alerts when the rules see them: a search by MP2 while sick (an
// off_duty_access alert of its own), and one by MP1 earlier on its rest day than a4 (the
// off_duty_access alert then cites it, so its id changes).
const std::string kSickSearch = Access("x1", "MP2", "2026-03-02T12:00:00Z", "SEARCH", "S4");
const std::string kEarlierSearch = Access("x2", "MP1", "2026-03-02T09:00:00Z", "SEARCH", "S5");

v1::Envelope EventOf(const std::string& line) {
  Result<v1::Envelope> event = ParseEventJson(line);
  REQUIRE_MESSAGE(event.ok(), (event.ok() ? "" : event.status().message()));
  return *event;
}

// Queues one record on `partition` of `topic` (RD_KAFKA_PARTITION_UA: where the producer's
// partitioner puts it); a null `key` is a record without a key.
void ProduceTo(rd_kafka_t* producer, const std::string& topic, int32_t partition, const char* key,
               const std::string& value) {
  REQUIRE(rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                            RD_KAFKA_V_KEY(const_cast<char*>(key), key ? strlen(key) : 0),
                            RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) == 0);
}

// Produces each event keyed by its officer through `producer` (its partitioner places them).
void ProduceScenario(rd_kafka_t* producer, const std::vector<std::string>& lines) {
  const Topics topics;
  for (const std::string& line : lines) {
    v1::Envelope event = EventOf(line);
    ProduceTo(producer, topics.For(StreamOf(event)), RD_KAFKA_PARTITION_UA,
              std::string(OfficerId(event)).c_str(), EncodeEvent(event));
  }
}

// The partition `partitioner` gives `key` on `topic`, with a topic handle of `producer`'s.
int32_t PartitionOf(rd_kafka_t* producer, const std::string& topic, Partitioner partitioner,
                    const std::string& key) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(producer, topic.c_str(), nullptr);
  REQUIRE(rkt != nullptr);
  const int32_t partition = KeyPartition(partitioner, rkt, key, kPartitions);
  rd_kafka_topic_destroy(rkt);
  return partition;
}

struct Record {
  std::string key, value, reason, source;
  std::string position;  // topic/partition/offset
  int32_t partition = -1;
};

std::vector<Record> ReadRecords(const std::string& brokers, const std::string& topic) {
  std::vector<Record> records;
  REQUIRE(ReadTopic(brokers, topic, ReadOptions{}, [&](const rd_kafka_message_t& m) {
            Record r;
            if (m.key) r.key.assign(static_cast<const char*>(m.key), m.key_len);
            if (m.payload) r.value.assign(static_cast<const char*>(m.payload), m.len);
            r.reason = HeaderValue(m, "vigil.reason");
            r.source = HeaderValue(m, "vigil.source");
            r.partition = m.partition;
            r.position = topic + "/" + std::to_string(m.partition) + "/" + std::to_string(m.offset);
            records.push_back(std::move(r));
          }).ok());
  return records;
}

std::vector<Record> InputRecords(const std::string& brokers) {
  const Topics topics;
  std::vector<Record> all;
  for (const std::string* topic : {&topics.roster, &topics.access, &topics.complaints}) {
    for (Record& r : ReadRecords(brokers, *topic)) all.push_back(std::move(r));
  }
  return all;
}

std::vector<std::string> AlertIdsOn(const std::string& brokers, const std::string& topic) {
  std::vector<v1::Alert> alerts;
  for (const Record& r : ReadRecords(brokers, topic)) {
    v1::Alert alert;
    REQUIRE(alert.ParseFromString(r.value));
    alerts.push_back(alert);
  }
  return SortedIds(alerts);
}

std::string Key(const Record& r) { return r.key.empty() ? "<no key>" : r.key; }

}  // namespace

TEST_CASE("partitioning: librdkafka's partitioners hash exactly as Kafka's clients do") {
  CHECK(PartitionerName(*ParsePartitioner("consistent_random")) == std::string("consistent_random"));
  CHECK(PartitionerName(*ParsePartitioner("murmur2_random")) == std::string("murmur2_random"));
  Result<Partitioner> unknown = ParsePartitioner("fnv1a");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message().find("unknown partitioner 'fnv1a'") != std::string::npos);

  // Java's Utils.murmur2 on the vectors of Kafka's own UtilsTest.testMurmur2; its default
  // partitioner takes toPositive(hash) % partitions.
  const std::map<std::string, int32_t> java = {
      {"21", -973932308}, {"foobar", -790332482}, {"a-little-bit-long-string", -985981536},
      {"a-little-bit-longer-string", -1486304829},
      {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971}, {"abc", 479470107}};
  for (const auto& [key, hash] : java) {
    for (int32_t partitions : {1, 3, 8, 1000, 65536}) {
      CAPTURE(key);
      CAPTURE(partitions);
      const int32_t expected = static_cast<int32_t>((static_cast<uint32_t>(hash) & 0x7fffffffu) % partitions);
      CHECK(KeyPartition(Partitioner::kMurmur2Random, nullptr, key, partitions) == expected);
    }
  }
  // consistent: CRC-32 (the zlib one; its check value is that of "123456789") modulo the count.
  for (int32_t partitions : {1, 3, 8, 1000, 65536}) {
    CHECK(KeyPartition(Partitioner::kConsistentRandom, nullptr, "123456789", partitions) ==
          static_cast<int32_t>(0xCBF43926u % static_cast<uint32_t>(partitions)));
  }

  CHECK(CheckCoPartitioned({{"a", 8}, {"b", 8}, {"c", 8}}).ok());
  Status differ = CheckCoPartitioned({{"vigil.roster", 8}, {"vigil.access", 8}, {"vigil.complaints", 4}});
  REQUIRE_FALSE(differ.ok());
  CHECK(differ.message().find("vigil.roster has 8, vigil.access has 8, vigil.complaints has 4") !=
        std::string::npos);
  CHECK(differ.message().find("co-partitioning by officer id") != std::string::npos);
}

TEST_CASE("copartition: a record off its key's partition goes to vigil.dlq as wrong_partition, "
          "counted, and the rules never see it") {
  const Topics topics;
  const v1::RulesConfig config = DefaultRulesConfig();
  const std::vector<std::string> valid = FiveRuleScenario();
  // The two misplaced events would change the alerts: the test can tell whether the rules saw them.
  const std::vector<std::string> alerts_as_is = SortedIds(ReplayLines(valid, config));
  // Each where its time puts it (after a3, around a4), well within the allowed lateness.
  std::vector<std::string> with_sick_search = valid, with_earlier_search = valid;
  with_sick_search.insert(with_sick_search.begin() + 7, kSickSearch);
  with_earlier_search.insert(with_earlier_search.begin() + 6, kEarlierSearch);
  REQUIRE(alerts_as_is.size() >= 4);
  REQUIRE(SortedIds(ReplayLines(with_sick_search, config)) != alerts_as_is);
  REQUIRE(SortedIds(ReplayLines(with_earlier_search, config)) != alerts_as_is);

  MockBroker broker;
  REQUIRE(broker.CreateVigilTopics(topics, kPartitions).ok());
  Result<KafkaHandle> producer = MakeProducer(broker.bootstrap());
  REQUIRE(producer.ok());
  ProduceScenario(producer->get(), std::vector<std::string>(valid.begin(), valid.begin() + 6));
  // x1 keyed by its officer, on the partition after the one its key hashes to; x2 without a key.
  const int32_t home = PartitionOf(producer->get(), topics.access, Partitioner::kConsistentRandom, "MP2");
  const int32_t misplaced = (home + 1) % kPartitions;
  const std::string sick_search = EncodeEvent(EventOf(kSickSearch));
  const std::string earlier_search = EncodeEvent(EventOf(kEarlierSearch));
  ProduceTo(producer->get(), topics.access, misplaced, "MP2", sick_search);
  ProduceTo(producer->get(), topics.access, RD_KAFKA_PARTITION_UA, nullptr, earlier_search);
  ProduceScenario(producer->get(), std::vector<std::string>(valid.begin() + 6, valid.end()));
  REQUIRE(Flush(producer->get(), 10000).ok());
  std::map<std::string, Record> input;  // by value
  for (Record& r : InputRecords(broker.bootstrap())) input[r.value] = r;
  REQUIRE(input.size() == valid.size() + 2);
  REQUIRE(input.at(sick_search).partition == misplaced);

  // With shadow rules (the same rules, so their alerts are the same ids): neither sees them.
  TempDir state("vigil-test-copartition-");
  LiveOptions options = BoundedRun(broker.bootstrap(), state.path());
  options.shadow_rules = config;
  LiveProbe probe;
  options.probe = &probe;
  Result<LiveReport> report = [&] {
    CerrCapture log;
    options.progress = true;
    Result<LiveReport> run = RunLive(options, config);
    const std::string text = log.text();
    INFO(text);
    // Logged like invalid records: where it was and why.
    CHECK(text.find(input.at(sick_search).position + ": key hashes to partition " +
                    std::to_string(home) + " of 4 under consistent_random") != std::string::npos);
    CHECK(text.find(input.at(earlier_search).position + ": no key") != std::string::npos);
    return run;
  }();
  REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.status().message()));

  CHECK(report->records == valid.size() + 2);
  CHECK(report->wrong_partition == 2);
  CHECK(report->metrics.invalid == 0);
  CHECK(report->metrics.events_total() == valid.size());
  CHECK(report->shadow_metrics.events_total() == valid.size());
  CHECK(report->shadow_failure.empty());

  std::vector<Record> letters = ReadRecords(broker.bootstrap(), topics.dlq);
  REQUIRE(letters.size() == 2);
  for (const Record& letter : letters) {
    CAPTURE(letter.reason);
    REQUIRE(input.count(letter.value) == 1);
    const Record& original = input.at(letter.value);
    CHECK(letter.source == original.position);
    CHECK(letter.key == original.key);
    CHECK(letter.reason.rfind("wrong_partition: ", 0) == 0);
    if (letter.value == sick_search) {
      CHECK(letter.reason == "wrong_partition: key hashes to partition " + std::to_string(home) +
                                 " of 4 under consistent_random");
    } else {
      CHECK(letter.value == earlier_search);
      CHECK(letter.reason.find("no key") != std::string::npos);
    }
  }

  // The rest is processed as without them: alerts exactly as a replay of the valid events alone.
  CHECK(AlertIdsOn(broker.bootstrap(), topics.alerts) == alerts_as_is);
  CHECK(AlertIdsOn(broker.bootstrap(), topics.alerts_shadow) == alerts_as_is);

  // Counted on /metrics under its own reason.
  const LiveMetrics metrics = probe.Get();
  CHECK(metrics.wrong_partition == 2);
  Health health;
  http::OpsEndpoints endpoints{&health, &probe, topics, 0};
  Result<std::string> page = http::MetricsPage(endpoints, health.Get(), metrics, 0);
  REQUIRE(page.ok());
  INFO(*page);
  CHECK(page->find("\nvigil_dead_letters_total{reason=\"wrong_partition\"} 2\n") != std::string::npos);
  CHECK(page->find("\nvigil_dead_letters_total{reason=\"invalid\"} 0\n") != std::string::npos);
}

TEST_CASE("copartition: a record both invalid and off its partition is dead-lettered as invalid") {
  const Topics topics;
  MockBroker broker;
  REQUIRE(broker.CreateVigilTopics(topics, kPartitions).ok());
  Result<KafkaHandle> producer = MakeProducer(broker.bootstrap());
  REQUIRE(producer.ok());
  const int32_t home = PartitionOf(producer->get(), topics.access, Partitioner::kConsistentRandom, "MP1");
  ProduceTo(producer->get(), topics.access, (home + 1) % kPartitions, "MP1", "\xff\xfe not protobuf");
  ProduceTo(producer->get(), topics.access, RD_KAFKA_PARTITION_UA, nullptr, "not an event either");
  REQUIRE(Flush(producer->get(), 10000).ok());

  TempDir state("vigil-test-copartition-");
  Result<LiveReport> report = RunLive(BoundedRun(broker.bootstrap(), state.path()), DefaultRulesConfig());
  REQUIRE(report.ok());
  CHECK(report->metrics.invalid == 2);
  CHECK(report->wrong_partition == 0);
  std::vector<Record> letters = ReadRecords(broker.bootstrap(), topics.dlq);
  REQUIRE(letters.size() == 2);
  for (const Record& letter : letters) CHECK(letter.reason.rfind("invalid: ", 0) == 0);
}

TEST_CASE("copartition: --partitioner murmur2_random accepts what Java-style producers place and "
          "rejects librdkafka's default placement") {
  const Topics topics;
  const v1::RulesConfig config = DefaultRulesConfig();
  const std::vector<std::string> valid = FiveRuleScenario();
  const std::vector<std::string> expected = SortedIds(ReplayLines(valid, config));

  for (const Partitioner produced_with : {Partitioner::kMurmur2Random, Partitioner::kConsistentRandom}) {
    CAPTURE(PartitionerName(produced_with));
    MockBroker broker;
    REQUIRE(broker.CreateVigilTopics(topics, kPartitions).ok());
    Result<KafkaHandle> producer =
        MakeProducer(broker.bootstrap(), {{"partitioner", PartitionerName(produced_with)}});
    REQUIRE(producer.ok());
    ProduceScenario(producer->get(), valid);
    REQUIRE(Flush(producer->get(), 10000).ok());

    // librdkafka's producer put each record where KeyPartition says its partitioner does; the
    // other partitioner would have put some of them elsewhere.
    const std::vector<Record> input = InputRecords(broker.bootstrap());
    REQUIRE(input.size() == valid.size());
    std::set<std::string> off_murmur2;  // positions
    for (const Record& r : input) {
      CAPTURE(Key(r));
      const std::string topic = r.position.substr(0, r.position.find('/'));
      CHECK(PartitionOf(producer->get(), topic, produced_with, r.key) == r.partition);
      if (PartitionOf(producer->get(), topic, Partitioner::kMurmur2Random, r.key) != r.partition) {
        off_murmur2.insert(r.position);
      }
    }

    TempDir state("vigil-test-copartition-");
    LiveOptions options = BoundedRun(broker.bootstrap(), state.path());
    options.partitioner = Partitioner::kMurmur2Random;
    Result<LiveReport> report = RunLive(options, config);
    REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.status().message()));
    std::set<std::string> rejected;
    for (const Record& letter : ReadRecords(broker.bootstrap(), topics.dlq)) {
      CHECK(letter.reason.rfind("wrong_partition: key hashes to partition ", 0) == 0);
      CHECK(letter.reason.find(" of 4 under murmur2_random") != std::string::npos);
      rejected.insert(letter.source);
    }
    CHECK(report->wrong_partition == rejected.size());
    CHECK(rejected == off_murmur2);
    if (produced_with == Partitioner::kMurmur2Random) {
      CHECK(rejected.empty());
      CHECK(AlertIdsOn(broker.bootstrap(), topics.alerts) == expected);
    } else {
      // Default placement under murmur2: MP1..MP3 do not all land alike, so some are rejected.
      CHECK(!rejected.empty());
      CHECK(rejected.size() < input.size());
    }
  }
}

TEST_CASE("copartition: input topics with different partition counts: vigil run refuses, exit 1") {
  const Topics topics;
  MockBroker broker;
  REQUIRE(broker.CreateTopic(topics.roster, 4).ok());
  REQUIRE(broker.CreateTopic(topics.access, 4).ok());
  REQUIRE(broker.CreateTopic(topics.complaints, 2).ok());
  for (const std::string* topic : {&topics.alerts, &topics.alerts_shadow, &topics.dlq}) {
    REQUIRE(broker.CreateTopic(*topic, 1).ok());
  }
  const std::string counts = "vigil.roster has 4, vigil.access has 4, vigil.complaints has 2 partitions";
  TempDir dir("vigil-test-copartition-");

  SUBCASE("the engine: a Status naming each topic and its count, health failed") {
    LiveOptions options = BoundedRun(broker.bootstrap(), dir.path() + "/state");
    Health health;
    options.health = &health;
    Result<LiveReport> report = RunLive(options, DefaultRulesConfig());
    REQUIRE_FALSE(report.ok());
    CHECK(report.status().message().find(counts) != std::string::npos);
    CHECK(report.status().message().find("co-partitioning by officer id") != std::string::npos);
    CHECK(health.state() == HealthState::kFailed);
    CHECK(health.Get().detail.find(counts) != std::string::npos);
  }
  SUBCASE("the command: exit 1 with the message") {
    VigilProcess run({"run", "--brokers", broker.bootstrap(), "--state-dir", dir.path() + "/state",
                      "--until-caught-up"},
                     dir.path() + "/run.log");
    const int status = run.Wait();
    INFO(run.Log());
    CHECK(DescribeStatus(status) == "exit 1");
    CHECK(run.Log().find("vigil run: the input topics' partition counts differ (" + counts) !=
          std::string::npos);
  }
}

TEST_CASE("copartition: vigil run --partitioner: a bad value is a usage error; --help says what it does") {
  TempDir dir("vigil-test-copartition-");
  VigilProcess bad({"run", "--brokers", "127.0.0.1:1", "--partitioner", "fnv1a"}, dir.path() + "/bad.log");
  const int status = bad.Wait();
  INFO(bad.Log());
  CHECK(DescribeStatus(status) == "exit 2");
  CHECK(bad.Log().find("vigil run: --partitioner: unknown partitioner 'fnv1a'") != std::string::npos);

  VigilProcess help({"run", "--help"}, dir.path() + "/help.log");
  CHECK(DescribeStatus(help.Wait()) == "exit 0");
  const std::string text = help.Log();
  INFO(text);
  CHECK(text.find("--partitioner") != std::string::npos);
  CHECK(text.find("murmur2_random") != std::string::npos);
  CHECK(text.find("wrong_partition") != std::string::npos);
}

}  // namespace vigil::testing
