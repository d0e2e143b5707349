// The core against golden files (tests/golden/): the verdicts of the old core (engine/processor.h,
// deleted in issue 11) on the synthetic force, at its small default volume and at the realistic
// access-heavy volume, as the differential test compared them before the deletion. Each file holds
// the run's event counts, its dead letters counted by reason and its sorted alert ids. Every way of
// feeding the same events (a restart halfway, a 64 KiB memory budget, three partitions with a
// checkpoint every 7 events, Kafka-like fetch batches over four partitions with restarts, records
// staged ahead of the snapshots) must
// give the same alerts as the plain run of its partition layout, and every run the golden text.
//
// The files were written by the old core at e11e0db, the last commit with it. Regenerating them,
// now from the core there is, only when a change of the rules is meant to change the alerts (say
// so in the commit): VIGIL_WRITE_GOLDEN=1 build/tests/vigil_tests
// --source-file='*/core_golden_test.cc' writes each file from the plain run on one partition,
// then checks the rest against it.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core_runs.h"
#include "harness.h"

namespace vigil::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kGoldenDir = fs::path(VIGIL_SOURCE_DIR) / "tests" / "golden";

bool Writing() {
  const char* write = std::getenv("VIGIL_WRITE_GOLDEN");
  return write && std::string(write) == "1";
}

// The golden text of a run.
std::string GoldenText(const Outputs& out) {
  std::string text = "events " + std::to_string(out.metrics.events_total()) + "\n" +
                     "duplicates " + std::to_string(out.metrics.duplicates) + "\n" +
                     "too_late " + std::to_string(out.metrics.too_late) + "\n" +
                     "late_accepted " + std::to_string(out.metrics.late_accepted) + "\n";
  std::map<std::string, size_t> letters;  // by reason (a dead letter is "reason source")
  for (const auto& letter : out.dead_letters) ++letters[letter.substr(0, letter.rfind(' '))];
  for (const auto& [reason, n] : letters) text += "dead_letter " + reason + " " + std::to_string(n) + "\n";
  for (const auto& id : out.alert_ids) text += "alert " + id + "\n";
  return text;
}

// A partition layout (how the events reach the core) and the ways of feeding it that must change
// nothing. Evidence names partitions and offsets, so alerts are compared whole within a layout
// and by id across layouts.
struct Layout {
  std::string what;
  RunSpec plain;
  std::vector<std::pair<std::string, RunSpec>> variants;
};

// Checks each layout's plain run against the golden text and each variant against its layout's
// plain run. In writing mode, the first layout's plain run is first written as the golden file.
void CheckLayouts(const std::vector<v1::Envelope>& events, const std::vector<Layout>& layouts,
                  const std::string& name) {
  const fs::path path = kGoldenDir / (name + ".txt");
  for (size_t i = 0; i < layouts.size(); ++i) {
    const Layout& layout = layouts[i];
    INFO(name << ", " << layout.what);
    const Outputs plain = RunEvents(events, DefaultRulesConfig(), layout.plain);
    REQUIRE(!plain.alert_ids.empty());
    if (Writing() && i == 0) {
      std::ofstream(path) << GoldenText(plain);
      MESSAGE("wrote " << path.string());
    }
    REQUIRE_MESSAGE(fs::exists(path), path.string() << " is missing");
    const std::string golden = ReadFile(path.string());
    CHECK_MESSAGE(GoldenText(plain) == golden, "the plain run differs from " << path.string());
    for (const auto& [what, variant] : layout.variants) {
      INFO(what);
      const Outputs out = RunEvents(events, DefaultRulesConfig(), variant);
      INFO("only the plain run's: " << Missing(plain.alerts, out.alerts));
      INFO("only this run's: " << Missing(out.alerts, plain.alerts));
      CHECK(out.alerts == plain.alerts);
      CHECK(out.dead_letters == plain.dead_letters);
      CHECK(GoldenText(out) == golden);
    }
  }
}

// The layouts and variants of the differential test, on `events`, against tests/golden/NAME.txt.
void CheckForce(const std::vector<v1::Envelope>& events, const std::string& name) {
  RunSpec one;  // one partition, in file order
  RunSpec restarted = one;
  restarted.restart_after = events.size() / 2;
  RunSpec budget = one;
  budget.memory_budget_bytes = 64 << 10;

  RunSpec three;  // as `vigil run` reads: three partitions per topic, a checkpoint every 7 events
  three.partitions = 3;
  three.checkpoint_every = 7;

  // As librdkafka hands records over: fetch batches of 1,000, one partition at a time, so that the
  // watermark waits for the slowest partition and then jumps; then also a checkpoint and a restart
  // every 7,919 events, each at another point of every rule's state.
  RunSpec batches;
  batches.partitions = 4;
  batches.checkpoint_every = 500;
  batches.fetch_batch = 1000;
  RunSpec restarts = batches;
  restarts.restart_every = 7919;
  // Records encoded ahead of the snapshots (as `vigil run` does when idle), 40 every 50 events:
  // most are delivered to again before the next checkpoint, some are not; a restart reads back
  // what the snapshots wrote, so a stale staged record would change the alerts.
  RunSpec staged = restarts;
  staged.stage_every = 50;
  staged.stage_records = 40;
  RunSpec staged_budget = restarted;
  staged_budget.memory_budget_bytes = 64 << 10;
  staged_budget.stage_every = 30;
  staged_budget.stage_records = 25;

  CheckLayouts(events,
               {{"one partition", one,
                 {{"restarted halfway", restarted},
                  {"in a 64 KiB budget", budget},
                  {"restarted halfway in a 64 KiB budget, staged ahead of checkpoints", staged_budget}}},
                {"three partitions, a checkpoint every 7 events", three, {}},
                {"four partitions in fetch batches", batches,
                 {{"restarted every 7,919 events", restarts},
                  {"restarted every 7,919 events, staged ahead of checkpoints", staged}}}},
               name);
}

}  // namespace

TEST_CASE("core golden: the synthetic force at the small default volume") {
  SyntheticForceOptions options;
  options.officers = 1000;
  options.days = 35;
  const auto events = Synthetic(options);
  REQUIRE(events.size() > 10000);
  CheckForce(events, "synthetic-1000x35");
}

TEST_CASE("core golden: the synthetic force at the realistic access-heavy volume") {
  SyntheticForceOptions options;
  options.officers = 250;
  options.days = 22;
  options.access_per_shift = 45;
  const auto events = Synthetic(options);
  REQUIRE(events.size() > 50000);
  CheckForce(events, "synthetic-250x22-access45");
}

}  // namespace vigil::testing
