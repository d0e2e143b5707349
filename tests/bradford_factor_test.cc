// bradford_factor (contract, rule 9): sick days (12:00 covered by an effective SICK shift as of
// 12:00 + roster grace), spells, B = S x S x D over days d-364 .. d, alert when B >= 250 unless
// alerted on a day after d - 90; the window is day d.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "harness.h"

namespace vigil::testing {
namespace {

constexpr char kRule[] = "bradford_factor";
const Millis kDay0 = ParseTime("2026-01-05T00:00:00Z").value();

std::string At(int day, double hours) {
  return FormatTime(kDay0 + day * kDay + static_cast<Millis>(hours * kHour));
}
// A SICK shift on `day` from `start` to `end` hours, recorded the evening before unless `changed`.
std::string Sick(int day, double start = 8, double end = 16, std::string changed = "",
                 const std::string& status = "SICK", const std::string& id = "") {
  if (changed.empty()) changed = At(day - 1, 20);
  const std::string n = std::to_string(day);
  return Roster(id.empty() ? "r" + n + status : id, "MP1", "S" + n, status, At(day, start),
                At(day, end), changed);
}
// Spells of `length` days starting on each of `starts`.
std::vector<std::string> Spells(const std::vector<int>& starts, int length = 2) {
  std::vector<std::string> lines;
  for (int s : starts) {
    for (int d = s; d < s + length; ++d) lines.push_back(Sick(d));
  }
  return lines;
}

std::vector<v1::Alert> Run(const std::vector<std::string>& lines, const std::string& rules = "{}") {
  return ReplayRule(kRule, lines, rules);
}

const std::string kThreshold1 = R"({"bradfordFactor": {"threshold": 1}})";

}  // namespace

TEST_CASE("bradford_factor: five two-day spells reach 250 on the tenth sick day") {
  auto alerts = Run(Spells({0, 10, 20, 30, 40}));
  REQUIRE(alerts.size() == 1);
  const auto& a = alerts[0];
  CHECK(a.kind() == v1::Alert::WELFARE);
  CHECK(a.severity() == v1::Alert::LOW);
  CHECK(ToMillis(a.window_start()) == kDay0 + 41 * kDay);
  CHECK(ToMillis(a.window_end()) == kDay0 + 42 * kDay);
  CHECK(a.score() == 250);
  CHECK(a.evidence_size() == 10);
  CHECK(a.summary().find("Bradford factor of 250") != std::string::npos);
  CHECK(a.summary().find("5 spells, 10 sick days") != std::string::npos);
  // Four two-day spells and a one-day spell: B = 25 x 9 = 225.
  auto lines = Spells({0, 10, 20, 30});
  lines.push_back(Sick(40));
  CHECK(Run(lines).empty());
}

TEST_CASE("bradford_factor: a sick day needs its 12:00 covered ([start, end))") {
  CHECK(Run({Sick(3, 12, 16)}, kThreshold1).size() == 1);
  CHECK(Run({Sick(3, 8, 12)}, kThreshold1).empty());
  CHECK(Run({Sick(3, 12.01, 23)}, kThreshold1).empty());
  CHECK(Run({Sick(3, 8, 16, "", "ANNUAL_LEAVE")}, kThreshold1).empty());
}

TEST_CASE("bradford_factor: the roster as of 12:00 + roster grace") {
  CHECK(Run({Sick(3, 8, 16, At(3, 14))}, kThreshold1).size() == 1);
  CHECK(Run({Sick(3, 8, 16, FormatTime(kDay0 + 3 * kDay + 14 * kHour + 1))}, kThreshold1).empty());
  // Cancelled in time: not a sick day.
  CHECK(Run({Sick(3), Sick(3, 8, 16, At(3, 13), "CANCELLED")}, kThreshold1).empty());
}

TEST_CASE("bradford_factor: no alert if the rule alerted on a day after d - 90") {
  auto alerts = Run({Sick(0), Sick(89), Sick(90)}, kThreshold1);
  REQUIRE(alerts.size() == 2);
  CHECK(ToMillis(alerts[1].window_start()) == kDay0 + 90 * kDay);
  CHECK(Run({Sick(0), Sick(89)}, kThreshold1).size() == 1);
}

TEST_CASE("bradford_factor: the window is d-(windowDays-1) .. d; an earlier-starting spell counts") {
  const std::string rules = R"({"bradfordFactor": {"threshold": 8, "windowDays": 30}})";
  CHECK(Run({Sick(0), Sick(29)}, rules).size() == 1);  // S 2, D 2
  CHECK(Run({Sick(0), Sick(30)}, rules).empty());      // day 0 is outside
  // A spell over days -2 .. 1 has one day in the window of day 30: S 2, D 2.
  CHECK(Run({Sick(-2), Sick(-1), Sick(0), Sick(1), Sick(30)}, rules).size() == 1);
}

TEST_CASE("bradford_factor: arrival order within the bound does not matter") {
  std::vector<std::string> lines = {Sick(0, 8, 16, At(-1, 20)), Sick(1, 8, 16, At(-1, 20.02))};
  auto a = Run(lines, kThreshold1);
  std::swap(lines[0], lines[1]);
  auto b = Run(lines, kThreshold1);
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  CHECK(a[0].alert_id() == b[0].alert_id());
}

TEST_CASE("bradford_factor: a late correction counts for later days, never withdraws") {
  const std::string rules = R"({"bradfordFactor": {"threshold": 8}})";
  // Sick days 0 and 2: B on day 2 = 2 x 2 x 2 = 8.
  CHECK(Run({Sick(0), Sick(2)}, rules).size() == 1);
  // Day 0's shift cancelled at 10:00 on day 0, but that version arrives after day 0 was decided
  // (within the 7-day roster lateness): day 0 is no longer a sick day for day 2's decision.
  const std::string push = Roster("rx", "MP2", "X", "ON_DUTY", At(1, 8), At(1, 16), At(1, 8));
  CHECK(Run({Sick(0), push, Sick(0, 8, 16, At(0, 10), "CANCELLED"), Sick(2)}, rules).empty());
  // A decision already emitted stands.
  CHECK(Run({Sick(0), push, Sick(0, 8, 16, At(0, 10), "CANCELLED")}, kThreshold1).size() == 1);
  // Beyond the roster lateness the version is dead-lettered.
  Harness h(rules);
  for (const auto& line : {Sick(0), Sick(2), Roster("rx", "MP2", "X", "ON_DUTY", At(9, 8), At(9, 16), At(9, 8)),
                           Sick(0, 8, 16, At(0, 10), "CANCELLED")}) {
    h.Feed(line);
  }
  h.Finish();
  CHECK(h.metrics().too_late == 1);
  CHECK(h.AlertsFor(kRule).size() == 1);
}

TEST_CASE("bradford_factor: parameters from the rules file") {
  auto alerts = Run(Spells({0, 10}), R"({"bradfordFactor": {"threshold": 16, "severity": "MEDIUM"}})");
  REQUIRE(alerts.size() == 1);  // day 11: S 2, D 4
  CHECK(alerts[0].severity() == v1::Alert::MEDIUM);
  CHECK(Run(Spells({0, 10}), R"({"bradfordFactor": {"threshold": 17}})").empty());
  CHECK(Run({Sick(0), Sick(10)}, R"({"bradfordFactor": {"threshold": 1, "cooldownDays": 10}})").size() == 2);
  CHECK(Run({Sick(0)}, R"({"bradfordFactor": {"threshold": 1, "enabled": false}})").empty());
}

}  // namespace vigil::testing
