#include <iostream>

#include "cli.h"
#include "commands.h"
#include "replay.h"
#include "rules_config.h"

namespace vigil {

int ReplayCommand(int argc, char** argv) {
  const std::vector<OptionSpec> specs = {
      {"input", "EVENTS.ndjson", "event file: one {\"roster\"|\"access\"|\"complaint\": {...}} a line", ""},
      {"output", "ALERTS.ndjson", "where to write the alerts, one a line", ""},
      {"rules", "RULES.json", "rules file (see `vigil rules --defaults`); defaults if absent", ""},
      {"dead-letters", "FILE", "records not used (invalid, too late), one a line", "OUTPUT.dead-letters.ndjson"},
      {"state-dir", "DIR", "RocksDB state directory (must be empty)", "a temporary directory"},
      {"quiet", "", "no progress lines", ""},
  };
  const std::string usage = Usage(
      "vigil replay --input EVENTS.ndjson --output ALERTS.ndjson [--rules RULES.json]",
      "Runs the rules over an event file as a bounded stream, by event time, and writes the\n"
      "alerts. At the end of the file every pending window closes. Invalid lines are reported\n"
      "with their line number, skipped and counted; the run goes on.",
      specs);
  Args args;
  if (int code = ParseCommandLine("replay", specs, usage, argc, argv, {"input", "output"}, args);
      code >= 0) {
    return code;
  }
  Result<v1::RulesConfig> config = LoadRulesConfig(args.Get("rules"));
  if (!config.ok()) {
    std::cerr << "vigil replay: " << config.status().message() << "\n";
    return 2;
  }
  ReplayOptions options;
  options.input = args.Get("input");
  options.output = args.Get("output");
  options.dead_letters = args.Has("dead-letters") ? args.Get("dead-letters") : "";
  options.state_dir = args.Has("state-dir") ? args.Get("state-dir") : "";
  options.progress = !args.Has("quiet");
  Result<ReplayReport> report = RunReplay(options, *config);
  if (!report.ok()) {
    std::cerr << "vigil replay: " << report.status().message() << "\n";
    return 2;
  }
  const auto& m = report->metrics;
  std::cerr << "replay: " << report->lines << " lines, " << m.events_total() << " events used ("
            << m.events_in[0] << " roster, " << m.events_in[1] << " access, " << m.events_in[2]
            << " complaints), " << report->skipped << " invalid lines skipped, " << m.too_late
            << " too late, " << m.duplicates << " duplicates, " << m.late_accepted
            << " late but used; " << m.alerts << " alerts in " << report->seconds << " s\n";
  for (const auto& [rule, count] : m.alerts_by_rule) std::cerr << "  " << rule << ": " << count << "\n";
  return 0;
}

}  // namespace vigil
