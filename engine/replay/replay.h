// `vigil replay`: runs the rules over an NDJSON event file as a bounded stream.
//
// The file is one input partition read in order: its watermark trails the highest event time read
// so far, and at the end of the file every pending window closes. Lines that are not valid events
// are reported (line number and field), skipped and written to the dead-letter file with the
// too-late events; the run goes on.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "alert.pb.h"
#include "pipeline.h"
#include "runtime/outputs.h"
#include "rules.pb.h"

namespace vigil {

struct ReplayOptions {
  std::string input;
  std::string output;
  std::string dead_letters;  // NDJSON of records not used; empty: <output>.dead-letters.ndjson
  std::string state_dir;     // empty: a temporary directory, removed afterwards
  bool progress = true;      // progress lines on stderr
};

struct ReplayReport {
  ProcessorMetrics metrics;
  uint64_t lines = 0;
  uint64_t skipped = 0;  // invalid lines
  double seconds = 0;
};

// Feeds NDJSON lines, one at a time, to a pipeline as one input partition (the file). Used by
// `vigil replay` and by the tests' harness. Outputs are handed to the callbacks as they appear.
class LineReplayer {
 public:
  LineReplayer(Pipeline& pipeline, std::string source_name,
               std::function<void(const v1::Alert&)> on_alert,
               std::function<void(const DeadLetter&)> on_dead_letter);
  // One line of the file; returns the parse error for an invalid line (already dead-lettered).
  Status Feed(const std::string& line);
  // End of the file: every pending window closes.
  void Finish();
  uint64_t lines() const { return lines_; }
  uint64_t skipped() const { return skipped_; }

 private:
  void FlushOutputs();
  Pipeline& pipeline_;
  std::string source_name_;
  std::function<void(const v1::Alert&)> on_alert_;
  std::function<void(const DeadLetter&)> on_dead_letter_;
  uint64_t lines_ = 0;
  uint64_t skipped_ = 0;
};

// Replays `in` through `pipeline`; calls on_alert for each alert and on_dead_letter for each
// record not used, in order. The state store is checkpointed periodically.
ReplayReport ReplayStream(std::istream& in, const std::string& source_name, Pipeline& pipeline,
                          const std::function<void(const v1::Alert&)>& on_alert,
                          const std::function<void(const DeadLetter&)>& on_dead_letter,
                          bool progress);

// The whole command: reads the files, writes the outputs. Errors that prevent the run are Status.
Result<ReplayReport> RunReplay(const ReplayOptions& options, const v1::RulesConfig& config);

// The state directory of a replay: `requested` when given (it must be empty or absent: a replay
// starts from nothing), else a temporary directory, created in `temp` and removed with it.
Result<std::string> ReplayStateDir(const std::string& requested, std::unique_ptr<TempDir>& temp);

// A dead letter as one NDJSON line.
std::string DeadLetterJson(const DeadLetter& letter);

}  // namespace vigil
