// sensitive_complaint_pattern (contract, rule 5): at least 2 complaints in {SEXUAL_MISCONDUCT,
// ABUSE_OF_POSITION} within 365 days (inclusive), key officer, re-alert after window_end.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "harness.h"

namespace vigil::testing {
namespace {

constexpr char kRule[] = "sensitive_complaint_pattern";
const Millis kT0 = ParseTime("2026-01-10T09:00:00Z").value();

std::string C(const std::string& id, Millis offset, const std::string& category = "SEXUAL_MISCONDUCT",
              const std::string& officer = "MP1") {
  return Complaint(id, officer, "P-" + id, category, FormatTime(kT0 + offset));
}

std::vector<v1::Alert> Run(const std::vector<std::string>& lines, const std::string& rules = "{}") {
  return ReplayRule(kRule, lines, rules);
}

}  // namespace

TEST_CASE("sensitive_complaint_pattern: two sensitive complaints within 365 days fire HIGH") {
  auto alerts = Run({C("c1", 0), C("c2", 30 * kDay, "ABUSE_OF_POSITION")});
  REQUIRE(alerts.size() == 1);
  const auto& a = alerts[0];
  CHECK(a.severity() == v1::Alert::HIGH);
  CHECK(a.kind() == v1::Alert::MISCONDUCT);
  CHECK(a.subject_id().empty());
  CHECK(ToMillis(a.window_start()) == kT0);
  CHECK(ToMillis(a.window_end()) == kT0 + 30 * kDay);
  CHECK(a.evidence_size() == 2);
  CHECK(a.summary().find("sexual misconduct or abuse of position") != std::string::npos);
}

TEST_CASE("sensitive_complaint_pattern: other categories and the 365-day boundary") {
  CHECK(Run({C("c1", 0), C("c2", kDay, "INCIVILITY"), C("c3", 2 * kDay, "USE_OF_FORCE")}).empty());
  CHECK(Run({C("c1", 0), C("c2", 365 * kDay)}).size() == 1);
  CHECK(Run({C("c1", 0), C("c2", 365 * kDay + 1)}).empty());
  CHECK(Run({C("c1", 0), C("c2", kDay, "SEXUAL_MISCONDUCT", "MP2")}).empty());
}

TEST_CASE("sensitive_complaint_pattern: re-alert only on complaints after window_end") {
  CHECK(Run({C("c1", 0), C("c2", kDay), C("c3", 2 * kDay)}).size() == 1);
  auto alerts = Run({C("c1", 0), C("c2", kDay), C("c3", 2 * kDay), C("c4", 3 * kDay)});
  REQUIRE(alerts.size() == 2);
  CHECK(ToMillis(alerts[1].window_start()) == kT0 + 2 * kDay);
}

TEST_CASE("sensitive_complaint_pattern: out of order within the bound; late beyond allowed lateness") {
  auto a = Run({C("c1", 0), C("c2", 3 * kMinute)});
  auto b = Run({C("c2", 3 * kMinute), C("c1", 0)});
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  CHECK(a[0].alert_id() == b[0].alert_id());
  CHECK(Run({C("c1", 0), C("x", 20 * kHour, "OTHER", "MP9"), C("c2", kHour)}).size() == 1);
  CHECK(Run({C("c1", 0), C("x", 26 * kHour, "OTHER", "MP9"), C("c2", kHour)}).empty());
}

TEST_CASE("sensitive_complaint_pattern: categories and counts from the rules file") {
  const std::string rules =
      R"({"sensitiveComplaintPattern": {"categories": ["DISCRIMINATION"], "minComplaints": 3, "windowDays": 30}})";
  CHECK(Run({C("c1", 0, "DISCRIMINATION"), C("c2", kDay, "DISCRIMINATION"),
             C("c3", 30 * kDay, "DISCRIMINATION")}, rules).size() == 1);
  CHECK(Run({C("c1", 0, "DISCRIMINATION"), C("c2", kDay, "SEXUAL_MISCONDUCT"),
             C("c3", 2 * kDay, "DISCRIMINATION")}, rules).empty());
}

}  // namespace vigil::testing
