// The dashboard (engine/http/DASHBOARD.md): its parts alone (tokens, alert index, review states),
// then real Dashboards on librdkafka's mock cluster, driven over HTTP: tokens and roles, the
// stream and its resumption, review decisions across dashboards and restarts, the audit.
#include <doctest/doctest.h>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <array>
#include <fstream>
#include <set>

#include "alert_index.h"
#include "dashboard.h"
#include "http_client.h"
#include "kafka/kafka_io.h"
#include "live_fixtures.h"
#include "kafka/mock_broker.h"
#include "pipeline.h"
#include "reviews.h"
#include "tokens.h"

namespace vigil::testing {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

v1::Alert MakeAlert(const std::string& id, const std::string& officer, v1::Alert::Kind kind,
                    const std::string& rule = "repeated_subject_lookup",
                    v1::Alert::Severity severity = v1::Alert::HIGH,
                    const std::string& window_end = "2026-11-18T10:00:00Z") {
  v1::Alert alert;
  alert.set_alert_id(id);
  alert.set_officer_id(officer);
  alert.set_kind(kind);
  alert.set_rule_id(rule);
  alert.set_severity(severity);
  *alert.mutable_window_start() = ToTimestamp(*ParseTime(window_end) - kHour);
  *alert.mutable_window_end() = ToTimestamp(*ParseTime(window_end));
  alert.set_summary("Officer " + officer + " looked up the same person repeatedly.");
  return alert;
}

Struct ParseJson(const std::string& text) {
  Struct parsed;
  REQUIRE_MESSAGE(google::protobuf::util::JsonStringToMessage(text, &parsed).ok(), "not JSON: " << text);
  return parsed;
}

const Value& Field(const Struct& object, const std::string& name) {
  static const Value kNull;
  auto it = object.fields().find(name);
  return it == object.fields().end() ? kNull : it->second;
}

// The alert ids of a JSON list of alerts.
std::vector<std::string> IdsOf(const Value& alerts) {
  std::vector<std::string> ids;
  for (const Value& alert : alerts.list_value().values()) {
    ids.push_back(Field(alert.struct_value(), "alertId").string_value());
  }
  return ids;
}

std::set<std::string> AsSet(const std::vector<std::string>& ids) { return {ids.begin(), ids.end()}; }

// ---- the parts alone ----

TEST_CASE("tokens file: roles, comments, errors with their line number") {
  Result<std::vector<http::TokenEntry>> tokens = http::ParseTokens(
      "# who may look\n"
      "\n"
      "aaaaaaaaaaaaaaaa1 alice misconduct,reviewer   # standards\n"
      "bbbbbbbbbbbbbbbb2 bob welfare\n",
      "tokens.txt");
  REQUIRE(tokens.ok());
  REQUIRE(tokens->size() == 2);
  CHECK((*tokens)[0].identity.name == "alice");
  CHECK((*tokens)[0].identity.MaySee(v1::Alert::MISCONDUCT));
  CHECK_FALSE((*tokens)[0].identity.MaySee(v1::Alert::WELFARE));
  CHECK((*tokens)[0].identity.Has(http::Role::kReviewer));
  CHECK((*tokens)[1].identity.RoleNames() == std::vector<std::string>{"welfare"});

  auto error = [](const std::string& text) {
    Result<std::vector<http::TokenEntry>> parsed = http::ParseTokens(text, "t");
    REQUIRE_FALSE(parsed.ok());
    return parsed.status().message();
  };
  CHECK(error("# x\naaaaaaaaaaaaaaaa1 alice boss\n") == "t:2: unknown role 'boss' (misconduct, welfare, reviewer, auditor)");
  CHECK(error("aaaaaaaaaaaaaaaa1 a welfare\naaaaaaaaaaaaaaaa1 b welfare\n").rfind("t:2: the same token", 0) == 0);
  CHECK(error("aaaaaaaaaaaaaaaa1 alice\n").rfind("t:1: expected TOKEN NAME ROLE", 0) == 0);
  CHECK(error("short alice welfare\n").rfind("t:1: a token must be 16", 0) == 0);
  CHECK(error("aaaaaaaaaaaaaaaa1 alice welfare extra\n").rfind("t:1: unexpected", 0) == 0);
  CHECK(error("aaaaaaaaaaaaaaaa1 alice welfare,\n").rfind("t:1: unknown role ''", 0) == 0);
}

TEST_CASE("token store: exact match only, reload keeps the old tokens on error") {
  TempDir dir("vigil-tokens-");
  const std::string path = dir.path() + "/tokens";
  std::ofstream(path) << "aaaaaaaaaaaaaaaa1 alice misconduct\n";
  http::TokenStore store;
  REQUIRE(store.Reload(path).ok());
  CHECK(store.Authenticate("aaaaaaaaaaaaaaaa1")->name == "alice");
  CHECK_FALSE(store.Authenticate("aaaaaaaaaaaaaaaa"));    // a prefix
  CHECK_FALSE(store.Authenticate("aaaaaaaaaaaaaaaa12"));  // longer
  CHECK_FALSE(store.Authenticate(""));
  CHECK_FALSE(store.Authenticate(std::string(1000, 'a')));
  uint64_t generation = store.generation();
  std::ofstream(path) << "aaaaaaaaaaaaaaaa1 alice misconduct\nbad line\n";
  Status bad = store.Reload(path);
  CHECK(bad.message() == path + ":2: expected TOKEN NAME ROLE[,ROLE...]");
  CHECK(store.Authenticate("aaaaaaaaaaaaaaaa1"));
  CHECK(store.generation() == generation);
  CHECK_FALSE(store.Reload(dir.path() + "/missing").ok());
  CHECK(store.size() == 1);
}

TEST_CASE("alert index: positions, resumption, duplicates, officer pages, summary") {
  CHECK(http::Position::Parse("2:417")->offset == 417);
  CHECK_FALSE(http::Position::Parse("2:"));
  CHECK_FALSE(http::Position::Parse("x:1"));
  CHECK_FALSE(http::Position::Parse("1:2:3"));
  CHECK_FALSE(http::Position::Parse("-1:2"));

  http::AlertIndex index;
  int notified = 0;
  index.SetListener([&] { ++notified; });
  auto any = [](const v1::Alert&) { return true; };
  CHECK(index.Add(MakeAlert("a1", "o1", v1::Alert::MISCONDUCT), {0, 0}));
  CHECK(index.Add(MakeAlert("a2", "o2", v1::Alert::WELFARE, "bradford_factor", v1::Alert::LOW,
                            "2026-11-20T09:00:00Z"), {1, 0}));
  CHECK(index.Add(MakeAlert("a3", "o1", v1::Alert::MISCONDUCT), {0, 1}));
  CHECK_FALSE(index.Add(MakeAlert("a1", "o1", v1::Alert::MISCONDUCT), {0, 2}));  // republished
  CHECK(index.Add(MakeAlert("a4", "o1", v1::Alert::WELFARE), {1, 1}));
  CHECK(notified == 4);
  CHECK(index.last_sequence() == 4);
  CHECK(index.Find("a3")->position.ToString() == "0:1");
  CHECK_FALSE(index.Find("zz"));

  CHECK(*index.ResumePoint({0, 1}) == 3);
  CHECK(*index.ResumePoint({0, 2}) == 3);  // the duplicate: after what arrived before it
  CHECK_FALSE(index.ResumePoint({5, 5}));
  http::AlertIndex::Scan scan = index.After(1, any, 2);
  REQUIRE(scan.alerts.size() == 2);
  CHECK(scan.alerts[0]->alert.alert_id() == "a2");
  CHECK(scan.scanned_to == 3);
  scan = index.After(0, [](const v1::Alert& a) { return a.kind() == v1::Alert::WELFARE; }, 10);
  CHECK(scan.alerts.size() == 2);
  CHECK(scan.scanned_to == 4);

  http::AlertIndex::Page page = index.ForOfficer("o1", std::nullopt, any, 2);
  REQUIRE(page.alerts.size() == 2);
  CHECK(page.alerts[0]->alert.alert_id() == "a4");  // newest first
  CHECK(page.more);
  page = index.ForOfficer("o1", page.alerts.back()->sequence, any, 2);
  REQUIRE(page.alerts.size() == 1);
  CHECK(page.alerts[0]->alert.alert_id() == "a1");
  CHECK_FALSE(page.more);
  CHECK(index.Recent(any, 2)[0]->alert.alert_id() == "a4");

  http::AlertIndex::Summary summary = index.Summarize(2, any);
  REQUIRE(summary.days.size() == 2);
  CHECK(FormatDay(summary.days.back()) == "2026-11-20");  // the newest alert's day
  CHECK(summary.by_rule["bradford_factor"] == std::vector<int>{0, 1});
  CHECK(summary.by_severity[v1::Alert::HIGH] == std::vector<int>{0, 0});  // the 18th is out
  CHECK(summary.alert_ids == std::vector<std::string>{"a2"});
  CHECK(index.Summarize(14, any).by_severity[v1::Alert::HIGH][11] == 3);
}

TEST_CASE("review states: new -> under_review -> one final outcome, each with a reason") {
  using S = v1::ReviewStep;
  auto check = [](http::ReviewState current, http::ReviewState next, std::string expect,
                  std::string reason = "seen the evidence") {
    std::optional<http::Refusal> refusal = http::CheckDecision(current, {"a1", next, reason, expect});
    return refusal ? refusal->status : 200;
  };
  CHECK(check(S::NEW, S::UNDER_REVIEW, "new") == 200);
  CHECK(check(S::NEW, S::FALSE_POSITIVE, "new") == 400);  // under review first
  CHECK(check(S::UNDER_REVIEW, S::WELFARE_SUPPORT, "under_review") == 200);
  CHECK(check(S::UNDER_REVIEW, S::NEW, "under_review") == 400);
  CHECK(check(S::UNDER_REVIEW, S::UNDER_REVIEW, "under_review") == 400);
  CHECK(check(S::DUPLICATE, S::FALSE_POSITIVE, "duplicate") == 400);  // final
  CHECK(check(S::UNDER_REVIEW, S::DUPLICATE, "new") == 409);          // someone moved it
  CHECK(check(S::NEW, S::UNDER_REVIEW, "new", "  ") == 400);
  CHECK(check(S::NEW, S::UNDER_REVIEW, "") == 400);
  for (http::ReviewState state : http::AllStates()) CHECK(*http::ParseState(http::StateName(state)) == state);
  CHECK_FALSE(http::ParseState("NEW"));

  http::ReviewBook book;
  CHECK(http::ReviewJson(nullptr) == "{\"state\":\"new\"}");
  v1::Review review;
  review.set_alert_id("a1");
  auto* step = review.add_steps();
  step->set_state(S::UNDER_REVIEW);
  step->set_reason("looking \"closely\"");
  step->set_reviewer("alice");
  *step->mutable_at() = ToTimestamp(*ParseTime("2026-11-20T09:00:00Z"));
  book.Apply(review, {0, 5});
  CHECK(book.JsonOf("a1") ==
        "{\"state\":\"under_review\",\"steps\":[{\"state\":\"under_review\",\"reason\":\"looking "
        "\\\"closely\\\"\",\"reviewer\":\"alice\",\"at\":\"2026-11-20T09:00:00Z\"}]}");
  v1::Review older = review;
  older.clear_steps();
  book.Apply(older, {0, 4});  // read back late: an earlier record of the same partition
  CHECK(book.StateOf("a1") == S::UNDER_REVIEW);
  uint64_t version = 0;
  CHECK(book.ChangedSince(0, &version) == std::vector<std::string>{"a1"});
  CHECK(version == 1);
}

// ---- dashboards on the mock cluster ----

constexpr const char* kAlice = "alice-misconduct-reviewer-01";  // misconduct, reviewer
constexpr const char* kBob = "bob-welfare-only-token-0002";     // welfare
constexpr const char* kErin = "erin-welfare-reviewer-00003";    // welfare, reviewer
constexpr const char* kCarol = "carol-auditor-token-000004";    // auditor

struct DashboardOnKafka {
  DashboardOnKafka() {
    REQUIRE(broker.CreateVigilTopics(topics, 2).ok());
    WriteTokens(std::string(kAlice) + " alice misconduct,reviewer\n" + kBob + " bob welfare\n" + kErin +
                " erin welfare,reviewer\n" + kCarol + " carol auditor\n");
    Result<KafkaHandle> made = MakeProducer(broker.bootstrap());
    REQUIRE(made.ok());
    producer = std::move(made.value());
  }
  void WriteTokens(const std::string& text) { std::ofstream(tokens_path, std::ios::trunc) << text; }

  std::unique_ptr<Dashboard> Start() {
    DashboardOptions options;
    options.brokers = broker.bootstrap();
    options.listen = "127.0.0.1:0";
    options.tokens_path = tokens_path;
    options.heartbeat_ms = 300;
    Result<std::unique_ptr<Dashboard>> dashboard = Dashboard::Start(options);
    REQUIRE_MESSAGE(dashboard.ok(), (dashboard.ok() ? "" : dashboard.status().message()));
    return std::move(dashboard.value());
  }

  void Publish(const v1::Alert& alert) {
    REQUIRE(ProduceRecord(producer.get(), topics.alerts, alert.officer_id(), alert.SerializeAsString()).ok());
    REQUIRE(Flush(producer.get(), 10000).ok());
  }

  // Every record on vigil.audit now.
  std::vector<Struct> AuditRecords() {
    std::vector<Struct> records;
    REQUIRE(ReadTopic(broker.bootstrap(), topics.audit, ReadOptions{}, [&](const rd_kafka_message_t& m) {
              records.push_back(ParseJson(std::string(static_cast<const char*>(m.payload), m.len)));
            }).ok());
    return records;
  }

  TempDir dir{"vigil-dashboard-test-"};
  MockBroker broker;
  Topics topics;
  std::string tokens_path = dir.path() + "/tokens";
  KafkaHandle producer;
};

std::vector<std::string> RecentIds(const std::string& url, const std::string& token) {
  HttpResult recent = Http(url, "GET", "/api/alerts/recent?limit=500", Bearer(token));
  REQUIRE(recent.status == 200);
  return IdsOf(Field(ParseJson(recent.body), "alerts"));
}

// Reads events until one of alert `id` arrives; returns every alert id read (review events apart).
std::vector<std::string> ReadUntil(SseClient& stream, const std::string& id,
                                   std::vector<std::string>* event_ids = nullptr) {
  std::vector<std::string> ids;
  while (true) {
    std::optional<SseEvent> event = stream.Next(std::chrono::seconds(20));
    REQUIRE_MESSAGE(event, "the stream ended or fell silent before alert " << id);
    if (!event->event.empty()) continue;
    std::string alert_id = Field(ParseJson(event->data), "alertId").string_value();
    ids.push_back(alert_id);
    if (event_ids) event_ids->push_back(event->id);
    if (alert_id == id) return ids;
  }
}

TEST_CASE("dashboard: 401 without a token or with a bad one, and no data in the answer") {
  DashboardOnKafka setup;
  setup.Publish(MakeAlert("m-1", "officer-1", v1::Alert::MISCONDUCT));
  auto dashboard = setup.Start();
  const std::string url = dashboard->url();
  for (const std::string target : {"/api/me", "/api/alerts/recent", "/api/summary",
                                   "/api/alerts?officer=officer-1&purpose=x", "/api/audit",
                                   "/api/alerts/stream?from=beginning"}) {
    for (const HttpHeaders& headers : {HttpHeaders{}, Bearer("not-a-token-at-all-000"),
                                       HttpHeaders{{"Authorization", std::string("Basic ") + kAlice}}}) {
      HttpResult answer = Http(url, "GET", target, headers);
      CHECK_MESSAGE(answer.status == 401, target);
      CHECK(answer.body.find("officer-1") == std::string::npos);
      CHECK(answer.body.find("m-1") == std::string::npos);
      CHECK(answer.headers["www-authenticate"] == "Bearer");
    }
  }
  // ?token= is for the stream only (EventSource cannot send headers).
  CHECK(Http(url, "GET", std::string("/api/alerts/recent?token=") + kAlice).status == 401);
  SseClient stream(url, std::string("/api/alerts/stream?from=beginning&token=") + kAlice);
  CHECK(stream.status() == 200);
  CHECK(ReadUntil(stream, "m-1") == std::vector<std::string>{"m-1"});
  // Static files need no token; the page and its scripts are there.
  HttpResult page = Http(url, "GET", "/");
  CHECK(page.status == 200);
  CHECK(page.headers["content-type"].rfind("text/html", 0) == 0);
  CHECK(Http(url, "GET", "/app.js").status == 200);
  HttpResult chart = Http(url, "GET", "/chart.js");
  CHECK((chart.status == 200 || chart.body.find("libjs-chart.js") != std::string::npos));
  CHECK(Http(url, "GET", "/api/nothing", Bearer(kAlice)).status == 404);
  CHECK(Http(url, "POST", "/api/me", Bearer(kAlice), "{}").status == 405);
  HttpResult me = Http(url, "GET", "/api/me", Bearer(kAlice));
  CHECK(me.body == "{\"name\":\"alice\",\"roles\":[\"misconduct\",\"reviewer\"]}");
}

TEST_CASE("dashboard: a welfare-only token never sees a misconduct alert") {
  DashboardOnKafka setup;
  setup.Publish(MakeAlert("m-1", "officer-1", v1::Alert::MISCONDUCT, "off_duty_access"));
  setup.Publish(MakeAlert("w-1", "officer-1", v1::Alert::WELFARE, "bradford_factor", v1::Alert::MEDIUM));
  auto dashboard = setup.Start();
  const std::string url = dashboard->url();
  CHECK(RecentIds(url, kBob) == std::vector<std::string>{"w-1"});
  CHECK(RecentIds(url, kAlice) == std::vector<std::string>{"m-1"});

  HttpResult timeline = Http(url, "GET", "/api/alerts?officer=officer-1&purpose=welfare%20check", Bearer(kBob));
  REQUIRE(timeline.status == 200);
  CHECK(IdsOf(Field(ParseJson(timeline.body), "alerts")) == std::vector<std::string>{"w-1"});

  HttpResult summary = Http(url, "GET", "/api/summary?days=7", Bearer(kBob));
  REQUIRE(summary.status == 200);
  CHECK(summary.body.find("off_duty_access") == std::string::npos);
  Struct counts = ParseJson(summary.body);
  CHECK(Field(Field(counts, "byState").struct_value(), "new").number_value() == 1);
  CHECK(Field(counts, "days").list_value().values_size() == 7);
  CHECK(Field(counts, "days").list_value().values(6).string_value() == "2026-11-18");

  // The stream, from the beginning and live, including a kind filter asking for misconduct.
  SseClient stream(url, "/api/alerts/stream?from=beginning", Bearer(kBob));
  SseClient asks_misconduct(url, "/api/alerts/stream?from=beginning&kind=MISCONDUCT", Bearer(kBob));
  REQUIRE(stream.status() == 200);
  CHECK(ReadUntil(stream, "w-1") == std::vector<std::string>{"w-1"});
  setup.Publish(MakeAlert("m-2", "officer-2", v1::Alert::MISCONDUCT));
  setup.Publish(MakeAlert("w-2", "officer-2", v1::Alert::WELFARE));
  setup.Publish(MakeAlert("m-3", "officer-1", v1::Alert::MISCONDUCT));
  setup.Publish(MakeAlert("w-3", "officer-1", v1::Alert::WELFARE));
  std::vector<std::string> live = ReadUntil(stream, "w-3");
  CHECK(AsSet(live) == std::set<std::string>{"w-2", "w-3"});
  CHECK(live.size() == 2);
  // Nothing comes on the misconduct-filtered stream but heartbeats.
  std::optional<SseEvent> nothing = asks_misconduct.Next(std::chrono::milliseconds(1000));
  CHECK_FALSE(nothing);
  CHECK(asks_misconduct.comments() > 0);
  CHECK(asks_misconduct.body_text().find("m-") == std::string::npos);

  // A welfare reviewer cannot tell a misconduct alert from one that does not exist.
  HttpResult hidden = Http(url, "POST", "/api/reviews", Bearer(kErin),
                           R"({"alertId":"m-1","state":"under_review","reason":"r","expect":"new"})");
  HttpResult missing = Http(url, "POST", "/api/reviews", Bearer(kErin),
                            R"({"alertId":"zz","state":"under_review","reason":"r","expect":"new"})");
  CHECK(hidden.status == 404);
  CHECK(hidden.body == missing.body);
  CHECK(Http(url, "POST", "/api/reviews", Bearer(kBob),
             R"({"alertId":"w-1","state":"under_review","reason":"r","expect":"new"})").status == 403);
}

TEST_CASE("dashboard: SSE resume after a dropped connection loses and repeats nothing") {
  DashboardOnKafka setup;
  std::vector<std::string> all;
  for (int i = 0; i < 6; ++i) {
    all.push_back("m-" + std::to_string(i));
    setup.Publish(MakeAlert(all.back(), "officer-" + std::to_string(i % 3), v1::Alert::MISCONDUCT));
  }
  auto dashboard = setup.Start();
  const std::string url = dashboard->url();
  std::vector<std::string> seen, event_ids;
  {
    SseClient stream(url, "/api/alerts/stream?from=beginning", Bearer(kAlice));
    REQUIRE(stream.status() == 200);
    for (int i = 0; i < 3; ++i) {
      std::optional<SseEvent> event = stream.Next();
      REQUIRE(event);
      seen.push_back(Field(ParseJson(event->data), "alertId").string_value());
      CHECK(Field(ParseJson(event->data), "position").string_value() == event->id);
      CHECK(Field(Field(ParseJson(event->data), "review").struct_value(), "state").string_value() == "new");
      event_ids.push_back(event->id);
    }
  }  // dropped
  for (int i = 6; i < 12; ++i) {
    all.push_back("m-" + std::to_string(i));
    setup.Publish(MakeAlert(all.back(), "officer-" + std::to_string(i % 3), v1::Alert::MISCONDUCT));
  }
  setup.Publish(MakeAlert("last", "officer-9", v1::Alert::MISCONDUCT));
  SseClient resumed(url, "/api/alerts/stream", {{"Authorization", std::string("Bearer ") + kAlice},
                                                {"Last-Event-ID", event_ids.back()}});
  REQUIRE(resumed.status() == 200);
  std::vector<std::string> rest = ReadUntil(resumed, "last");
  rest.pop_back();
  std::vector<std::string> together = seen;
  together.insert(together.end(), rest.begin(), rest.end());
  CHECK(together.size() == all.size());  // nothing repeated
  CHECK(AsSet(together) == AsSet(all));  // nothing lost

  // The same through ?lastEventId= (as a page passes it), and a bad id is refused.
  SseClient by_query(url, "/api/alerts/stream?lastEventId=" + event_ids.back(), Bearer(kAlice));
  std::vector<std::string> again = ReadUntil(by_query, "last");
  again.pop_back();
  CHECK(again == rest);
  SseClient bad(url, "/api/alerts/stream?lastEventId=nonsense", Bearer(kAlice));
  CHECK(bad.status() == 400);
}

TEST_CASE("dashboard: a decision shows on a second dashboard and survives a restart") {
  DashboardOnKafka setup;
  setup.Publish(MakeAlert("m-1", "officer-1", v1::Alert::MISCONDUCT));
  setup.Publish(MakeAlert("w-1", "officer-2", v1::Alert::WELFARE));
  auto first = setup.Start();
  auto second = setup.Start();
  SseClient watching(second->url(), "/api/alerts/stream?from=beginning", Bearer(kAlice));
  REQUIRE(watching.status() == 200);
  ReadUntil(watching, "m-1");

  auto decide = [&](const std::string& url, const std::string& token, const std::string& body) {
    return Http(url, "POST", "/api/reviews", Bearer(token), body);
  };
  HttpResult started = decide(first->url(), kAlice,
                              R"({"alertId":"m-1","state":"under_review","reason":"reading the evidence","expect":"new"})");
  REQUIRE(started.status == 200);
  Struct answer = ParseJson(started.body);
  CHECK(Field(answer, "alertId").string_value() == "m-1");
  CHECK(Field(Field(answer, "review").struct_value(), "state").string_value() == "under_review");

  // The second dashboard sends a review event and shows the new state.
  std::optional<SseEvent> event = watching.Next();
  REQUIRE(event);
  CHECK(event->event == "review");
  CHECK(Field(ParseJson(event->data), "alertId").string_value() == "m-1");
  auto state_on = [&](const std::string& url) {
    Struct recent = ParseJson(Http(url, "GET", "/api/alerts/recent", Bearer(kAlice)).body);
    for (const Value& alert : Field(recent, "alerts").list_value().values()) {
      const Struct& a = alert.struct_value();
      if (Field(a, "alertId").string_value() == "m-1") {
        return Field(Field(a, "review").struct_value(), "state").string_value();
      }
    }
    return std::string("absent");
  };
  CHECK(state_on(second->url()) == "under_review");

  // Bad transitions and stale expectations, on the second dashboard.
  CHECK(decide(second->url(), kAlice, R"({"alertId":"m-1","state":"new","reason":"r","expect":"under_review"})").status == 400);
  CHECK(decide(second->url(), kAlice, R"({"alertId":"m-1","state":"bogus","reason":"r","expect":"under_review"})").status == 400);
  CHECK(decide(second->url(), kAlice, R"({"alertId":"m-1","state":"duplicate","reason":"","expect":"under_review"})").status == 400);
  CHECK(decide(second->url(), kAlice, "not json").status == 400);
  HttpResult stale = decide(second->url(), kAlice, R"({"alertId":"m-1","state":"duplicate","reason":"r","expect":"new"})");
  CHECK(stale.status == 409);
  CHECK(decide(second->url(), kAlice, R"({"alertId":"w-1","state":"under_review","reason":"r","expect":"new"})").status == 404);
  HttpResult outcome = decide(second->url(), kAlice,
                              R"({"alertId":"m-1","state":"practice_requiring_improvement","reason":"advice given","expect":"under_review"})");
  REQUIRE(outcome.status == 200);
  WaitUntil([&] { return state_on(first->url()) == "practice_requiring_improvement"; },
            "the outcome on the first dashboard");
  CHECK(decide(first->url(), kAlice, R"({"alertId":"m-1","state":"false_positive","reason":"r","expect":"practice_requiring_improvement"})").status == 400);

  first.reset();
  second.reset();
  auto restarted = setup.Start();
  CHECK(state_on(restarted->url()) == "practice_requiring_improvement");
  HttpResult timeline = Http(restarted->url(), "GET", "/api/alerts?officer=officer-1&purpose=audit%20check", Bearer(kAlice));
  Struct review = Field(Field(ParseJson(timeline.body), "alerts").list_value().values(0).struct_value(), "review").struct_value();
  REQUIRE(Field(review, "steps").list_value().values_size() == 2);
  const Struct& step = Field(review, "steps").list_value().values(1).struct_value();
  CHECK(Field(step, "reviewer").string_value() == "alice");
  CHECK(Field(step, "reason").string_value() == "advice given");
  // vigil consume renders the review records.
  int reviews = 0;
  REQUIRE(ReadTopic(setup.broker.bootstrap(), setup.topics.reviews, ReadOptions{}, [&](const rd_kafka_message_t& m) {
            Struct record = ParseJson(RecordAsJson(setup.topics, setup.topics.reviews, m));
            CHECK(Field(record, "alertId").string_value() == "m-1");
            ++reviews;
          }).ok());
  CHECK(reviews == 2);
}

TEST_CASE("dashboard: timelines need a purpose; every view is audited with viewer and purpose") {
  DashboardOnKafka setup;
  for (int i = 0; i < 5; ++i) {
    setup.Publish(MakeAlert("m-" + std::to_string(i), "officer-1", v1::Alert::MISCONDUCT));
  }
  auto dashboard = setup.Start();
  const std::string url = dashboard->url();
  HttpResult no_purpose = Http(url, "GET", "/api/alerts?officer=officer-1", Bearer(kAlice));
  CHECK(no_purpose.status == 400);
  CHECK(no_purpose.body.find("m-") == std::string::npos);
  CHECK(Http(url, "GET", "/api/alerts?officer=officer-1&purpose=%20", Bearer(kAlice)).status == 400);
  CHECK(Http(url, "GET", "/api/alerts?purpose=x", Bearer(kAlice)).status == 400);
  CHECK(Http(url, "GET", "/api/alerts?officer=officer-1&purpose=x&limit=0", Bearer(kAlice)).status == 400);

  // Pages of two, newest first, until next is null.
  std::vector<std::string> pages;
  std::string before;
  for (int page = 0; page < 5; ++page) {
    HttpResult answer = Http(url, "GET", "/api/alerts?officer=officer-1&purpose=complaint%2042&limit=2" +
                                             (before.empty() ? "" : "&before=" + before), Bearer(kAlice));
    REQUIRE(answer.status == 200);
    Struct body = ParseJson(answer.body);
    for (const std::string& id : IdsOf(Field(body, "alerts"))) pages.push_back(id);
    if (Field(body, "next").kind_case() == Value::kNullValue) break;
    before = Field(body, "next").string_value();
  }
  CHECK(pages == std::vector<std::string>{"m-4", "m-3", "m-2", "m-1", "m-0"});

  RecentIds(url, kAlice);
  SseClient stream(url, "/api/alerts/stream?from=beginning&officer=officer-1", Bearer(kAlice));
  ReadUntil(stream, "m-4");
  REQUIRE(Http(url, "POST", "/api/reviews", Bearer(kAlice),
               R"({"alertId":"m-2","state":"under_review","reason":"r","expect":"new"})").status == 200);

  std::map<std::string, std::set<std::string>> seen_by_what;  // what -> alert ids
  int timelines = 0;
  for (const Struct& record : setup.AuditRecords()) {
    CHECK(Field(record, "viewer").string_value() == "alice");
    CHECK(Field(record, "interface").string_value() == "vigil dashboard");
    CHECK(Field(record, "from").string_value().rfind("127.0.0.1:", 0) == 0);
    const std::string what = Field(record, "what").string_value();
    if (what == "timeline") {
      ++timelines;
      CHECK(Field(record, "purpose").string_value() == "complaint 42");
      CHECK(Field(record, "officerId").string_value() == "officer-1");
    }
    if (what == "stream" || what == "recent") {
      CHECK(Field(record, "purpose").string_value() == "live alert monitoring");
    }
    for (const std::string& id : [&] {
           std::vector<std::string> ids;
           for (const Value& v : Field(record, "alertIds").list_value().values()) ids.push_back(v.string_value());
           return ids;
         }()) {
      seen_by_what[what].insert(id);
    }
  }
  CHECK(timelines == 3);
  const std::set<std::string> every = {"m-0", "m-1", "m-2", "m-3", "m-4"};
  CHECK(seen_by_what["timeline"] == every);
  CHECK(seen_by_what["recent"] == every);
  CHECK(seen_by_what["stream"] == every);
  CHECK(seen_by_what["review"] == std::set<std::string>{"m-2"});

  // The auditor reads them back through the dashboard; nobody else may.
  CHECK(Http(url, "GET", "/api/audit", Bearer(kAlice)).status == 403);
  WaitUntil([&] {
    HttpResult audit = Http(url, "GET", "/api/audit?limit=1000", Bearer(kCarol));
    return audit.status == 200 && Field(ParseJson(audit.body), "records").list_value().values_size() >= 6;
  }, "the audit records on /api/audit");
}

TEST_CASE("dashboard: the tokens file is re-read; a removed token's stream is closed") {
  DashboardOnKafka setup;
  setup.Publish(MakeAlert("w-1", "officer-1", v1::Alert::WELFARE));
  auto dashboard = setup.Start();
  const std::string url = dashboard->url();
  SseClient bobs(url, "/api/alerts/stream?from=beginning", Bearer(kBob));
  ReadUntil(bobs, "w-1");
  const std::string frank = "frank-new-welfare-token-05";
  setup.WriteTokens(std::string(kAlice) + " alice misconduct\n" + frank + " frank welfare\n");
  REQUIRE(dashboard->ReloadTokens().ok());
  CHECK(Http(url, "GET", "/api/me", Bearer(kBob)).status == 401);
  CHECK(Http(url, "GET", "/api/me", Bearer(frank)).body.find("frank") != std::string::npos);
  CHECK(bobs.WaitClosed(std::chrono::seconds(20)));

  setup.WriteTokens(std::string(kAlice) + " alice misconduct\n" + frank + " frank wellbeing\n");
  Status bad = dashboard->ReloadTokens();
  CHECK(bad.message() == setup.tokens_path + ":2: unknown role 'wellbeing' (misconduct, welfare, reviewer, auditor)");
  CHECK(Http(url, "GET", "/api/me", Bearer(frank)).status == 200);  // the old tokens stay
}

TEST_CASE("dashboard: when the audit cannot be written, nothing is shown (503)") {
  DashboardOnKafka setup;
  setup.Publish(MakeAlert("m-1", "officer-1", v1::Alert::MISCONDUCT));
  auto dashboard = setup.Start();
  const std::string url = dashboard->url();
  REQUIRE(RecentIds(url, kAlice) == std::vector<std::string>{"m-1"});
  // Every produce request fails from now on, for good (the audit's and the reviews').
  std::vector<rd_kafka_resp_err_t> errors(50, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  rd_kafka_mock_push_request_errors_array(setup.broker.cluster(), 0 /* Produce */, errors.size(),
                                          errors.data());
  for (const std::string target : {"/api/alerts/recent", "/api/alerts?officer=officer-1&purpose=x"}) {
    HttpResult refused = Http(url, "GET", target, Bearer(kAlice));
    CHECK_MESSAGE(refused.status == 503, target);
    CHECK(refused.body.find("m-1") == std::string::npos);
  }
  SseClient stream(url, "/api/alerts/stream?from=beginning", Bearer(kAlice));
  CHECK(stream.status() == 503);
  CHECK(stream.body_text().find("m-1") == std::string::npos);
  HttpResult decision = Http(url, "POST", "/api/reviews", Bearer(kAlice),
                             R"({"alertId":"m-1","state":"under_review","reason":"r","expect":"new"})");
  CHECK(decision.status == 503);
  CHECK(Http(url, "GET", "/api/me", Bearer(kAlice)).status == 200);  // what reveals no alert still works
}

}  // namespace

namespace {

// A raw client for the hostile-client test: sends whatever it is given, reads whatever comes.
class RawClient {
 public:
  explicit RawClient(const std::string& url) : socket_(io_) { socket_.connect(EndpointOf(url)); }
  void Send(const std::string& bytes) { boost::asio::write(socket_, boost::asio::buffer(bytes)); }
  // The status code of the answer ("HTTP/1.1 431 ..."), or 0 when the server closed without one.
  int Status() {
    std::string answer;
    std::array<char, 4096> buffer{};
    boost::system::error_code error;
    while (answer.find("\r\n") == std::string::npos) {
      size_t n = socket_.read_some(boost::asio::buffer(buffer), error);
      if (error) break;
      answer.append(buffer.data(), n);
    }
    return answer.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(answer.substr(9, 3)) : 0;
  }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
};

}  // namespace

TEST_CASE("dashboard: oversized, malformed, slow and idle clients do not stop it serving others") {
  DashboardOnKafka setup;
  setup.Publish(MakeAlert("m-1", "officer-1", v1::Alert::MISCONDUCT));
  auto dashboard = setup.Start();
  const std::string url = dashboard->url();
  SseClient stream(url, "/api/alerts/stream?from=beginning", Bearer(kAlice));
  ReadUntil(stream, "m-1");

  // A crowd: idle connections, and requests sent only in part (slowloris), well inside the
  // connection limit (256 by default; beyond it a newcomer takes the place of the longest idle).
  const auto crowd_arrived = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<RawClient>> crowd;
  for (int i = 0; i < 120; ++i) {
    crowd.push_back(std::make_unique<RawClient>(url));
    if (i % 2 == 1) crowd.back()->Send("GET /api/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bea");
  }
  RawClient oversized(url);
  oversized.Send("GET /api/me HTTP/1.1\r\nHost: x\r\nX-Padding: " + std::string(64 * 1024, 'a') + "\r\n\r\n");
  CHECK(oversized.Status() == 431);
  RawClient malformed(url);
  malformed.Send("NOT HTTP AT ALL\r\n\r\n");
  CHECK(malformed.Status() == 400);
  RawClient huge_body(url);
  huge_body.Send("POST /api/reviews HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(kAlice) +
                 "\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{");
  CHECK(huge_body.Status() == 413);

  // Meanwhile a reviewer is served while the crowd is still there: the crowd's last slow request,
  // sent before the reviewer's, is still open afterwards, and completes and is answered. The
  // bound says the crowd had not yet met the dashboard's timeouts (request 10 s, idle 15 s), so
  // a failure here is a slow machine, not a stalled server (a guard, not a benchmark).
  HttpResult me = Http(url, "GET", "/api/me", Bearer(kAlice));
  CHECK(me.status == 200);
  REQUIRE(std::chrono::steady_clock::now() - crowd_arrived < std::chrono::seconds(5));
  crowd.back()->Send("rer " + std::string(kAlice) + "\r\n\r\n");
  CHECK(crowd.back()->Status() == 200);
  // And the open stream still gets new alerts.
  setup.Publish(MakeAlert("m-2", "officer-2", v1::Alert::MISCONDUCT));
  CHECK(ReadUntil(stream, "m-2") == std::vector<std::string>{"m-2"});
}

}  // namespace vigil::testing
