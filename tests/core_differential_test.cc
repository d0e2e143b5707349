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
#include <map>
#include <string>
#include <vector>

#include "event.h"
#include "harness.h"
#include "next/registry.h"
#include "pipeline.h"
#include "processor.h"
#include "rules_config.h"
#include "state/byte_codec.h"
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
  size_t restart_every = 0;         // events; a checkpoint and a restart every so many (0: none)
  bool check_round_trip = false;    // at each restart, every stored state must re-encode the same
  // As librdkafka hands records over: this many of one partition, then this many of the next, and
  // so on round the (topic, partition)s; an exhausted partition is then idle (its EOF). 0: the
  // events in file order.
  size_t fetch_batch = 0;
};

// Checks that every officer record the new core stored re-encodes byte for byte: each rule's
// state (and the roster) decoded into a fresh object and encoded again gives the bytes read.
// Returns the number of states checked.
size_t CheckRecordsRoundTrip(StateStore& store, const v1::RulesConfig& config, int partitions,
                             size_t fed) {
  const auto rules = BuildRules(config);
  size_t checked = 0;
  for (int p = 0; p < partitions; ++p) {
    KeySpace(store, ScopePrefix(static_cast<uint32_t>(p), "officer"))
        .ScanPrefix("", [&](std::string_view officer, std::string_view value) {
          INFO("after " << fed << " events, scope " << p << ", officer " << std::string(officer));
          ByteReader r(value);
          uint64_t format, n;
          std::string_view roster_bytes;
          REQUIRE(r.U64(&format));
          REQUIRE(r.Bytes(&roster_bytes));
          if (!roster_bytes.empty()) {
            OfficerRoster roster;
            REQUIRE(roster.Decode(roster_bytes));
            std::string again;
            roster.Encode(again);
            CHECK_MESSAGE(again == roster_bytes, "the roster does not re-encode the same");
          }
          auto skip_timers = [&] {
            uint64_t timers;
            REQUIRE(r.U64(&timers));
            for (uint64_t i = 0; i < timers; ++i) {
              int64_t at;
              bool cleanup;
              uint64_t tag;
              REQUIRE((r.I64(&at) && r.Bool(&cleanup) && r.U64(&tag)));
            }
          };
          skip_timers();
          REQUIRE(r.U64(&n));
          for (uint64_t i = 0; i < n; ++i) {
            std::string_view rule_id, bytes;
            bool has_state;
            REQUIRE((r.Bytes(&rule_id) && r.Bool(&has_state)));
            if (has_state) {
              REQUIRE(r.Bytes(&bytes));
              const Rule* rule = nullptr;
              for (const auto& candidate : rules) {
                if (candidate->info().rule_id == rule_id) rule = candidate.get();
              }
              REQUIRE(rule);
              INFO("rule " << std::string(rule_id));
              std::unique_ptr<RuleState> state = rule->NewState();
              REQUIRE(state->Decode(bytes));
              CHECK(!state->empty());
              std::string again;
              state->Encode(again);
              CHECK_MESSAGE(again == bytes, "the state does not re-encode the same");
              ++checked;
            }
            skip_timers();
          }
          CHECK(r.done());
          return true;
        });
  }
  return checked;
}

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
    if (spec_.restart_every && fed_ % spec_.restart_every == 0) Restart();
  }

  size_t states_checked() const { return states_checked_; }

  // The partition `event` is read from.
  SourcePartition SourceOf(const v1::Envelope& event) const {
    if (spec_.partitions == 1) return kFile;
    const int p = static_cast<int>(std::hash<std::string>()(OfficerId(event)) % spec_.partitions);
    return {static_cast<int>(StreamOf(event)), p};
  }
  // Its end reached (as `vigil run` at a partition's EOF, again after each restart).
  void SetIdle(SourcePartition source) {
    idle_.push_back(source);
    pipeline_.core->watermarks().SetIdle(source);
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
    for (SourcePartition source : idle_) pipeline_.core->watermarks().SetIdle(source);
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
    if (spec_.check_round_trip) {
      states_checked_ +=
          CheckRecordsRoundTrip(*pipeline_.store, config_, std::max(spec_.partitions, 1), fed_);
    }
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
  size_t states_checked_ = 0;
  std::vector<SourcePartition> idle_;
  Outputs out_;
};

void FeedAll(Runner& runner, const std::vector<v1::Envelope>& events, const RunSpec& spec) {
  if (spec.fetch_batch == 0 || spec.partitions == 1) {
    for (const auto& event : events) runner.Feed(event);
    return;
  }
  std::map<std::pair<int, int>, std::vector<const v1::Envelope*>> queues;
  for (const auto& event : events) {
    const SourcePartition source = runner.SourceOf(event);
    queues[{source.source, source.partition}].push_back(&event);
  }
  std::map<std::pair<int, int>, size_t> next;
  bool any = true;
  while (any) {
    any = false;
    for (auto& [key, queue] : queues) {
      size_t& at = next[key];
      if (at >= queue.size()) continue;
      any = true;
      for (size_t n = 0; n < spec.fetch_batch && at < queue.size(); ++n) runner.Feed(*queue[at++]);
      if (at == queue.size()) runner.SetIdle({key.first, key.second});
    }
  }
}

Outputs RunEvents(const std::vector<v1::Envelope>& events, const v1::RulesConfig& config,
                  const RunSpec& spec) {
  Runner runner(config, spec);
  FeedAll(runner, events, spec);
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
