// `vigil diff`: option parsing and outputs around ReplayBoth, ReplayBothFromKafka, ReadAlertTopic,
// CompareAlerts and ScoreLabels
// (engine/replay/diff.h) and the renderings of engine/replay/diff_report.h.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <optional>

#include "cli.h"
#include "commands.h"
#include "replay/diff.h"
#include "replay/diff_report.h"
#include "event.h"
#include "replay/replay_kafka.h"
#include "rules_config.h"

namespace vigil {
namespace {

const std::vector<OptionSpec> kSpecs = {
    {"rules", "RULES.json", "give it twice: rule set A, then rule set B (see `vigil rules --defaults`; "
                            "an empty name '' means the defaults)", ""},
    {"input", "EVENTS.ndjson", "the history: an event file, one {\"roster\"|\"access\"|\"complaint\": {...}} a line", ""},
    {"brokers", "HOST:PORT", "the history from Kafka's input topics (or, with --alerts-topics, the alerts "
                             "on two alert topics), with --from and --to", ""},
    {"from", "TIME", "with --brokers: first event time of the range (RFC 3339, inclusive)", ""},
    {"to", "TIME", "with --brokers: last event time of the range (RFC 3339, inclusive)", ""},
    {"alerts-topics", "LIVE SHADOW", "with --brokers: compare the alerts already on these two topics (A, B) "
                                     "whose window end lies in [from, to] instead of running rules; --rules "
                                     "optional, for the settings columns", "vigil.alerts vigil.alerts.shadow"},
    {"labels", "LABELS.ndjson", "outcomes of past reviews, one {\"alertId\",\"officerId\",\"ruleId\",\"outcome\","
                                "\"label\"} a line (`vigil consume --topic vigil.reviews --labels`), or "
                                "{\"officerId\",\"ruleId\",\"label\"} for an officer and rule", ""},
    {"min-support", "N", "labelled cases a rule needs before precision and recall are shown", "5"},
    {"json", "FILE", "also write the figures as JSON", ""},
    {"report", "DIR", "also write an HTML report: DIR/index.html, diff-data.js and chart.js (from "
                      "Debian's libjs-chart.js)", ""},
    {"quiet", "", "no progress lines", ""},
};

const char kDescription[] =
    "Runs rule sets A and B over the same history in one pass (each with its own temporary\n"
    "state) and prints, per rule: alerts under A, under B, matched, only under A, only under B,\n"
    "officers affected (an alert under either), and alerts per ISO week of the window end under\n"
    "each: the review queue the change would create. Then every alert only under A or only\n"
    "under B, with its summary and score, the rule's settings that differ between A and B, and,\n"
    "when the settings show it, why the other set did not fire (a threshold above the score).\n"
    "\n"
    "Matching: an alert under A and one under B are the same case when they have the same rule,\n"
    "officer and subject (subject_id, may be empty) and their windows [window_start, window_end]\n"
    "overlap (touching counts); an identical alert_id is the trivial case. Each alert matches at\n"
    "most one: pairs are taken greedily, identical ids first, then the largest overlap, ties in\n"
    "window order. So a lower threshold that fires earlier, on fewer events of the same pattern,\n"
    "is the same case, as a reviewer would see it.\n"
    "\n"
    "With --labels, per rule and set: true positives (true_positive cases alerted), false\n"
    "positives (false_positive cases alerted), misses (true_positive cases not alerted),\n"
    "duplicates alerted (outside precision and recall), precision and recall; a label with an\n"
    "alertId judges that alert and the alert matched to it in the other set, one without judges\n"
    "every alert of its rule for its officer. Below --min-support labelled cases (true_positive\n"
    "and false_positive) of a rule it says \"too few labels to judge\".\n"
    "\n"
    "From Kafka (--brokers, --from, --to; TIME in RFC 3339): one pass over the input topics'\n"
    "events in [from, to] for both sets, exactly as `vigil replay --brokers` reads them, with the\n"
    "wider of A's and B's lateness and maxOutOfOrderness as reading margins; its own consumer by\n"
    "assignment (no group, no commits) and its own temporary state, so a live engine is untouched.\n"
    "\n"
    "Live against shadow (--alerts-topics, alone for vigil.alerts and vigil.alerts.shadow, where\n"
    "`vigil run --shadow-rules` publishes): no rules run; the alerts on the first topic (A) and\n"
    "the second (B) whose window end lies in [from, to], each topic read from its beginning to\n"
    "its end as it was at start, an alert id counted once. Matching, tables, --json, --labels and\n"
    "--report as above; the settings columns say the rule sets are unknown unless --rules A\n"
    "--rules B are given too.";

// What Args cannot hold (it keeps one value an option), taken out of argv before parsing:
// --rules, given twice, and --alerts-topics, followed by none or two topic names.
struct MultiValues {
  std::vector<std::string> rules;
  std::optional<std::vector<std::string>> alerts_topics;
};

std::vector<char*> TakeMultiValues(int argc, char** argv, MultiValues& out) {
  std::vector<char*> rest(argv, argv + std::min(argc, 2));
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--rules=", 0) == 0) {
      out.rules.push_back(arg.substr(8));
    } else if (arg == "--rules" && i + 1 < argc) {
      out.rules.push_back(argv[++i]);
    } else if (arg == "--alerts-topics") {
      out.alerts_topics.emplace();
      while (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) out.alerts_topics->push_back(argv[++i]);
    } else {
      rest.push_back(argv[i]);  // a trailing --rules without a value is reported by the parser
    }
  }
  return rest;
}

Result<v1::RulesConfig> LoadSet(const std::string& path, const char* name) {
  Result<v1::RulesConfig> config = LoadRulesConfig(path);
  if (!config.ok()) return Status::Error("rule set " + std::string(name) + ": " + config.status().message());
  return config;
}

Status ReadLabels(const std::string& path, std::optional<std::vector<Label>>& out) {
  if (path.empty()) return Status::Ok();
  std::ifstream in(path);
  if (!in) return Status::Error("cannot read --labels file " + path);
  Result<std::vector<Label>> labels = ParseLabels(in, path);
  if (!labels.ok()) return labels.status();
  out = std::move(*labels);
  return Status::Ok();
}

Status CheckSource(const Args& args, const MultiValues& multi) {
  if (args.Has("alerts-topics")) {  // --alerts-topics=X reached the parser: one word, not two
    return Status::Error("give --alerts-topics LIVE SHADOW as separate words, or alone for the defaults");
  }
  const bool topics = multi.alerts_topics.has_value();
  if (topics && multi.alerts_topics->size() != 0 && multi.alerts_topics->size() != 2) {
    return Status::Error("--alerts-topics takes two topics (A, then B) or none for vigil.alerts "
                         "vigil.alerts.shadow, got " + std::to_string(multi.alerts_topics->size()));
  }
  const size_t rules = multi.rules.size();
  if (rules != 2 && !(topics && rules == 0)) {
    return Status::Error("--rules must be given exactly twice (A, then B), got " + std::to_string(rules));
  }
  if (args.Has("input")) {
    if (args.Has("brokers") || args.Has("from") || args.Has("to") || topics) {
      return Status::Error("give either --input or --brokers with --from and --to, not both");
    }
    return Status::Ok();
  }
  if (!args.Has("brokers") || !args.Has("from") || !args.Has("to")) {
    return Status::Error("give --input EVENTS.ndjson, or --brokers B --from T --to T");
  }
  return Status::Ok();
}

// The two sets of alerts to compare, and what each is.
struct Sides {
  std::vector<v1::Alert> a, b;
  std::string name_a, name_b;
};

std::string SetName(const std::string& rules_file) { return rules_file.empty() ? "(defaults)" : rules_file; }

Result<Sides> FromFile(const Args& args, const std::vector<std::string>& rules, const v1::RulesConfig& a,
                       const v1::RulesConfig& b) {
  std::ifstream in(args.Get("input"));
  if (!in) return Status::Error("cannot read --input file " + args.Get("input"));
  DiffReplay replay = ReplayBoth(in, args.Get("input"), a, b, !args.Has("quiet"));
  std::cerr << "diff: " << replay.lines << " lines, " << replay.skipped << " invalid lines skipped; "
            << replay.a.size() << " alerts under A, " << replay.b.size() << " under B\n";
  return Sides{std::move(replay.a), std::move(replay.b), SetName(rules[0]), SetName(rules[1])};
}

Result<Sides> FromKafka(const Args& args, const TimeRange& range, const std::vector<std::string>& rules,
                        const v1::RulesConfig& a, const v1::RulesConfig& b) {
  KafkaRangeOptions options;
  options.brokers = args.Get("brokers");
  options.from = range.from;
  options.to = range.to;
  if (!args.Has("quiet")) options.progress = StderrProgress("diff", range.from, range.to);
  Result<DiffReplay> replay = ReplayBothFromKafka(options, a, b);
  if (!replay.ok()) return replay.status();
  std::cerr << "diff: " << replay->lines << " records read, " << replay->skipped << " invalid records in "
            << "the range; " << replay->a.size() << " alerts under A, " << replay->b.size() << " under B\n";
  return Sides{std::move(replay->a), std::move(replay->b), SetName(rules[0]), SetName(rules[1])};
}

std::string TopicSetName(const std::string& topic, const TopicAlerts& read, const std::string* rules) {
  std::string versions;
  for (const auto& v : read.rules_versions) versions += (versions.empty() ? "" : ", ") + (v.empty() ? "none" : v);
  return "alerts on " + topic + " (rules versions: " + (versions.empty() ? "-" : versions) + "); settings " +
         (rules ? "from " + SetName(*rules) : "unknown");
}

Result<Sides> FromAlertTopics(const Args& args, const TimeRange& range, const MultiValues& multi) {
  const Topics defaults;
  std::vector<std::string> topics = multi.alerts_topics->empty()
                                        ? std::vector<std::string>{defaults.alerts, defaults.alerts_shadow}
                                        : *multi.alerts_topics;
  Sides sides;
  for (size_t i = 0; i < 2; ++i) {
    Result<TopicAlerts> read = ReadAlertTopic(args.Get("brokers"), topics[i], range.from, range.to);
    if (!read.ok()) return read.status();
    std::cerr << "diff: " << topics[i] << ": " << read->records << " records, " << read->alerts.size()
              << " alerts in the range, " << read->outside << " outside it, " << read->duplicates
              << " repeated ids, " << read->invalid << " not alerts\n";
    const std::string* rules = multi.rules.empty() ? nullptr : &multi.rules[i];
    (i == 0 ? sides.name_a : sides.name_b) = TopicSetName(topics[i], *read, rules);
    (i == 0 ? sides.a : sides.b) = std::move(read->alerts);
  }
  return sides;
}

Status WriteOutputs(const DiffFindings& findings, const Args& args) {
  std::cout << DiffText(findings);
  if (args.Has("json")) {
    std::ofstream json(args.Get("json"), std::ios::trunc);
    json << DiffJson(findings) << "\n";
    json.close();
    if (!json) return Status::Error("cannot write --json file " + args.Get("json"));
  }
  if (args.Has("report")) return WriteDiffReport(findings, args.Get("report"));
  return Status::Ok();
}

int Fail(const Status& status, int code) {
  std::cerr << "vigil diff: " << status.message() << "\n";
  return code;
}

}  // namespace

int DiffCommand(int argc, char** argv) {
  const std::string usage = Usage(
      "vigil diff --rules A.json --rules B.json (--input EVENTS.ndjson | --brokers B --from T --to T)\n"
      "           [--labels LABELS.ndjson] [--min-support N] [--json FILE] [--report DIR]\n"
      "       vigil diff --brokers B --from T --to T --alerts-topics [LIVE SHADOW]\n"
      "           [--rules A.json --rules B.json] [--labels ...] [--json FILE] [--report DIR]",
      kDescription, kSpecs);
  MultiValues multi;
  std::vector<char*> rest = TakeMultiValues(argc, argv, multi);
  Args args;
  if (int code = ParseCommandLine("diff", kSpecs, usage, static_cast<int>(rest.size()), rest.data(), {}, args);
      code >= 0) {
    return code;
  }
  if (Status source = CheckSource(args, multi); !source.ok()) return Fail(source, 2);
  Result<long long> min_support = args.GetInt("min-support", 0, 1000000);
  if (!min_support.ok()) return Fail(min_support.status(), 2);
  std::optional<v1::RulesConfig> a, b;
  if (!multi.rules.empty()) {
    Result<v1::RulesConfig> loaded_a = LoadSet(multi.rules[0], "A");
    if (!loaded_a.ok()) return Fail(loaded_a.status(), 2);
    Result<v1::RulesConfig> loaded_b = LoadSet(multi.rules[1], "B");
    if (!loaded_b.ok()) return Fail(loaded_b.status(), 2);
    a = *loaded_a;
    b = *loaded_b;
  }
  std::optional<std::vector<Label>> labels;
  if (Status read = ReadLabels(args.Get("labels"), labels); !read.ok()) return Fail(read, 2);
  Result<TimeRange> range = TimeRange{};
  if (!args.Has("input")) range = ParseTimeRange(args.Get("from"), args.Get("to"));
  if (!range.ok()) return Fail(range.status(), 2);

  Result<Sides> sides = args.Has("input")         ? FromFile(args, multi.rules, *a, *b)
                        : multi.alerts_topics     ? FromAlertTopics(args, *range, multi)
                                                  : FromKafka(args, *range, multi.rules, *a, *b);
  if (!sides.ok()) return Fail(sides.status(), 1);
  DiffFindings findings;
  findings.diff = a ? CompareAlerts(sides->a, sides->b, *a, *b) : CompareAlerts(sides->a, sides->b);
  if (labels) findings.labels = ScoreLabels(*labels, sides->a, sides->b, findings.diff.matches);
  findings.min_support = static_cast<uint64_t>(*min_support);
  findings.rules_a = sides->name_a;
  findings.rules_b = sides->name_b;
  if (Status written = WriteOutputs(findings, args); !written.ok()) return Fail(written, 1);
  return 0;
}

}  // namespace vigil
