#include "bench_util.h"

#include <malloc.h>
#include <time.h>
#include <valgrind/valgrind.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace vigil::bench {
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

std::string Machine() {
  return std::to_string(std::thread::hardware_concurrency()) + " cores, " +
         CommandOutput("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'");
}

// A line of /proc/self/status such as "VmHWM:   123456 kB", in MiB; 0 if absent.
double StatusMiB(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.compare(0, field.size() + 1, field + ":") == 0) {
      return std::stod(line.substr(field.size() + 1)) / 1024.0;
    }
  }
  return 0;
}

}  // namespace

void AppendResult(const std::string& path, const std::string& section, const std::string& command,
                  const std::string& figures) {
  std::vector<std::string> lines;
  {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  const std::string row = "| " + FormatTime(SystemClock().NowMillis()) + " | " + Machine() +
                          " | " +
                          CommandOutput("git -C " VIGIL_SOURCE_DIR " rev-parse --short HEAD 2>/dev/null") +
                          " | `" + command + "` | " + figures + " |";
  const std::string heading = "## " + section;
  auto at = std::find(lines.begin(), lines.end(), heading);
  if (at == lines.end()) {
    lines.insert(lines.end(), {"", heading, "", "| when | machine | commit | command | figures |",
                               "|---|---|---|---|---|", row});
  } else {
    // After the last table row of the section: its results table is the section's last table.
    auto end = std::find_if(at + 1, lines.end(), [](const std::string& l) { return l.rfind("## ", 0) == 0; });
    auto last_row = std::find_if(std::make_reverse_iterator(end), std::make_reverse_iterator(at),
                                 [](const std::string& l) { return l.rfind("|", 0) == 0; });
    lines.insert(last_row.base(), row);
  }
  std::ofstream out(path, std::ios::trunc);
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    return;
  }
  for (const auto& line : lines) out << line << "\n";
}

Args ParseCommandLineOrExit(const char* name, const std::string& usage,
                            const std::vector<OptionSpec>& specs, int argc, char** argv) {
  Result<Args> args = Args::Parse(specs, argc, argv, 1);
  if (args.ok() && !args->help()) return *args;
  if (!args.ok()) std::fprintf(stderr, "%s: %s\n\n", name, args.status().message().c_str());
  std::fprintf(stderr, "%s", usage.c_str());
  std::exit(args.ok() ? 0 : 2);
}

void ExitOnBadOption(const char* name, std::initializer_list<const Result<long long>*> values) {
  for (const Result<long long>* value : values) {
    if (value->ok()) continue;
    std::fprintf(stderr, "%s: %s\n", name, value->status().message().c_str());
    std::exit(2);
  }
}

std::string CommandLine(const char* name, int argc, char** argv) {
  std::string command = std::string("build/bench/") + name;
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  return command;
}

double RssMiB() { return StatusMiB("VmRSS"); }
double PeakRssMiB() { return StatusMiB("VmHWM"); }

bool ResetPeakRss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

void TrimHeap() { malloc_trim(0); }

void EventBuffer::Append(Stream stream, std::string_view value) {
  const auto length = static_cast<uint32_t>(value.size());
  data_.push_back(static_cast<char>(stream));
  data_.append(reinterpret_cast<const char*>(&length), sizeof length);
  data_.append(value);
  ++count_;
}

EventBuffer EncodeForce(const SyntheticForceOptions& options) {
  EventBuffer buffer;
  SyntheticForce force(options);
  SyntheticForce::Days days(force);
  EncodedDay day;
  while (days.Next(day)) day.ForEach([&](Stream stream, std::string_view value) { buffer.Append(stream, value); });
  return buffer;
}

FeedReport FeedDays(const SyntheticForce& force, const std::function<void(const EncodedDay&)>& fn) {
  using Clock = std::chrono::steady_clock;
  SyntheticForce::Days days(force);
  // Two slots: the generator fills one while fn reads the other.
  EncodedDay slots[2];
  bool ready[2] = {false, false};
  bool finished = false;
  std::mutex mutex;
  std::condition_variable changed;
  FeedReport report;
  std::exception_ptr failure;
  const bool serial = RUNNING_ON_VALGRIND;
  std::thread generator([&] {
    try {
      for (int next = 0;; next ^= 1) {
        {
          std::unique_lock<std::mutex> lock(mutex);
          changed.wait(lock, [&] { return !ready[next]; });
        }
        const auto began = Clock::now();
        const bool more = days.Next(slots[next]);
        const double spent = std::chrono::duration<double>(Clock::now() - began).count();
        std::lock_guard<std::mutex> lock(mutex);
        report.generate_seconds += spent;
        timespec cpu{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
        report.generate_cpu_seconds = static_cast<double>(cpu.tv_sec) + cpu.tv_nsec / 1e9;
        report.generator_peak_bytes = std::max(
            report.generator_peak_bytes, slots[0].capacity() + slots[1].capacity() + days.scratch_bytes());
        if (!more) {
          finished = true;
          changed.notify_all();
          return;
        }
        ready[next] = true;
        changed.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      failure = std::current_exception();
      finished = true;
      changed.notify_all();
    }
  });
  for (int next = 0;; next ^= 1) {
    {
      std::unique_lock<std::mutex> lock(mutex);
      // Under valgrind the generator must not run inside the measured span (callgrind counts every
      // thread between CALLGRIND_START/STOP): fn waits until the next day is built too, and the
      // generator waits for the slot fn reads.
      changed.wait(lock, [&] {
        if (!ready[next]) return finished;
        return !serial || ready[next ^ 1] || finished;
      });
      if (!ready[next]) break;
    }
    const auto began = Clock::now();
    fn(slots[next]);
    report.process_seconds += std::chrono::duration<double>(Clock::now() - began).count();
    std::lock_guard<std::mutex> lock(mutex);
    ready[next] = false;
    changed.notify_all();
  }
  generator.join();
  if (failure) std::rethrow_exception(failure);
  report.stats = days.stats();
  return report;
}

void ReadVolume(const char* name, const Args& args, double default_per_officer_day, SyntheticForceOptions& options) {
  if (args.Has("access-per-officer-day") && args.Has("access-per-shift")) {
    std::fprintf(stderr, "%s: give --access-per-officer-day or --access-per-shift, not both\n", name);
    std::exit(2);
  }
  const bool small = args.Has("access-per-shift") || (!args.Has("access-per-officer-day") && default_per_officer_day <= 0);
  Result<double> x = small ? args.GetDouble("access-per-shift", 0.001, 1000)
                           : args.GetDouble("access-per-officer-day", 0, 100000);
  if (!x.ok()) {
    std::fprintf(stderr, "%s: %s\n", name, x.status().message().c_str());
    std::exit(2);
  }
  if (small) options.access_per_shift = *x;
  else options = RealisticVolume(options, *x);
}

double Percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * values.size()));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace vigil::bench
