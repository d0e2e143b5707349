#include <iostream>

#include "cli.h"
#include "commands.h"
#include "replay/replay.h"
#include "replay/replay_kafka.h"
#include "rules_config.h"

namespace vigil {
namespace {

const char kSynopsis[] =
    "vigil replay --input EVENTS.ndjson --output ALERTS.ndjson [--rules RULES.json]\n"
    "       vigil replay --brokers B --from TIME --to TIME [--rules RULES.json]\n"
    "                    (--output ALERTS.ndjson | --alerts-topic TOPIC)";

const char kDescription[] =
    "Runs the rules over history as a bounded stream, by event time, and writes the alerts;\n"
    "at the end every pending window closes. Every alert names the rules version (see\n"
    "`vigil rules --check`).\n"
    "\n"
    "From a file (--input): invalid lines are reported with their line number, skipped and\n"
    "counted; the run goes on.\n"
    "\n"
    "From Kafka (--brokers, --from, --to; TIME in RFC 3339, e.g. 2026-03-01T00:00:00Z): uses\n"
    "exactly the events of the input topics whose event time lies in [from, to], and gives the\n"
    "alerts a file replay of those events gives (same ids, same fields), sorted by window end.\n"
    "Each partition is read from the first record stamped at or after --from minus the stream's\n"
    "allowed lateness (`vigil produce` stamps records with their event time) until a record past\n"
    "--to plus allowed lateness plus maxOutOfOrderness, or the partition's end when the replay\n"
    "started. It runs beside a live engine without touching it: its own consumer by assignment\n"
    "(no consumer group joined, no offsets committed) and its own temporary state; it writes to\n"
    "no topic unless --alerts-topic names one (naming the live alert topic publishes there).\n"
    "Invalid records stamped within the range go to the dead-letter file.";

const std::vector<OptionSpec> kSpecs = {
    {"input", "EVENTS.ndjson", "event file: one {\"roster\"|\"access\"|\"complaint\": {...}} a line", ""},
    {"brokers", "HOST:PORT", "replay the input topics from these Kafka brokers instead of a file", ""},
    {"from", "TIME", "with --brokers: first event time of the range (RFC 3339, inclusive)", ""},
    {"to", "TIME", "with --brokers: last event time of the range (RFC 3339, inclusive)", ""},
    {"output", "ALERTS.ndjson", "where to write the alerts, one a line", ""},
    {"alerts-topic", "TOPIC", "with --brokers: publish the alerts to this topic (keyed by officer)", ""},
    {"rules", "RULES.json", "rules file (see `vigil rules --defaults`); defaults if absent", ""},
    {"dead-letters", "FILE", "records not used (invalid, too late), one a line", "OUTPUT.dead-letters.ndjson"},
    {"state-dir", "DIR", "RocksDB state directory (must be empty)", "a temporary directory"},
    {"quiet", "", "no progress on stderr", ""},
};

void PrintMetrics(const ProcessorMetrics& m, const std::string& rules_version) {
  std::cerr << m.too_late << " too late, " << m.duplicates << " duplicates, " << m.late_accepted
            << " late but used; " << m.alerts << " alerts (rules version " << rules_version << ")";
}

void PrintByRule(const ProcessorMetrics& m) {
  for (const auto& [rule, count] : m.alerts_by_rule) std::cerr << "  " << rule << ": " << count << "\n";
}

int FromFile(const Args& args, const v1::RulesConfig& config, const std::string& usage) {
  if (!args.Has("output") || args.Has("alerts-topic") || args.Has("from") || args.Has("to")) {
    std::cerr << "vigil replay: --input needs --output (--from, --to and --alerts-topic go with "
                 "--brokers)\n\n" << usage;
    return 2;
  }
  ReplayOptions options;
  options.input = args.Get("input");
  options.output = args.Get("output");
  options.dead_letters = args.Has("dead-letters") ? args.Get("dead-letters") : "";
  options.state_dir = args.Has("state-dir") ? args.Get("state-dir") : "";
  options.progress = !args.Has("quiet");
  Result<ReplayReport> report = RunReplay(options, config);
  if (!report.ok()) {
    std::cerr << "vigil replay: " << report.status().message() << "\n";
    return 2;
  }
  const auto& m = report->metrics;
  std::cerr << "replay: " << report->lines << " lines, " << m.events_total() << " events used ("
            << m.events_in[0] << " roster, " << m.events_in[1] << " access, " << m.events_in[2]
            << " complaints), " << report->skipped << " invalid lines skipped, ";
  PrintMetrics(m, RulesVersion(config));
  std::cerr << " in " << report->seconds << " s\n";
  PrintByRule(m);
  return 0;
}

int FromKafka(const Args& args, const v1::RulesConfig& config, const std::string& usage) {
  if (!args.Has("from") || !args.Has("to") || (!args.Has("output") && !args.Has("alerts-topic"))) {
    std::cerr << "vigil replay: --brokers needs --from, --to and --output or --alerts-topic\n\n" << usage;
    return 2;
  }
  KafkaReplayOptions options;
  options.range.brokers = args.Get("brokers");
  Result<TimeRange> range = ParseTimeRange(args.Get("from"), args.Get("to"));
  if (!range.ok()) {
    std::cerr << "vigil replay: " << range.status().message() << "\n";
    return 2;
  }
  options.range.from = range->from;
  options.range.to = range->to;
  if (!args.Has("quiet")) options.range.progress = StderrProgress("replay", range->from, range->to);
  options.output = args.Has("output") ? args.Get("output") : "";
  options.alerts_topic = args.Has("alerts-topic") ? args.Get("alerts-topic") : "";
  const Topics& topics = options.range.topics;
  for (const std::string* input : {&topics.roster, &topics.access, &topics.complaints}) {
    if (options.alerts_topic == *input) {
      std::cerr << "vigil replay: --alerts-topic " << *input << " is an input topic\n";
      return 2;
    }
  }
  options.dead_letters = args.Has("dead-letters") ? args.Get("dead-letters") : "";
  options.state_dir = args.Has("state-dir") ? args.Get("state-dir") : "";
  Result<KafkaReplayReport> report = RunKafkaReplay(options, config);
  if (!report.ok()) {
    std::cerr << "vigil replay: " << report.status().message() << "\n";
    return 1;
  }
  const RangeReport& r = report->range;
  std::cerr << "replay: " << r.records << " records read from " << r.partitions << " partitions, "
            << r.events << " events in the range, " << r.outside << " outside it, " << r.invalid
            << " invalid; ";
  PrintMetrics(report->metrics, report->rules_version);
  std::cerr << " in " << r.seconds << " s\n";
  PrintByRule(report->metrics);
  return 0;
}

}  // namespace

int ReplayCommand(int argc, char** argv) {
  const std::string usage = Usage(kSynopsis, kDescription, kSpecs);
  Args args;
  if (int code = ParseCommandLine("replay", kSpecs, usage, argc, argv, {}, args); code >= 0) {
    return code;
  }
  if (args.Has("input") == args.Has("brokers")) {
    std::cerr << "vigil replay: give exactly one of --input and --brokers\n\n" << usage;
    return 2;
  }
  Result<v1::RulesConfig> config = LoadRulesConfig(args.Get("rules"));
  if (!config.ok()) {
    std::cerr << "vigil replay: " << config.status().message() << "\n";
    return 2;
  }
  return args.Has("input") ? FromFile(args, *config, usage) : FromKafka(args, *config, usage);
}

}  // namespace vigil
