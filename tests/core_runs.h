// Runs of a core over a list of events, as `vigil replay` and `vigil run` feed it: in file order
// or as Kafka fetch batches, over one or several partitions, with checkpoints, restarts on the
// same state and a memory budget. What each run emits (alerts, dead letters, metrics) is gathered
// in a comparable form, for the core's golden test (tests/core_golden_test.cc).
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <filesystem>
#include <string>
#include <vector>

#include "event.h"
#include "pipeline.h"
#include "rules_config.h"
#include "synthetic_force.h"

namespace vigil::testing {

// The one input partition of a file.
inline const SourcePartition kFile{0, 0};

// What a run produced, comparable across cores.
struct Outputs {
  std::vector<std::string> alerts;        // proto3 JSON lines, sorted
  std::vector<std::string> alert_ids;     // sorted
  std::vector<std::string> dead_letters;  // reason + source, sorted
  ProcessorMetrics metrics;
};

struct RunSpec {
  size_t restart_after = 0;         // events; 0: no restart
  size_t memory_budget_bytes = 0;   // the core's
  size_t checkpoint_every = 5000;   // events
  int partitions = 1;               // input partitions (as `vigil run` reads co-partitioned topics)
  size_t restart_every = 0;         // events; a checkpoint and a restart every so many (0: none)
  bool check_round_trip = false;    // at each restart, every stored state must re-encode the same
  // As librdkafka hands records over: this many of one partition, then this many of the next, and
  // so on round the (topic, partition)s; an exhausted partition is then idle (its EOF). 0: the
  // events in file order.
  size_t fetch_batch = 0;
  // As `vigil run` in idle time ahead of a snapshot: Core::StageSnapshot(stage_records) every
  // stage_every events (0: never).
  size_t stage_every = 0;
  size_t stage_records = 0;
};

// Checks that every officer record the core stored re-encodes byte for byte: each rule's
// state (and the roster) decoded into a fresh object and encoded again gives the bytes read.
// Returns the number of states checked.
size_t CheckRecordsRoundTrip(StateStore& store, const v1::RulesConfig& config, int partitions,
                             size_t fed);

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
    ++fed_;
    if (spec_.stage_every && fed_ % spec_.stage_every == 0) {
      pipeline_.core->StageSnapshot(spec_.stage_records);
    }
    if (fed_ % spec_.checkpoint_every == 0) Checkpoint();
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
    std::sort(out_.alert_ids.begin(), out_.alert_ids.end());
    std::sort(out_.dead_letters.begin(), out_.dead_letters.end());
    Add(pipeline_.core->metrics());
    return out_;
  }

 private:
  void Open() {
    PipelineOptions options;
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
    for (const auto& alert : pipeline_.core->TakeAlerts()) {
      out_.alerts.push_back(ToJsonLine(alert));
      out_.alert_ids.push_back(alert.alert_id());
    }
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

// Feeds `events` to `runner` in file order, or as spec.fetch_batch says.
void FeedAll(Runner& runner, const std::vector<v1::Envelope>& events, const RunSpec& spec);
// A whole run: a Runner fed everything, finished.
Outputs RunEvents(const std::vector<v1::Envelope>& events, const v1::RulesConfig& config,
                  const RunSpec& spec);
// The valid events of NDJSON `lines`.
std::vector<v1::Envelope> ParseLines(const std::vector<std::string>& lines);
// The synthetic force's events.
std::vector<v1::Envelope> Synthetic(SyntheticForceOptions options);
// The rules file `rules`, or the defaults if it is empty.
v1::RulesConfig ConfigFrom(const std::filesystem::path& rules);
// The lines of `a` not in `b` (both sorted), at most a few, for the failure message.
std::string Missing(const std::vector<std::string>& a, const std::vector<std::string>& b);

}  // namespace vigil::testing
