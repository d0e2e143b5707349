// A task never goes on from incomplete windows unsaid (issue 14, "Never silent"): a partition is
// processed from where its state here stands, or from the beginning of its input when there is
// none here; when the input topics no longer hold that (their retention deleted it), the live
// engine refuses the task: a bounded run ends with the reason, a running engine pauses it, says
// why and is not ready. `--start-from-retained` processes it from the oldest record held instead.
//
// On librdkafka's mock cluster, whose partitions keep about 5 MiB and drop the oldest records
// (../shared/TOOLCHAIN.md): that is the retention here, made to delete by producing 6 MiB of
// padding. Real RocksDB state.
#include <doctest/doctest.h>

#include <thread>

#include "harness.h"
#include "http/ops_server.h"
#include "kafka/kafka_io.h"
#include "kafka/mock_broker.h"
#include "live/live_engine.h"
#include "live_fixtures.h"
#include "rules_config.h"

namespace vigil::testing {
namespace {

// MP1 searches on its rest day: one off_duty_access alert.
std::vector<std::string> OffDutySearch(const std::string& day) {
  return {Roster("r-" + day, "MP1", "MP1-" + day, "REST_DAY", day + "T00:00:00Z", day + "T23:59:00Z",
                 "2026-02-01T08:00:00Z"),
          Access("a-" + day, "MP1", day + "T10:00:00Z", "SEARCH", "S9")};
}

void ProduceEvents(rd_kafka_t* producer, const std::vector<std::string>& lines) {
  const Topics topics;
  for (const std::string& line : lines) {
    Result<v1::Envelope> event = ParseEventJson(line);
    REQUIRE(event.ok());
    REQUIRE(ProduceRecord(producer, topics.For(StreamOf(*event)), OfficerId(*event),
                          EncodeEvent(*event)).ok());
  }
  REQUIRE(Flush(producer, 10000).ok());
}

// 6 MiB of records that are not events on vigil.access: the mock cluster drops the oldest
// records of the partition to keep about 5 MiB. Returns the oldest offset it still holds (> 0).
int64_t OverflowAccessTopic(rd_kafka_t* producer) {
  const Topics topics;
  const std::string padding(10000, 'x');
  for (int i = 0; i < 600; ++i) REQUIRE(ProduceRecord(producer, topics.access, "MP9", padding).ok());
  REQUIRE(Flush(producer, 30000).ok());
  Result<std::pair<int64_t, int64_t>> offsets = QueryOffsets(producer, topics.access, 0);
  REQUIRE(offsets.ok());
  REQUIRE(offsets->first > 0);
  return offsets->first;
}

// A bounded run that logs what it does (its warnings are what a user reads).
LiveOptions Bounded(const std::string& brokers, const std::string& state_dir) {
  LiveOptions options = BoundedRun(brokers, state_dir);
  options.progress = true;
  return options;
}

// A mock cluster whose input topics have one partition each, and a producer to it.
struct OnePartitionCluster {
  OnePartitionCluster() {
    REQUIRE(broker.CreateVigilTopics(Topics{}, 1).ok());
    Result<KafkaHandle> made = MakeProducer(broker.bootstrap());
    REQUIRE(made.ok());
    producer = std::move(made.value());
  }
  std::string brokers() const { return broker.bootstrap(); }
  MockBroker broker;
  KafkaHandle producer;
};

// The error a bounded run ends with, or "" if it finished.
std::string RunBounded(const LiveOptions& options) {
  try {
    Result<LiveReport> report = RunLive(options, DefaultRulesConfig());
    return report.ok() ? "" : report.status().message();
  } catch (const FatalError& e) {
    return e.what();
  }
}

}  // namespace

TEST_CASE("retention gap: a partition with no state here whose input lost its beginning is "
          "refused; --start-from-retained processes it from the oldest record held") {
  OnePartitionCluster cluster;
  const int64_t oldest = OverflowAccessTopic(cluster.producer.get());
  const std::vector<std::string> events = OffDutySearch("2026-03-02");
  ProduceEvents(cluster.producer.get(), events);
  TempDir dir("vigil-retention-gap-");

  std::string error;
  {
    CerrCapture log;
    error = RunBounded(Bounded(cluster.brokers(), dir.path() + "/refused"));
  }
  CHECK(error.find("partition 0 is not processed, as its state cannot be restored: vigil.access/0 "
                   "holds offsets from " + std::to_string(oldest) +
                   " but there is no state for it here, which needs them from 0") != std::string::npos);
  CHECK(error.find("--start-from-retained") != std::string::npos);
  CHECK(PublishedAlertIds(cluster.brokers()).empty());  // nothing was decided from the partial input

  LiveOptions accept = Bounded(cluster.brokers(), dir.path() + "/accepted");
  accept.start_from_retained = true;
  CerrCapture log;
  CHECK(RunBounded(accept) == "");
  CHECK(log.text().find("partition 0 is processed from the oldest records its input topics hold "
                        "(--start-from-retained)") != std::string::npos);
  // What the topics still hold is processed: the rest-day search's alert.
  const std::vector<v1::Alert> expected = ReplayRule("off_duty_access", events);
  REQUIRE(expected.size() == 1);
  CHECK(PublishedAlertIds(cluster.brokers()) == SortedIds(expected));
}

TEST_CASE("retention gap: a running engine whose saved position the input no longer holds pauses "
          "that partition, says why, is not ready and stays up") {
  OnePartitionCluster cluster;
  TempDir dir("vigil-retention-gap-");
  const std::string state = dir.path() + "/state";
  // A first run processes a day and saves its position.
  ProduceEvents(cluster.producer.get(), OffDutySearch("2026-03-02"));
  {
    CerrCapture log;
    REQUIRE(RunBounded(Bounded(cluster.brokers(), state)) == "");
  }
  REQUIRE(PublishedAlertIds(cluster.brokers()).size() == 1);
  // Then more arrives than the partition keeps while the engine is away: the records after its
  // saved position are gone. A later rest-day search comes after them.
  const int64_t oldest = OverflowAccessTopic(cluster.producer.get());
  ProduceEvents(cluster.producer.get(), OffDutySearch("2026-03-09"));

  LiveOptions options = Bounded(cluster.brokers(), state);
  options.until_caught_up = false;
  std::atomic<bool> stop{false};
  LiveProbe probe;
  options.stop = &stop;
  options.probe = &probe;
  CerrCapture log;
  std::string error;
  std::thread run([&] { error = RunBounded(options); });
  WaitUntil([&] { return probe.Get().refused_tasks == 1; }, "the task to be refused");
  const LiveMetrics metrics = probe.Get();
  Health::Snapshot running;
  running.state = HealthState::kRunning;
  const http::Readiness readiness = http::ReadinessOf(running, metrics);
  CAPTURE(readiness.reason);
  CHECK_FALSE(readiness.ready);
  CHECK(readiness.reason.find("1 assigned task(s) not processed: partition 0's state cannot be "
                              "restored: vigil.access/0 holds offsets from " +
                              std::to_string(oldest) + " but the state here needs them from") !=
        std::string::npos);
  CHECK(metrics.assigned_partitions == 0);  // none of partition 0's topics is processed
  stop = true;
  run.join();
  CHECK(error == "");  // a running engine stays up: a restart would not bring the input back
  CHECK(log.text().find("the engine is not ready while it holds it") != std::string::npos);
  CHECK(PublishedAlertIds(cluster.brokers()).size() == 1);  // the second search was not processed
}

}  // namespace vigil::testing
