// `vigil diff`: option parsing and outputs around ReplayBoth, CompareAlerts and ScoreLabels
// (engine/diff.h) and the renderings of engine/diff_report.h.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <optional>

#include "cli.h"
#include "commands.h"
#include "diff.h"
#include "diff_report.h"
#include "rules_config.h"

namespace vigil {
namespace {

const std::vector<OptionSpec> kSpecs = {
    {"rules", "RULES.json", "give it twice: rule set A, then rule set B (see `vigil rules --defaults`; "
                            "an empty name '' means the defaults)", ""},
    {"input", "EVENTS.ndjson", "the history: an event file, one {\"roster\"|\"access\"|\"complaint\": {...}} a line", ""},
    {"brokers", "HOST:PORT", "the history from Kafka's input topics, with --from and --to (not yet supported)", ""},
    {"from", "TIME", "RFC 3339 start of the history read from Kafka (not yet supported)", ""},
    {"to", "TIME", "RFC 3339 end of the history read from Kafka (not yet supported)", ""},
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
    "and false_positive) of a rule it says \"too few labels to judge\".";

// Args keeps one value an option; --rules is given twice, so it is taken out of argv first.
std::vector<char*> TakeRules(int argc, char** argv, std::vector<std::string>& rules) {
  std::vector<char*> rest(argv, argv + std::min(argc, 2));
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--rules=", 0) == 0) {
      rules.push_back(arg.substr(8));
    } else if (arg == "--rules" && i + 1 < argc) {
      rules.push_back(argv[++i]);
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

Status CheckSource(const Args& args) {
  if (args.Has("brokers") || args.Has("from") || args.Has("to")) {
    return Status::Error("--brokers/--from/--to: reading the history from Kafka is not yet supported "
                         "by vigil diff; replay the events from a file with --input");
  }
  if (!args.Has("input")) return Status::Error("--input EVENTS.ndjson is required");
  return Status::Ok();
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
      "           [--labels LABELS.ndjson] [--min-support N] [--json FILE] [--report DIR]",
      kDescription, kSpecs);
  std::vector<std::string> rules;
  std::vector<char*> rest = TakeRules(argc, argv, rules);
  Args args;
  if (int code = ParseCommandLine("diff", kSpecs, usage, static_cast<int>(rest.size()), rest.data(), {}, args);
      code >= 0) {
    return code;
  }
  if (rules.size() != 2) {
    return Fail(Status::Error("--rules must be given exactly twice (A, then B), got " +
                              std::to_string(rules.size())), 2);
  }
  if (Status source = CheckSource(args); !source.ok()) return Fail(source, 2);
  Result<long long> min_support = args.GetInt("min-support", 0, 1000000);
  if (!min_support.ok()) return Fail(min_support.status(), 2);
  Result<v1::RulesConfig> a = LoadSet(rules[0], "A");
  if (!a.ok()) return Fail(a.status(), 2);
  Result<v1::RulesConfig> b = LoadSet(rules[1], "B");
  if (!b.ok()) return Fail(b.status(), 2);
  std::optional<std::vector<Label>> labels;
  if (Status read = ReadLabels(args.Get("labels"), labels); !read.ok()) return Fail(read, 2);
  std::ifstream in(args.Get("input"));
  if (!in) return Fail(Status::Error("cannot read --input file " + args.Get("input")), 2);

  DiffReplay replay = ReplayBoth(in, args.Get("input"), *a, *b, !args.Has("quiet"));
  DiffFindings findings;
  findings.diff = CompareAlerts(replay.a, replay.b, *a, *b);
  if (labels) findings.labels = ScoreLabels(*labels, replay.a, replay.b, findings.diff.matches);
  findings.min_support = static_cast<uint64_t>(*min_support);
  findings.rules_a = rules[0].empty() ? "(defaults)" : rules[0];
  findings.rules_b = rules[1].empty() ? "(defaults)" : rules[1];
  std::cerr << "diff: " << replay.lines << " lines, " << replay.skipped << " invalid lines skipped; "
            << replay.a.size() << " alerts under A, " << replay.b.size() << " under B\n";
  if (Status written = WriteOutputs(findings, args); !written.ok()) return Fail(written, 1);
  return 0;
}

}  // namespace vigil
