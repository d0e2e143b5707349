// complainant_lookup (contract, rule 3): a SEARCH/RECORD_VIEW by an officer of a person who
// complained about that officer, from 7 days before receipt to 180 days after (inclusive), whatever
// the case_ref. One alert per complaint, at the earliest such access; HIGH by default.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "harness.h"

namespace vigil::testing {
namespace {

constexpr char kRule[] = "complainant_lookup";
const Millis kR = ParseTime("2026-03-10T12:00:00Z").value();  // the complaint's receipt

std::string T(Millis t) { return FormatTime(t); }

// The complaint by P1 against MP1, received at kR + offset.
std::string Compl(const std::string& id, Millis offset = 0, const std::string& complainant = "P1",
                  const std::string& officer = "MP1", const std::string& complaint_id = "") {
  return Complaint(id, officer, complainant, "ABUSE_OF_POSITION", T(kR + offset), complaint_id);
}
// A look-up of `subject` by MP1 at kR + offset.
std::string Look(const std::string& id, Millis offset, const std::string& subject = "P1",
                 const std::string& action = "SEARCH", const std::string& case_ref = "",
                 const std::string& officer = "MP1") {
  return Access(id, officer, T(kR + offset), action, subject, case_ref);
}

std::vector<v1::Alert> Run(const std::vector<std::string>& lines, const std::string& rules = "{}") {
  return ReplayRule(kRule, lines, rules);
}

std::set<std::string> Evidence(const v1::Alert& alert) {
  std::set<std::string> ids;
  for (const auto& e : alert.evidence()) ids.insert(e.event_id());
  return ids;
}

Millis Start(const v1::Alert& a) { return ToMillis(a.window_start()); }
Millis End(const v1::Alert& a) { return ToMillis(a.window_end()); }

}  // namespace

TEST_CASE("complainant_lookup: a look-up after the complaint fires HIGH, window [receipt, access]") {
  auto alerts = Run({Compl("c1"), Look("a1", kDay)});
  REQUIRE(alerts.size() == 1);
  const auto& a = alerts[0];
  CHECK(a.rule_id() == kRule);
  CHECK(a.officer_id() == "MP1");
  CHECK(a.subject_id() == "P1");
  CHECK(a.severity() == v1::Alert::HIGH);
  CHECK(a.kind() == v1::Alert::MISCONDUCT);
  CHECK(Start(a) == kR);
  CHECK(End(a) == kR + kDay);
  CHECK(Evidence(a) == std::set<std::string>{"c1", "a1"});
}

TEST_CASE("complainant_lookup: a look-up before the complaint: window [access, receipt]") {
  auto alerts = Run({Look("a1", -2 * kDay, "P1", "RECORD_VIEW"), Compl("c1")});
  REQUIRE(alerts.size() == 1);
  CHECK(Start(alerts[0]) == kR - 2 * kDay);
  CHECK(End(alerts[0]) == kR);
  CHECK(Evidence(alerts[0]) == std::set<std::string>{"c1", "a1"});
}

TEST_CASE("complainant_lookup: the before/after limits are inclusive") {
  SUBCASE("exactly 7 days before") {
    auto alerts = Run({Look("a1", -7 * kDay), Compl("c1")});
    REQUIRE(alerts.size() == 1);
    CHECK(Start(alerts[0]) == kR - 7 * kDay);
  }
  SUBCASE("7 days + 1 ms before") { CHECK(Run({Look("a1", -7 * kDay - 1), Compl("c1")}).empty()); }
  SUBCASE("7 days + 1 s before") { CHECK(Run({Look("a1", -7 * kDay - kSecond), Compl("c1")}).empty()); }
  SUBCASE("exactly 180 days after") {
    auto alerts = Run({Compl("c1"), Look("a1", 180 * kDay)});
    REQUIRE(alerts.size() == 1);
    CHECK(End(alerts[0]) == kR + 180 * kDay);
  }
  SUBCASE("180 days + 1 ms after") { CHECK(Run({Compl("c1"), Look("a1", 180 * kDay + 1)}).empty()); }
  SUBCASE("180 days + 1 s after") { CHECK(Run({Compl("c1"), Look("a1", 180 * kDay + kSecond)}).empty()); }
  SUBCASE("at the same instant, either event_id order") {
    CHECK(Run({Compl("c1"), Look("a1", 0)}).size() == 1);
    CHECK(Run({Compl("a0"), Look("z9", 0)}).size() == 1);
    CHECK(Run({Look("a1", 0), Compl("z9")}).size() == 1);
  }
}

TEST_CASE("complainant_lookup: one alert per complaint, at the earliest access") {
  SUBCASE("several accesses after the complaint") {
    auto alerts = Run({Compl("c1"), Look("a1", kHour), Look("a2", 2 * kDay), Look("a3", 20 * kDay)});
    REQUIRE(alerts.size() == 1);
    CHECK(End(alerts[0]) == kR + kHour);
    CHECK(Evidence(alerts[0]) == std::set<std::string>{"c1", "a1"});
  }
  SUBCASE("accesses before and after: the earliest, within the limits") {
    auto alerts = Run({Look("a0", -8 * kDay), Look("a1", -3 * kDay), Look("a2", -kDay), Compl("c1"),
                       Look("a3", kHour)});
    REQUIRE(alerts.size() == 1);
    CHECK(Start(alerts[0]) == kR - 3 * kDay);
    CHECK(End(alerts[0]) == kR);
    CHECK(Evidence(alerts[0]) == std::set<std::string>{"c1", "a1"});
  }
  SUBCASE("each Complaint event is one complaint, even with the same complaint_id") {
    auto alerts = Run({Compl("c1", 0, "P1", "MP1", "CMP-1"), Compl("c2", kHour, "P1", "MP1", "CMP-1"),
                       Look("a1", kDay)});
    REQUIRE(alerts.size() == 2);
    CHECK(alerts[0].alert_id() != alerts[1].alert_id());
    std::set<Millis> starts = {Start(alerts[0]), Start(alerts[1])};
    CHECK(starts == std::set<Millis>{kR, kR + kHour});
  }
  SUBCASE("a second complaint later in the same person's window gets its own earliest access") {
    auto alerts = Run({Compl("c1"), Look("a1", kDay), Compl("c2", 10 * kDay), Look("a2", 12 * kDay)});
    REQUIRE(alerts.size() == 2);
    // c2's earliest access within [c2 - 7 days, c2 + 180 days] is a1 (day 1, 9 days before c2: no)
    // so it is a2.
    CHECK(Evidence(alerts[1]) == std::set<std::string>{"c2", "a2"});
    CHECK(Start(alerts[1]) == kR + 10 * kDay);
    CHECK(End(alerts[1]) == kR + 12 * kDay);
  }
}

TEST_CASE("complainant_lookup: what does not match") {
  SUBCASE("the case reference does not excuse the look-up") {
    CHECK(Run({Compl("c1"), Look("a1", kDay, "P1", "SEARCH", "CR-77")}).size() == 1);
  }
  SUBCASE("LOGIN/LOGOUT are not look-ups") {
    CHECK(Run({Compl("c1"), Look("a1", kDay, "P1", "LOGIN"), Look("a2", kDay + 1, "P1", "LOGOUT")}).empty());
  }
  SUBCASE("another person") { CHECK(Run({Compl("c1"), Look("a1", kDay, "P2")}).empty()); }
  SUBCASE("another officer looking up the complainant") {
    CHECK(Run({Compl("c1"), Look("a1", kDay, "P1", "SEARCH", "", "MP2")}).empty());
  }
  SUBCASE("a complaint about another officer") {
    CHECK(Run({Compl("c1", 0, "P1", "MP2"), Look("a1", kDay)}).empty());
  }
}

TEST_CASE("complainant_lookup: arrival order within max_out_of_orderness does not matter") {
  const std::vector<std::string> ordered = {Look("a1", -2 * kMinute), Compl("c1"),
                                            Look("a2", 2 * kMinute, "P2"), Compl("c2", 3 * kMinute, "P2"),
                                            Look("a3", 4 * kMinute)};
  // c1 arrives after a2 (2 min behind), a1 last of the first three (4 min behind).
  const std::vector<std::string> shuffled = {ordered[2], ordered[1], ordered[0], ordered[4], ordered[3]};
  auto a = Run(ordered);
  auto b = Run(shuffled);
  REQUIRE(a.size() == 2);
  CHECK(SortedIds(a) == SortedIds(b));
  for (const auto& alert : a) {
    if (alert.subject_id() == "P1") CHECK(Evidence(alert) == std::set<std::string>{"c1", "a1"});
    if (alert.subject_id() == "P2") CHECK(Evidence(alert) == std::set<std::string>{"c2", "a2"});
  }
}

TEST_CASE("complainant_lookup: events later than allowed lateness are dead-lettered") {
  SUBCASE("a too-late complaint") {
    Harness h;
    h.Feed(Look("a1", 0));
    h.Feed(Look("f1", 3 * kDay, "", "LOGOUT", "", "MP9"));  // watermark day 3 - 5 min
    h.Feed(Compl("c1", 2 * kDay - 5 * kMinute - 1));        // 1 ms past complaint lateness (1 day)
    h.Finish();
    CHECK(h.AlertsFor(kRule).empty());
    CHECK(h.metrics().too_late == 1);
    REQUIRE(h.dead_letters().size() == 1);
    CHECK(h.dead_letters()[0].reason == "too_late");
    CHECK(h.dead_letters()[0].value.find("\"c1\"") != std::string::npos);
  }
  SUBCASE("a too-late look-up") {
    Harness h;
    h.Feed(Compl("c1"));
    h.Feed(Look("f1", 3 * kDay, "", "LOGOUT", "", "MP9"));
    h.Feed(Look("a1", 2 * kDay - 5 * kMinute - 1));
    h.Finish();
    CHECK(h.AlertsFor(kRule).empty());
    CHECK(h.metrics().too_late == 1);
    REQUIRE(h.dead_letters().size() == 1);
    CHECK(h.dead_letters()[0].reason == "too_late");
  }
}

TEST_CASE("complainant_lookup: late events within allowed lateness are used") {
  SUBCASE("a late complaint meets a look-up already seen after its receipt") {
    Harness h;
    h.Feed(Look("a1", kHour));
    h.Feed(Look("f1", 20 * kHour, "", "LOGOUT", "", "MP9"));  // watermark 19:55 after receipt
    h.Feed(Compl("c1"));                                      // 20 h late: within 1 day
    CHECK(h.metrics().late_accepted == 1);
    h.Finish();
    auto alerts = h.AlertsFor(kRule);
    REQUIRE(alerts.size() == 1);
    CHECK(Start(alerts[0]) == kR);
    CHECK(End(alerts[0]) == kR + kHour);
  }
  SUBCASE("a late look-up meets a complaint already seen") {
    Harness h;
    h.Feed(Compl("c1"));
    h.Feed(Look("f1", 20 * kHour, "", "LOGOUT", "", "MP9"));
    h.Feed(Look("a1", -kHour));  // 21 h behind: within 1 day, 1 h before receipt
    h.Finish();
    auto alerts = h.AlertsFor(kRule);
    REQUIRE(alerts.size() == 1);
    CHECK(Start(alerts[0]) == kR - kHour);
    CHECK(End(alerts[0]) == kR);
  }
  SUBCASE("a late complaint finds the earliest look-up among others of the same hour") {
    // Look-ups are kept per officer and hour: the earliest of this person's, whatever the order
    // they were delivered in and whoever else was looked up that hour.
    Harness h;
    h.Feed(Look("b1", -2 * kDay + 10 * kMinute, "P2"));
    h.Feed(Look("a2", -2 * kDay + 40 * kMinute));
    h.Feed(Look("f1", -2 * kDay + 20 * kHour, "", "LOGOUT", "", "MP9"));
    h.Feed(Look("a1", -2 * kDay + 20 * kMinute));  // late, within allowed lateness
    h.Feed(Look("b2", -2 * kDay + 30 * kMinute, "P2"));
    h.Feed(Compl("c1"));
    h.Finish();
    auto alerts = h.AlertsFor(kRule);
    REQUIRE(alerts.size() == 1);
    CHECK(Evidence(alerts[0]) == std::set<std::string>{"c1", "a1"});
    CHECK(Start(alerts[0]) == kR - 2 * kDay + 20 * kMinute);
  }
  SUBCASE("an alert already emitted is not changed by an earlier access arriving late") {
    Harness h;
    h.Feed(Compl("c1"));
    h.Feed(Look("a2", 2 * kHour));
    h.Feed(Look("f1", 20 * kHour, "", "LOGOUT", "", "MP9"));
    REQUIRE(h.AlertsFor(kRule).size() == 1);
    h.Feed(Look("a1", kHour));
    h.Finish();
    auto alerts = h.AlertsFor(kRule);
    REQUIRE(alerts.size() == 1);
    CHECK(End(alerts[0]) == kR + 2 * kHour);
  }
}

TEST_CASE("complainant_lookup: duplicates by event_id are ignored and counted") {
  Harness h;
  h.Feed(Compl("c1"));
  h.Feed(Compl("c1"));
  h.Feed(Look("a1", kDay));
  h.Feed(Look("a1", kDay));
  h.Finish();
  CHECK(h.metrics().duplicates == 2);
  CHECK(h.AlertsFor(kRule).size() == 1);
}

TEST_CASE("complainant_lookup: rules file parameters change the result") {
  const std::string rules = R"({"complainantLookup": {"beforeDays": 1, "afterDays": 2}})";
  CHECK(Run({Look("a1", -kDay), Compl("c1")}, rules).size() == 1);
  CHECK(Run({Look("a1", -kDay - 1), Compl("c1")}, rules).empty());
  CHECK(Run({Compl("c1"), Look("a1", 2 * kDay)}, rules).size() == 1);
  CHECK(Run({Compl("c1"), Look("a1", 2 * kDay + 1)}, rules).empty());
  // Both of the last two fire with the defaults.
  CHECK(Run({Look("a1", -kDay - 1), Compl("c1")}).size() == 1);
  CHECK(Run({Compl("c1"), Look("a1", 2 * kDay + 1)}).size() == 1);
  SUBCASE("severity override") {
    auto alerts = Run({Compl("c1"), Look("a1", kDay)}, R"({"complainantLookup": {"severity": "LOW"}})");
    REQUIRE(alerts.size() == 1);
    CHECK(alerts[0].severity() == v1::Alert::LOW);
  }
  SUBCASE("disabled") {
    CHECK(Run({Compl("c1"), Look("a1", kDay)}, R"({"complainantLookup": {"enabled": false}})").empty());
  }
}

TEST_CASE("complainant_lookup: alert ids are deterministic") {
  const std::vector<std::string> lines = {Look("a1", -kMinute), Compl("c1"), Compl("c2", kMinute, "P2"),
                                          Look("a2", 2 * kMinute, "P2")};
  auto first = Run(lines);
  REQUIRE(first.size() == 2);
  CHECK(SortedIds(Run(lines)) == SortedIds(first));
  CHECK(SortedIds(Run({lines[1], lines[3], lines[0], lines[2]})) == SortedIds(first));
}

}  // namespace vigil::testing
