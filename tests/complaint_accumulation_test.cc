// complaint_accumulation (contract, rule 4): at least 3 complaints against an officer within 365
// days (inclusive, by received_at), key officer, re-alert after window_end.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "harness.h"

namespace vigil::testing {
namespace {

constexpr char kRule[] = "complaint_accumulation";
const Millis kT0 = ParseTime("2026-01-10T09:00:00Z").value();

std::string C(const std::string& id, Millis offset, const std::string& officer = "MP1",
              const std::string& category = "INCIVILITY") {
  return Complaint(id, officer, "P-" + id, category, FormatTime(kT0 + offset));
}

std::vector<v1::Alert> Run(const std::vector<std::string>& lines, const std::string& rules = "{}") {
  return ReplayRule(kRule, lines, rules);
}

}  // namespace

TEST_CASE("complaint_accumulation: three complaints within 365 days fire MEDIUM") {
  auto alerts = Run({C("c1", 0), C("c2", 100 * kDay, "MP1", "OTHER"), C("c3", 200 * kDay)});
  REQUIRE(alerts.size() == 1);
  const auto& a = alerts[0];
  CHECK(a.officer_id() == "MP1");
  CHECK(a.subject_id().empty());
  CHECK(a.severity() == v1::Alert::MEDIUM);
  CHECK(a.kind() == v1::Alert::MISCONDUCT);
  CHECK(ToMillis(a.window_start()) == kT0);
  CHECK(ToMillis(a.window_end()) == kT0 + 200 * kDay);
  CHECK(a.evidence_size() == 3);
  CHECK(a.summary().find("3 complaints") != std::string::npos);
}

TEST_CASE("complaint_accumulation: the window is inclusive at exactly 365 days") {
  CHECK(Run({C("c1", 0), C("c2", kDay), C("c3", 365 * kDay)}).size() == 1);
  CHECK(Run({C("c1", 0), C("c2", kDay), C("c3", 365 * kDay + 1)}).empty());
  CHECK(Run({C("c1", 0), C("c2", kDay)}).empty());
  CHECK(Run({C("c1", 0), C("c2", kDay), C("c3", kDay, "MP2")}).empty());  // other officer
}

TEST_CASE("complaint_accumulation: complaints up to an alert's window_end do not count again") {
  auto alerts = Run({C("c1", 0), C("c2", kDay), C("c3", 2 * kDay), C("c4", 3 * kDay),
                     C("c5", 4 * kDay), C("c6", 5 * kDay)});
  REQUIRE(alerts.size() == 2);
  CHECK(ToMillis(alerts[1].window_start()) == kT0 + 3 * kDay);
  CHECK(ToMillis(alerts[1].window_end()) == kT0 + 5 * kDay);
  CHECK(Run({C("c1", 0), C("c2", kDay), C("c3", 2 * kDay), C("c4", 3 * kDay), C("c5", 4 * kDay)})
            .size() == 1);
  // Equal times are ordered by event_id: one alert for three at the same instant, then a fourth
  // at that same instant does not re-alert.
  auto same = Run({C("c1", 0), C("c2", 0), C("c3", 0), C("c4", 0)});
  REQUIRE(same.size() == 1);
  CHECK(ToMillis(same[0].window_start()) == ToMillis(same[0].window_end()));
}

TEST_CASE("complaint_accumulation: arrival order within max_out_of_orderness does not matter") {
  auto in_order = Run({C("c1", 0), C("c2", kMinute), C("c3", 2 * kMinute)});
  auto shuffled = Run({C("c3", 2 * kMinute), C("c1", 0), C("c2", kMinute)});
  REQUIRE(in_order.size() == 1);
  REQUIRE(shuffled.size() == 1);
  CHECK(in_order[0].alert_id() == shuffled[0].alert_id());
}

TEST_CASE("complaint_accumulation: late within allowed lateness decides; beyond it, dead letter") {
  // c3 arrives 20 hours after the watermark passed it: still used, and it decides its own alert.
  auto late = Run({C("c1", 0), C("c2", kHour), C("x", 22 * kHour, "MP2"), C("c3", 2 * kHour)});
  CHECK(late.size() == 1);
  Harness h;
  for (const auto& line : {C("c1", 0), C("c2", kHour), C("x", 30 * kHour, "MP2"), C("c3", 2 * kHour)}) {
    h.Feed(line);
  }
  h.Finish();
  CHECK(h.AlertsFor(kRule).empty());
  CHECK(h.metrics().too_late == 1);
  REQUIRE(h.dead_letters().size() == 1);
  CHECK(h.dead_letters()[0].reason == "too_late");
}

TEST_CASE("complaint_accumulation: duplicates are one complaint") {
  CHECK(Run({C("c1", 0), C("c1", 0), C("c2", kDay)}).empty());
}

TEST_CASE("complaint_accumulation: parameters from the rules file") {
  const std::string rules =
      R"({"complaintAccumulation": {"minComplaints": 2, "windowDays": 10, "severity": "HIGH"}})";
  auto alerts = Run({C("c1", 0), C("c2", 10 * kDay)}, rules);
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].severity() == v1::Alert::HIGH);
  CHECK(Run({C("c1", 0), C("c2", 10 * kDay + 1)}, rules).empty());
  CHECK(Run({C("c1", 0), C("c2", kDay), C("c3", 2 * kDay)},
            R"({"complaintAccumulation": {"enabled": false}})").empty());
}

}  // namespace vigil::testing
