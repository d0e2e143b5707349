// Crash test (issue 4): `vigil run` is killed with SIGKILL over and over, at the named points of
// the checkpoint protocol (engine/live/CHECKPOINTS.md) and at random moments, and restarted each time
// on the same state directory. At the end the alert topic must hold exactly the alerts `vigil
// replay` gives on the same input (none missing, none twice), and every unusable record must be on
// the dead-letter topic exactly once. Every run also carries --shadow-rules (kShadowRules): the
// shadow topic must hold exactly what a replay with those rules gives, and the live topic still
// only the live rules' alerts. Runs checkpoint every 100 ms and snapshot every 300 ms or 3 s
// (issue 11), so that kills land during and between snapshots: the restart reads the input since
// the snapshot again and must drop what the dead run had already published. Every other pair of
// cycles writes each checkpoint as an ingested table file (`--ingest-batch-kb 0`), the path a
// large force's snapshots take, so that kills land in both paths and in the change between them.
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
#include "kafka/kafka_io.h"
#include "live_fixtures.h"
#include "kafka/mock_broker.h"
#include "rules_config.h"

namespace vigil::testing {
namespace {

// First the point whose restart must find alerts already on Kafka (the read-back's reason to be):
// it is tried (again) until a run reaches it, which happens while there is still input, however
// fast the engine is. On the mock cluster a run sometimes waits for its partitions for longer than
// a cycle lasts (the first run of a test often does); a crash cycle that follows such a run uses
// kBeforeAssignment instead, which ends a run within a few checkpoints, assigned or not, and after
// which runs are given their partitions at once.
const char* const kCrashPoints[] = {
    "publish-after-acknowledged", "checkpoint-before-write", "snapshot-before-write",
    "checkpoint-after-write",     "snapshot-after-write",    "publish-after-produce",
    "checkpoint-after-commit",    "recovery-after-read",     "recovery-after-publish",
};

constexpr int kCycles = 52;

bool IsRecoveryPoint(const std::string& point) { return point.rfind("recovery-", 0) == 0; }

const char* const kBeforeAssignment = "checkpoint-before-write";

// snapshot_ms: a short interval for the crash points' runs (snapshots reached within a run), a
// long one for the runs killed at random, whose kill then lands after input was read and
// published since the run's first snapshot (taken before its partitions were assigned): the
// restart must drop what it decides again.
// ingest_every_batch: every checkpoint's batch is written as a RocksDB table file and ingested
// (`--ingest-batch-kb 0`), as a snapshot of a large force is, instead of only the rare one of this
// small force that reaches the default size; cycles alternate, so that both paths are killed.
std::vector<std::string> RunArgs(const ForceOnKafka& setup, bool until_caught_up, int snapshot_ms = 300,
                                 bool ingest_every_batch = false) {
  std::vector<std::string> args = {"run", "--brokers", setup.brokers(), "--state-dir",
                                   setup.state_dir(), "--rules", setup.rules_path,
                                   "--shadow-rules", setup.shadow_rules_path,
                                   "--checkpoint-interval-ms", "100", "--snapshot-interval-ms", std::to_string(snapshot_ms),
                                   "--session-timeout-ms", "2000"};
  if (until_caught_up) args.push_back("--until-caught-up");
  if (ingest_every_batch) args.insert(args.end(), {"--ingest-batch-kb", "0"});
  return args;
}

// "... 12 of them are already on Kafka ..." in a restart's log: how many the read-back found.
int AlreadyPublished(const std::string& log) {
  static const std::regex pattern("([0-9]+) of them are already on Kafka");
  std::smatch match;
  return std::regex_search(log, match, pattern) ? std::stoi(match[1]) : 0;
}

// A restart that read input again since the snapshot decided something the dead run had published.
bool DroppedRedecided(const std::string& log) {
  return log.find("dropped, not published twice") != std::string::npos;
}

// Waits until a progress line of the run counts a decided alert ("..., 3 alerts, ..."); false if
// the run exits or the limit (a guard against a hang) passes first.
bool WaitForAlertsDecided(VigilProcess& run, int limit_ms) {
  static const std::regex decided(R"(/s\), [1-9][0-9]* alerts)");
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(limit_ms);
  while (!run.Exited() && std::chrono::steady_clock::now() < until) {
    if (std::regex_search(run.Log(), decided)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace

TEST_CASE("crash: 52 SIGKILLs at checkpoint and snapshot steps, in recovery and at random moments lose and duplicate nothing") {
  ForceOnKafka setup("vigil-crash-test-");
  REQUIRE(setup.input.garbage_sources.size() > 10);

  const unsigned seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 random(seed);
  int kills = 0, recoveries_that_found_published = 0, runs_that_dropped_redecided = 0;
  std::map<std::string, int> kills_at;  // crash point -> runs that ended there
  bool last_assigned = false;  // the previous run was given its partitions
  size_t next_point = 0;
  const auto test_started = std::chrono::steady_clock::now();
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    // Each run reads at most 80-200 records a partition (720-1,800 in all, counting what it reads
    // again since the snapshot; then it only checkpoints and publishes), so that however fast the
    // engine is, the input (about 75,000 records) lasts every cycle: each has alerts to
    // checkpoint, publish and lose, and the last run still has input to read.
    std::map<std::string, std::string> env = {
        {"VIGIL_PAUSE_AFTER", std::to_string(80 + random() % 121)}};
    std::string point_used;
    bool at_crash_point = cycle % 2 == 0;
    if (at_crash_point) {
      const char* point =
          last_assigned ? kCrashPoints[next_point % std::size(kCrashPoints)] : kBeforeAssignment;
      // The first point is the one a run must reach: at its first hit, since a run that reads
      // only its share of the input has few acknowledgement batches, and a later hit (2-4) would
      // often not come at all. The others may be reached at any of their first four hits.
      // A recovery point is reached once a run.
      const long hit =
          next_point == 0 || IsRecoveryPoint(point) ? 1 : 1 + static_cast<long>(random() % 4);
      env["VIGIL_CRASH_AT"] = std::string(point) + ":" + std::to_string(hit);
      point_used = point;
    }
    const std::string log = setup.dir.path() + "/run-" + std::to_string(cycle) + ".log";
    VigilProcess run(RunArgs(setup, false, at_crash_point ? 300 : 3000, (cycle / 2) % 2 == 1), log, env);
    // A crash point ends the process by itself (some before the group assigns the partitions);
    // otherwise, or if the point is not reached (e.g. no checkpoint had anything to publish),
    // kill it at a random moment once it is consuming.
    const bool assigned = run.WaitForLog("assigned", 30000);
    if (assigned) {
      // A random kill lands 0.3-1.8 s in: after the run has read and published something, before
      // its next snapshot (3 s after the one each run writes at its start), so that the next run
      // decides again what this one published, and must drop it. A crash point's run ends itself
      // when it gets there: it is given 1.5 s, or 5 s for the first point (a loaded machine once
      // left it unreached in 1.5 s, cycle after cycle; a recovery point comes before assignment).
      const bool first_point = at_crash_point && last_assigned && next_point == 0;
      int delay_ms = first_point ? 5000 : at_crash_point ? 1500 : 300 + static_cast<int>(random() % 1500);
      auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
      while (!run.Exited() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    // The point was used, and reached unless the run was killed first. The first is retried, and
    // so is a recovery point (reached only when the run before left something to recover, which a
    // random kill does not always do; the test checks both were reached).
    const bool reached = run.Exited();
    const bool retry = next_point == 0 || IsRecoveryPoint(point_used);
    if (at_crash_point && last_assigned && (reached || !retry)) ++next_point;
    last_assigned = assigned;
    run.Signal(SIGKILL);
    int status = run.Wait();
    INFO("cycle " << cycle << " log:\n" << run.Log());
    REQUIRE_MESSAGE(WIFSIGNALED(status), DescribeStatus(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);
    ++kills;
    // Killed by its crash point (not by the test): the point was reached.
    if (reached && !point_used.empty()) ++kills_at[point_used];
    if (AlreadyPublished(run.Log()) > 0) ++recoveries_that_found_published;
    if (DroppedRedecided(run.Log())) ++runs_that_dropped_redecided;
  }
  // A restart drops what it decides again only when the run before it published after its last
  // snapshot and the restart's own re-read gets that far: the random kills above usually give
  // several such restarts, but not on every seed (a slow machine can leave none). Should they have
  // given none, pairs of runs with no read limit and no snapshot after the one at their start make
  // one: the first is killed once it has decided alerts and had time to publish them, the second
  // reads the same records again and is killed once it has dropped what it decided again. A run
  // not given its partitions ends the pair, and the next starts after a kBeforeAssignment run (as
  // in the cycles above).
  bool unassigned = !last_assigned;
  for (int pair = 0; pair < 6 && runs_that_dropped_redecided == 0; ++pair) {
    for (const char* step : {"unstick", "publish", "reread"}) {
      if (step[0] == 'u' && !unassigned) continue;
      const std::string log = setup.dir.path() + "/pair-" + std::to_string(pair) + "-" + step + ".log";
      std::map<std::string, std::string> env;
      if (step[0] == 'u') env["VIGIL_CRASH_AT"] = std::string(kBeforeAssignment) + ":1";
      VigilProcess run(RunArgs(setup, false, 600000), log, env);
      unassigned = !run.WaitForLog("assigned", 30000);
      if (!unassigned && step[0] == 'p' && WaitForAlertsDecided(run, 30000)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));  // published at a checkpoint
      }
      if (!unassigned && step[0] == 'r') run.WaitForLog("dropped, not published twice", 30000);
      if (step[0] == 'u') run.WaitForLog("no such log line: until the crash point ends it", 30000);
      run.Signal(SIGKILL);
      const int status = run.Wait();
      INFO("pair " << pair << ", " << step << " log:\n" << run.Log());
      REQUIRE(WIFSIGNALED(status));
      ++kills;
      if (DroppedRedecided(run.Log())) ++runs_that_dropped_redecided;
      if (unassigned && step[0] != 'u') break;
    }
  }
  // Likewise the read-back on restart: a run killed once Kafka has acknowledged what it published,
  // before the outbox deletion is durable, leaves its restart alerts already on Kafka. The cycles
  // above reach that point on almost every seed; should they not have (one CI run's seed left
  // none), pairs of runs make it: the first is killed at that point, the second recovers and is
  // killed at its first checkpoint.
  for (int pair = 0; pair < 6 && recoveries_that_found_published == 0; ++pair) {
    for (const char* point : {"publish-after-acknowledged:1", "checkpoint-before-write:1"}) {
      const std::string log = setup.dir.path() + "/readback-" + std::to_string(pair) + "-" +
                              std::string(point).substr(0, 7) + ".log";
      VigilProcess run(RunArgs(setup, false), log, {{"VIGIL_CRASH_AT", point}});
      if (run.WaitForLog("assigned", 30000) || point[0] == 'c') {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!run.Exited() && std::chrono::steady_clock::now() < until) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      }
      run.Signal(SIGKILL);
      const int status = run.Wait();
      INFO("read-back pair " << pair << ", " << point << " log:\n" << run.Log());
      REQUIRE(WIFSIGNALED(status));
      ++kills;
      if (AlreadyPublished(run.Log()) > 0) ++recoveries_that_found_published;
    }
  }
  CHECK(kills >= 50);
  // The new points of the snapshot path and of recovery were really reached.
  for (const char* point : {"snapshot-before-write", "snapshot-after-write", "recovery-after-read",
                            "recovery-after-publish"}) {
    INFO("crash point " << point);
    CHECK(kills_at[point] > 0);
  }
  const double kill_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - test_started).count();

  VigilProcess last(RunArgs(setup, true), setup.dir.path() + "/last.log");
  int status = last.Wait();
  INFO("last run log:\n" << last.Log());
  REQUIRE(DescribeStatus(status) == "exit 0");
  if (AlreadyPublished(last.Log()) > 0) ++recoveries_that_found_published;
  if (DroppedRedecided(last.Log())) ++runs_that_dropped_redecided;
  // The read-back on restart really had work to do (a crash after publishing, before the
  // outbox deletion was durable): otherwise this test would not show that it works.
  CHECK(recoveries_that_found_published > 0);
  // And the re-read since the snapshot decided again what a dead run had published, and dropped it.
  CHECK(runs_that_dropped_redecided > 0);
  std::string reached_points;
  for (const auto& [point, n] : kills_at) reached_points += " " + point + "=" + std::to_string(n);
  MESSAGE(kills << " kills in " << kill_seconds << " s (seed " << seed << "); at their point:"
                << reached_points << "; " << recoveries_that_found_published
                << " restarts found alerts of their outbox already published, "
                << runs_that_dropped_redecided << " dropped alerts decided again; last run: "
                << last.Log().substr(last.Log().rfind("run: ")));

  CheckPublishedExactlyOnce(setup);
  INFO("the shadow topic");
  CheckShadowPublishedExactlyOnce(setup);
}

}  // namespace vigil::testing
