// Core throughput: every enabled rule with RocksDB state and a checkpoint every second, fed from
// memory (events generated and encoded before timing starts), on one thread.
//
//   bench/core_throughput --officers 45000 --days 7 [--seed 1]
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>
#include <string>
#include <vector>

#include "cli.h"
#include "event.h"
#include "pipeline.h"
#include "rules_config.h"
#include "synthetic_force.h"

using namespace vigil;

namespace {

std::string CommandOutput(const std::string& command) {
  std::string out;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[256];
    while (fgets(buffer, sizeof buffer, pipe)) out += buffer;
    pclose(pipe);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// Appends one run to RESULTS.md: when, machine, commit, command and figures.
void AppendResult(const std::string& path, const std::string& command, const std::string& figures) {
  std::ofstream out(path, std::ios::app);
  if (!out) {
    std::fprintf(stderr, "cannot append to %s\n", path.c_str());
    return;
  }
  out << "| " << FormatTime(SystemClock().NowMillis()) << " | "
      << std::thread::hardware_concurrency() << " cores, "
      << CommandOutput("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'") << " | "
      << CommandOutput("git -C " VIGIL_SOURCE_DIR " rev-parse --short HEAD 2>/dev/null") << " | `"
      << command << "` | " << figures << " |\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<OptionSpec> specs = {
      {"officers", "N", "officers in the synthetic force", "45000"},
      {"days", "D", "days of history", "7"},
      {"seed", "S", "seed", "1"},
      {"partitions", "P", "input partitions the events are spread over", "16"},
      {"checkpoint-ms", "MS", "checkpoint interval", "1000"},
      {"results", "FILE", "append the figures to this Markdown table", VIGIL_SOURCE_DIR "/bench/RESULTS.md"},
  };
  Result<Args> args = Args::Parse(specs, argc, argv, 1);
  if (!args.ok() || args->help()) {
    std::fprintf(stderr, "%s", Usage("core_throughput [options]", "Core engine throughput.", specs).c_str());
    return args.ok() ? 0 : 2;
  }
  SyntheticForceOptions options;
  options.officers = *args->GetInt("officers", 1, 10000000);
  options.days = static_cast<int>(*args->GetInt("days", 1, 400));
  options.seed = static_cast<uint64_t>(*args->GetInt("seed", 0, 1LL << 40));
  const int partitions = static_cast<int>(*args->GetInt("partitions", 1, 1024));
  const auto checkpoint_every = std::chrono::milliseconds(*args->GetInt("checkpoint-ms", 1, 3600000));

  std::vector<std::pair<Stream, std::string>> events;  // encoded as on Kafka
  SyntheticForce force(options);
  force.Generate([&](const v1::Envelope& e) { events.emplace_back(StreamOf(e), EncodeEvent(e)); });
  std::fprintf(stderr, "generated %zu events\n", events.size());

  TempDir dir("vigil-bench-");
  v1::RulesConfig config = DefaultRulesConfig();
  Pipeline pipeline = MakePipeline(config, OpenRocksBackend(dir.path(), RocksOptions{}));
  Processor& processor = *pipeline.processor;
  for (int s = 0; s < kStreamCount; ++s) {
    for (int p = 0; p < partitions; ++p) processor.watermarks().Track({s, p});
  }
  const Topics topics;
  std::vector<int64_t> offsets(kStreamCount * partitions, 0);
  auto start = std::chrono::steady_clock::now();
  auto last_checkpoint = start;
  uint64_t alerts = 0;
  size_t n = 0;
  for (const auto& [stream, bytes] : events) {
    Result<v1::Envelope> event = DecodeEvent(stream, bytes);
    if (!event.ok()) continue;
    int p = static_cast<int>(std::hash<std::string>()(OfficerId(*event)) % partitions);
    int64_t offset = offsets[static_cast<int>(stream) * partitions + p]++;
    const std::string& topic = topics.For(stream);
    processor.Ingest(*event, MakeRef(*event, topic, p, offset), {static_cast<int>(stream), p},
                     static_cast<uint32_t>(p), {OfficerId(*event), bytes, ""});
    if (++n % 1000 == 0) {
      // Fed from memory, every partition is always caught up (as at a Kafka partition's end).
      for (int s = 0; s < kStreamCount; ++s) {
        for (int q = 0; q < partitions; ++q) processor.watermarks().SetIdle({s, q});
      }
      processor.Advance();
      alerts += processor.TakeAlerts().size();
      processor.TakeDeadLetters();
      auto now = std::chrono::steady_clock::now();
      if (now - last_checkpoint > checkpoint_every) {
        processor.PrepareCheckpoint();
        pipeline.store->Checkpoint(true);
        last_checkpoint = now;
      }
    }
  }
  processor.Finish();
  alerts += processor.TakeAlerts().size();
  pipeline.store->Checkpoint(true);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  char figures[256];
  std::snprintf(figures, sizeof figures,
                "%zu events, %llu alerts, %.2f s, **%.0f events/s**, %.2f state keys written per event",
                events.size(), static_cast<unsigned long long>(alerts), seconds,
                events.size() / seconds,
                static_cast<double>(pipeline.store->keys_written()) / events.size());
  std::printf("officers=%lld days=%d %s\n", static_cast<long long>(options.officers), options.days,
              figures);
  std::string command = "build/bench/core_throughput";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  AppendResult(args->Get("results"), command, figures);
  return 0;
}
