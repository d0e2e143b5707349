// Graceful stop (issue 4): SIGTERM makes `vigil run` finish its batch, write a checkpoint, flush
// the producer and leave the consumer group; a restart resumes exactly where it stopped.
#include <doctest/doctest.h>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include "child_process.h"
#include "harness.h"
#include "kafka.h"
#include "live_fixtures.h"
#include "mock_broker.h"
#include "rules_config.h"

namespace vigil::testing {
namespace {

// Records on the alert topic now.
int64_t AlertsOnTopic(rd_kafka_t* client, int partitions) {
  int64_t total = 0;
  for (int32_t p = 0; p < partitions; ++p) {
    Result<std::pair<int64_t, int64_t>> offsets = QueryOffsets(client, Topics{}.alerts, p);
    REQUIRE(offsets.ok());
    total += offsets->second - offsets->first;
  }
  return total;
}

// The sum of the offsets the group "vigil" has committed on the input topics: the records it has
// read, when every partition started at offset 0.
int64_t CommittedRecords(const std::string& brokers, int partitions) {
  int64_t total = 0;
  for (const auto& [partition, offset] : CommittedInputOffsets(brokers, partitions)) {
    total += std::max<int64_t>(0, offset);
  }
  return total;
}

// Records consumed, from a run's closing summary line.
uint64_t RecordsIn(const std::string& log) {
  static const std::regex summary("run: ([0-9]+) records, [0-9]+ events used");
  std::smatch match;
  REQUIRE_MESSAGE(std::regex_search(log, match, summary), log);
  return std::stoull(match[1]);
}

}  // namespace

TEST_CASE("graceful stop: SIGTERM checkpoints, publishes, leaves the group; a restart resumes there") {
  ForceOnKafka setup("vigil-graceful-stop-");
  const std::string brokers = setup.brokers();
  const std::vector<std::string> run = {"run", "--brokers", brokers, "--state-dir",
                                        setup.state_dir(), "--rules", setup.rules_path};

  // The first alerts on the topic say it is at work; with a checkpoint every 100 ms they appear
  // long before it could have read all the input (about 75,000 records), so the stop lands
  // part way through, however fast the machine.
  std::vector<std::string> first_args = run;
  for (const char* arg : {"--health-listen", "127.0.0.1:0", "--checkpoint-interval-ms", "100"}) {
    first_args.push_back(arg);
  }
  VigilProcess first(first_args, setup.dir.path() + "/first.log");
  Result<KafkaHandle> client = MakeProducer(brokers);
  REQUIRE(client.ok());
  INFO("first run:\n" << first.Log());
  WaitUntil([&] { return AlertsOnTopic(client->get(), 3) > 0; }, "a first checkpoint's alerts");
  // Its health, as an orchestrator's probe sees it.
  std::smatch url;
  const std::string log = first.Log();
  REQUIRE(std::regex_search(log, url, std::regex("run: health at (http://[0-9.:]+/health)")));
  HttpReply health = HttpGet(url[1]);
  CHECK(health.status == 200);
  CHECK(health.body.find("\"state\":\"running\"") != std::string::npos);
  first.Signal(SIGTERM);
  int status = first.Wait();
  REQUIRE(DescribeStatus(status) == "exit 0");
  CHECK(first.Log().find("run: checkpoint written, left the consumer group") != std::string::npos);
  // (The mock cluster cannot list a group's members, so the leave itself is shown by the log line,
  // which the engine prints only when the LeaveGroup succeeded.)
  uint64_t first_records = RecordsIn(first.Log());
  CHECK(first_records > 0);
  CHECK(first_records < setup.input.records);  // stopped part way, or the test shows nothing
  // Its last checkpoint's offsets were committed to the group before it left.
  CHECK(CommittedRecords(brokers, 3) == static_cast<int64_t>(first_records));

  std::vector<std::string> rest = run;
  rest.push_back("--until-caught-up");
  VigilProcess second(rest, setup.dir.path() + "/second.log");
  status = second.Wait();
  INFO("second run:\n" << second.Log());
  REQUIRE(DescribeStatus(status) == "exit 0");
  // Nothing was left half-published by the stop: no outbox to recover.
  CHECK(second.Log().find("recovering from a stop during a checkpoint") == std::string::npos);
  // Resumed where the first stopped: every record read once in all.
  CHECK(first_records + RecordsIn(second.Log()) == setup.input.records);
  CheckPublishedExactlyOnce(setup);
}

}  // namespace vigil::testing
