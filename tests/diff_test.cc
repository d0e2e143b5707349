// `vigil diff` (engine/replay/diff.h): on the sample force, rule set A = defaults and B = one threshold
// lowered and one raised. The per-rule counts are checked against an independent count: each
// rule set replayed on its own through the test harness (in-memory state, not diff's RocksDB),
// with the alerts matched by this file's own simple code. From Kafka (librdkafka's mock cluster),
// a range diff is checked against the file diff of the events in the range, and a diff of two
// alert topics against hand-made alerts.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "replay/diff.h"
#include "replay/diff_report.h"
#include "harness.h"
#include "kafka/kafka_io.h"
#include "kafka/mock_broker.h"
#include "replay/replay_kafka.h"
#include "rules_config.h"

namespace vigil::testing {
namespace {

const std::string kEvents =
    std::string(VIGIL_SOURCE_DIR) + "/tests/scenarios/shared/sample-force.events.ndjson";
// B: repeated look-ups fire from 2 (more alerts, some earlier), volume spikes need 100 (fewer).
const std::string kRulesB =
    R"({"repeatedSubjectLookup": {"minLookups": 2}, "accessVolumeSpike": {"minCount": 100}})";

v1::RulesConfig Config(const std::string& json) {
  Result<v1::RulesConfig> config = ParseRulesConfig(json);
  REQUIRE(config.ok());
  return *config;
}

std::vector<v1::Alert> ReplayAlone(const std::string& rules_json) {
  Harness h(rules_json);
  for (const auto& line : ReadLines(kEvents)) h.Feed(line);
  h.Finish();
  return h.alerts();
}

// The diff of the sample force, computed once for every test case of this file.
struct Sample {
  std::vector<v1::Alert> alone_a, alone_b;  // each set replayed on its own
  DiffReplay replay;                         // both in one pass
  DiffResult diff;
};
const Sample& SampleDiff() {
  static const Sample sample = [] {
    Sample s;
    s.alone_a = ReplayAlone("{}");
    s.alone_b = ReplayAlone(kRulesB);
    std::ifstream in(kEvents);
    s.replay = ReplayBoth(in, kEvents, Config("{}"), Config(kRulesB), false);
    s.diff = CompareAlerts(s.replay.a, s.replay.b, Config("{}"), Config(kRulesB));
    return s;
  }();
  return sample;
}

// This test's own matching: for each A alert in window order, the unused B alert of the same
// rule, officer and subject whose window overlaps it most.
struct Counted {
  std::map<std::string, int> a, b, matched;
};
Counted CountIndependently(std::vector<v1::Alert> a, const std::vector<v1::Alert>& b) {
  Counted c;
  std::sort(a.begin(), a.end(), [](const v1::Alert& x, const v1::Alert& y) {
    return ToMillis(x.window_start()) < ToMillis(y.window_start());
  });
  std::vector<bool> used(b.size());
  for (const auto& x : a) {
    ++c.a[x.rule_id()];
    long best = -1;
    Millis best_overlap = -1;
    for (size_t j = 0; j < b.size(); ++j) {
      const auto& y = b[j];
      if (used[j] || x.rule_id() != y.rule_id() || x.officer_id() != y.officer_id() ||
          x.subject_id() != y.subject_id()) {
        continue;
      }
      Millis overlap = std::min(ToMillis(x.window_end()), ToMillis(y.window_end())) -
                       std::max(ToMillis(x.window_start()), ToMillis(y.window_start()));
      if (overlap > best_overlap) {
        best_overlap = overlap;
        best = static_cast<long>(j);
      }
    }
    if (best >= 0) {
      used[best] = true;
      ++c.matched[x.rule_id()];
    }
  }
  for (const auto& y : b) ++c.b[y.rule_id()];
  return c;
}

v1::Alert MakeAlert(const std::string& id, const std::string& rule, const std::string& officer,
                    const std::string& subject, const std::string& start, const std::string& end,
                    double score = 1) {
  v1::Alert alert;
  alert.set_alert_id(id);
  alert.set_rule_id(rule);
  alert.set_officer_id(officer);
  alert.set_subject_id(subject);
  *alert.mutable_window_start() = ToTimestamp(*ParseTime(start));
  *alert.mutable_window_end() = ToTimestamp(*ParseTime(end));
  alert.set_score(score);
  alert.set_summary("summary of " + id);
  return alert;
}

google::protobuf::Struct ParseJson(const std::string& text) {
  google::protobuf::Struct doc;
  REQUIRE(google::protobuf::util::JsonStringToMessage(text, &doc).ok());
  return doc;
}

double Field(const google::protobuf::Struct& object, const std::string& name) {
  REQUIRE(object.fields().count(name) == 1);
  return object.fields().at(name).number_value();
}

// CHECKs that two diffs have the same figures for every rule, weeks included.
void CheckSameFigures(const DiffResult& expected, const DiffResult& got) {
  REQUIRE(got.rules.size() == expected.rules.size());
  for (const auto& [rule, e] : expected.rules) {
    CAPTURE(rule);
    const RuleDiff& g = got.rules.at(rule);
    CHECK(g.a == e.a);
    CHECK(g.b == e.b);
    CHECK(g.matched == e.matched);
    CHECK(g.only_a == e.only_a);
    CHECK(g.only_b == e.only_b);
    CHECK(g.officers == e.officers);
    CHECK(g.weeks.size() == e.weeks.size());
    for (const auto& [week, n] : e.weeks) {
      CAPTURE(week);
      REQUIRE(g.weeks.count(week) == 1);
      CHECK(g.weeks.at(week).a == n.a);
      CHECK(g.weeks.at(week).b == n.b);
    }
  }
}

const google::protobuf::Struct& Member(const google::protobuf::Struct& object, const std::string& name) {
  REQUIRE(object.fields().count(name) == 1);
  return object.fields().at(name).struct_value();
}

}  // namespace

TEST_CASE("diff: one pass over the history gives each set's own alerts, counted per rule") {
  const Sample& s = SampleDiff();
  CHECK(SortedIds(s.replay.a) == SortedIds(s.alone_a));
  CHECK(SortedIds(s.replay.b) == SortedIds(s.alone_b));
  Counted expected = CountIndependently(s.alone_a, s.alone_b);
  for (const auto& [rule, d] : s.diff.rules) {
    CAPTURE(rule);
    CHECK(d.a == static_cast<uint64_t>(expected.a[rule]));
    CHECK(d.b == static_cast<uint64_t>(expected.b[rule]));
    CHECK(d.matched == static_cast<uint64_t>(expected.matched[rule]));
    CHECK(d.only_a == d.a - d.matched);
    CHECK(d.only_b == d.b - d.matched);
  }
  // The changes bite: more look-up alerts under B, fewer volume spikes.
  CHECK(s.diff.rules.at("repeated_subject_lookup").only_b > 0);
  CHECK(s.diff.rules.at("access_volume_spike").only_a > 0);
  CHECK(s.diff.rules.at("access_volume_spike").only_b == 0);
  CHECK(s.diff.rules.at("off_duty_access").matched == s.diff.rules.at("off_duty_access").a);
  CHECK(s.diff.rules.size() == 9);
}

TEST_CASE("diff: every only-A and only-B alert is listed with the settings that decided it") {
  const Sample& s = SampleDiff();
  uint64_t only_a = 0, only_b = 0;
  for (const auto& [rule, d] : s.diff.rules) {
    only_a += d.only_a;
    only_b += d.only_b;
  }
  REQUIRE(s.diff.only_a.size() == only_a);
  REQUIRE(s.diff.only_b.size() == only_b);
  for (const auto& u : s.diff.only_a) {
    CAPTURE(u.alert.summary());
    CHECK(u.alert.rule_id() == "access_volume_spike");
    CHECK(u.settings == std::vector<std::string>{"minCount: A 50, B 100"});
    CHECK(u.alert.score() < 100);
    CHECK(u.why.find("is below B's minCount 100") != std::string::npos);
  }
  for (const auto& u : s.diff.only_b) {
    CAPTURE(u.alert.summary());
    CHECK(u.alert.rule_id() == "repeated_subject_lookup");
    CHECK(u.settings == std::vector<std::string>{"minLookups: A 3, B 2"});
    if (u.alert.score() < 3) CHECK(u.why == "score 2 is below A's minLookups 3");
  }
  // The text names each one with its summary and the threshold.
  DiffFindings findings{s.diff, std::nullopt, 5, "A.json", "B.json"};
  std::string text = DiffText(findings);
  for (const auto& u : s.diff.only_b) CHECK(text.find(u.alert.summary()) != std::string::npos);
  CHECK(text.find("setting minLookups: A 3, B 2") != std::string::npos);
  CHECK(text.find("A did not fire: score 2 is below A's minLookups 3") != std::string::npos);
}

TEST_CASE("diff: the same rules twice give no difference") {
  const Sample& s = SampleDiff();
  DiffResult same = CompareAlerts(s.replay.a, s.alone_a, Config("{}"), Config("{}"));
  CHECK(same.only_a.empty());
  CHECK(same.only_b.empty());
  for (const auto& [rule, d] : same.rules) {
    CHECK(d.a == d.b);
    CHECK(d.matched == d.a);
  }
  CHECK(SettingDifferences("repeated_subject_lookup", Config("{}"), Config("{}")).empty());
}

TEST_CASE("diff matching: same rule, officer and subject with overlapping windows; one each") {
  const std::string r = "repeated_subject_lookup";
  std::vector<v1::Alert> a = {
      MakeAlert("a1", r, "O1", "S1", "2026-03-01T00:00:00Z", "2026-03-10T00:00:00Z"),
      MakeAlert("a2", r, "O1", "S2", "2026-03-01T00:00:00Z", "2026-03-10T00:00:00Z"),
      MakeAlert("a3", r, "O2", "", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"),
      MakeAlert("same", r, "O3", "S1", "2026-03-05T00:00:00Z", "2026-03-05T00:00:00Z"),
  };
  std::vector<v1::Alert> b = {
      // Earlier and shorter (a lower threshold) but overlapping a1 by 2 days: the same case.
      MakeAlert("b1", r, "O1", "S1", "2026-02-20T00:00:00Z", "2026-03-03T00:00:00Z"),
      // Overlaps a1 by 5 days: a1 takes this one, by the largest overlap.
      MakeAlert("b2", r, "O1", "S1", "2026-03-04T00:00:00Z", "2026-03-09T00:00:00Z"),
      // Other subject than a2's S2: not the same case.
      MakeAlert("b3", r, "O1", "S3", "2026-03-01T00:00:00Z", "2026-03-10T00:00:00Z"),
      // Same officer and empty subject, touching a3's window at its end: the same case.
      MakeAlert("b4", r, "O2", "", "2026-03-02T00:00:00Z", "2026-03-04T00:00:00Z"),
      // An identical id wins over a longer overlap.
      MakeAlert("other", r, "O3", "S1", "2026-03-01T00:00:00Z", "2026-03-09T00:00:00Z"),
      MakeAlert("same", r, "O3", "S1", "2026-03-05T00:00:00Z", "2026-03-05T00:00:00Z"),
  };
  std::vector<AlertMatch> m = MatchAlerts(a, b);
  std::set<std::pair<std::string, std::string>> pairs;
  for (const auto& x : m) pairs.insert({a[x.a].alert_id(), b[x.b].alert_id()});
  CHECK(pairs == std::set<std::pair<std::string, std::string>>{
                     {"a1", "b2"}, {"a3", "b4"}, {"same", "same"}});
  // Emission order does not change the outcome.
  std::reverse(b.begin(), b.end());
  std::set<std::pair<std::string, std::string>> reversed;
  for (const auto& x : MatchAlerts(a, b)) reversed.insert({a[x.a].alert_id(), b[x.b].alert_id()});
  CHECK(reversed == pairs);
}

TEST_CASE("diff: ISO weeks") {
  CHECK(IsoWeek(*ParseTime("2026-01-01T12:00:00Z")) == "2026-W01");  // a Thursday
  CHECK(IsoWeek(*ParseTime("2026-01-18T23:59:59Z")) == "2026-W03");  // a Sunday
  CHECK(IsoWeek(*ParseTime("2027-01-01T00:00:00Z")) == "2026-W53");  // Friday: 2026 has 53 weeks
  CHECK(IsoWeek(*ParseTime("2024-12-30T00:00:00Z")) == "2025-W01");  // Monday of 2025's week 1
  CHECK(IsoWeek(*ParseTime("2021-01-03T00:00:00Z")) == "2020-W53");
}

TEST_CASE("diff labels: precision, recall and misses per rule and set on a hand-made file") {
  const std::string r = "repeated_subject_lookup", c = "complaint_accumulation";
  std::vector<v1::Alert> a = {
      MakeAlert("a1", r, "O1", "S1", "2026-03-01T00:00:00Z", "2026-03-10T00:00:00Z"),
      MakeAlert("a2", r, "O2", "S1", "2026-03-01T00:00:00Z", "2026-03-10T00:00:00Z"),
      MakeAlert("a3", r, "O3", "S1", "2026-03-01T00:00:00Z", "2026-03-10T00:00:00Z"),
      MakeAlert("c1", c, "O1", "", "2026-03-01T00:00:00Z", "2026-03-10T00:00:00Z"),
  };
  std::vector<v1::Alert> b = {
      MakeAlert("b1", r, "O1", "S1", "2026-02-25T00:00:00Z", "2026-03-02T00:00:00Z"),  // = a1
      MakeAlert("b4", r, "O4", "S1", "2026-03-01T00:00:00Z", "2026-03-10T00:00:00Z"),
      MakeAlert("b5", r, "O5", "S1", "2026-03-01T00:00:00Z", "2026-03-10T00:00:00Z"),
  };
  std::istringstream file(
      // Reviews of A's alerts (vigil consume --labels): a1 right, a2 wrong, a3 a duplicate.
      R"({"alertId":"a1","officerId":"O1","ruleId":"repeated_subject_lookup","outcome":"confirmed","label":"true_positive"})"
      "\n"
      R"({"alertId":"a2","officerId":"O2","ruleId":"repeated_subject_lookup","outcome":"dismissed","label":"false_positive"})"
      "\n\n"
      R"({"alertId":"a3","officerId":"O3","ruleId":"repeated_subject_lookup","outcome":"duplicate","label":"duplicate"})"
      "\n"
      // Planted truth per officer (the synthetic force's labels): O4 real, O5 benign, O6 real.
      R"({"officerId":"O4","ruleId":"repeated_subject_lookup","label":"true_positive"})"
      "\n"
      R"({"officerId":"O5","ruleId":"repeated_subject_lookup","label":"false_positive","why":"benign: a relative"})"
      "\n"
      R"({"officerId":"O6","ruleId":"repeated_subject_lookup","label":"true_positive"})"
      "\n"
      R"({"officerId":"O1","ruleId":"complaint_accumulation","label":"true_positive"})"
      "\n");
  Result<std::vector<Label>> labels = ParseLabels(file, "labels.ndjson");
  REQUIRE(labels.ok());
  REQUIRE(labels->size() == 7);
  std::vector<AlertMatch> matches = MatchAlerts(a, b);
  auto scores = ScoreLabels(*labels, a, b, matches);
  const RuleLabels& rsl = scores.at(r);
  CHECK(rsl.support == 5);
  // A: a1 tp, a2 fp, O4 and O6 missed, O5 not alerted; a3's duplicate apart.
  CHECK(rsl.a.tp == 1);
  CHECK(rsl.a.fp == 1);
  CHECK(rsl.a.misses == 2);
  CHECK(rsl.a.duplicates == 1);
  CHECK(*rsl.a.Precision() == doctest::Approx(0.5));
  CHECK(*rsl.a.Recall() == doctest::Approx(1.0 / 3));
  // B: b1 is a1's case (tp through the match), O4 tp, O5 fp, O6 missed; a2 and a3 not alerted.
  CHECK(rsl.b.tp == 2);
  CHECK(rsl.b.fp == 1);
  CHECK(rsl.b.misses == 1);
  CHECK(rsl.b.duplicates == 0);
  CHECK(*rsl.b.Precision() == doctest::Approx(2.0 / 3));
  CHECK(*rsl.b.Recall() == doctest::Approx(2.0 / 3));
  CHECK(scores.at(c).a.tp == 1);
  CHECK(scores.at(c).b.misses == 1);

  DiffFindings findings{CompareAlerts(a, b, Config("{}"), Config("{}")), scores, 5, "A", "B"};
  std::string text = DiffText(findings);
  CHECK(text.find("too few labels to judge") != std::string::npos);  // complaint_accumulation: 1
  CHECK(text.find("66.7%") != std::string::npos);
  google::protobuf::Struct doc = ParseJson(DiffJson(findings));
  const auto& json_rsl = doc.fields().at("labels").struct_value().fields().at(r).struct_value();
  CHECK(Field(json_rsl, "support") == 5);
  CHECK(Field(json_rsl.fields().at("b").struct_value(), "precision") == doctest::Approx(2.0 / 3));
  const auto& json_c = doc.fields().at("labels").struct_value().fields().at(c).struct_value();
  CHECK_FALSE(json_c.fields().at("judged").bool_value());
  CHECK(json_c.fields().at("a").struct_value().fields().at("precision").has_null_value());
}

TEST_CASE("diff labels: a bad line is an error naming its line number") {
  auto error = [](const std::string& text) {
    std::istringstream in(text);
    Result<std::vector<Label>> labels = ParseLabels(in, "L.ndjson");
    REQUIRE_FALSE(labels.ok());
    return labels.status().message();
  };
  const std::string good = R"({"officerId":"O1","ruleId":"bradford_factor","label":"true_positive"})";
  CHECK(error(good + "\n{not json\n") == "L.ndjson:2: not a JSON object");
  CHECK(error(good + "\n" + good + "\n" + R"({"officerId":"O1","ruleId":"nope","label":"true_positive"})") ==
        "L.ndjson:3: ruleId 'nope' is not a rule");
  CHECK(error(R"({"officerId":"O1","ruleId":"bradford_factor","label":"maybe"})") ==
        "L.ndjson:1: label must be true_positive, false_positive or duplicate, got 'maybe'");
  CHECK(error(R"({"ruleId":"bradford_factor","label":"duplicate"})") ==
        "L.ndjson:1: a label needs an alertId or an officerId");
  CHECK(error(R"({"officerId":7,"ruleId":"bradford_factor","label":"duplicate"})") ==
        "L.ndjson:1: officerId is not a string");
  CHECK(error(R"({"officerId":"O1","ruleId":"bradford_factor","label":"duplicate","whyy":"x"})") ==
        "L.ndjson:1: unknown field 'whyy'");
}

TEST_CASE("vigil diff: --json holds the same numbers; --report writes the page; usage errors") {
  const Sample& s = SampleDiff();
  TempDir dir("vigil-diff-test-");
  const std::string b_file = dir.path() + "/b.json", json = dir.path() + "/diff.json";
  std::ofstream(b_file) << kRulesB;
  const std::string vigil = VIGIL_BINARY;
  const std::string command = vigil + " diff --quiet --rules '' --rules " + b_file + " --input " +
                              kEvents + " --json " + json + " --report " + dir.path() + "/report";
  REQUIRE(RunShell(command + " > " + dir.path() + "/out.txt") == 0);
  google::protobuf::Struct doc = ParseJson(ReadFile(json));
  const auto& rules = doc.fields().at("rules").struct_value();
  CHECK(rules.fields().size() == 9);
  for (const auto& [rule, d] : s.diff.rules) {
    CAPTURE(rule);
    const auto& got = rules.fields().at(rule).struct_value();
    CHECK(Field(got, "a") == d.a);
    CHECK(Field(got, "b") == d.b);
    CHECK(Field(got, "matched") == d.matched);
    CHECK(Field(got, "onlyA") == d.only_a);
    CHECK(Field(got, "onlyB") == d.only_b);
    CHECK(Field(got, "officers") == d.officers);
    double week_a = 0, week_b = 0;
    for (const auto& [week, n] : got.fields().at("weeks").struct_value().fields()) {
      week_a += Field(n.struct_value(), "a");
      week_b += Field(n.struct_value(), "b");
    }
    CHECK(week_a == d.a);
    CHECK(week_b == d.b);
  }
  CHECK(doc.fields().at("onlyA").list_value().values_size() == static_cast<int>(s.diff.only_a.size()));
  CHECK(doc.fields().at("onlyB").list_value().values_size() == static_cast<int>(s.diff.only_b.size()));
  CHECK(ReadFile(dir.path() + "/out.txt").find("repeated_subject_lookup") != std::string::npos);
  CHECK(std::filesystem::exists(dir.path() + "/report/index.html"));
  CHECK(std::filesystem::file_size(dir.path() + "/report/chart.js") ==
        std::filesystem::file_size(kChartJsPath));

  const std::string err = dir.path() + "/err.txt";
  auto run = [&](const std::string& args) { return RunShell("(" + vigil + " diff " + args + " 2>" + err + ")"); };
  CHECK(run("--rules '' --input " + kEvents) == 2);
  CHECK(ReadFile(err).find("--rules must be given exactly twice") != std::string::npos);
  CHECK(run("--rules '' --rules '' --brokers 127.0.0.1:1 --from yesterday --to 2026-02-01T00:00:00Z") == 2);
  CHECK(ReadFile(err).find("--from yesterday: expected an RFC 3339 time") != std::string::npos);
  CHECK(run("--rules '' --rules '' --brokers 127.0.0.1:1 --from 2026-02-01T00:00:00Z --to 2026-01-01T00:00:00Z") == 2);
  CHECK(ReadFile(err).find("is after --to") != std::string::npos);
  CHECK(run("--rules '' --rules '' --brokers 127.0.0.1:1 --to 2026-02-01T00:00:00Z") == 2);
  CHECK(ReadFile(err).find("--brokers B --from T --to T") != std::string::npos);
  CHECK(run("--rules '' --rules '' --input " + kEvents + " --brokers 127.0.0.1:1") == 2);
  CHECK(ReadFile(err).find("not both") != std::string::npos);
  CHECK(run("--help") == 0);
  CHECK(ReadFile(err).find("not yet supported") == std::string::npos);
  std::ofstream(dir.path() + "/bad.ndjson") << R"({"officerId":"O1","ruleId":"x","label":"true_positive"})" << "\n";
  CHECK(run("--rules '' --rules '' --input " + kEvents + " --labels " + dir.path() + "/bad.ndjson") == 2);
  CHECK(ReadFile(err).find("bad.ndjson:1: ruleId 'x' is not a rule") != std::string::npos);
  CHECK(run("--rules '' --rules " + dir.path() + "/missing.json --input " + kEvents) == 2);
  CHECK(ReadFile(err).find("rule set B") != std::string::npos);

  DiffFindings findings{s.diff, std::nullopt, 5, "A", "B"};
  Status missing = WriteDiffReport(findings, dir.path() + "/r2", dir.path() + "/no-chart.js");
  CHECK_FALSE(missing.ok());
  CHECK(missing.message().find("libjs-chart.js") != std::string::npos);
}

TEST_CASE("vigil diff --brokers: a range from Kafka gives the file diff of the events in the range") {
  TempDir dir("vigil-diff-kafka-");
  // Not on day boundaries; long enough for both changes of B to bite inside it.
  const Millis from = *ParseTime("2026-01-12T06:30:00Z"), to = *ParseTime("2026-03-16T17:45:00Z");
  const std::string in_range = WriteEventsInRange(kEvents, from, to, dir.path() + "/range.ndjson");
  std::ifstream in(in_range);
  const DiffReplay file = ReplayBoth(in, in_range, Config("{}"), Config(kRulesB), false);
  const DiffResult expected = CompareAlerts(file.a, file.b, Config("{}"), Config(kRulesB));
  REQUIRE(expected.only_a.size() > 0);
  REQUIRE(expected.only_b.size() > 0);
  // The range matters: fewer alerts than over the whole history.
  CHECK(file.a.size() < SampleDiff().replay.a.size());

  MockBroker broker;
  REQUIRE(broker.CreateVigilTopics(Topics{}, 3).ok());
  Result<ProduceReport> produced = ProduceEventFile(broker.bootstrap(), kEvents, Topics{}, false);
  REQUIRE_MESSAGE(produced.ok(), (produced.ok() ? "" : produced.status().message()));
  KafkaRangeOptions range;
  range.brokers = broker.bootstrap();
  range.from = from;
  range.to = to;
  Result<DiffReplay> kafka = ReplayBothFromKafka(range, Config("{}"), Config(kRulesB));
  REQUIRE_MESSAGE(kafka.ok(), (kafka.ok() ? "" : kafka.status().message()));
  CHECK(SortedIds(kafka->a) == SortedIds(file.a));
  CHECK(SortedIds(kafka->b) == SortedIds(file.b));
  CheckSameFigures(expected, CompareAlerts(kafka->a, kafka->b, Config("{}"), Config(kRulesB)));

  // The command: the same figures in its --json.
  const std::string b_file = dir.path() + "/b.json", json = dir.path() + "/diff.json";
  std::ofstream(b_file) << kRulesB;
  REQUIRE(RunShell(std::string(VIGIL_BINARY) + " diff --quiet --rules '' --rules " + b_file +
                   " --brokers " + broker.bootstrap() +
                   " --from 2026-01-12T06:30:00Z --to 2026-03-16T17:45:00+00:00 --json " + json +
                   " > " + dir.path() + "/out.txt") == 0);
  const google::protobuf::Struct doc = ParseJson(ReadFile(json));
  const auto& rules = Member(doc, "rules");
  for (const auto& [rule, d] : expected.rules) {
    CAPTURE(rule);
    CHECK(Field(Member(rules, rule), "a") == d.a);
    CHECK(Field(Member(rules, rule), "b") == d.b);
    CHECK(Field(Member(rules, rule), "onlyA") == d.only_a);
    CHECK(Field(Member(rules, rule), "onlyB") == d.only_b);
  }
}

TEST_CASE("diff: reading margins are the wider of the two rule sets' time settings") {
  const TimeSettings a = TimeSettings::From(
      Config(R"({"time": {"maxOutOfOrdernessSeconds": 900, "accessLatenessHours": 1}})"));
  const TimeSettings b = TimeSettings::From(
      Config(R"({"time": {"maxOutOfOrdernessSeconds": 60, "accessLatenessHours": 48}})"));
  const TimeSettings wider = WiderMargins(a, b);
  CHECK(wider.max_out_of_orderness == 900 * kSecond);
  CHECK(wider.access_lateness == 48 * kHour);
  CHECK(wider.complaint_lateness == std::max(a.complaint_lateness, b.complaint_lateness));
  CHECK(wider.roster_lateness == std::max(a.roster_lateness, b.roster_lateness));
  CHECK(WiderMargins(b, a).max_out_of_orderness == wider.max_out_of_orderness);
}

TEST_CASE("vigil diff --alerts-topics: the alerts already on a live and a shadow topic over a range") {
  const std::string r = "repeated_subject_lookup";
  // Live (A): a1 and a2 in the range, a1 published twice, one alert ending after the range.
  const std::vector<v1::Alert> live = {
      MakeAlert("a1", r, "O1", "S1", "2026-03-01T00:00:00Z", "2026-03-10T00:00:00Z", 3),
      MakeAlert("a2", r, "O2", "S1", "2026-03-02T00:00:00Z", "2026-03-12T00:00:00Z", 3),
      MakeAlert("a1", r, "O1", "S1", "2026-03-01T00:00:00Z", "2026-03-10T00:00:00Z", 3),
      MakeAlert("late", r, "O9", "S1", "2026-03-20T00:00:00Z", "2026-04-02T00:00:00Z", 3),
  };
  // Shadow (B, minLookups 2): b1 is a1's case fired earlier; b3 is B's alone; one before the range.
  const std::vector<v1::Alert> shadow = {
      MakeAlert("b1", r, "O1", "S1", "2026-02-27T00:00:00Z", "2026-03-03T00:00:00Z", 2),
      MakeAlert("b3", r, "O3", "S2", "2026-03-05T00:00:00Z", "2026-03-08T00:00:00Z", 2),
      MakeAlert("early", r, "O8", "S1", "2026-02-01T00:00:00Z", "2026-02-20T00:00:00Z", 2),
  };
  MockBroker broker;
  REQUIRE(broker.CreateVigilTopics(Topics{}, 3).ok());
  REQUIRE(broker.CreateTopic("my.live", 2).ok());
  REQUIRE(broker.CreateTopic("my.shadow", 2).ok());
  for (const char* topic : {"vigil.alerts", "my.live"}) REQUIRE(PublishAlerts(broker.bootstrap(), topic, live).ok());
  for (const char* topic : {"vigil.alerts.shadow", "my.shadow"}) {
    REQUIRE(PublishAlerts(broker.bootstrap(), topic, shadow).ok());
  }
  const Millis from = *ParseTime("2026-03-01T00:00:00Z"), to = *ParseTime("2026-03-31T23:59:59Z");
  Result<TopicAlerts> read = ReadAlertTopic(broker.bootstrap(), "vigil.alerts", from, to);
  REQUIRE(read.ok());
  CHECK(read->records == 4);
  CHECK(read->outside == 1);
  CHECK(read->duplicates == 1);
  CHECK(SortedIds(read->alerts) == std::vector<std::string>{"a1", "a2"});

  TempDir dir("vigil-diff-topics-");
  const std::string json = dir.path() + "/diff.json", out = dir.path() + "/out.txt";
  const std::string labels = dir.path() + "/labels.ndjson";
  std::ofstream(labels) << R"({"alertId":"a1","officerId":"O1","ruleId":"repeated_subject_lookup","label":"true_positive"})"
                        << "\n";
  const std::string diff = std::string(VIGIL_BINARY) + " diff --quiet --brokers " + broker.bootstrap() +
                           " --from 2026-03-01T00:00:00Z --to 2026-03-31T23:59:59Z --json " + json;
  auto check_figures = [&](const google::protobuf::Struct& doc) {
    const auto& rule = Member(Member(doc, "rules"), r);
    CHECK(Field(rule, "a") == 2);
    CHECK(Field(rule, "b") == 2);
    CHECK(Field(rule, "matched") == 1);
    CHECK(Field(rule, "onlyA") == 1);
    CHECK(Field(rule, "onlyB") == 1);
    CHECK(Field(rule, "officers") == 3);
    CHECK(Field(Member(Member(rule, "weeks"), "2026-W10"), "b") == 2);  // b1, b3: 3 and 8 March
    CHECK(Field(Member(Member(rule, "weeks"), "2026-W11"), "a") == 2);  // a1, a2: 10 and 12 March
  };

  SUBCASE("default topics, rule sets unknown, with labels") {
    REQUIRE(RunShell(diff + " --alerts-topics --labels " + labels + " --report " + dir.path() +
                     "/report > " + out) == 0);
    google::protobuf::Struct doc = ParseJson(ReadFile(json));
    check_figures(doc);
    const auto& only_a = doc.fields().at("onlyA").list_value();
    REQUIRE(only_a.values_size() == 1);
    CHECK(only_a.values(0).struct_value().fields().at("alertId").string_value() == "a2");
    CHECK(only_a.values(0).struct_value().fields().at("settings").has_null_value());
    // The label of live's a1 judges the shadow's b1, its case.
    const auto& scored = Member(Member(doc, "labels"), r);
    CHECK(Field(Member(scored, "a"), "tp") == 1);
    CHECK(Field(Member(scored, "b"), "tp") == 1);
    const std::string text = ReadFile(out);
    CHECK(text.find("A: alerts on vigil.alerts") != std::string::npos);
    CHECK(text.find("B: alerts on vigil.alerts.shadow") != std::string::npos);
    CHECK(text.find("rule sets unknown") != std::string::npos);
    CHECK(std::filesystem::exists(dir.path() + "/report/index.html"));
  }
  SUBCASE("named topics with the rule sets: their settings are shown") {
    const std::string b_file = dir.path() + "/b.json";
    std::ofstream(b_file) << kRulesB;
    REQUIRE(RunShell(diff + " --alerts-topics my.live my.shadow --rules '' --rules " + b_file + " > " + out) == 0);
    google::protobuf::Struct doc = ParseJson(ReadFile(json));
    check_figures(doc);
    const auto& only_b = doc.fields().at("onlyB").list_value();
    REQUIRE(only_b.values_size() == 1);
    const auto& b3 = only_b.values(0).struct_value().fields();
    CHECK(b3.at("alertId").string_value() == "b3");
    REQUIRE(b3.at("settings").list_value().values_size() == 1);
    CHECK(b3.at("settings").list_value().values(0).string_value() == "minLookups: A 3, B 2");
    CHECK(b3.at("why").string_value() == "score 2 is below A's minLookups 3");
    CHECK(ReadFile(out).find("A: alerts on my.live") != std::string::npos);
  }
  SUBCASE("usage errors") {
    const std::string err = dir.path() + "/err.txt";
    auto run = [&](const std::string& args) { return RunShell("(" + diff + " " + args + " 2>" + err + ")"); };
    CHECK(run("--alerts-topics my.live") == 2);
    CHECK(ReadFile(err).find("--alerts-topics takes two topics") != std::string::npos);
    CHECK(run("--alerts-topics --rules ''") == 2);
    CHECK(ReadFile(err).find("--rules must be given exactly twice") != std::string::npos);
    CHECK(run("--alerts-topics=my.live,my.shadow") == 2);
    CHECK(ReadFile(err).find("as separate words") != std::string::npos);
  }
}

}  // namespace vigil::testing
