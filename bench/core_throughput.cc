// Core throughput and memory: every enabled rule with RocksDB state and a checkpoint every second,
// fed from memory (events generated and encoded before timing starts), on one thread.
//
//   build/bench/core_throughput --officers 45000 --days 7 [--seed 1] [--memory-budget-mb 256]
//
// Memory: the encoded events are packed in one buffer; after generation the heap is trimmed and
// the peak-RSS counter reset, so "engine peak RSS" is the peak while processing minus the RSS held
// before processing started (the buffer, the libraries, the generator's leftovers).
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_util.h"
#include "cli.h"
#include "event.h"
#include "pipeline.h"
#include "rules_config.h"
#include "synthetic_force.h"

using namespace vigil;

namespace {

struct CoreOptions {
  SyntheticForceOptions force;
  int partitions = 16;
  std::chrono::milliseconds checkpoint_every{1000};
  uint64_t checkpoint_events = 0;  // if set: a checkpoint every this many events, not by time
  size_t memory_budget_bytes = 256u << 20;
};

struct CoreRun {
  uint64_t events = 0;
  uint64_t alerts = 0;
  double seconds = 0;
  uint64_t keys_written = 0;
  uint64_t checkpoints = 0;
};

// Feeds every event to a fresh pipeline as the live engine would read them from `partitions`
// caught-up partitions per topic, checkpointing (synced) every interval.
CoreRun Process(const bench::EventBuffer& events, const CoreOptions& options) {
  TempDir dir("vigil-bench-");
  RocksOptions rocks;
  rocks.memory_budget_bytes = options.memory_budget_bytes;
  Pipeline pipeline = MakePipeline(DefaultRulesConfig(), OpenRocksBackend(dir.path(), rocks));
  Processor& processor = *pipeline.processor;
  const int partitions = options.partitions;
  for (int s = 0; s < kStreamCount; ++s) {
    for (int p = 0; p < partitions; ++p) processor.watermarks().Track({s, p});
  }
  const Topics topics;
  std::vector<int64_t> offsets(kStreamCount * partitions, 0);
  CoreRun run;
  const auto start = std::chrono::steady_clock::now();
  auto last_checkpoint = start;
  events.ForEach([&](Stream stream, std::string_view bytes) {
    Result<v1::Envelope> event = DecodeEvent(stream, bytes);
    if (!event.ok()) return;
    int p = static_cast<int>(std::hash<std::string>()(OfficerId(*event)) % partitions);
    int64_t offset = offsets[static_cast<int>(stream) * partitions + p]++;
    const std::string& topic = topics.For(stream);
    state::EventRef ref = MakeRef(*event, topic, p, offset);
    processor.Ingest(std::move(*event), std::move(ref), {static_cast<int>(stream), p},
                     static_cast<uint32_t>(p), {OfficerId(*event), bytes, ""});
    if (++run.events % 1000 != 0) return;
    // Fed from memory, every partition is always caught up (as at a Kafka partition's end).
    for (int s = 0; s < kStreamCount; ++s) {
      for (int q = 0; q < partitions; ++q) processor.watermarks().SetIdle({s, q});
    }
    processor.Advance();
    run.alerts += processor.TakeAlerts().size();
    processor.TakeDeadLetters();
    auto now = std::chrono::steady_clock::now();
    const bool due = options.checkpoint_events > 0 ? run.events % options.checkpoint_events == 0
                                                   : now - last_checkpoint > options.checkpoint_every;
    if (due) {
      processor.PrepareCheckpoint();
      pipeline.store->Checkpoint(true);
      ++run.checkpoints;
      last_checkpoint = now;
    }
  });
  processor.Finish();
  run.alerts += processor.TakeAlerts().size();
  pipeline.store->Checkpoint(true);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.keys_written = pipeline.store->keys_written();
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<OptionSpec> specs = {
      {"officers", "N", "officers in the synthetic force", "45000"},
      {"days", "D", "days of history", "7"},
      {"seed", "S", "seed", "1"},
      {"access-per-shift", "X",
       "mean access events per worked shift (the generator's volume knob; about 0.59 x officers x X "
       "access events a day, beside about 0.85 x officers roster events)", "1.5"},
      {"partitions", "P", "input partitions the events are spread over", "16"},
      {"checkpoint-ms", "MS", "checkpoint interval", "1000"},
      {"checkpoint-events", "N",
       "checkpoint every N events instead (a multiple of 1000; 0: by time): the same work on every "
       "run, for profiling under callgrind", "0"},
      {"memory-budget-mb", "MB", "RocksDB memory budget (block cache + write buffers)", "256"},
      {"results", "FILE", "append the figures to this Markdown file", VIGIL_SOURCE_DIR "/bench/RESULTS.md"},
  };
  const std::string usage = Usage(
      "core_throughput [options]",
      "Core engine throughput and memory: all nine rules, RocksDB state, a synced checkpoint every\n"
      "interval, one thread, events fed from memory (generated before timing).",
      specs);
  const Args args = bench::ParseCommandLineOrExit("core_throughput", usage, specs, argc, argv);
  Result<long long> officers = args.GetInt("officers", 1, 10000000);
  Result<long long> days = args.GetInt("days", 1, 400);
  Result<long long> seed = args.GetInt("seed", 0, 1LL << 40);
  Result<long long> partitions = args.GetInt("partitions", 1, 1024);
  Result<double> access_per_shift = args.GetDouble("access-per-shift", 0, 1000);
  Result<long long> checkpoint_ms = args.GetInt("checkpoint-ms", 1, 3600000);
  Result<long long> checkpoint_events = args.GetInt("checkpoint-events", 0, 1LL << 40);
  Result<long long> budget_mb = args.GetInt("memory-budget-mb", 8, 1 << 20);
  bench::ExitOnBadOption("core_throughput", {&officers, &days, &seed, &partitions, &checkpoint_ms,
                                             &checkpoint_events, &budget_mb});
  if (!access_per_shift.ok()) {
    std::fprintf(stderr, "core_throughput: %s\n", access_per_shift.status().message().c_str());
    return 2;
  }
  if (*checkpoint_events % 1000 != 0) {
    std::fprintf(stderr, "core_throughput: --checkpoint-events must be a multiple of 1000 (try --help)\n");
    return 2;
  }
  CoreOptions options;
  options.force.officers = *officers;
  options.force.days = static_cast<int>(*days);
  options.force.seed = static_cast<uint64_t>(*seed);
  options.force.access_per_shift = *access_per_shift;
  options.partitions = static_cast<int>(*partitions);
  options.checkpoint_every = std::chrono::milliseconds(*checkpoint_ms);
  options.checkpoint_events = static_cast<uint64_t>(*checkpoint_events);
  options.memory_budget_bytes = static_cast<size_t>(*budget_mb) << 20;

  const bench::EventBuffer events = bench::EncodeForce(options.force);
  bench::TrimHeap();
  const double rss_before = bench::RssMiB();
  const bool peak_reset = bench::ResetPeakRss();
  std::fprintf(stderr, "generated %zu events (%.0f MiB encoded); RSS before processing %.0f MiB\n",
               events.size(), events.bytes() / 1048576.0, rss_before);

  const CoreRun run = Process(events, options);
  const double peak = bench::PeakRssMiB();
  char figures[512];
  std::snprintf(figures, sizeof figures,
                "%llu events, %llu alerts, %.2f s, **%.0f events/s**, %.2f state keys written per "
                "event, %llu checkpoints; RSS before processing %.0f MiB (event buffer %.0f MiB), "
                "peak %.0f MiB%s, **engine peak %.0f MiB** (RocksDB budget %lld MiB)",
                static_cast<unsigned long long>(run.events),
                static_cast<unsigned long long>(run.alerts), run.seconds, run.events / run.seconds,
                static_cast<double>(run.keys_written) / run.events,
                static_cast<unsigned long long>(run.checkpoints), rss_before,
                events.bytes() / 1048576.0, peak, peak_reset ? "" : " (peak not reset: includes generation)",
                peak - rss_before, *budget_mb);
  std::printf("officers=%lld days=%lld %s\n", *officers, *days, figures);
  bench::AppendResult(args.Get("results"), "Core throughput and memory",
                      bench::CommandLine("core_throughput", argc, argv), figures);
  return 0;
}
