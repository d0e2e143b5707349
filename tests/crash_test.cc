// Crash test (issue 4): `vigil run` is killed with SIGKILL over and over, at the named points of
// the checkpoint protocol (engine/CHECKPOINTS.md) and at random moments, and restarted each time
// on the same state directory. At the end the alert topic must hold exactly the alerts `vigil
// replay` gives on the same input (none missing, none twice), and every unusable record must be on
// the dead-letter topic exactly once.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "child_process.h"
#include "harness.h"
#include "kafka_io.h"
#include "mock_broker.h"
#include "rules_config.h"
#include "synthetic_force.h"

namespace vigil::testing {
namespace {

// Rules that fire often on the synthetic force, so that most checkpoints carry alerts.
const char kBusyRules[] = R"({
  "accessVolumeSpike": {"minCount": 3, "sigmas": 0, "baselineDays": 7, "minHistoryDays": 1},
  "bradfordFactor": {"threshold": 1, "cooldownDays": 1}
})";

const char* const kCrashPoints[] = {
    "checkpoint-before-write",  "checkpoint-after-write",     "publish-after-produce",
    "publish-after-acknowledged", "checkpoint-after-commit", "recovery-after-read",
};

struct Input {
  std::string events_path;             // the valid events, for replay
  std::set<std::string> garbage_sources;  // where the unusable records went
};

// Writes a synthetic force to `dir`/events.ndjson and produces it to the input topics, with an
// unusable record after every 2,000 events.
Input ProduceForce(const std::string& brokers, const std::string& dir, const Topics& topics) {
  SyntheticForceOptions options;
  options.officers = 3000;
  options.days = 14;
  SyntheticForce force(options);
  Input input{dir + "/events.ndjson", {}};
  std::ofstream out(input.events_path);
  Result<KafkaHandle> producer = MakeProducer(brokers);
  REQUIRE(producer.ok());
  uint64_t n = 0;
  force.Generate([&](const v1::Envelope& event) {
    out << ToJsonLine(event) << "\n";
    REQUIRE(ProduceRecord(producer->get(), topics.For(StreamOf(event)), OfficerId(event),
                          EncodeEvent(event)).ok());
    if (++n % 2000 == 0) {
      REQUIRE(ProduceRecord(producer->get(), topics.access, "MP100001",
                            "not an event " + std::to_string(n)).ok());
    }
    rd_kafka_poll(producer->get(), 0);
  });
  REQUIRE(Flush(producer->get(), 60000).ok());
  // Where the garbage landed: read it back from the access topic.
  REQUIRE(ReadTopic(brokers, topics.access, ReadOptions{}, [&](const rd_kafka_message_t& m) {
            std::string_view value(static_cast<const char*>(m.payload), m.len);
            if (value.rfind("not an event", 0) == 0) {
              input.garbage_sources.insert(topics.access + "/" + std::to_string(m.partition) + "/" +
                                           std::to_string(m.offset));
            }
          }).ok());
  return input;
}

std::vector<v1::Alert> Replay(const std::string& events, const v1::RulesConfig& config) {
  TempDir state("vigil-crash-replay-");
  Pipeline pipeline = MakePipeline(config, OpenRocksBackend(state.path(), RocksOptions{}));
  std::vector<v1::Alert> alerts;
  std::ifstream in(events);
  ReplayStream(in, events, pipeline, [&](const v1::Alert& a) { alerts.push_back(a); },
               [](const DeadLetter&) {}, false);
  return alerts;
}

std::vector<std::string> RunArgs(const std::string& brokers, const std::string& state_dir,
                                  const std::string& rules, bool until_caught_up) {
  std::vector<std::string> args = {"run", "--brokers", brokers, "--state-dir", state_dir,
                                   "--rules", rules, "--checkpoint-interval-ms", "100",
                                   "--session-timeout-ms", "2000"};
  if (until_caught_up) args.push_back("--until-caught-up");
  return args;
}

// "... 12 of them are already on Kafka ..." in a restart's log: how many the read-back found.
int AlreadyPublished(const std::string& log) {
  static const std::regex pattern("([0-9]+) of them are already on Kafka");
  std::smatch match;
  return std::regex_search(log, match, pattern) ? std::stoi(match[1]) : 0;
}

}  // namespace

TEST_CASE("crash: 24 SIGKILLs at checkpoint steps and random moments lose and duplicate nothing") {
  TempDir dir("vigil-crash-test-");
  const std::string rules = dir.path() + "/rules.json";
  std::ofstream(rules) << kBusyRules;
  Result<v1::RulesConfig> config = LoadRulesConfig(rules);
  REQUIRE(config.ok());

  MockBroker broker;
  const Topics topics;
  REQUIRE(broker.CreateVigilTopics(topics, 3).ok());
  Input input = ProduceForce(broker.bootstrap(), dir.path(), topics);
  std::vector<v1::Alert> expected = Replay(input.events_path, *config);
  REQUIRE(expected.size() > 1000);
  REQUIRE(input.garbage_sources.size() > 10);

  const std::string state_dir = dir.path() + "/state";
  const unsigned seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 random(seed);
  int kills = 0, recoveries_that_found_published = 0;
  for (int cycle = 0; cycle < 24; ++cycle) {
    std::map<std::string, std::string> env;
    bool at_crash_point = cycle % 2 == 0;
    if (at_crash_point) {
      const char* point = kCrashPoints[(cycle / 2) % std::size(kCrashPoints)];
      env["VIGIL_CRASH_AT"] = std::string(point) + ":" + std::to_string(1 + random() % 4);
    }
    const std::string log = dir.path() + "/run-" + std::to_string(cycle) + ".log";
    VigilProcess run(RunArgs(broker.bootstrap(), state_dir, rules, false), log, env);
    // A crash point ends the process by itself (some before the group assigns the partitions);
    // otherwise, or if the point is not reached (e.g. no checkpoint had anything to publish),
    // kill it at a random moment once it is consuming.
    if (run.WaitForLog("assigned", 30000)) {
      int delay_ms = at_crash_point ? 3000 : static_cast<int>(random() % 800);
      auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
      while (!run.Exited() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    run.Signal(SIGKILL);
    int status = run.Wait();
    INFO("cycle " << cycle << " log:\n" << run.Log());
    REQUIRE_MESSAGE(WIFSIGNALED(status), DescribeStatus(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);
    ++kills;
    if (AlreadyPublished(run.Log()) > 0) ++recoveries_that_found_published;
  }
  CHECK(kills >= 20);

  VigilProcess last(RunArgs(broker.bootstrap(), state_dir, rules, true), dir.path() + "/last.log");
  int status = last.Wait();
  INFO("last run log:\n" << last.Log());
  REQUIRE(DescribeStatus(status) == "exit 0");
  if (AlreadyPublished(last.Log()) > 0) ++recoveries_that_found_published;
  // The read-back on restart really had work to do (a crash after publishing, before the
  // outbox deletion was durable): otherwise this test would not show that it works.
  CHECK(recoveries_that_found_published > 0);
  MESSAGE(kills << " kills (seed " << seed << "); " << recoveries_that_found_published
                << " restarts found alerts of their outbox already published; last run: "
                << last.Log().substr(last.Log().rfind("run: ")));

  std::vector<std::string> published, dead_letter_sources;
  REQUIRE(ReadTopic(broker.bootstrap(), topics.alerts, ReadOptions{}, [&](const rd_kafka_message_t& m) {
            v1::Alert alert;
            REQUIRE(alert.ParseFromArray(m.payload, static_cast<int>(m.len)));
            published.push_back(alert.alert_id());
          }).ok());
  REQUIRE(ReadTopic(broker.bootstrap(), topics.dlq, ReadOptions{}, [&](const rd_kafka_message_t& m) {
            dead_letter_sources.push_back(HeaderValue(m, "vigil.source"));
          }).ok());
  std::sort(published.begin(), published.end());
  std::vector<std::string> expected_ids = SortedIds(expected);
  std::vector<std::string> missing, duplicated;
  std::set_difference(expected_ids.begin(), expected_ids.end(), published.begin(), published.end(),
                      std::back_inserter(missing));
  std::set_difference(published.begin(), published.end(), expected_ids.begin(), expected_ids.end(),
                      std::back_inserter(duplicated));
  CHECK_MESSAGE(missing.empty(), missing.size() << " alerts missing, e.g. " << (missing.empty() ? "" : missing.front()));
  CHECK_MESSAGE(duplicated.empty(), duplicated.size() << " extra alerts, e.g. " << (duplicated.empty() ? "" : duplicated.front()));
  CHECK(published.size() == expected_ids.size());
  std::sort(dead_letter_sources.begin(), dead_letter_sources.end());
  CHECK(dead_letter_sources ==
        std::vector<std::string>(input.garbage_sources.begin(), input.garbage_sources.end()));
}

}  // namespace vigil::testing
