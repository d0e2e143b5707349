// Declarative scenarios (tests/scenarios/README.md): every <name>.events.ndjson in tests/scenarios
// (not shared/) is replayed with <name>.rules.json if present (else the defaults), and its alerts
// must equal <name>.alerts.ndjson on (ruleId, officerId, subjectId, severity, windowStart,
// windowEnd), as multisets.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

namespace vigil::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kScenarioDir = fs::path(VIGIL_SOURCE_DIR) / "tests" / "scenarios";
constexpr char kEventsSuffix[] = ".events.ndjson";

struct Scenario {
  std::string name;
  fs::path events, alerts, rules;  // rules empty when the scenario uses the defaults
};

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<Scenario> DiscoverScenarios() {
  std::vector<Scenario> found;
  for (const auto& entry : fs::directory_iterator(kScenarioDir)) {  // not recursive: shared/ excluded
    const std::string file = entry.path().filename().string();
    if (!entry.is_regular_file() || !EndsWith(file, kEventsSuffix)) continue;
    Scenario s;
    s.name = file.substr(0, file.size() - std::string(kEventsSuffix).size());
    s.events = entry.path();
    s.alerts = kScenarioDir / (s.name + ".alerts.ndjson");
    fs::path rules = kScenarioDir / (s.name + ".rules.json");
    if (fs::exists(rules)) s.rules = rules;
    found.push_back(s);
  }
  std::sort(found.begin(), found.end(), [](const Scenario& a, const Scenario& b) { return a.name < b.name; });
  return found;
}

// One alert as the comparison key, readable in a diff.
std::string Key(const v1::Alert& a) {
  return a.rule_id() + " officer=" + a.officer_id() + " subject=" + a.subject_id() +
         " severity=" + v1::Alert::Severity_Name(a.severity()) + " window=[" +
         FormatTime(ToMillis(a.window_start())) + ", " + FormatTime(ToMillis(a.window_end())) + "]";
}

std::vector<std::string> Keys(const std::vector<v1::Alert>& alerts) {
  std::vector<std::string> keys;
  for (const auto& a : alerts) keys.push_back(Key(a));
  std::sort(keys.begin(), keys.end());
  return keys;
}

// "" when equal; otherwise the lines missing and unexpected.
std::string Diff(const std::vector<std::string>& expected, const std::vector<std::string>& got) {
  std::vector<std::string> missing, unexpected;
  std::set_difference(expected.begin(), expected.end(), got.begin(), got.end(), std::back_inserter(missing));
  std::set_difference(got.begin(), got.end(), expected.begin(), expected.end(), std::back_inserter(unexpected));
  if (missing.empty() && unexpected.empty()) return "";
  std::string out = "expected " + std::to_string(expected.size()) + " alerts, got " +
                    std::to_string(got.size()) + "\n";
  for (const auto& k : missing) out += "  - missing:    " + k + "\n";
  for (const auto& k : unexpected) out += "  + unexpected: " + k + "\n";
  return out;
}

}  // namespace

TEST_CASE("scenarios: every tests/scenarios/*.events.ndjson gives its expected alerts") {
  const std::vector<Scenario> scenarios = DiscoverScenarios();
  REQUIRE(scenarios.size() >= 4);
  for (const auto& s : scenarios) {
    INFO("scenario " << s.name << (s.rules.empty() ? " (default rules)" : " (with " + s.rules.filename().string() + ")"));
    REQUIRE_MESSAGE(fs::exists(s.alerts), "missing " << s.alerts.string());
    Harness h(s.rules.empty() ? "{}" : ReadFile(s.rules));
    for (const auto& line : ReadLines(s.events.string())) h.Feed(line);
    h.Finish();
    const std::string diff = Diff(Keys(ReadAlerts(s.alerts.string())), Keys(h.alerts()));
    CHECK_MESSAGE(diff.empty(), "scenario " << s.name << ": " << diff);
  }
}

TEST_CASE("scenarios: the comparison sees a difference in any compared field") {
  v1::Alert a;
  a.set_rule_id("repeated_subject_lookup");
  a.set_officer_id("MP1");
  a.set_subject_id("P1");
  a.set_severity(v1::Alert::MEDIUM);
  *a.mutable_window_start() = ToTimestamp(1000);
  *a.mutable_window_end() = ToTimestamp(2000);
  const std::string base = Key(a);
  auto differs = [&](auto change) {
    v1::Alert b = a;
    change(b);
    return Key(b) != base;
  };
  CHECK(differs([](v1::Alert& b) { b.set_rule_id("complainant_lookup"); }));
  CHECK(differs([](v1::Alert& b) { b.set_officer_id("MP2"); }));
  CHECK(differs([](v1::Alert& b) { b.set_subject_id("P2"); }));
  CHECK(differs([](v1::Alert& b) { b.set_severity(v1::Alert::HIGH); }));
  CHECK(differs([](v1::Alert& b) { *b.mutable_window_start() = ToTimestamp(1001); }));
  CHECK(differs([](v1::Alert& b) { *b.mutable_window_end() = ToTimestamp(1999); }));
  CHECK_FALSE(differs([](v1::Alert& b) { b.set_alert_id("other"); b.set_summary("other"); }));
  // Multisets: a duplicated alert is a difference.
  CHECK_FALSE(Diff({base}, {base, base}).empty());
  CHECK(Diff({base}, {base}).empty());
}

}  // namespace vigil::testing
