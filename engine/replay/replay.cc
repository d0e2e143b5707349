#include "replay/replay.h"

#include <filesystem>
#include <fstream>
#include <iostream>

#include <google/protobuf/util/json_util.h>

#include "pipeline.h"

namespace vigil {
namespace {

const SourcePartition kFile{100, 0};  // a file is one input partition
constexpr uint64_t kCheckpointEvery = 20000;

std::string JsonEscape(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

void PrintProgress(uint64_t lines, EventCore& processor, double seconds) {
  std::cerr << "replay: " << lines << " lines, " << processor.metrics().events_total()
            << " events (" << static_cast<uint64_t>(processor.metrics().events_total() / std::max(seconds, 1e-9))
            << "/s), " << processor.metrics().alerts << " alerts, watermark "
            << FormatTime(processor.watermarks().Current()) << "\n";
}

}  // namespace

Result<std::string> ReplayStateDir(const std::string& requested, std::unique_ptr<TempDir>& temp) {
  if (requested.empty()) {
    temp = std::make_unique<TempDir>("vigil-replay-");
    return temp->path();
  }
  if (std::filesystem::exists(requested) && !std::filesystem::is_empty(requested)) {
    return Status::Error("--state-dir " + requested + " is not empty; replay starts from nothing");
  }
  return requested;
}

std::string DeadLetterJson(const DeadLetter& letter) {
  return "{\"source\":\"" + JsonEscape(letter.source) + "\",\"reason\":\"" +
         JsonEscape(letter.reason) + "\",\"key\":\"" + JsonEscape(letter.key) + "\",\"value\":\"" +
         JsonEscape(letter.value) + "\"}";
}

LineReplayer::LineReplayer(Pipeline& pipeline, std::string source_name,
                           std::function<void(const v1::Alert&)> on_alert,
                           std::function<void(const DeadLetter&)> on_dead_letter)
    : pipeline_(pipeline),
      source_name_(std::move(source_name)),
      on_alert_(std::move(on_alert)),
      on_dead_letter_(std::move(on_dead_letter)) {
  pipeline_.core->watermarks().Track(kFile);
}

Status LineReplayer::Feed(const std::string& line) {
  ++lines_;
  if (line.find_first_not_of(" \t\r") == std::string::npos) return Status::Ok();
  EventCore& core = *pipeline_.core;
  std::string position = source_name_ + ":" + std::to_string(lines_);
  Result<v1::Envelope> event = ParseEventJson(line);
  if (!event.ok()) {
    ++skipped_;
    core.RejectInvalid({"", line, "invalid: " + event.status().message(), position});
    FlushOutputs();
    return Status::Error(position + ": " + event.status().message());
  }
  core.IngestEvent(*event, kFile, 0, {OfficerId(*event), line, source_name_, -1, lines_});
  core.Advance();
  FlushOutputs();
  return Status::Ok();
}

void LineReplayer::Finish() {
  pipeline_.core->watermarks().SetIdle(kFile);
  pipeline_.core->Finish();
  FlushOutputs();
}

void LineReplayer::FlushOutputs() {
  for (const auto& alert : pipeline_.core->TakeAlerts()) on_alert_(alert);
  for (const auto& letter : pipeline_.core->TakeDeadLetters()) on_dead_letter_(letter);
}

ReplayReport ReplayStream(std::istream& in, const std::string& source_name, Pipeline& pipeline,
                          const std::function<void(const v1::Alert&)>& on_alert,
                          const std::function<void(const DeadLetter&)>& on_dead_letter,
                          bool progress) {
  LineReplayer replayer(pipeline, source_name, on_alert, on_dead_letter);
  EventCore& processor = *pipeline.core;
  const Millis started = SystemClock().NowMillis();
  Millis last_progress = started;
  std::string line;
  while (std::getline(in, line)) {
    Status fed = replayer.Feed(line);
    if (!fed.ok()) std::cerr << fed.message() << " (line skipped)\n";
    if (replayer.lines() % kCheckpointEvery == 0) {
      processor.PrepareCheckpoint();
      pipeline.store->Checkpoint(false);
      Millis now = SystemClock().NowMillis();
      if (progress && now - last_progress >= 2000) {
        PrintProgress(replayer.lines(), processor, (now - started) / 1000.0);
        last_progress = now;
      }
    }
  }
  replayer.Finish();
  pipeline.store->Checkpoint(false);
  ReplayReport report;
  report.lines = replayer.lines();
  report.skipped = replayer.skipped();
  report.metrics = processor.metrics();
  report.seconds = (SystemClock().NowMillis() - started) / 1000.0;
  return report;
}

Result<ReplayReport> RunReplay(const ReplayOptions& options, const v1::RulesConfig& config) {
  std::ifstream in(options.input);
  if (!in) return Status::Error("cannot read input file " + options.input);
  std::ofstream out(options.output, std::ios::trunc);
  if (!out) return Status::Error("cannot write output file " + options.output);
  std::string dead_letter_path =
      options.dead_letters.empty() ? options.output + ".dead-letters.ndjson" : options.dead_letters;
  std::ofstream dead_letters;

  std::unique_ptr<TempDir> temp;
  Result<std::string> state_dir_or = ReplayStateDir(options.state_dir, temp);
  if (!state_dir_or.ok()) return state_dir_or.status();
  const std::string state_dir = *state_dir_or;
  Pipeline pipeline = MakePipeline(config, OpenRocksBackend(state_dir, RocksOptions{}));
  ReplayReport report = ReplayStream(
      in, options.input, pipeline,
      [&](const v1::Alert& alert) { out << ToJsonLine(alert) << "\n"; },
      [&](const DeadLetter& letter) {
        if (!dead_letters.is_open()) dead_letters.open(dead_letter_path, std::ios::trunc);
        dead_letters << DeadLetterJson(letter) << "\n";
      },
      options.progress);
  out.flush();
  if (!out) return Status::Error("writing " + options.output + " failed");
  return report;
}

}  // namespace vigil
