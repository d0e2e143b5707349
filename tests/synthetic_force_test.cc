// The synthetic force (engine/synthetic_force.h): replayed through the real engine, every planted
// pattern of every registered rule is found, no near miss or background behaviour alerts, and the
// stream is deterministic and well formed.
#include <doctest/doctest.h>

#include <set>

#include "event.h"
#include "harness.h"
#include "registry.h"
#include "rules_config.h"
#include "synthetic_force.h"

namespace vigil::testing {

namespace {

SyntheticForceOptions SmallForce(uint64_t seed) {
  SyntheticForceOptions options;
  options.officers = 200;
  options.days = 35;  // >= 31: the 30-day boundary patterns of repeated_subject_lookup fit
  options.seed = seed;
  return options;
}

std::vector<std::string> Lines(const SyntheticForce& force) {
  std::vector<std::string> lines;
  force.Generate([&](const v1::Envelope& e) { lines.push_back(ToJsonLine(e)); });
  return lines;
}

std::set<std::string> RegisteredRules() {
  std::set<std::string> rules;
  for (const auto& op : BuildAllOperators(DefaultRulesConfig())) rules.insert(op->info().rule_id);
  return rules;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += "\n    " + s;
  return out;
}

}  // namespace

TEST_CASE("synthetic force: every planted pattern of the registered rules is found, nothing else") {
  for (uint64_t seed : {7u, 1u}) {
    CAPTURE(seed);
    SyntheticForce force(SmallForce(seed));
    Harness h;
    for (const auto& line : Lines(force)) h.Feed(line);
    h.Finish();
    CHECK(h.metrics().too_late == 0);
    CHECK(h.dead_letters().empty());

    const std::set<std::string> registered = RegisteredRules();
    std::set<std::string> planted_rules;
    for (const auto& p : force.plan()) planted_rules.insert(p.rule_id);
    for (const RuleTally& t : MatchAlerts(force.plan(), h.alerts())) {
      if (!registered.count(t.rule_id)) continue;
      CAPTURE(t.rule_id);
      INFO("missed:" << Join(t.missed_keys) << "\n  unexpected:" << Join(t.unexpected_keys));
      CHECK(t.planted > 0);
      CHECK(t.found == t.planted);
      CHECK(t.missed == 0);
      CHECK(t.unexpected == 0);
    }
    // Every rule of the contract has planted patterns and near misses.
    for (const char* rule : {"off_duty_access", "repeated_subject_lookup", "complainant_lookup",
                             "complaint_accumulation", "sensitive_complaint_pattern",
                             "impossible_travel", "access_volume_spike", "overtime_overlap",
                             "bradford_factor"}) {
      CAPTURE(rule);
      int planted = 0, near = 0;
      for (const auto& p : force.plan()) {
        if (p.rule_id == rule) (p.near_miss ? near : planted)++;
      }
      CHECK(planted >= 1);
      CHECK(near >= 1);
    }
  }
}

TEST_CASE("synthetic force: same seed, same events; another seed, other events") {
  const auto a = Lines(SyntheticForce(SmallForce(11)));
  const auto b = Lines(SyntheticForce(SmallForce(11)));
  const auto c = Lines(SyntheticForce(SmallForce(12)));
  CHECK(a.size() > 5000);
  CHECK(a == b);
  CHECK(a != c);
}

TEST_CASE("synthetic force: events are valid, unique and in order but for < 90 s of disorder") {
  SyntheticForceOptions options = SmallForce(3);
  options.officers = 300;
  SyntheticForce force(options);
  std::set<std::string> ids;
  Millis highest = kMinTime, max_disorder = 0;
  uint64_t count = 0;
  ForceStats stats = force.Generate([&](const v1::Envelope& e) {
    ++count;
    Status valid = Validate(e);
    REQUIRE_MESSAGE(valid.ok(), valid.message());
    CHECK(ids.insert(EventId(e)).second);
    const Millis t = EventTime(e);
    max_disorder = std::max(max_disorder, highest - t);
    highest = std::max(highest, t);
    CHECK(t < options.start + options.days * kDay);
    if (e.has_access()) {
      CHECK(t >= options.start);
      if (IsSubjectLookup(e.access()) && e.access().subject_id().rfind("S09", 0) != 0) {
        CHECK_FALSE(e.access().case_ref().empty());  // background lookups carry a case_ref
      }
    }
  });
  CHECK(count == stats.total());
  CHECK(stats.roster > 0);
  CHECK(stats.access > 0);
  CHECK(stats.complaints > 0);
  CHECK(max_disorder > 0);
  CHECK(max_disorder <= 90 * kSecond);
}

TEST_CASE("synthetic force: too small a force plants what fits, and no plan without planting") {
  SyntheticForceOptions options = SmallForce(5);
  options.officers = 10;
  options.days = 10;
  SyntheticForce small(options);
  CHECK_FALSE(small.plan().empty());
  for (const auto& p : small.plan()) {
    CHECK(p.officer_id >= "MP100001");
    CHECK(p.officer_id <= "MP100010");
    CHECK(p.window_end_day < options.start + options.days * kDay + kDay);
  }
  CHECK(Lines(small).size() > 0);
  options.plant = false;
  CHECK(SyntheticForce(options).plan().empty());
}

TEST_CASE("synthetic force: alert matching counts found, missed and unexpected per rule") {
  std::vector<PlantedPattern> plan = {
      {"rule_a", "MP1", "", 1767571200000, false, "p1"},
      {"rule_a", "MP2", "", 1767571200000, true, "n1"},
      {"rule_b", "MP3", "S1", 1767571200000, false, "p2"},
  };
  auto alert = [](const std::string& rule, const std::string& officer, const std::string& subject,
                  Millis end) {
    v1::Alert a;
    a.set_rule_id(rule);
    a.set_officer_id(officer);
    a.set_subject_id(subject);
    *a.mutable_window_end() = ToTimestamp(end);
    return a;
  };
  const Millis day = 1767571200000;
  auto tallies = MatchAlerts(plan, {alert("rule_a", "MP1", "", day + 5 * kHour),
                                    alert("rule_a", "MP1", "", day + 6 * kHour),
                                    alert("rule_a", "MP2", "", day + kHour),
                                    alert("rule_c", "MP9", "", day)});
  REQUIRE(tallies.size() == 3);
  CHECK(tallies[0].rule_id == "rule_a");
  CHECK(tallies[0].planted == 1);
  CHECK(tallies[0].found == 1);
  CHECK(tallies[0].unexpected == 2);  // a second alert on the same key, and the near miss
  CHECK(tallies[0].near_miss_hits == 1);
  CHECK(tallies[1].rule_id == "rule_b");
  CHECK(tallies[1].missed == 1);
  CHECK(tallies[2].rule_id == "rule_c");
  CHECK(tallies[2].unexpected == 1);
}

}  // namespace vigil::testing
