#include "bench_util.h"

#include <malloc.h>

#include <algorithm>
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
  SyntheticForce(options).Generate(
      [&](const v1::Envelope& e) { buffer.Append(StreamOf(e), EncodeEvent(e)); });
  return buffer;
}

double Percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * values.size()));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace vigil::bench
