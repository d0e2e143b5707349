// access_volume_spike (contract, rule 7): a UTC day's SEARCH+RECORD_VIEW count >= max(50, mean +
// 4 sd of the previous 28 days, zero-filled), 14 days after the first access; decided at day end.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "harness.h"

namespace vigil::testing {
namespace {

constexpr char kRule[] = "access_volume_spike";
const Millis kDay0 = ParseTime("2026-02-01T00:00:00Z").value();

// `count` look-ups by MP1 on day `day`, from 09:00 a minute apart.
void Lookups(std::vector<std::string>& lines, int day, int count, const std::string& tag = "",
             Millis from = 9 * kHour) {
  for (int i = 0; i < count; ++i) {
    lines.push_back(Access("d" + std::to_string(day) + tag + "-" + std::to_string(i), "MP1",
                           FormatTime(kDay0 + day * kDay + from + i * kMinute),
                           i % 2 ? "RECORD_VIEW" : "SEARCH", "P" + std::to_string(i)));
  }
}

std::string Login(int day, Millis at = 8 * kHour, const std::string& officer = "MP1") {
  return Access("login" + std::to_string(day) + officer, officer, FormatTime(kDay0 + day * kDay + at), "LOGIN");
}

std::vector<v1::Alert> Run(const std::vector<std::string>& lines, const std::string& rules = "{}") {
  return ReplayRule(kRule, lines, rules);
}

}  // namespace

TEST_CASE("access_volume_spike: 50 look-ups on a quiet officer's day fire, 49 do not") {
  std::vector<std::string> lines = {Login(0)};
  Lookups(lines, 20, 50);
  auto alerts = Run(lines);
  REQUIRE(alerts.size() == 1);
  const auto& a = alerts[0];
  CHECK(a.severity() == v1::Alert::MEDIUM);
  CHECK(ToMillis(a.window_start()) == kDay0 + 20 * kDay);
  CHECK(ToMillis(a.window_end()) == kDay0 + 21 * kDay);
  CHECK(a.score() == 50);
  CHECK(a.evidence_size() == 50);
  CHECK(a.summary().find("50 searches and record views on 2026-02-21") != std::string::npos);
  lines = {Login(0)};
  Lookups(lines, 20, 49);
  CHECK(Run(lines).empty());
}

TEST_CASE("access_volume_spike: the evidence is the day's first 50 look-ups, whatever their order") {
  std::vector<std::string> lines = {Login(0)};
  Lookups(lines, 20, 60, "late", 10 * kHour);  // 10:00-10:59, delivered first
  Lookups(lines, 20, 5, "early", 9 * kHour);   // 09:00-09:04: late, within allowed lateness
  auto alerts = Run(lines);
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].score() == 65);
  REQUIRE(alerts[0].evidence_size() == 50);
  CHECK(alerts[0].evidence(0).event_id() == "d20early-0");
  CHECK(alerts[0].evidence(4).event_id() == "d20early-4");
  CHECK(alerts[0].evidence(5).event_id() == "d20late-0");
  CHECK(alerts[0].evidence(49).event_id() == "d20late-44");
}

TEST_CASE("access_volume_spike: the day must be at least 14 days after the first access") {
  std::vector<std::string> lines = {Login(0)};  // a LOGIN is an access event too
  Lookups(lines, 14, 60);
  CHECK(Run(lines).size() == 1);
  lines = {Login(1)};
  Lookups(lines, 14, 60);
  CHECK(Run(lines).empty());
}

TEST_CASE("access_volume_spike: mean + 4 sample sd of the previous 28 days, zero-filled") {
  // Days 2..29: 10 and 30 alternately (mean 20, sample sd sqrt(2800/27)); day 30 is judged.
  std::vector<std::string> history = {Login(0)};
  for (int d = 2; d < 30; ++d) Lookups(history, d, d % 2 ? 10 : 30);
  const double threshold = 20 + 4 * std::sqrt(2800.0 / 27);
  const int need = static_cast<int>(std::ceil(threshold));
  auto spike = history;
  Lookups(spike, 30, need);
  CHECK(Run(spike).size() == 1);
  auto below = history;
  Lookups(below, 30, need - 1);
  CHECK(Run(below).empty());
}

TEST_CASE("access_volume_spike: the baseline covers d-28 .. d-1 exactly") {
  const std::string rules =
      R"({"accessVolumeSpike": {"minCount": 1, "sigmas": 0, "minHistoryDays": 0}})";
  std::vector<std::string> outside = {Login(0)};
  Lookups(outside, 1, 100);   // day 30 - 29: outside the baseline
  Lookups(outside, 30, 3);
  auto alerts = Run(outside, rules);
  CHECK(alerts.size() == 2);  // day 1 (100 >= 1) and day 30 (3 >= mean 0)
  std::vector<std::string> inside = {Login(0)};
  Lookups(inside, 2, 100);    // day 30 - 28: inside, mean 100/28 > 3
  Lookups(inside, 30, 3);
  CHECK(Run(inside, rules).size() == 1);
}

TEST_CASE("access_volume_spike: order within the bound does not matter; too late is dead-lettered") {
  std::vector<std::string> lines = {Login(0)};
  Lookups(lines, 20, 50);
  auto in_order = Run(lines);
  std::swap(lines[1], lines[3]);  // two minutes apart: within max_out_of_orderness
  auto swapped = Run(lines);
  REQUIRE(in_order.size() == 1);
  REQUIRE(swapped.size() == 1);
  CHECK(in_order[0].alert_id() == swapped[0].alert_id());

  lines = {Login(0)};
  Lookups(lines, 20, 49);
  lines.push_back(Login(21, 23 * kHour, "MP2"));   // watermark past day 21 23:00
  Lookups(lines, 20, 1, "late", 22 * kHour);       // 25 hours late
  Harness h;
  for (const auto& line : lines) h.Feed(line);
  h.Finish();
  CHECK(h.AlertsFor(kRule).empty());
  CHECK(h.metrics().too_late == 1);
}

TEST_CASE("access_volume_spike: a late look-up never re-decides its day but counts for later days") {
  const std::string rules = R"({"accessVolumeSpike": {"minCount": 1, "sigmas": 0, "baselineDays": 2, "minHistoryDays": 0}})";
  // Day 10: 4 look-ups, decided at its end (alert: mean 0). Day 11: 3 look-ups.
  std::vector<std::string> base = {Login(0)};
  Lookups(base, 10, 4);
  base.push_back(Login(11, 10 * kMinute));  // the watermark passes the end of day 10
  std::vector<std::string> without_late = base;
  Lookups(without_late, 11, 3);
  auto plain = Run(without_late, rules);
  REQUIRE(plain.size() == 2);  // day 11: 3 >= mean(0, 4) = 2
  std::vector<std::string> with_late = base;
  Lookups(with_late, 10, 4, "late", 20 * kHour);  // arrive after day 10 closed, within lateness
  Lookups(with_late, 11, 3);
  auto late = Run(with_late, rules);
  REQUIRE(late.size() == 1);   // day 11: 3 < mean(0, 8) = 4
  CHECK(late[0].alert_id() == plain[0].alert_id());  // day 10 as decided, with its 4 look-ups
  CHECK(late[0].score() == 4);
}

TEST_CASE("access_volume_spike: parameters from the rules file") {
  std::vector<std::string> lines = {Login(0)};
  Lookups(lines, 5, 5);
  CHECK(Run(lines).empty());
  auto alerts = Run(lines, R"({"accessVolumeSpike": {"minCount": 5, "minHistoryDays": 5, "severity": "LOW"}})");
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].severity() == v1::Alert::LOW);
  CHECK(Run(lines, R"({"accessVolumeSpike": {"minCount": 5, "minHistoryDays": 6}})").empty());
}

}  // namespace vigil::testing
