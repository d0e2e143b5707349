// The outputs of `vigil diff`: the aligned text on stdout, the --json document and the --report
// HTML page. All three are drawn from the same tables, so they always agree.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "replay/diff.h"
#include "status.h"

namespace vigil {

// Where Debian's libjs-chart.js (Chart.js 3.9.1) puts the library the report copies.
inline constexpr char kChartJsPath[] = "/usr/share/javascript/chart.js/chart.min.js";

struct DiffFindings {
  DiffResult diff;
  std::optional<std::map<std::string, RuleLabels>> labels;  // with --labels
  uint64_t min_support = 5;  // fewer labelled cases of a rule: "too few labels to judge"
  std::string rules_a, rules_b;  // the rules files, as named on the command line
};

// Per-rule table, alerts per ISO week, label figures, then every only-A and only-B alert.
std::string DiffText(const DiffFindings& findings);

// {"rules": {"<rule_id>": {"a","b","matched","onlyA","onlyB","officers","weeks": {"2026-W03":
// {"a","b"}}}}, "onlyA": [...], "onlyB": [...]} (each unmatched alert's "settings" null when
// the rule sets are unknown) and, with labels, "minSupport" and "labels":
// {"<rule_id>": {"support", "judged", "a": {"tp","fp","misses","duplicates","precision",
// "recall"}, "b": {...}}} (precision and recall null when not judged or undefined).
std::string DiffJson(const DiffFindings& findings);

// Writes dir/index.html, dir/diff-data.js (the DiffJson document the page loads) and
// dir/chart.js (a copy of `chart_js`). The page has no external URL and every text is escaped.
Status WriteDiffReport(const DiffFindings& findings, const std::string& dir,
                       const std::string& chart_js = kChartJsPath);

}  // namespace vigil
