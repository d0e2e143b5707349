// What every benchmark in bench/ shares: recording a run in RESULTS.md, the process's memory, and
// the synthetic force encoded as Kafka records, generated before anything is timed.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <initializer_list>

#include "cli.h"
#include "event.h"
#include "synthetic_force.h"

namespace vigil::bench {

// Appends one row to the last Markdown table of `section` in `path` (RESULTS.md): when, machine (cores,
// CPU model), commit, the command as typed and the figures. A section that is not in the file yet
// is added at its end with the table's header.
void AppendResult(const std::string& path, const std::string& section, const std::string& command,
                  const std::string& figures);

// Parses a benchmark's command line. --help prints the usage and exits 0; a bad option prints
// what is wrong and the usage, and exits 2.
Args ParseCommandLineOrExit(const char* name, const std::string& usage,
                            const std::vector<OptionSpec>& specs, int argc, char** argv);
// Exits 2 naming the first of `values` (numbers read with Args::GetInt) that is an error.
void ExitOnBadOption(const char* name, std::initializer_list<const Result<long long>*> values);

// "build/bench/<name> <arguments>" as the benchmark was run.
std::string CommandLine(const char* name, int argc, char** argv);

// From /proc/self/status, in MiB: the resident set now (VmRSS) and its peak (VmHWM).
double RssMiB();
double PeakRssMiB();
// Resets VmHWM to the current RSS (Linux clear_refs "5"); false where the kernel does not allow it.
bool ResetPeakRss();
// Gives freed heap memory back to the system, so RSS measures what is live.
void TrimHeap();

// Input records as the engine reads them from Kafka (stream and protobuf value), packed into one
// buffer (about 5 bytes of overhead per record) so that it does not dominate the memory measured.
class EventBuffer {
 public:
  void Append(Stream stream, std::string_view value);
  size_t size() const { return count_; }
  size_t bytes() const { return data_.size(); }
  // Calls fn(stream, value) for every record, in the order appended.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    size_t at = 0;
    while (at < data_.size()) {
      const auto stream = static_cast<Stream>(data_[at]);
      uint32_t length;
      std::memcpy(&length, data_.data() + at + 1, sizeof length);
      fn(stream, std::string_view(data_.data() + at + 5, length));
      at += 5 + length;
    }
  }

 private:
  std::string data_;
  size_t count_ = 0;
};

// The force's events in generation (nearly event-time) order, encoded as on Kafka, all at once.
EventBuffer EncodeForce(const SyntheticForceOptions& options);

// What FeedDays reports about the generator.
struct FeedReport {
  ForceStats stats;
  double generate_seconds = 0;  // the generator thread's time spent generating (not waiting)
  double generate_cpu_seconds = 0;  // the CPU time of that thread (its speed on a busy machine)
  double process_seconds = 0;   // the sum of the spans of fn: what a benchmark times
  size_t generator_peak_bytes = 0;  // most memory held at once by the generator's buffers
};
// Generates `force` a day at a time on a thread of its own while fn(day) processes the days on the
// calling thread, in order: day d + 1 is generated while fn runs on day d, so at most two days of
// encoded events are alive (plus the generator's scratch for the day it builds). Only the spans of
// fn are summed in process_seconds.
FeedReport FeedDays(const SyntheticForce& force, const std::function<void(const EncodedDay&)>& fn);

// Reads --access-per-officer-day and --access-per-shift (at most one given) into `options`: the
// realistic volume at `default_per_officer_day` unless --access-per-shift asks for the small one
// (default_per_officer_day 0: the small volume by default). Exits 2 on a bad value.
void ReadVolume(const char* name, const Args& args, double default_per_officer_day, SyntheticForceOptions& options);

// The p-th percentile (0..100) of `values` by nearest rank; sorts them. 0 if empty.
double Percentile(std::vector<double>& values, double p);

}  // namespace vigil::bench
