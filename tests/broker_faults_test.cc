// Broker faults (issue 4), injected with librdkafka's mock cluster while `vigil run` works: every
// broker down for a while, request errors, partition leaders moving. The engine must report an
// outage (log line and health state) rather than exit or spin, wait, resume, and in the end have
// published exactly the alerts replay gives: nothing lost, nothing twice.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "harness.h"
#include "live/live_engine.h"
#include "live_fixtures.h"
#include "kafka/mock_broker.h"
#include "rules_config.h"

namespace vigil::testing {
namespace {

// Kafka API keys (the protocol's numbers) for rd_kafka_mock_push_request_errors.
constexpr int16_t kProduceApi = 0;
constexpr int16_t kFetchApi = 1;
constexpr int16_t kOffsetCommitApi = 8;

}  // namespace

TEST_CASE("broker faults: all brokers down for seconds: reported, waited out, nothing lost") {
  // All the input is on the topics before the run starts: a partition that runs dry is idle, and
  // lets the engine's watermark pass it (CONTRACT.md), so input arriving later on it could be
  // judged late where replay would not; that is not what these tests are about.
  ForceOnKafka setup("vigil-broker-faults-");
  MockBroker& broker = setup.broker;
  CerrCapture log;
  INFO("engine log:\n" << log.text());
  LiveRun run(RunOptions(setup.brokers(), setup.state_dir()), setup.config);
  WaitUntil([&] { return run.consumed() > 0; }, "consumption to start");

  REQUIRE(rd_kafka_mock_broker_set_down(broker.cluster(), 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  WaitUntil([&] { return run.health() == HealthState::kKafkaUnreachable; }, "the outage report");
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the outage lasts a while
  CHECK(run.health() == HealthState::kKafkaUnreachable);  // still waiting: not exited, not failed
  REQUIRE(rd_kafka_mock_broker_set_up(broker.cluster(), 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  WaitUntil([&] { return run.health() == HealthState::kRunning; }, "recovery");

  REQUIRE(run.Finish() == "");
  CHECK(run.health() == HealthState::kStopped);
  CHECK(run.consumed() == setup.input.records);
  CheckPublishedExactlyOnce(setup);
  std::string text = log.text();
  CHECK(text.find("run: health: kafka_unreachable") != std::string::npos);
  CHECK(text.find("run: Kafka is reachable again after") != std::string::npos);
}

TEST_CASE("broker faults: request errors and moving partition leaders lose and duplicate nothing") {
  ForceOnKafka setup("vigil-broker-faults-", 3);
  rd_kafka_mock_cluster_t* cluster = setup.broker.cluster();
  const Topics topics;
  // Retriable errors on the requests the engine makes: fetching, producing alerts, committing.
  rd_kafka_mock_push_request_errors(cluster, kFetchApi, 4, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                    RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  rd_kafka_mock_push_request_errors(cluster, kProduceApi, 3, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  rd_kafka_mock_push_request_errors(cluster, kOffsetCommitApi, 2,
                                    RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  // Every partition's leader moves twice while an engine works: once a run has read part of the
  // input (at most 2,000 records a partition, however fast it is) and made it durable, and once a
  // second run has read 2,000 a partition more. Each of those runs then stops as an operator's
  // SIGTERM would stop it; a last one reads the rest.
  for (int32_t leader : {2, 3}) {
    LiveOptions options = RunOptions(setup.brokers(), setup.state_dir());
    options.read_limit = 2000;
    const uint64_t before = RecordsWithinLimit(setup.brokers(), 2000 * (leader - 2), 3);
    const uint64_t read = RecordsWithinLimit(setup.brokers(), 2000 * (leader - 1), 3) - before;
    LiveRun run(options, setup.config);
    WaitUntil([&] { return run.durable() == read; }, "a durable checkpoint of all it may read");
    for (const std::string* topic : {&topics.roster, &topics.access, &topics.complaints,
                                     &topics.alerts, &topics.dlq}) {
      for (int32_t partition = 0; partition < 3; ++partition) {
        REQUIRE(rd_kafka_mock_partition_set_leader(cluster, topic->c_str(), partition, leader) ==
                RD_KAFKA_RESP_ERR_NO_ERROR);
      }
    }
    run.Stop();
    REQUIRE(run.Finish() == "");
  }
  LiveRun last(RunOptions(setup.brokers(), setup.state_dir()), setup.config);
  REQUIRE(last.Finish() == "");
  CheckPublishedExactlyOnce(setup);
}

}  // namespace vigil::testing
