// The new core (engine/runtime/core.h, operators/next/) against the old one (engine/processor.h,
// operators/): on the same input both must emit exactly the same alerts (ids and every field) and
// dead letters. The inputs: every declarative scenario, the shared sample force, and the synthetic
// force at its small default volume and at the realistic access-heavy volume. The new core is also
// run with a checkpoint and a restart in the middle, and with a memory budget small enough that
// officers' records are dropped from memory and read back, which must change nothing.
// Issue 11: the old core is deleted once this passes; this test goes with it.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core_runs.h"
#include "harness.h"

namespace vigil::testing {
namespace {

namespace fs = std::filesystem;

void CheckSame(const Outputs& old_core, const Outputs& new_core, const std::string& what) {
  INFO(what);
  INFO("only the old core's: " << Missing(old_core.alerts, new_core.alerts));
  INFO("only the new core's: " << Missing(new_core.alerts, old_core.alerts));
  CHECK(new_core.alerts.size() == old_core.alerts.size());
  CHECK(new_core.alerts == old_core.alerts);
  CHECK(new_core.dead_letters == old_core.dead_letters);
  CHECK(new_core.metrics.events_total() == old_core.metrics.events_total());
  CHECK(new_core.metrics.duplicates == old_core.metrics.duplicates);
  CHECK(new_core.metrics.too_late == old_core.metrics.too_late);
  CHECK(new_core.metrics.late_accepted == old_core.metrics.late_accepted);
}

// Old core once; the new core plain, with a restart halfway and with a tiny memory budget.
void CheckCores(const std::vector<v1::Envelope>& events, const v1::RulesConfig& config,
                const std::string& what) {
  const Outputs old_core = RunEvents(events, config, {CoreChoice::kOld});
  CheckSame(old_core, RunEvents(events, config, {CoreChoice::kNext}), what + ", new core");
  CheckSame(old_core, RunEvents(events, config, {CoreChoice::kNext, events.size() / 2}),
            what + ", new core restarted halfway");
  CheckSame(old_core, RunEvents(events, config, {CoreChoice::kNext, 0, 64 << 10}),
            what + ", new core in a 64 KiB budget");
  // As `vigil run` reads: three partitions per topic, a checkpoint every few events.
  const RunSpec live_old{CoreChoice::kOld, 0, 0, 7, 3};
  RunSpec live_new = live_old;
  live_new.core = CoreChoice::kNext;
  CheckSame(RunEvents(events, config, live_old), RunEvents(events, config, live_new),
            what + ", three partitions, checkpoints every 7 events");
}

}  // namespace

TEST_CASE("core differential: every scenario gives the same alerts on both cores") {
  const fs::path dir = fs::path(VIGIL_SOURCE_DIR) / "tests" / "scenarios";
  int scenarios = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string file = entry.path().filename().string();
    const std::string suffix = ".events.ndjson";
    if (file.size() <= suffix.size() || file.compare(file.size() - suffix.size(), suffix.size(), suffix)) continue;
    const std::string name = file.substr(0, file.size() - suffix.size());
    const fs::path rules = dir / (name + ".rules.json");
    CheckCores(ParseLines(ReadLines(entry.path().string())),
               ConfigFrom(fs::exists(rules) ? rules : fs::path()), "scenario " + name);
    ++scenarios;
  }
  CHECK(scenarios >= 10);
  CheckCores(ParseLines(ReadLines((dir / "shared" / "sample-force.events.ndjson").string())),
             DefaultRulesConfig(), "the shared sample force");
}

// As a `vigil run` stopped gracefully and restarted on the same state, again and again: four
// partitions per topic, a checkpoint every few hundred events, and a checkpoint then a restart
// every K events (each restart at another point of every rule's state), with the
// events in file order and as librdkafka hands them over (a batch of one partition at a time, so
// that the watermark waits for the slowest partition and then jumps). Every state stored at a
// restart must also re-encode byte for byte.
TEST_CASE("core differential: the sample force restarted every K events, four partitions") {
  const fs::path file =
      fs::path(VIGIL_SOURCE_DIR) / "tests" / "scenarios" / "shared" / "sample-force.events.ndjson";
  const auto events = ParseLines(ReadLines(file.string()));
  const v1::RulesConfig config = DefaultRulesConfig();
  for (size_t batch : {0, 1000}) {
    RunSpec spec{CoreChoice::kOld, 0, 0, 500, 4};
    spec.fetch_batch = batch;
    const std::string how = batch ? ", in fetch batches of " + std::to_string(batch) : ", in file order";
    const Outputs old_core = RunEvents(events, config, spec);
    spec.core = CoreChoice::kNext;
    CheckSame(old_core, RunEvents(events, config, spec), "the sample force, four partitions" + how);
    // One K per feeding (the suite's time is short): every 3,001 events, then every 7,919.
    for (size_t k : {batch ? 7919 : 3001}) {
      spec.restart_every = k;
      spec.check_round_trip = batch == 0;
      Runner runner(config, spec);
      FeedAll(runner, events, spec);
      CheckSame(old_core, runner.Finish(),
                "the sample force, four partitions" + how + ", restarted every " +
                    std::to_string(k) + " events");
      if (spec.check_round_trip) CHECK(runner.states_checked() > 1000);
    }
  }
}

TEST_CASE("core differential: the synthetic force at the small default volume") {
  SyntheticForceOptions options;
  options.officers = 1000;
  options.days = 35;
  const auto events = Synthetic(options);
  REQUIRE(events.size() > 10000);
  CheckCores(events, DefaultRulesConfig(), "synthetic force, 1,000 officers x 35 days");
}

TEST_CASE("core differential: the synthetic force at the realistic access-heavy volume") {
  SyntheticForceOptions options;
  options.officers = 250;
  options.days = 22;
  options.access_per_shift = 45;
  const auto events = Synthetic(options);
  REQUIRE(events.size() > 50000);
  CheckCores(events, DefaultRulesConfig(), "synthetic force, 250 officers x 22 days, access-heavy");
}

}  // namespace vigil::testing
