// repeated_subject_lookup (contract, rule 2): at least 3 SEARCH/RECORD_VIEW of one subject with an
// empty case_ref within 30 days (inclusive), key (officer, subject), re-alert after window_end.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "harness.h"

namespace vigil::testing {
namespace {

constexpr char kRule[] = "repeated_subject_lookup";
const Millis kT0 = ParseTime("2026-03-01T08:00:00Z").value();

std::string T(Millis t) { return FormatTime(t); }

// A lookup of `subject` by MP1 at kT0 + offset.
std::string Look(const std::string& id, Millis offset, const std::string& subject = "P1",
                 const std::string& action = "SEARCH", const std::string& case_ref = "",
                 const std::string& officer = "MP1") {
  return Access(id, officer, T(kT0 + offset), action, subject, case_ref);
}

std::vector<v1::Alert> Run(const std::vector<std::string>& lines, const std::string& rules = "{}") {
  return ReplayRule(kRule, lines, rules);
}

std::vector<std::string> Evidence(const v1::Alert& alert) {
  std::vector<std::string> ids;
  for (const auto& e : alert.evidence()) ids.push_back(e.event_id());
  std::sort(ids.begin(), ids.end());
  return ids;
}

Millis Start(const v1::Alert& a) { return ToMillis(a.window_start()); }
Millis End(const v1::Alert& a) { return ToMillis(a.window_end()); }

}  // namespace

TEST_CASE("repeated_subject_lookup: three look-ups of one person without a case ref fire MEDIUM") {
  auto alerts = Run({Look("a1", 0), Look("a2", 2 * kDay, "P1", "RECORD_VIEW"), Look("a3", 9 * kDay)});
  REQUIRE(alerts.size() == 1);
  const auto& a = alerts[0];
  CHECK(a.rule_id() == kRule);
  CHECK(a.officer_id() == "MP1");
  CHECK(a.subject_id() == "P1");
  CHECK(a.severity() == v1::Alert::MEDIUM);
  CHECK(a.kind() == v1::Alert::MISCONDUCT);
  CHECK(Start(a) == kT0);
  CHECK(End(a) == kT0 + 9 * kDay);
  CHECK(Evidence(a) == std::vector<std::string>{"a1", "a2", "a3"});
  for (const auto& e : a.evidence()) CHECK(e.topic() == "vigil.access");
}

TEST_CASE("repeated_subject_lookup: two look-ups are not enough") {
  CHECK(Run({Look("a1", 0), Look("a2", kDay)}).empty());
}

TEST_CASE("repeated_subject_lookup: the 30-day window is inclusive") {
  SUBCASE("last - first == 30 days: fires") {
    auto alerts = Run({Look("a1", 0), Look("a2", 10 * kDay), Look("a3", 30 * kDay)});
    REQUIRE(alerts.size() == 1);
    CHECK(Start(alerts[0]) == kT0);
    CHECK(End(alerts[0]) == kT0 + 30 * kDay);
  }
  SUBCASE("30 days + 1 ms: no alert") {
    CHECK(Run({Look("a1", 0), Look("a2", 10 * kDay), Look("a3", 30 * kDay + 1)}).empty());
  }
  SUBCASE("30 days + 1 s: no alert") {
    CHECK(Run({Look("a1", 0), Look("a2", 10 * kDay), Look("a3", 30 * kDay + kSecond)}).empty());
  }
  SUBCASE("the window slides: window_start is the first look-up counted") {
    auto alerts = Run({Look("a1", 0), Look("a2", 20 * kDay), Look("a3", 40 * kDay), Look("a4", 45 * kDay)});
    REQUIRE(alerts.size() == 1);
    CHECK(Start(alerts[0]) == kT0 + 20 * kDay);
    CHECK(End(alerts[0]) == kT0 + 45 * kDay);
    CHECK(Evidence(alerts[0]) == std::vector<std::string>{"a2", "a3", "a4"});
  }
}

TEST_CASE("repeated_subject_lookup: what is not a counted look-up") {
  SUBCASE("a case reference excuses the look-up") {
    CHECK(Run({Look("a1", 0), Look("a2", kDay, "P1", "SEARCH", "CR-1"), Look("a3", 2 * kDay)}).empty());
  }
  SUBCASE("LOGIN and LOGOUT are not look-ups") {
    CHECK(Run({Look("a1", 0), Look("a2", kDay, "P1", "LOGIN"), Look("a3", 2 * kDay, "P1", "LOGOUT"),
               Look("a4", 3 * kDay)})
              .empty());
  }
  SUBCASE("an empty subject takes no part") {
    CHECK(Run({Look("a1", 0, ""), Look("a2", kDay, ""), Look("a3", 2 * kDay, "")}).empty());
  }
  SUBCASE("different subjects are different keys") {
    CHECK(Run({Look("a1", 0, "P1"), Look("a2", kDay, "P2"), Look("a3", 2 * kDay, "P1")}).empty());
  }
  SUBCASE("different officers are different keys") {
    CHECK(Run({Look("a1", 0), Look("a2", kDay, "P1", "SEARCH", "", "MP2"), Look("a3", 2 * kDay)}).empty());
  }
}

TEST_CASE("repeated_subject_lookup: re-alert only with look-ups after the last window_end") {
  SUBCASE("five look-ups: one alert") {
    auto alerts = Run({Look("a1", 0), Look("a2", kDay), Look("a3", 2 * kDay), Look("a4", 3 * kDay),
                       Look("a5", 4 * kDay)});
    REQUIRE(alerts.size() == 1);
    CHECK(End(alerts[0]) == kT0 + 2 * kDay);
  }
  SUBCASE("six look-ups: two alerts, the second from the last three") {
    auto alerts = Run({Look("a1", 0), Look("a2", kDay), Look("a3", 2 * kDay), Look("a4", 3 * kDay),
                       Look("a5", 4 * kDay), Look("a6", 5 * kDay)});
    REQUIRE(alerts.size() == 2);
    CHECK(Start(alerts[0]) == kT0);
    CHECK(End(alerts[0]) == kT0 + 2 * kDay);
    CHECK(Start(alerts[1]) == kT0 + 3 * kDay);
    CHECK(End(alerts[1]) == kT0 + 5 * kDay);
    CHECK(Evidence(alerts[1]) == std::vector<std::string>{"a4", "a5", "a6"});
    CHECK(alerts[0].alert_id() != alerts[1].alert_id());
  }
  SUBCASE("another subject is not affected by the alert") {
    auto alerts = Run({Look("a1", 0), Look("b1", 0, "P2"), Look("a2", kDay), Look("a3", 2 * kDay),
                       Look("b2", 3 * kDay, "P2"), Look("b3", 4 * kDay, "P2")});
    CHECK(alerts.size() == 2);
  }
}

TEST_CASE("repeated_subject_lookup: ties in event time are ordered by event_id") {
  const std::vector<std::string> lines = {Look("a4", kDay), Look("a3", kDay), Look("a2", kDay),
                                          Look("a1", kDay)};
  auto alerts = Run(lines);
  REQUIRE(alerts.size() == 1);
  // The decision at a3 (third in (time, event_id) order) counts a1, a2, a3, not a4.
  CHECK(Evidence(alerts[0]) == std::vector<std::string>{"a1", "a2", "a3"});
  CHECK(Start(alerts[0]) == kT0 + kDay);
  CHECK(End(alerts[0]) == kT0 + kDay);
  auto reversed = Run({lines[3], lines[2], lines[1], lines[0]});
  CHECK(SortedIds(reversed) == SortedIds(alerts));
}

TEST_CASE("repeated_subject_lookup: arrival order within max_out_of_orderness does not matter") {
  const std::vector<std::string> ordered = {
      Look("a1", 0),          Look("b1", kMinute, "P2"), Look("a2", 2 * kMinute),
      Look("a3", 4 * kMinute), Look("b2", 5 * kMinute, "P2"), Look("a4", 8 * kMinute),
      Look("b3", 9 * kMinute, "P2"), Look("a5", 10 * kMinute), Look("a6", 13 * kMinute)};
  // Each line is at most 5 minutes behind the latest event time already fed.
  const std::vector<std::string> shuffled = {ordered[2], ordered[0], ordered[4], ordered[1],
                                             ordered[3], ordered[7], ordered[6], ordered[5],
                                             ordered[8]};
  auto a = Run(ordered);
  auto b = Run(shuffled);
  REQUIRE(a.size() == 3);  // P1: a1-a3, a4-a6; P2: b1-b3
  CHECK(SortedIds(a) == SortedIds(b));
  Harness h;
  for (const auto& line : shuffled) h.Feed(line);
  h.Finish();
  CHECK(h.metrics().too_late == 0);
  CHECK(h.metrics().late_accepted == 0);
}

TEST_CASE("repeated_subject_lookup: a look-up later than allowed lateness is dead-lettered, not counted") {
  Harness h;
  h.Feed(Look("a1", 0));
  h.Feed(Look("a2", kDay));
  h.Feed(Look("f1", 3 * kDay, "", "LOGOUT", "", "MP9"));  // watermark: day 3 - 5 min
  h.Feed(Look("a3", 2 * kDay - 5 * kMinute - 1));         // 1 ms older than watermark - 1 day
  h.Finish();
  CHECK(h.AlertsFor(kRule).empty());
  CHECK(h.metrics().too_late == 1);
  REQUIRE(h.dead_letters().size() == 1);
  CHECK(h.dead_letters()[0].reason == "too_late");
  CHECK(h.dead_letters()[0].value.find("\"a3\"") != std::string::npos);
}

TEST_CASE("repeated_subject_lookup: a late look-up within allowed lateness is used") {
  SUBCASE("as its own decision") {
    Harness h;
    h.Feed(Look("a1", 0));
    h.Feed(Look("a2", kDay));
    h.Feed(Look("f1", 36 * kHour, "", "LOGOUT", "", "MP9"));  // watermark day 1.5 - 5 min
    h.Feed(Look("a3", 30 * kHour));                           // late, within 1 day
    CHECK(h.metrics().late_accepted == 1);
    auto alerts = h.AlertsFor(kRule);  // decided on arrival
    REQUIRE(alerts.size() == 1);
    CHECK(Start(alerts[0]) == kT0);
    CHECK(End(alerts[0]) == kT0 + 30 * kHour);
    h.Finish();
    CHECK(h.AlertsFor(kRule).size() == 1);
  }
  SUBCASE("exactly at watermark - lateness") {
    Harness h;
    h.Feed(Look("a1", 0));
    h.Feed(Look("a2", kDay));
    h.Feed(Look("f1", 3 * kDay, "", "LOGOUT", "", "MP9"));
    h.Feed(Look("a3", 2 * kDay - 5 * kMinute));
    h.Finish();
    CHECK(h.metrics().too_late == 0);
    CHECK(h.AlertsFor(kRule).size() == 1);
  }
  SUBCASE("in later decisions") {
    // a2 arrives after a3 was decided (2 look-ups); a4's decision then counts a1..a4.
    Harness h;
    h.Feed(Look("a1", 0));
    h.Feed(Look("a3", kDay));
    h.Feed(Look("f1", 36 * kHour, "", "LOGOUT", "", "MP9"));
    h.Feed(Look("a2", 12 * kHour));
    h.Feed(Look("a4", 2 * kDay));
    h.Finish();
    auto alerts = h.AlertsFor(kRule);
    REQUIRE(alerts.size() == 1);
    CHECK(Start(alerts[0]) == kT0);
    CHECK(End(alerts[0]) == kT0 + 2 * kDay);
    CHECK(Evidence(alerts[0]) == std::vector<std::string>{"a1", "a2", "a3", "a4"});
  }
}

TEST_CASE("repeated_subject_lookup: duplicates by event_id are ignored and counted") {
  Harness h;
  h.Feed(Look("a1", 0));
  h.Feed(Look("a1", 0));
  h.Feed(Look("a1", kDay));  // same id, different time: still a duplicate
  h.Feed(Look("a2", 2 * kDay));
  h.Finish();
  CHECK(h.AlertsFor(kRule).empty());
  CHECK(h.metrics().duplicates == 2);
  CHECK(h.metrics().events_in[1] == 2);
}

TEST_CASE("repeated_subject_lookup: rules file parameters change the result") {
  const std::string rules = R"({"repeatedSubjectLookup": {"minLookups": 2, "windowDays": 5}})";
  SUBCASE("two look-ups 5 days apart fire with minLookups 2, windowDays 5") {
    const std::vector<std::string> lines = {Look("a1", 0), Look("a2", 5 * kDay)};
    CHECK(Run(lines).empty());
    auto alerts = Run(lines, rules);
    REQUIRE(alerts.size() == 1);
    CHECK(Start(alerts[0]) == kT0);
    CHECK(End(alerts[0]) == kT0 + 5 * kDay);
  }
  SUBCASE("5 days + 1 ms does not") { CHECK(Run({Look("a1", 0), Look("a2", 5 * kDay + 1)}, rules).empty()); }
  SUBCASE("three look-ups 10 days apart fire by default, not with windowDays 5") {
    const std::vector<std::string> lines = {Look("a1", 0), Look("a2", 10 * kDay), Look("a3", 20 * kDay)};
    CHECK(Run(lines).size() == 1);
    CHECK(Run(lines, R"({"repeatedSubjectLookup": {"windowDays": 5}})").empty());
  }
  SUBCASE("severity override") {
    auto alerts = Run({Look("a1", 0), Look("a2", kDay), Look("a3", 2 * kDay)},
                      R"({"repeatedSubjectLookup": {"severity": "HIGH"}})");
    REQUIRE(alerts.size() == 1);
    CHECK(alerts[0].severity() == v1::Alert::HIGH);
  }
  SUBCASE("disabled") {
    CHECK(Run({Look("a1", 0), Look("a2", kDay), Look("a3", 2 * kDay)},
              R"({"repeatedSubjectLookup": {"enabled": false}})")
              .empty());
  }
}

TEST_CASE("repeated_subject_lookup: evidence lists at most 50 events; the id depends on all of them") {
  std::vector<std::string> lines;
  for (int i = 0; i < 60; ++i) lines.push_back(Look("a" + std::to_string(100 + i), i * kMinute));
  const std::string rules = R"({"repeatedSubjectLookup": {"minLookups": 60}})";
  auto alerts = Run(lines, rules);
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].evidence_size() == 50);
  CHECK(Start(alerts[0]) == kT0);
  CHECK(End(alerts[0]) == kT0 + 59 * kMinute);
  // Changing the 60th event (beyond the 50 listed) changes the id.
  lines.back() = Look("a999", 59 * kMinute);
  auto other = Run(lines, rules);
  REQUIRE(other.size() == 1);
  CHECK(other[0].alert_id() != alerts[0].alert_id());
}

TEST_CASE("repeated_subject_lookup: alert ids are deterministic") {
  const std::vector<std::string> lines = {Look("a1", 0), Look("a2", kMinute), Look("a3", 2 * kMinute),
                                          Look("a4", 3 * kMinute), Look("a5", 4 * kMinute),
                                          Look("a6", 6 * kMinute)};
  auto first = Run(lines);
  REQUIRE(first.size() == 2);
  CHECK(SortedIds(Run(lines)) == SortedIds(first));
  CHECK(SortedIds(Run({lines[2], lines[1], lines[0], lines[5], lines[4], lines[3]})) == SortedIds(first));
  // Same times, one different event: a different id for the alert it causes.
  auto other = Run({Look("a1", 0), Look("a2", kMinute), Look("x3", 2 * kMinute)});
  REQUIRE(other.size() == 1);
  const auto first_ids = SortedIds(first);
  CHECK(std::find(first_ids.begin(), first_ids.end(), other[0].alert_id()) == first_ids.end());
}

}  // namespace vigil::testing
