// The new core (engine/runtime/core.h, operators/next/) against the old one (engine/processor.h,
// operators/): on the same input both must emit exactly the same alerts (ids and every field) and
// dead letters. The inputs: every declarative scenario, the shared sample force, and the synthetic
// force at its small default volume and at the realistic access-heavy volume. The new core is also
// run with a checkpoint and a restart in the middle, and with a memory budget small enough that
// officers' records are dropped from memory and read back, which must change nothing.
// Issue 11: the old core is deleted once this passes; this test goes with it.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <string>
#include <vector>

#include "event.h"
#include "harness.h"
#include "pipeline.h"
#include "rules_config.h"
#include "synthetic_force.h"

namespace vigil::testing {
namespace {

namespace fs = std::filesystem;

const SourcePartition kFile{0, 0};

// What a run produced, comparable across cores.
struct Outputs {
  std::vector<std::string> alerts;        // proto3 JSON lines, sorted
  std::vector<std::string> dead_letters;  // reason + source, sorted
  ProcessorMetrics metrics;
};

struct RunSpec {
  CoreChoice core = CoreChoice::kOld;
  size_t restart_after = 0;         // events; 0: no restart
  size_t memory_budget_bytes = 0;   // the new core's
  size_t checkpoint_every = 5000;   // events
  int partitions = 1;               // input partitions (as `vigil run` reads co-partitioned topics)
};

class Runner {
 public:
  Runner(const v1::RulesConfig& config, const RunSpec& spec)
      : config_(config), spec_(spec), dir_("vigil-differential-") {
    Open();
  }

  void Feed(const v1::Envelope& event) {
    const std::string key = OfficerId(event);
    if (spec_.partitions == 1) {
      pipeline_.core->IngestEvent(event, kFile, 0, {key, "", "input", -1, static_cast<int64_t>(fed_)});
    } else {
      const int p = static_cast<int>(std::hash<std::string>()(key) % spec_.partitions);
      const int stream = static_cast<int>(StreamOf(event));
      pipeline_.core->IngestEvent(event, {stream, p}, static_cast<uint32_t>(p),
                                  {key, "", topics_.For(StreamOf(event)), p,
                                   static_cast<int64_t>(fed_)});
    }
    pipeline_.core->Advance();
    Collect();
    if (++fed_ % spec_.checkpoint_every == 0) Checkpoint();
    if (spec_.restart_after && fed_ == spec_.restart_after) Restart();
  }

  Outputs Finish() {
    ForEachSource([&](SourcePartition source, uint32_t) { pipeline_.core->watermarks().SetIdle(source); });
    pipeline_.core->Finish();
    Collect();
    Checkpoint();
    std::sort(out_.alerts.begin(), out_.alerts.end());
    std::sort(out_.dead_letters.begin(), out_.dead_letters.end());
    Add(pipeline_.core->metrics());
    return out_;
  }

 private:
  void Open() {
    PipelineOptions options;
    options.core = spec_.core;
    options.memory_budget_bytes = spec_.memory_budget_bytes;
    pipeline_ = MakePipeline(config_, OpenRocksBackend(dir_.path(), RocksOptions{}), options);
    ForEachSource([&](SourcePartition source, uint32_t scope) {
      pipeline_.core->watermarks().Track(source);
      pipeline_.core->LoadProgress(source, scope);
    });
  }
  template <typename Fn>
  void ForEachSource(Fn fn) {
    if (spec_.partitions == 1) return fn(kFile, 0);
    for (int s = 0; s < kStreamCount; ++s) {
      for (int p = 0; p < spec_.partitions; ++p) fn(SourcePartition{s, p}, static_cast<uint32_t>(p));
    }
  }
  void Checkpoint() {
    ForEachSource([&](SourcePartition source, uint32_t scope) {
      pipeline_.core->SaveProgress(source, scope, static_cast<int64_t>(fed_));
    });
    pipeline_.core->PrepareCheckpoint();
    pipeline_.store->Checkpoint(false);
  }
  // As a restarted `vigil run`: everything up to the checkpoint is durable, the rest is not.
  void Restart() {
    Checkpoint();
    Add(pipeline_.core->metrics());  // a run's metrics count its own events
    pipeline_ = Pipeline();
    Open();
  }
  void Add(const ProcessorMetrics& m) {
    for (int s = 0; s < kStreamCount; ++s) out_.metrics.events_in[s] += m.events_in[s];
    out_.metrics.duplicates += m.duplicates;
    out_.metrics.too_late += m.too_late;
    out_.metrics.late_accepted += m.late_accepted;
  }
  void Collect() {
    for (const auto& alert : pipeline_.core->TakeAlerts()) out_.alerts.push_back(ToJsonLine(alert));
    for (const auto& letter : pipeline_.core->TakeDeadLetters()) {
      out_.dead_letters.push_back(letter.reason + " " + letter.source);
    }
  }

  const v1::RulesConfig& config_;
  const Topics topics_;
  RunSpec spec_;
  TempDir dir_;
  Pipeline pipeline_;
  size_t fed_ = 0;
  Outputs out_;
};

Outputs RunEvents(const std::vector<v1::Envelope>& events, const v1::RulesConfig& config,
                  const RunSpec& spec) {
  Runner runner(config, spec);
  for (const auto& event : events) runner.Feed(event);
  return runner.Finish();
}

std::vector<v1::Envelope> ParseLines(const std::vector<std::string>& lines) {
  std::vector<v1::Envelope> events;
  for (const auto& line : lines) {
    Result<v1::Envelope> event = ParseEventJson(line);
    if (event.ok()) events.push_back(std::move(*event));
  }
  return events;
}

std::vector<v1::Envelope> Synthetic(SyntheticForceOptions options) {
  std::vector<v1::Envelope> events;
  SyntheticForce(options).Generate([&](const v1::Envelope& e) { events.push_back(e); });
  return events;
}

v1::RulesConfig ConfigFrom(const fs::path& rules) {
  if (rules.empty()) return DefaultRulesConfig();
  Result<v1::RulesConfig> config = ParseRulesConfig(ReadFile(rules.string()));
  REQUIRE_MESSAGE(config.ok(), rules.string());
  return *config;
}

// The lines of `a` not in `b` (both sorted), at most a few, for the failure message.
std::string Missing(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> only;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only));
  std::string text;
  for (size_t i = 0; i < only.size() && i < 10; ++i) text += "\n  " + only[i].substr(0, 1000);
  return std::to_string(only.size()) + text;
}

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
