#include "replay/diff_report.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "json_text.h"

namespace vigil {
namespace {

// A table of text cells: the text output aligns it, the report renders it escaped.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

std::string Number(double value) {
  std::ostringstream out;
  out.precision(15);
  out << value;
  return out.str();
}

std::string Percent(std::optional<double> value) {
  if (!value) return "-";
  char text[16];
  std::snprintf(text, sizeof text, "%.1f%%", *value * 100);
  return text;
}

std::string WindowText(const v1::Alert& alert) {
  return FormatTime(ToMillis(alert.window_start())) + " to " + FormatTime(ToMillis(alert.window_end()));
}

Table RuleTable(const DiffFindings& f) {
  Table t{{"rule", "A", "B", "matched", "only A", "only B", "officers"}, {}};
  for (const auto& [rule, d] : f.diff.rules) {
    t.rows.push_back({rule, std::to_string(d.a), std::to_string(d.b), std::to_string(d.matched),
                      std::to_string(d.only_a), std::to_string(d.only_b), std::to_string(d.officers)});
  }
  return t;
}

Table WeekTable(const DiffFindings& f) {
  Table t{{"rule", "ISO week", "A", "B"}, {}};
  for (const auto& [rule, d] : f.diff.rules) {
    for (const auto& [week, n] : d.weeks) {
      t.rows.push_back({rule, week, std::to_string(n.a), std::to_string(n.b)});
    }
  }
  return t;
}

void AddScoreRow(Table& t, const std::string& rule, const char* set, const RuleLabels& r,
                 const LabelScore& s, uint64_t min_support) {
  std::vector<std::string> row = {rule, set, std::to_string(r.support)};
  if (r.support < min_support) {
    row.push_back("too few labels to judge");
  } else {
    for (auto value : {s.tp, s.fp, s.misses, s.duplicates}) row.push_back(std::to_string(value));
    row.push_back(Percent(s.Precision()));
    row.push_back(Percent(s.Recall()));
  }
  t.rows.push_back(row);
}

Table LabelTable(const DiffFindings& f) {
  Table t{{"rule", "set", "labels", "TP", "FP", "misses", "duplicates", "precision", "recall"}, {}};
  for (const auto& [rule, r] : *f.labels) {
    AddScoreRow(t, rule, "A", r, r.a, f.min_support);
    AddScoreRow(t, rule, "B", r, r.b, f.min_support);
  }
  return t;
}

// Alerts read from topics without --rules: which settings decided them cannot be said.
constexpr char kSettingsUnknown[] = "rule sets unknown (give --rules A --rules B to compare settings)";

std::string SettingsCell(const UnmatchedAlert& u) {
  if (!u.settings_known) return kSettingsUnknown;
  std::string settings;
  for (const auto& s : u.settings) settings += (settings.empty() ? "" : "; ") + s;
  return settings.empty() ? "no setting of the rule differs" : settings;
}

Table UnmatchedTable(const std::vector<UnmatchedAlert>& alerts) {
  Table t{{"rule", "officer", "subject", "window", "score", "summary", "settings A vs B", "why the other did not fire"}, {}};
  for (const auto& u : alerts) {
    t.rows.push_back({u.alert.rule_id(), u.alert.officer_id(), u.alert.subject_id(), WindowText(u.alert),
                      Number(u.alert.score()), u.alert.summary(), SettingsCell(u), u.why});
  }
  return t;
}

// Left-aligned first column, right-aligned numbers; a row with fewer cells than the header ends
// in a note that spans the remaining columns, left-aligned.
std::string AlignedText(const Table& t) {
  std::vector<size_t> width(t.header.size());
  auto spans = [&](const std::vector<std::string>& row, size_t i) {
    return row.size() < t.header.size() && i + 1 == row.size();
  };
  for (size_t i = 0; i < t.header.size(); ++i) width[i] = t.header[i].size();
  for (const auto& row : t.rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (!spans(row, i)) width[i] = std::max(width[i], row[i].size());
    }
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size(); ++i) {
      std::string pad(spans(row, i) ? 0 : width[i] - row[i].size(), ' ');
      out += i == 0 ? row[i] + pad : "  " + (spans(row, i) ? row[i] : pad + row[i]);
    }
    out += "\n";
  };
  emit(t.header);
  for (const auto& row : t.rows) emit(row);
  return out;
}

// The unmatched alerts as blocks: an alert's summary and settings do not fit a column.
std::string UnmatchedText(const char* title, const std::vector<UnmatchedAlert>& alerts, const char* other) {
  std::string out = std::string(title) + " (" + std::to_string(alerts.size()) + "):\n";
  for (const auto& u : alerts) {
    const v1::Alert& a = u.alert;
    out += "  " + a.rule_id() + ": score " + Number(a.score()) + "; officer " + a.officer_id() +
           (a.subject_id().empty() ? "" : ", subject " + a.subject_id()) + ", " + WindowText(a) +
           " (alert " + a.alert_id() + ")\n    " + a.summary() + "\n";
    for (const auto& s : u.settings) out += "    setting " + s + "\n";
    if (!u.settings_known) {
      out += "    settings: " + std::string(kSettingsUnknown) + "\n";
    } else if (u.settings.empty()) {
      out += "    no setting of the rule differs between A and B\n";
    }
    if (!u.why.empty()) out += "    " + std::string(other) + " did not fire: " + u.why + "\n";
  }
  return out;
}

std::string JsonStrings(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + JsonQuote(items[i]);
  return out + "]";
}

std::string UnmatchedJson(const std::vector<UnmatchedAlert>& alerts) {
  std::string out = "[";
  for (size_t i = 0; i < alerts.size(); ++i) {
    const v1::Alert& a = alerts[i].alert;
    out += std::string(i ? "," : "") + "{\"alertId\":" + JsonQuote(a.alert_id()) +
           ",\"ruleId\":" + JsonQuote(a.rule_id()) + ",\"officerId\":" + JsonQuote(a.officer_id()) +
           ",\"subjectId\":" + JsonQuote(a.subject_id()) +
           ",\"windowStart\":" + JsonQuote(FormatTime(ToMillis(a.window_start()))) +
           ",\"windowEnd\":" + JsonQuote(FormatTime(ToMillis(a.window_end()))) +
           ",\"score\":" + Number(a.score()) + ",\"summary\":" + JsonQuote(a.summary()) +
           ",\"settings\":" + (alerts[i].settings_known ? JsonStrings(alerts[i].settings) : "null") + ",\"why\":" + JsonQuote(alerts[i].why) + "}";
  }
  return out + "]";
}

std::string RuleJson(const RuleDiff& d) {
  std::string weeks;
  for (const auto& [week, n] : d.weeks) {
    weeks += (weeks.empty() ? "" : ",") + JsonQuote(week) + ":{\"a\":" + std::to_string(n.a) +
             ",\"b\":" + std::to_string(n.b) + "}";
  }
  return "{\"a\":" + std::to_string(d.a) + ",\"b\":" + std::to_string(d.b) +
         ",\"matched\":" + std::to_string(d.matched) + ",\"onlyA\":" + std::to_string(d.only_a) +
         ",\"onlyB\":" + std::to_string(d.only_b) + ",\"officers\":" + std::to_string(d.officers) +
         ",\"weeks\":{" + weeks + "}}";
}

std::string ScoreJson(const LabelScore& s, bool judged) {
  auto ratio = [&](std::optional<double> v) { return judged && v ? Number(*v) : std::string("null"); };
  return "{\"tp\":" + std::to_string(s.tp) + ",\"fp\":" + std::to_string(s.fp) +
         ",\"misses\":" + std::to_string(s.misses) + ",\"duplicates\":" + std::to_string(s.duplicates) +
         ",\"precision\":" + ratio(s.Precision()) + ",\"recall\":" + ratio(s.Recall()) + "}";
}

std::string LabelsJson(const DiffFindings& f) {
  std::string out;
  for (const auto& [rule, r] : *f.labels) {
    bool judged = r.support >= f.min_support;
    out += (out.empty() ? "" : ",") + JsonQuote(rule) + ":{\"support\":" + std::to_string(r.support) +
           ",\"judged\":" + (judged ? "true" : "false") + ",\"a\":" + ScoreJson(r.a, judged) +
           ",\"b\":" + ScoreJson(r.b, judged) + "}";
  }
  return ",\"minSupport\":" + std::to_string(f.min_support) + ",\"labels\":{" + out + "}";
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string HtmlTable(const Table& t, const std::string& id) {
  std::string out = "<table id=\"" + id + "\"><thead><tr>";
  for (const auto& h : t.header) out += "<th>" + HtmlEscape(h) + "</th>";
  out += "</tr></thead><tbody>\n";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (size_t i = 0; i < row.size(); ++i) {
      bool spans = i + 1 == row.size() && row.size() < t.header.size();
      out += spans ? "<td colspan=\"" + std::to_string(t.header.size() - i) + "\">" : std::string("<td>");
      out += HtmlEscape(row[i]) + "</td>";
    }
    out += "</tr>\n";
  }
  return out + "</tbody></table>\n";
}

// The page's own script only hands the embedded data to Chart.js: one bar chart per rule with
// alerts, A against B, over the same weeks so the charts line up.
constexpr char kPageScript[] = R"JS(
(function () {
  const data = window.vigilDiff;
  const weeks = new Set();
  for (const rule of Object.values(data.rules)) Object.keys(rule.weeks).forEach(w => weeks.add(w));
  const labels = Array.from(weeks).sort();
  const charts = document.getElementById('charts');
  for (const [ruleId, rule] of Object.entries(data.rules)) {
    if (rule.a + rule.b === 0) continue;
    const figure = document.createElement('figure');
    const caption = document.createElement('figcaption');
    caption.textContent = ruleId;
    const canvas = document.createElement('canvas');
    canvas.dataset.rule = ruleId;
    figure.append(caption, canvas);
    charts.append(figure);
    new Chart(canvas, {
      type: 'bar',
      data: {
        labels: labels,
        datasets: [
          {label: 'A', data: labels.map(w => (rule.weeks[w] || {a: 0}).a), backgroundColor: '#1f77b4'},
          {label: 'B', data: labels.map(w => (rule.weeks[w] || {b: 0}).b), backgroundColor: '#ff7f0e'},
        ],
      },
      options: {animation: false, responsive: false,
                scales: {y: {beginAtZero: true, ticks: {precision: 0}}}},
    });
  }
})();
)JS";

constexpr char kStyle[] =
    "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:1.5em}"
    "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td:first-child,th:first-child"
    "{text-align:left}#charts{display:flex;flex-wrap:wrap}figure{margin:0 1em 1em 0}"
    "canvas{width:420px;height:220px}#only-a td,#only-b td{text-align:left}";

std::string PageHtml(const DiffFindings& f) {
  std::string page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<title>vigil diff</title><style>" + std::string(kStyle) + "</style></head><body>\n";
  page += "<h1>vigil diff: A " + HtmlEscape(f.rules_a) + " against B " + HtmlEscape(f.rules_b) + "</h1>\n";
  page += "<h2>Alerts per rule</h2>\n" + HtmlTable(RuleTable(f), "rules");
  page += "<h2>Alerts per ISO week (window end), A against B</h2>\n<div id=\"charts\"></div>\n";
  if (f.labels) page += "<h2>Against the labels</h2>\n" + HtmlTable(LabelTable(f), "labels");
  page += "<h2>Only under A</h2>\n" + HtmlTable(UnmatchedTable(f.diff.only_a), "only-a");
  page += "<h2>Only under B</h2>\n" + HtmlTable(UnmatchedTable(f.diff.only_b), "only-b");
  page += "<script src=\"chart.js\"></script>\n<script src=\"diff-data.js\"></script>\n<script>";
  return page + kPageScript + "</script>\n</body></html>\n";
}

Status WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc | std::ios::binary);
  out << text;
  out.close();
  return out ? Status::Ok() : Status::Error("cannot write " + path.string());
}

}  // namespace

std::string DiffText(const DiffFindings& f) {
  std::string out = "A: " + f.rules_a + "\nB: " + f.rules_b + "\n\n" + AlignedText(RuleTable(f));
  out += "\nalerts per ISO week (window end):\n" + AlignedText(WeekTable(f));
  if (f.labels) {
    out += "\nagainst the labels (at least " + std::to_string(f.min_support) +
           " labelled cases a rule to judge):\n" + AlignedText(LabelTable(f));
  }
  out += "\n" + UnmatchedText("only under A", f.diff.only_a, "B");
  return out + "\n" + UnmatchedText("only under B", f.diff.only_b, "A");
}

std::string DiffJson(const DiffFindings& f) {
  std::string rules;
  for (const auto& [rule, d] : f.diff.rules) rules += (rules.empty() ? "" : ",") + JsonQuote(rule) + ":" + RuleJson(d);
  return "{\"rules\":{" + rules + "},\"onlyA\":" + UnmatchedJson(f.diff.only_a) +
         ",\"onlyB\":" + UnmatchedJson(f.diff.only_b) + (f.labels ? LabelsJson(f) : "") + "}";
}

Status WriteDiffReport(const DiffFindings& findings, const std::string& dir, const std::string& chart_js) {
  std::ifstream chart(chart_js, std::ios::binary);
  if (!chart) {
    return Status::Error("--report needs Chart.js at " + chart_js +
                         ": install Debian's libjs-chart.js (deploy/install-deps.sh does)");
  }
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Status::Error("cannot create report directory " + dir + ": " + error.message());
  const std::filesystem::path root(dir);
  std::stringstream library;
  library << chart.rdbuf();
  Status status = WriteFile(root / "chart.js", library.str());
  if (status.ok()) status = WriteFile(root / "diff-data.js", "window.vigilDiff = " + DiffJson(findings) + ";\n");
  if (status.ok()) status = WriteFile(root / "index.html", PageHtml(findings));
  return status;
}

}  // namespace vigil
