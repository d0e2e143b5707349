// Shadow rules (issue 13): `vigil run --shadow-rules F` evaluates a second rule set on the same
// input in the same pass. Its alerts are exactly a replay's under that rule set, on the shadow
// topic only; the live topic keeps exactly the live rules' alerts. Without shadow rules, nothing
// reaches the shadow topic. (tests/crash_test.cc shows both exactly once through SIGKILLs.)
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "harness.h"
#include "kafka/kafka_io.h"
#include "live/live_engine.h"
#include "live_fixtures.h"
#include "kafka/mock_broker.h"
#include "rules_config.h"

namespace vigil::testing {
namespace {

// How many records `topic` holds.
uint64_t RecordsOn(const std::string& brokers, const std::string& topic) {
  uint64_t records = 0;
  REQUIRE(ReadTopic(brokers, topic, ReadOptions{}, [&](const rd_kafka_message_t&) { ++records; }).ok());
  return records;
}

LiveOptions UntilCaughtUp(const ForceOnKafka& setup) {
  LiveOptions options = RunOptions(setup.brokers(), setup.state_dir());
  options.until_caught_up = true;
  options.progress = false;
  return options;
}

}  // namespace

TEST_CASE("shadow rules: both rule sets' alerts exactly as their replays give them, each on its own topic") {
  ForceOnKafka setup("vigil-shadow-test-");
  LiveOptions options = UntilCaughtUp(setup);
  options.shadow_rules = setup.shadow_config;
  Result<LiveReport> report = RunLive(options, setup.config);
  REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.status().message()));
  CHECK(report->shadow_failure.empty());

  CheckPublishedExactlyOnce(setup);  // the live topic: the live rules' alerts only
  INFO("the shadow topic");
  CheckShadowPublishedExactlyOnce(setup);
  // The two sets really differ here (else this test could not tell the topics apart), and each
  // alert published was counted where it went.
  const std::vector<std::string> live = PublishedAlertIds(setup.brokers());
  const std::vector<std::string> shadow = PublishedAlertIds(setup.brokers(), Topics{}.alerts_shadow);
  CHECK(!shadow.empty());
  CHECK(live != shadow);
  CHECK(report->published_alerts == live.size());
  CHECK(report->published_shadow_alerts == shadow.size());
  CHECK(report->shadow_metrics.alerts == shadow.size());
}

TEST_CASE("shadow rules: without --shadow-rules nothing reaches the shadow topic") {
  MockBroker broker;
  REQUIRE(broker.CreateVigilTopics(Topics{}, 2).ok());
  const std::string events =
      std::string(VIGIL_SOURCE_DIR) + "/tests/scenarios/shared/sample-force.events.ndjson";
  REQUIRE(ProduceEventFile(broker.bootstrap(), events, Topics{}, false).ok());
  TempDir state("vigil-shadow-test-");
  LiveOptions options = RunOptions(broker.bootstrap(), state.path());
  options.until_caught_up = true;
  options.progress = false;
  Result<LiveReport> report = RunLive(options, DefaultRulesConfig());
  REQUIRE(report.ok());
  CHECK(report->published_alerts > 0);
  CHECK(report->published_shadow_alerts == 0);
  CHECK(RecordsOn(broker.bootstrap(), Topics{}.alerts_shadow) == 0);
  CHECK(SortedIds(ReplayFile(events, DefaultRulesConfig())) == PublishedAlertIds(broker.bootstrap()));
}

TEST_CASE("shadow rules: shadow state left behind by a run without them is dropped, with a message") {
  ForceOnKafka setup("vigil-shadow-test-");
  // 1. With shadow rules, part of the input; 2. without them, more; 3. with them, the rest: the
  // shadow state of run 1 missed run 2's input, so run 3 must not resume from it.
  for (int run = 1; run <= 3; ++run) {
    CAPTURE(run);
    LiveOptions options = UntilCaughtUp(setup);
    options.progress = true;
    if (run != 2) options.shadow_rules = setup.shadow_config;
    if (run < 3) {
      options.until_caught_up = false;
      options.read_limit = 1000;
    }
    CerrCapture log;
    LiveRun live(options, setup.config);
    if (run < 3) {
      // Each run stops once a durable checkpoint covers the 1,000 records a partition it may read.
      const uint64_t share = RecordsWithinLimit(setup.brokers(), 1000 * run, 3) -
                             RecordsWithinLimit(setup.brokers(), 1000 * (run - 1), 3);
      WaitUntil([&] { return live.durable() >= share; }, "a checkpoint of the run's share");
      live.Stop();
    }
    CHECK(live.Finish() == "");
    const bool dropped = log.text().find("shadow rules start at the live engine's positions") !=
                         std::string::npos;
    CHECK(dropped == (run == 3));
  }
  CheckPublishedExactlyOnce(setup);  // the live rules saw all of it, once
}

TEST_CASE("shadow rules: a bad --shadow-rules file or a lone --shadow-topic is bad usage (exit 2)") {
  TempDir dir("vigil-shadow-cli-");
  const std::string vigil = VIGIL_BINARY;
  const std::string bad = dir.path() + "/bad.json", good = dir.path() + "/good.json";
  RunShell("echo '{\"accessVolumeSpike\": {\"minCount\": -1}}' > " + bad);
  RunShell("echo '{}' > " + good);
  CHECK(RunShell(vigil + " run --brokers 127.0.0.1:1 --shadow-rules " + bad) == 2);
  CHECK(RunShell(vigil + " run --brokers 127.0.0.1:1 --shadow-rules " + dir.path() + "/none.json") == 2);
  CHECK(RunShell(vigil + " run --brokers 127.0.0.1:1 --shadow-topic t") == 2);
  CHECK(RunShell(vigil + " run --brokers 127.0.0.1:1 --shadow-rules " + good +
                 " --shadow-topic vigil.alerts") == 2);
}

}  // namespace vigil::testing
