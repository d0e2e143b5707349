// Graceful stop (issue 4): SIGTERM makes `vigil run` finish its batch, write a checkpoint, wait
// for Kafka's acknowledgements and leave the consumer group; a restart resumes exactly where it
// stopped.
#include <doctest/doctest.h>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include "child_process.h"
#include "harness.h"
#include "kafka/kafka.h"
#include "live_fixtures.h"
#include "kafka/mock_broker.h"
#include "rules_config.h"

namespace vigil::testing {
namespace {

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

  // The stop must land part way through the input (about 75,000 records) however fast the engine
  // runs, so the engine asks for it itself: VIGIL_STOP_AT sends it SIGTERM the first time Kafka
  // acknowledges what it published (the dead letters of the garbage records, every 2,000th, and
  // alerts), and VIGIL_PAUSE_AFTER lets it read at most 2,000 records a partition (18,000 in all)
  // before that. Everything
  // after the signal is the ordinary graceful stop.
  std::vector<std::string> first_args = run;
  for (const char* arg : {"--health-listen", "127.0.0.1:0", "--checkpoint-interval-ms", "100"}) {
    first_args.push_back(arg);
  }
  VigilProcess first(first_args, setup.dir.path() + "/first.log",
                     {{"VIGIL_STOP_AT", "publish-after-acknowledged:1"}, {"VIGIL_PAUSE_AFTER", "2000"}});
  INFO("first run:\n" << first.Log());
  // Its health while it works, as an orchestrator's probe sees it: running from its start (the
  // consumer group's join, before any record, takes seconds on the mock cluster).
  const std::regex health_line("run: health at (http://[0-9.:]+/health)");
  WaitUntil([&] { return std::regex_search(first.Log(), health_line); }, "the health endpoint");
  std::smatch url;
  const std::string log = first.Log();
  REQUIRE(std::regex_search(log, url, health_line));
  HttpReply health;
  WaitUntil([&] {
    health = HttpGet(url[1]);
    return health.body.find("\"state\":\"starting\"") == std::string::npos;
  }, "health past starting");
  CHECK(health.status == 200);
  CHECK(health.body.find("\"state\":\"running\"") != std::string::npos);
  int status = first.Wait();
  REQUIRE(DescribeStatus(status) == "exit 0");
  CHECK(first.Log().find("run: checkpoint written, left the consumer group") != std::string::npos);
  // (The mock cluster cannot list a group's members, so the leave itself is shown by the log line,
  // which the engine prints only when the LeaveGroup succeeded.)
  uint64_t first_records = RecordsIn(first.Log());
  CHECK(first_records > 0);
  CHECK(first_records <= 18000);  // stopped part way (VIGIL_PAUSE_AFTER), or the test shows nothing
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
