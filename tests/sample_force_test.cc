// The shared sample force (../shared/scenarios): replay must agree with its expected alerts.
#include <doctest/doctest.h>

#include <filesystem>
#include <set>

#include "harness.h"

namespace vigil::testing {

namespace {
const std::string kSampleDir = std::string(VIGIL_SOURCE_DIR) + "/tests/scenarios/shared";

std::vector<v1::Alert> OnlyRules(const std::vector<v1::Alert>& alerts, const std::set<std::string>& rules) {
  std::vector<v1::Alert> out;
  for (const auto& a : alerts) {
    if (rules.count(a.rule_id())) out.push_back(a);
  }
  return out;
}
}  // namespace

TEST_CASE("sample force: replay gives the expected alerts of all nine rules") {
  Harness h;
  for (const auto& line : ReadLines(kSampleDir + "/sample-force.events.ndjson")) h.Feed(line);
  h.Finish();
  const std::set<std::string> rules = {
      "off_duty_access",        "repeated_subject_lookup", "complainant_lookup",
      "complaint_accumulation", "sensitive_complaint_pattern", "impossible_travel",
      "access_volume_spike",    "overtime_overlap",        "bradford_factor"};
  auto expected = AlertKeys(OnlyRules(ReadAlerts(kSampleDir + "/sample-force.alerts.ndjson"), rules));
  auto got = AlertKeys(OnlyRules(h.alerts(), rules));
  CHECK(got == expected);
  CHECK(h.metrics().too_late == 2);
  CHECK(h.metrics().late_accepted == 1);
}

}  // namespace vigil::testing
