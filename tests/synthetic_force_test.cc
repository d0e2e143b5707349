// The synthetic force (tools/synth/synthetic_force.h): replayed through the real engine, every planted
// pattern and benign case of every registered rule is found, no near miss or background behaviour
// alerts, the labels say which alerts are true and which false positives, and the stream is
// deterministic and well formed.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "event.h"
#include "harness.h"
#include "pipeline.h"
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
  for (const RuleDescriptor* rule : RuleCatalogue()) rules.insert(rule->rule_id);
  return rules;
}

std::vector<v1::Alert> Replay(const SyntheticForce& force) {
  Harness h;
  for (const auto& line : Lines(force)) h.Feed(line);
  h.Finish();
  return h.alerts();
}

const char* const kContractRules[] = {"off_duty_access", "repeated_subject_lookup", "complainant_lookup",
                                      "complaint_accumulation", "sensitive_complaint_pattern",
                                      "impossible_travel", "access_volume_spike", "overtime_overlap",
                                      "bradford_factor"};

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += "\n    " + s;
  return out;
}

}  // namespace

TEST_CASE("synthetic force: every planted pattern and benign case of the registered rules is found, nothing else") {
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
      CHECK(t.benign_found == t.benign);
      CHECK(t.missed == 0);
      CHECK(t.unexpected == 0);
    }
    // Every rule of the contract has planted patterns, near misses and benign cases.
    for (const char* rule : kContractRules) {
      CAPTURE(rule);
      int planted = 0, near = 0, benign = 0;
      for (const auto& p : force.plan()) {
        if (p.rule_id == rule) (p.benign ? benign : p.near_miss ? near : planted)++;
      }
      CHECK(planted >= 1);
      CHECK(near >= 1);
      CHECK(benign >= 1);
    }
  }
}

TEST_CASE("synthetic force: labels mark planted patterns true and benign cases false, and each has an alert") {
  SyntheticForce force(SmallForce(7));
  const std::vector<CaseLabel> labels = LabelsOf(force.plan());
  std::map<std::pair<std::string, std::string>, const CaseLabel*> by_case;
  for (const CaseLabel& l : labels) {
    CHECK(by_case.emplace(std::pair{l.officer_id, l.rule_id}, &l).second);  // one line per case
  }
  int planted = 0, benign = 0;
  for (const PlantedPattern& p : force.plan()) {
    auto it = by_case.find({p.officer_id, p.rule_id});
    if (p.near_miss) {
      CHECK(it == by_case.end());
      continue;
    }
    REQUIRE(it != by_case.end());
    CAPTURE(p.note);
    CHECK(it->second->true_positive == !p.benign);
    CHECK(it->second->why.rfind(p.benign ? "benign: " : "planted: ", 0) == 0);
    ++(p.benign ? benign : planted);
  }
  // About as many benign cases as planted patterns, or somewhat more: a precision below 1.
  CHECK(benign >= planted);
  CHECK(benign <= 2 * planted);

  // A replay finds an alert for every labelled case; judged by the labels, some alerts are false.
  std::map<std::pair<std::string, std::string>, int> alerts_per_case;
  for (const v1::Alert& a : Replay(force)) ++alerts_per_case[{a.officer_id(), a.rule_id()}];
  int true_alerts = 0, false_alerts = 0;
  for (const CaseLabel& l : labels) {
    CAPTURE(l.why);
    const int n = alerts_per_case[{l.officer_id, l.rule_id}];
    CHECK(n >= 1);
    (l.true_positive ? true_alerts : false_alerts) += n;
  }
  CHECK(true_alerts > 0);
  CHECK(false_alerts >= true_alerts / 2);

  const std::string ndjson = LabelsToNdjson(labels);
  CHECK(std::count(ndjson.begin(), ndjson.end(), '\n') == static_cast<long>(labels.size()));
  const CaseLabel& first = labels.front();
  CHECK(ndjson.rfind("{\"officerId\": \"" + first.officer_id + "\", \"ruleId\": \"" + first.rule_id +
                         "\", \"label\": \"true_positive\", \"why\": \"planted: ",
                     0) == 0);
  CHECK(ndjson.find("\"label\": \"false_positive\", \"why\": \"benign: ") != std::string::npos);
}

TEST_CASE("synthetic force: --benign-rate scales benign cases, 0 turns them off, planted patterns stay") {
  auto split = [](const SyntheticForce& force) {
    std::vector<std::string> planted;
    int benign = 0;
    for (const auto& p : force.plan()) {
      if (p.benign) ++benign;
      else planted.push_back(p.rule_id + " " + p.officer_id + " " + FormatDay(p.window_end_day) + " " + p.note);
    }
    return std::pair{planted, benign};
  };
  SyntheticForceOptions options = SmallForce(7);
  const auto [planted_default, benign_default] = split(SyntheticForce(options));
  options.benign_rate = 0;
  SyntheticForce none(options);
  const auto [planted_none, benign_none] = split(none);
  options.benign_rate = 2;
  const auto [planted_double, benign_double] = split(SyntheticForce(options));
  CHECK(benign_none == 0);
  for (const CaseLabel& l : LabelsOf(none.plan())) CHECK(l.true_positive);
  CHECK(benign_default > 0);
  CHECK(benign_double >= 2 * benign_default - 2);  // fewer only where the force has no room
  CHECK(planted_none == planted_default);
  CHECK(planted_double == planted_default);
  options.benign_rate = 0.5;
  const int half_a = split(SyntheticForce(options)).second, half_b = split(SyntheticForce(options)).second;
  CHECK(half_a == half_b);  // fractions are decided by the seed
  CHECK(half_a < benign_default);

  // Without benign behaviour every alert is a planted pattern again.
  for (const RuleTally& t : MatchAlerts(none.plan(), Replay(none))) {
    CAPTURE(t.rule_id);
    CHECK(t.benign == 0);
    CHECK(t.on_benign == 0);
    CHECK(t.unexpected == 0);
  }
}

TEST_CASE("vigil generate --labels writes a labels file; --benign-rate is checked") {
  const std::string vigil = VIGIL_BINARY;
  TempDir dir("vigil-generate-labels-");
  const std::string base =
      vigil + " generate --quiet --officers 200 --days 21 --access-per-shift 1.5 --output " + dir.path() + "/f.ndjson";
  auto read = [&](const std::string& name) {
    std::ifstream in(dir.path() + "/" + name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  REQUIRE(RunShell(base + " --labels " + dir.path() + "/labels.ndjson --plan " + dir.path() + "/plan.json") == 0);
  SyntheticForceOptions options;
  options.officers = 200;
  options.days = 21;
  SyntheticForce force(options);
  CHECK(read("labels.ndjson") == LabelsToNdjson(LabelsOf(force.plan())));
  CHECK(read("labels.ndjson").find("false_positive") != std::string::npos);
  CHECK(read("plan.json").find("\"benign\": true") != std::string::npos);

  REQUIRE(RunShell(base + " --benign-rate 0 --labels " + dir.path() + "/none.ndjson") == 0);
  CHECK(read("none.ndjson").find("true_positive") != std::string::npos);
  CHECK(read("none.ndjson").find("false_positive") == std::string::npos);

  CHECK(RunShell(base + " --benign-rate -1") == 2);
  CHECK(RunShell(base + " --benign-rate lots") == 2);
  CHECK(RunShell(base + " --no-plant --benign-rate 1") == 2);
  CHECK(RunShell(base + " --access-per-officer-day 45") == 2);  // one volume, not two
  CHECK(RunShell(base + " --access-per-shift -1") == 2);
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
      {"rule_b", "MP4", "S2", 1767571200000, false, "b1", true},
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
                                    alert("rule_b", "MP4", "S2", day + kHour),
                                    alert("rule_c", "MP9", "", day)});
  REQUIRE(tallies.size() == 3);
  CHECK(tallies[0].rule_id == "rule_a");
  CHECK(tallies[0].planted == 1);
  CHECK(tallies[0].found == 1);
  CHECK(tallies[0].unexpected == 2);  // a second alert on the same key, and the near miss
  CHECK(tallies[0].near_miss_hits == 1);
  CHECK(tallies[0].on_planted == 2);  // labelled by (officer, rule): both alerts of MP1
  CHECK(tallies[0].on_benign == 0);
  CHECK(tallies[1].rule_id == "rule_b");
  CHECK(tallies[1].planted == 1);
  CHECK(tallies[1].benign == 1);
  CHECK(tallies[1].benign_found == 1);
  CHECK(tallies[1].on_benign == 1);
  CHECK(tallies[1].missed == 1);
  CHECK(tallies[2].rule_id == "rule_c");
  CHECK(tallies[2].unexpected == 1);
}

TEST_CASE("synthetic force: a day at a time, encoded, it gives Generate's events byte for byte as protobuf serializes them") {
  SyntheticForceOptions realistic = RealisticVolume(SmallForce(9));
  realistic.officers = 60;
  realistic.days = 12;
  for (const SyntheticForceOptions& options : {SmallForce(7), realistic}) {
    CAPTURE(options.access_per_shift);
    SyntheticForce force(options);
    std::vector<std::pair<Stream, std::string>> whole;
    force.Generate([&](const v1::Envelope& e) { whole.emplace_back(StreamOf(e), EncodeEvent(e)); });
    std::vector<std::pair<Stream, std::string>> by_day;
    SyntheticForce::Days days(force);
    EncodedDay day;
    int expected_day = -3;
    while (days.Next(day)) {
      CHECK(day.day == expected_day++);
      day.ForEach([&](Stream stream, std::string_view bytes) { by_day.emplace_back(stream, std::string(bytes)); });
    }
    CHECK(expected_day == options.days);
    CHECK(days.done() == days.total());
    CHECK(days.stats().total() == whole.size());
    REQUIRE(by_day.size() == whole.size());
    size_t differ = 0;
    for (size_t i = 0; i < whole.size(); ++i) differ += by_day[i] != whole[i];
    CHECK(differ == 0);  // the tiny encoder writes what SerializeToString writes, for every event
    // And the fields decode as built: a sample of access events.
    int sampled = 0;
    for (size_t i = 0; i < by_day.size() && sampled < 50; i += 97) {
      if (by_day[i].first != Stream::kAccess) continue;
      Result<v1::Envelope> e = DecodeEvent(Stream::kAccess, by_day[i].second);
      REQUIRE(e.ok());
      const v1::AccessEvent& a = e->access();
      if (a.event_id().rfind("A-", 0) != 0) continue;  // planted
      CHECK(a.event_id().rfind("A-" + a.officer_id() + "-", 0) == 0);
      CHECK(a.action() != v1::AccessEvent::ACTION_UNSPECIFIED);
      CHECK(a.occurred_at().seconds() > options.start / 1000);
      if (IsSubjectLookup(a)) CHECK(a.case_ref().size() == 14);
      ++sampled;
    }
    CHECK(sampled > 10);
  }
}

TEST_CASE("synthetic force: the realistic volume gives about access_per_officer_day access events per officer per day") {
  SyntheticForceOptions options = RealisticVolume(SmallForce(4));
  options.officers = 300;
  options.days = 10;
  options.plant = false;
  SyntheticForce force(options);
  SyntheticForce::Days days(force);
  EncodedDay day;
  uint64_t lookups = 0, sessions = 0;
  while (days.Next(day)) {
    day.ForEach([&](Stream stream, std::string_view bytes) {
      if (stream != Stream::kAccess) return;
      Result<v1::Envelope> e = DecodeEvent(stream, bytes);
      REQUIRE(e.ok());
      if (IsSubjectLookup(e->access())) ++lookups;
      if (e->access().action() == v1::AccessEvent::LOGIN) ++sessions;
    });
  }
  const double per_officer_day = static_cast<double>(days.stats().access) / (options.officers * options.days);
  CHECK(per_officer_day > 40);
  CHECK(per_officer_day < 50);
  CHECK(sessions > 3 * options.officers * options.days / 2);  // several sessions a worked shift
  CHECK(lookups > 10 * sessions);
}

}  // namespace vigil::testing
