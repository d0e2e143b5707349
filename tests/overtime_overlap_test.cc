// overtime_overlap (contract, rule 8): an effective OVERTIME shift overlapping (positive length) an
// effective SICK or ANNUAL_LEAVE shift, both as of the overtime's end + roster_grace; one alert
// per overtime shift_id; the window is the overtime shift.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "harness.h"

namespace vigil::testing {
namespace {

constexpr char kRule[] = "overtime_overlap";
const Millis kDay0 = ParseTime("2026-02-14T00:00:00Z").value();
std::string H(double hours) { return FormatTime(kDay0 + static_cast<Millis>(hours * kHour)); }
std::string At(Millis t) { return FormatTime(kDay0 + t); }

// Overtime 09:00-13:00 on day 0, rostered the day before.
std::string Overtime(const std::string& id = "r-ot", const std::string& status = "OVERTIME",
                     const std::string& changed = H(-24), double start = 9, double end = 13) {
  return Roster(id, "MP1", "OT1", status, H(start), H(end), changed);
}
std::string Leave(const std::string& status, double start = 0, double end = 24,
                  const std::string& changed = H(-48), const std::string& id = "r-leave",
                  const std::string& shift = "L1") {
  return Roster(id, "MP1", shift, status, H(start), H(end), changed);
}

std::vector<v1::Alert> Run(const std::vector<std::string>& lines, const std::string& rules = "{}") {
  return ReplayRule(kRule, lines, rules);
}

}  // namespace

TEST_CASE("overtime_overlap: overtime during sick leave or annual leave fires MEDIUM") {
  auto alerts = Run({Leave("SICK"), Overtime()});
  REQUIRE(alerts.size() == 1);
  const auto& a = alerts[0];
  CHECK(a.severity() == v1::Alert::MEDIUM);
  CHECK(a.officer_id() == "MP1");
  CHECK(ToMillis(a.window_start()) == kDay0 + 9 * kHour);
  CHECK(ToMillis(a.window_end()) == kDay0 + 13 * kHour);
  CHECK(a.evidence_size() == 2);
  CHECK(a.summary().find("sick leave") != std::string::npos);
  CHECK(Run({Leave("ANNUAL_LEAVE"), Overtime()}).size() == 1);
  CHECK(Run({Leave("REST_DAY"), Overtime()}).empty());
  CHECK(Run({Leave("ON_DUTY"), Overtime()}).empty());
}

TEST_CASE("overtime_overlap: the overlap must have positive length") {
  CHECK(Run({Leave("SICK", 13, 24), Overtime()}).empty());  // leave starts at the overtime's end
  CHECK(Run({Leave("SICK", 0, 9), Overtime()}).empty());    // leave ends at its start
  CHECK(Run({Leave("SICK", 12.99, 24), Overtime()}).size() == 1);
}

TEST_CASE("overtime_overlap: the roster as of the overtime's end + roster grace") {
  // A leave version changed exactly at end + 2 h counts; a millisecond later it does not.
  CHECK(Run({Overtime(), Leave("SICK", 0, 24, H(15))}).size() == 1);
  CHECK(Run({Overtime(), Leave("SICK", 0, 24, At(15 * kHour + 1))}).empty());
  // Overtime cancelled before the decision: no alert; cancelled after it: the alert stands.
  CHECK(Run({Leave("SICK"), Overtime(), Overtime("r-ot2", "CANCELLED", H(14))}).empty());
  CHECK(Run({Leave("SICK"), Overtime(), Overtime("r-ot2", "CANCELLED", At(15 * kHour + 1))}).size() == 1);
}

TEST_CASE("overtime_overlap: one alert per overtime shift_id") {
  auto alerts = Run({Leave("SICK"), Leave("ANNUAL_LEAVE", 0, 24, H(-48), "r-l2", "L2"), Overtime(),
                     Overtime("r-ot2", "OVERTIME", H(8), 9, 12)});
  REQUIRE(alerts.size() == 1);
  CHECK(ToMillis(alerts[0].window_end()) == kDay0 + 12 * kHour);  // the effective version
  CHECK(alerts[0].evidence_size() == 3);
}

TEST_CASE("overtime_overlap: arrival order, late and too-late roster versions") {
  auto a = Run({Leave("SICK", 0, 24, H(10)), Overtime("r-ot", "OVERTIME", H(10.05))});
  auto b = Run({Overtime("r-ot", "OVERTIME", H(10.05)), Leave("SICK", 0, 24, H(10))});
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  CHECK(a[0].alert_id() == b[0].alert_id());
  const std::string later = Roster("r-x", "MP2", "X1", "ON_DUTY", H(48), H(56), H(48));
  // A leave version that arrives after the decision (watermark past 15:00), although its
  // changed_at is before it: the decision was made and stands.
  CHECK(Run({Overtime(), later, Leave("SICK", 0, 24, H(14))}).empty());
  // The overtime version itself arriving late (within the 7-day roster lateness) decides its shift.
  CHECK(Run({Leave("SICK"), later, Overtime()}).size() == 1);
  // Beyond the roster lateness it is dead-lettered.
  Harness h;
  h.Feed(Leave("SICK"));
  h.Feed(Roster("r-y", "MP2", "Y1", "ON_DUTY", H(24 * 9), H(24 * 9 + 8), H(24 * 9)));
  h.Feed(Overtime());
  h.Finish();
  CHECK(h.AlertsFor(kRule).empty());
  CHECK(h.metrics().too_late == 1);
}

TEST_CASE("overtime_overlap: parameters from the rules file") {
  auto high = Run({Leave("SICK"), Overtime()}, R"({"overtimeOverlap": {"severity": "HIGH"}})");
  REQUIRE(high.size() == 1);
  CHECK(high[0].severity() == v1::Alert::HIGH);
  CHECK(Run({Leave("SICK"), Overtime()}, R"({"overtimeOverlap": {"enabled": false}})").empty());
  // With no grace, a leave version changed after the overtime's end no longer counts.
  CHECK(Run({Overtime(), Leave("SICK", 0, 24, H(14))}, R"({"time": {"rosterGraceMinutes": 0}})").empty());
}

}  // namespace vigil::testing
