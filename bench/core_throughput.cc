// Core throughput and memory: every enabled rule with RocksDB state and a checkpoint every second,
// on one thread, fed from memory. As in `vigil run`, each checkpoint's batch is inserted into
// RocksDB and synced by a BackgroundWriter's thread while processing goes on, the next checkpoint
// first waiting for it to be durable. The synthetic force is generated a day at a time on a second
// thread while the core processes the day before (so that a year of a 45,000-officer force, about
// 730 million events, never has to fit in memory); only the processing is timed.
//
//   build/bench/core_throughput --officers 45000 --days 7 [--seed 1] [--memory-budget-mb 256]
//
// Memory: "engine peak" is the peak RSS while processing, minus the RSS before processing started
// (the libraries, the force's plan), minus the most the generator's buffers held at once (two days
// of encoded events and the generator's scratch, by their capacity): what the core itself held.
#include <algorithm>
#include <chrono>
#include <functional>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <string>
#include <vector>

#include <valgrind/callgrind.h>

#include "state/background_writer.h"
#include "bench_util.h"
#include "cli.h"
#include "event.h"
#include "pipeline.h"
#include "runtime/event_view.h"
#include "rules_config.h"
#include "synthetic_force.h"

using namespace vigil;

namespace {

struct BenchOptions {
  SyntheticForceOptions force;
  int partitions = 16;
  std::chrono::milliseconds checkpoint_every{1000};
  std::chrono::milliseconds snapshot_every{10000};  // state with the checkpoint at most this often
  uint64_t checkpoint_events = 0;  // if set: a checkpoint every this many events, not by time
  size_t memory_budget_bytes = 256u << 20;
};

struct CoreRun {
  uint64_t events = 0;
  uint64_t alerts = 0;
  double seconds = 0;
  uint64_t keys_written = 0;
  uint64_t checkpoints = 0;
  uint64_t snapshots = 0;
  double snapshot_seconds = 0;  // in the snapshots' PrepareCheckpoint and Checkpoint (timed within)
  uint64_t bytes_written = 0;   // of keys and values, by every checkpoint
};

// The core under test, fed a day of records at a time as the live engine would read them from
// `partitions` caught-up partitions per topic, checkpointing (synced) every interval. Only the
// processing is timed (and counted by callgrind between CALLGRIND_START/STOP_INSTRUMENTATION): the
// partition of each record, which Kafka's producer decides, is worked out before.
class CoreUnderTest {
 public:
  explicit CoreUnderTest(const BenchOptions& options)
      : options_(options), shares_(SplitMemoryBudget(options.memory_budget_bytes)),
        dir_("vigil-bench-"),
        pipeline_(MakePipeline(DefaultRulesConfig(),
                               InBackground(OpenRocksBackend(dir_.path(), Rocks(shares_)), writer_),
                               BenchPipeline(shares_))),
        offsets_(kStreamCount * options.partitions, 0) {
    for (int s = 0; s < kStreamCount; ++s) {
      for (int p = 0; p < options_.partitions; ++p) pipeline_.core->watermarks().Track({s, p});
    }
    last_checkpoint_ = last_snapshot_ = std::chrono::steady_clock::now();
    snapshot_ratio_ = std::max<uint64_t>(1, options.snapshot_every / options.checkpoint_every);
  }

  void Process(const EncodedDay& day) {
    PartitionRecords(day);
    const auto began = std::chrono::steady_clock::now();
    CALLGRIND_START_INSTRUMENTATION;
    EventCore& core = *pipeline_.core;
    size_t i = 0;
    day.ForEach([&](Stream stream, std::string_view bytes) {
      const int p = partition_of_[i++];
      const int64_t offset = offsets_[static_cast<int>(stream) * options_.partitions + p]++;
      const SourcePartition source{static_cast<int>(stream), p};
      if (!core.IngestRecord(stream, source, static_cast<uint32_t>(p),
                             {"", bytes, topics_.For(stream), p, offset}).ok()) {
        return;
      }
      if (++run_.events % 1000 == 0) Step();
    });
    CALLGRIND_STOP_INSTRUMENTATION;
    run_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    // Progress: a large force runs for many minutes.
    std::fprintf(stderr, "generated day %d processed: %llu events in %.1f s (%.0f events/s), %llu snapshots, RSS %.0f MiB\n",
                 ++days_done_, static_cast<unsigned long long>(run_.events),
                 run_.seconds, run_.events / std::max(run_.seconds, 1e-9),
                 static_cast<unsigned long long>(run_.snapshots), bench::RssMiB());
  }

  CoreRun Finish() {
    const auto began = std::chrono::steady_clock::now();
    CALLGRIND_START_INSTRUMENTATION;
    pipeline_.core->Finish();
    run_.alerts += pipeline_.core->TakeAlerts().size();
    writer_->Finish();
    pipeline_.core->PrepareCheckpoint();
    pipeline_.store->Checkpoint(true);
    writer_->Finish();
    CALLGRIND_STOP_INSTRUMENTATION;
    run_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    run_.keys_written = pipeline_.store->keys_written();
    run_.bytes_written = pipeline_.store->bytes_written();
    return run_;
  }
  const MemoryShares& shares() const { return shares_; }

 private:
  // The core's share of the memory budget.
  static PipelineOptions BenchPipeline(const MemoryShares& shares) {
    PipelineOptions options;
    options.memory_budget_bytes = shares.core;
    return options;
  }
  static RocksOptions Rocks(const MemoryShares& shares) {
    RocksOptions rocks;
    rocks.memory_budget_bytes = shares.rocks;
    return rocks;
  }
  // Each record's partition, as a producer keyed by officer would choose it.
  void PartitionRecords(const EncodedDay& day) {
    partition_of_.clear();
    EventView view;
    day.ForEach([&](Stream stream, std::string_view bytes) {
      const bool ok = DecodeEventView(stream, bytes, &view).ok();
      const size_t hash = ok ? std::hash<std::string_view>()(view.officer_id) : 0;
      partition_of_.push_back(static_cast<uint16_t>(hash % options_.partitions));
    });
  }
  // Every thousand events: fed from memory, every partition is always caught up (as at a Kafka
  // partition's end); deliver, collect, and checkpoint when one is due.
  void Step() {
    EventCore& core = *pipeline_.core;
    for (int s = 0; s < kStreamCount; ++s) {
      for (int q = 0; q < options_.partitions; ++q) core.watermarks().SetIdle({s, q});
    }
    core.Advance();
    run_.alerts += core.TakeAlerts().size();
    core.TakeDeadLetters();
    const auto now = std::chrono::steady_clock::now();
    const bool due = options_.checkpoint_events > 0 ? run_.events % options_.checkpoint_events == 0
                                                    : now - last_checkpoint_ > options_.checkpoint_every;
    if (!due) return;
    // As `vigil run`: outputs and offsets every checkpoint, the state only at a snapshot.
    const bool interval = options_.checkpoint_events > 0 ? run_.checkpoints % snapshot_ratio_ == 0
                                                         : now - last_snapshot_ >= options_.snapshot_every;
    const bool snapshot = interval || core.SnapshotWanted();
    // As `vigil run` (engine/live/CHECKPOINTS.md): the batch before this one must be durable first;
    // this one is written and synced by the writer's thread while processing goes on.
    writer_->Finish();
    core.PrepareCheckpoint(snapshot);
    pipeline_.store->Checkpoint(true);
    ++run_.checkpoints;
    if (snapshot) {
      ++run_.snapshots;
      last_snapshot_ = now;
      run_.snapshot_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - now).count();
    }
    last_checkpoint_ = now;
  }

  const BenchOptions& options_;
  const MemoryShares shares_;
  TempDir dir_;
  BackgroundWriter* writer_ = nullptr;  // under the store, set by pipeline_'s initialiser
  Pipeline pipeline_;
  const Topics topics_;
  std::vector<int64_t> offsets_;
  std::vector<uint16_t> partition_of_;
  std::chrono::steady_clock::time_point last_checkpoint_, last_snapshot_;
  uint64_t snapshot_ratio_ = 1;  // checkpoints per snapshot when checkpoints go by events
  int days_done_ = 0;
  CoreRun run_;
};

}  // namespace

int main(int argc, char** argv) {
  const std::vector<OptionSpec> specs = {
      {"officers", "N", "officers in the synthetic force", "45000"},
      {"days", "D", "days of history", "7"},
      {"seed", "S", "seed", "1"},
      {"access-per-officer-day", "X",
       "the generator's volume: mean access events per officer per day, on worked shifts (45: about "
       "2 million a day for 45,000 officers, beside about 0.85 x officers roster events)", "45"},
      {"access-per-shift", "X",
       "the small volume instead (the tests'): mean access events per worked shift, a third of shifts "
       "with one session at 1.5, at most 24 look-ups a session (about 0.59 x officers x X a day)", "1.5"},
      {"partitions", "P", "input partitions the events are spread over", "16"},
      {"checkpoint-ms", "MS", "checkpoint interval", "1000"},
      {"snapshot-ms", "MS",
       "how often a checkpoint also writes the state (a snapshot, as `vigil run --snapshot-interval-ms`); "
       "the others write outputs and offsets only", "10000"},
      {"checkpoint-events", "N",
       "checkpoint every N events instead (a multiple of 1000; 0: by time): the same work on every "
       "run, for profiling under callgrind", "0"},
      {"memory-budget-mb", "MB",
       "the engine's one memory budget: RocksDB's block cache and write buffers (a quarter, at most "
       "256 MiB) and the core's records, hold and duplicate ids (the rest; past it the coldest "
       "officers' records leave memory and are read back on use)", "1024"},
      {"generate-only", "",
       "only generate the force, a day at a time, and print the generator's speed (nothing processed "
       "or recorded)", ""},
      {"results", "FILE", "append the figures to this Markdown file", VIGIL_SOURCE_DIR "/bench/RESULTS.md"},
  };
  const std::string usage = Usage(
      "core_throughput [options]",
      "Core engine throughput and memory: all nine rules, RocksDB state, a synced checkpoint every\n"
      "interval (written by a second thread while processing goes on, as in `vigil run`), one\n"
      "processing thread, events fed from memory. The force is generated a day at a time on a\n"
      "second thread while the core processes the previous day; only the processing is timed, and\n"
      "the engine's peak RSS excludes the generator's buffers.",
      specs);
  const Args args = bench::ParseCommandLineOrExit("core_throughput", usage, specs, argc, argv);
  Result<long long> officers = args.GetInt("officers", 1, 10000000);
  Result<long long> days = args.GetInt("days", 1, 400);
  Result<long long> seed = args.GetInt("seed", 0, 1LL << 40);
  Result<long long> partitions = args.GetInt("partitions", 1, 1024);
  Result<long long> checkpoint_ms = args.GetInt("checkpoint-ms", 1, 3600000);
  Result<long long> checkpoint_events = args.GetInt("checkpoint-events", 0, 1LL << 40);
  Result<long long> snapshot_ms = args.GetInt("snapshot-ms", 1, 24LL * 3600 * 1000);
  Result<long long> budget_mb = args.GetInt("memory-budget-mb", 8, 1 << 20);
  bench::ExitOnBadOption("core_throughput", {&officers, &days, &seed, &partitions, &checkpoint_ms,
                                             &checkpoint_events, &snapshot_ms, &budget_mb});
  if (*checkpoint_events % 1000 != 0) {
    std::fprintf(stderr, "core_throughput: --checkpoint-events must be a multiple of 1000 (try --help)\n");
    return 2;
  }
  BenchOptions options;
  options.force.officers = *officers;
  options.force.days = static_cast<int>(*days);
  options.force.seed = static_cast<uint64_t>(*seed);
  bench::ReadVolume("core_throughput", args, SyntheticForceOptions::kRealisticAccessPerOfficerDay, options.force);
  options.partitions = static_cast<int>(*partitions);
  options.checkpoint_every = std::chrono::milliseconds(*checkpoint_ms);
  options.checkpoint_events = static_cast<uint64_t>(*checkpoint_events);
  options.snapshot_every = std::chrono::milliseconds(std::max(*snapshot_ms, *checkpoint_ms));
  options.memory_budget_bytes = static_cast<size_t>(*budget_mb) << 20;

  const SyntheticForce force(options.force);
  if (args.Has("generate-only")) {
    uint64_t records = 0;
    const bench::FeedReport feed = bench::FeedDays(force, [&](const EncodedDay& day) { records += day.size(); });
    std::printf("officers=%lld days=%lld %llu events generated and encoded in %.2f s: %.0f events/s "
                "(%.0f events/s of the generator thread's CPU time; %.0f events a day on the %lld days; "
                "%llu access), generator's buffers %.0f MiB\n",
                *officers, *days, static_cast<unsigned long long>(records), feed.generate_seconds,
                records / std::max(feed.generate_seconds, 1e-9), records / std::max(feed.generate_cpu_seconds, 1e-9),
                static_cast<double>(records) / *days, *days,
                static_cast<unsigned long long>(feed.stats.access), feed.generator_peak_bytes / 1048576.0);
    return 0;
  }
  bench::TrimHeap();
  const double rss_before = bench::RssMiB();
  const bool peak_reset = bench::ResetPeakRss();
  std::fprintf(stderr, "RSS before processing %.0f MiB; generating %d days a day at a time\n", rss_before,
               options.force.days + 3);

  CoreRun run;
  bench::FeedReport feed;
  {
    CoreUnderTest core(options);
    feed = bench::FeedDays(force, [&](const EncodedDay& day) { core.Process(day); });
    run = core.Finish();
  }
  const double peak = bench::PeakRssMiB();
  const double generator_mib = feed.generator_peak_bytes / 1048576.0;
  char figures[800];
  std::snprintf(figures, sizeof figures,
                "%llu events, %llu alerts, %.2f s, **%.0f events/s**, %.2f state keys written per "
                "event (%.0f MiB), %llu checkpoints (%llu snapshots, %.2f s of the time); generated at %.0f events/s on a second thread (not timed); "
                "RSS before processing %.0f MiB, peak %.0f MiB%s, generator's buffers %.0f MiB, "
                "**engine peak %.0f MiB** (peak - before - generator), budget %lld MiB",
                static_cast<unsigned long long>(run.events),
                static_cast<unsigned long long>(run.alerts), run.seconds, run.events / run.seconds,
                static_cast<double>(run.keys_written) / run.events, run.bytes_written / 1048576.0,
                static_cast<unsigned long long>(run.checkpoints),
                static_cast<unsigned long long>(run.snapshots), run.snapshot_seconds,
                feed.generate_seconds > 0 ? feed.stats.total() / feed.generate_seconds : 0.0, rss_before, peak,
                peak_reset ? "" : " (peak not reset: includes the plan)", generator_mib,
                peak - rss_before - generator_mib, *budget_mb);
  std::printf("officers=%lld days=%lld %s\n", *officers, *days, figures);
  bench::AppendResult(args.Get("results"), "Core throughput and memory",
                      bench::CommandLine("core_throughput", argc, argv), figures);
  return 0;
}
