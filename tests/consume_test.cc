// `vigil consume`'s filters (--rule, --severity, --officer) and --labels, run as a user runs
// them: the binary against a mock cluster in this process, on alerts and reviews published here.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <set>

#include "time/event_time.h"
#include "harness.h"
#include "kafka/kafka_io.h"
#include "kafka/mock_broker.h"
#include "pipeline.h"
#include "review.pb.h"

namespace vigil::testing {
namespace {

const std::string kVigil = VIGIL_BINARY;

v1::Alert MakeAlert(const std::string& id, const std::string& rule, const std::string& officer,
                    v1::Alert::Severity severity) {
  v1::Alert alert;
  alert.set_alert_id(id);
  alert.set_rule_id(rule);
  alert.set_officer_id(officer);
  alert.set_severity(severity);
  alert.set_kind(rule == "bradford_factor" ? v1::Alert::WELFARE : v1::Alert::MISCONDUCT);
  alert.set_summary("test alert " + id);
  return alert;
}

v1::Review MakeReview(const std::string& alert_id, const std::string& rule, const std::string& officer,
                      const std::vector<v1::ReviewStep::State>& states) {
  v1::Review review;
  review.set_alert_id(alert_id);
  review.set_rule_id(rule);
  review.set_officer_id(officer);
  review.set_kind(v1::Alert::MISCONDUCT);
  Millis at = 1000;
  for (v1::ReviewStep::State state : states) {
    v1::ReviewStep* step = review.add_steps();
    step->set_state(state);
    step->set_reason("because");
    step->set_reviewer("rev");
    *step->mutable_at() = ToTimestamp(at += 1000);
  }
  return review;
}

// The alert ids of `vigil consume` output lines (proto3 JSON alerts).
std::multiset<std::string> IdsIn(const std::string& path) {
  std::multiset<std::string> ids;
  for (const std::string& line : ReadLines(path)) {
    size_t at = line.find("\"alertId\":\"");
    REQUIRE(at != std::string::npos);
    at += 11;
    ids.insert(line.substr(at, line.find('"', at) - at));
  }
  return ids;
}

class Cluster {
 public:
  Cluster() {
    REQUIRE(broker_.CreateVigilTopics(topics_, 2).ok());
    Result<KafkaHandle> producer = MakeProducer(broker_.bootstrap());
    REQUIRE(producer.ok());
    producer_ = std::move(producer.value());
  }
  void Publish(const std::string& topic, const std::string& key, const std::string& value) {
    REQUIRE(ProduceRecord(producer_.get(), topic, key, value).ok());
  }
  void Flushed() { REQUIRE(Flush(producer_.get(), 10000).ok()); }
  // `vigil consume --from-beginning --topic T <extra>` into `out`; its exit status.
  int Consume(const std::string& topic, const std::string& extra, const std::string& out) {
    return RunShell(kVigil + " consume --from-beginning --brokers " + broker_.bootstrap() + " --topic " +
               topic + " " + extra + " --output " + out);
  }
  const Topics& topics() const { return topics_; }

 private:
  MockBroker broker_;
  Topics topics_;
  KafkaHandle producer_;
};

}  // namespace

TEST_CASE("consume: --rule, --severity and --officer write and audit only the matching alerts") {
  TempDir dir("vigil-consume-test-");
  Cluster cluster;
  const std::vector<v1::Alert> alerts = {
      MakeAlert("a1", "complainant_lookup", "MP1", v1::Alert::HIGH),
      MakeAlert("a2", "complainant_lookup", "MP2", v1::Alert::MEDIUM),
      MakeAlert("a3", "off_duty_access", "MP1", v1::Alert::MEDIUM),
      MakeAlert("a4", "bradford_factor", "MP3", v1::Alert::LOW),
  };
  for (const v1::Alert& alert : alerts) {
    cluster.Publish(cluster.topics().alerts, alert.officer_id(), alert.SerializeAsString());
  }
  cluster.Flushed();
  const std::string out = dir.path() + "/out.ndjson";
  const std::string alerts_topic = cluster.topics().alerts;
  using Ids = std::multiset<std::string>;

  REQUIRE(cluster.Consume(alerts_topic, "--rule complainant_lookup", out) == 0);
  CHECK(IdsIn(out) == Ids{"a1", "a2"});
  REQUIRE(cluster.Consume(alerts_topic, "--severity medium", out) == 0);  // any case
  CHECK(IdsIn(out) == Ids{"a2", "a3"});
  REQUIRE(cluster.Consume(alerts_topic, "--officer MP1", out) == 0);
  CHECK(IdsIn(out) == Ids{"a1", "a3"});
  REQUIRE(cluster.Consume(alerts_topic, "--officer MP1 --severity HIGH --rule complainant_lookup", out) == 0);
  CHECK(IdsIn(out) == Ids{"a1"});
  REQUIRE(cluster.Consume(alerts_topic, "--rule no_such_rule", out) == 0);
  CHECK(IdsIn(out).empty());

  // The audit names only what was shown: a4 matched no filter above, so it was never viewed.
  const std::string audit = dir.path() + "/audit.ndjson";
  REQUIRE(cluster.Consume(cluster.topics().audit, "", audit) == 0);
  std::vector<std::string> records = ReadLines(audit);
  CHECK(records.size() == 4);  // one per run that showed an alert
  for (const std::string& record : records) {
    CHECK(record.find("\"interface\":\"vigil consume\"") != std::string::npos);
    CHECK(record.find("\"a4\"") == std::string::npos);
  }
  REQUIRE(records.size() >= 4);
  CHECK(records[3].find("\"a1\"") != std::string::npos);
  CHECK(records[3].find("\"a3\"") == std::string::npos);

  // Without a filter every alert is written.
  REQUIRE(cluster.Consume(alerts_topic, "", out) == 0);
  CHECK(IdsIn(out) == Ids{"a1", "a2", "a3", "a4"});
}

TEST_CASE("consume: --labels writes one line per alert with a final outcome") {
  TempDir dir("vigil-consume-test-");
  Cluster cluster;
  using S = v1::ReviewStep;
  const std::string reviews = cluster.topics().reviews;
  // Each record holds every step so far; the topic is compacted, but the mock cluster keeps all.
  cluster.Publish(reviews, "a1", MakeReview("a1", "complainant_lookup", "MP1", {S::UNDER_REVIEW}).SerializeAsString());
  cluster.Publish(reviews, "a1", MakeReview("a1", "complainant_lookup", "MP1",
                                            {S::UNDER_REVIEW, S::REFERRED_FOR_MISCONDUCT_INVESTIGATION}).SerializeAsString());
  cluster.Publish(reviews, "a2", MakeReview("a2", "off_duty_access", "MP2", {S::UNDER_REVIEW, S::NO_CASE_TO_ANSWER}).SerializeAsString());
  cluster.Publish(reviews, "a3", MakeReview("a3", "off_duty_access", "MP2", {S::UNDER_REVIEW}).SerializeAsString());
  cluster.Publish(reviews, "a4", MakeReview("a4", "bradford_factor", "MP3", {S::UNDER_REVIEW, S::DUPLICATE}).SerializeAsString());
  cluster.Publish(reviews, "a5", MakeReview("a5", "bradford_factor", "MP3", {S::UNDER_REVIEW, S::WELFARE_SUPPORT}).SerializeAsString());
  cluster.Publish(reviews, "a6", MakeReview("a6", "impossible_travel", "MP4", {S::UNDER_REVIEW, S::FALSE_POSITIVE}).SerializeAsString());
  cluster.Flushed();

  const std::string out = dir.path() + "/labels.ndjson";
  REQUIRE(cluster.Consume(reviews, "--labels", out) == 0);
  std::set<std::string> lines;
  for (const std::string& line : ReadLines(out)) CHECK(lines.insert(line).second);
  CHECK(lines == std::set<std::string>{
      R"({"alertId":"a1","officerId":"MP1","ruleId":"complainant_lookup","outcome":"referred_for_misconduct_investigation","label":"true_positive"})",
      R"({"alertId":"a2","officerId":"MP2","ruleId":"off_duty_access","outcome":"no_case_to_answer","label":"false_positive"})",
      R"({"alertId":"a4","officerId":"MP3","ruleId":"bradford_factor","outcome":"duplicate","label":"duplicate"})",
      R"({"alertId":"a5","officerId":"MP3","ruleId":"bradford_factor","outcome":"welfare_support","label":"true_positive"})",
      R"({"alertId":"a6","officerId":"MP4","ruleId":"impossible_travel","outcome":"false_positive","label":"false_positive"})",
  });

  REQUIRE(cluster.Consume(reviews, "--labels --rule bradford_factor", out) == 0);
  CHECK(ReadLines(out).size() == 2);
  REQUIRE(cluster.Consume(reviews, "", out) == 0);  // the records themselves, as proto3 JSON
  CHECK(ReadLines(out).size() == 7);
}

TEST_CASE("consume: filters on the wrong topic or a bad severity are bad usage (exit 2)") {
  TempDir dir("vigil-consume-test-");
  const std::string out = dir.path() + "/out.ndjson";
  const std::string consume = kVigil + " consume --brokers 127.0.0.1:1 --output " + out;
  CHECK(RunShell(consume + " --topic vigil.alerts --severity urgent") == 2);
  CHECK(RunShell(consume + " --topic vigil.dlq --rule complainant_lookup") == 2);
  CHECK(RunShell(consume + " --topic vigil.reviews --severity HIGH") == 2);
  CHECK(RunShell(consume + " --topic vigil.alerts --labels") == 2);
}

}  // namespace vigil::testing
