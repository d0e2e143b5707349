#include "dashboard.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "alert_index.h"
#include "json_text.h"
#include "kafka/kafka_io.h"
#include "reviews.h"
#include "tokens.h"
#include "web_assets.h"

namespace vigil {

namespace {

using http::AlertRef;
using http::Identity;
using http::Position;
using http::Request;
using http::Responder;
using http::Response;
using Steady = std::chrono::steady_clock;

constexpr const char* kChartJs = "/usr/share/javascript/chart.js/chart.min.js";
constexpr size_t kStreamBatch = 500;     // alerts per stream write (and audit record)
constexpr size_t kAuditRecordsKept = 1000;
constexpr auto kCatchUpLimit = std::chrono::seconds(60);
constexpr auto kResumeWait = std::chrono::seconds(10);

// HttpServer adds nosniff, no caching and `default-src 'self'` to every answer; the dashboard adds
// no referrer: the stream's URL may carry its token.
std::vector<std::pair<std::string, std::string>> SafeHeaders() {
  return {{"Referrer-Policy", "no-referrer"}};
}

Response WithHeaders(Response response) {
  for (auto& header : SafeHeaders()) response.headers.push_back(std::move(header));
  return response;
}
Response Json(int status, std::string body) { return WithHeaders(Response::Json(status, std::move(body))); }
Response Error(int status, const std::string& message) {
  return WithHeaders(Response::Error(status, message));
}

// The stream's filters, as given (empty: any).
struct Filters {
  std::string rule, officer;
  std::optional<v1::Alert::Severity> severity;
  std::optional<v1::Alert::Kind> kind;

  bool Pass(const v1::Alert& a) const {
    return (rule.empty() || a.rule_id() == rule) && (officer.empty() || a.officer_id() == officer) &&
           (!severity || a.severity() == *severity) && (!kind || a.kind() == *kind);
  }
};

Result<Filters> ParseFilters(const Request& request) {
  Filters f;
  f.rule = request.Query("rule");
  f.officer = request.Query("officer");
  if (const std::string& s = request.Query("severity"); !s.empty()) {
    v1::Alert::Severity severity;
    if (!v1::Alert::Severity_Parse(s, &severity) || severity == v1::Alert::SEVERITY_UNSPECIFIED) {
      return Status::Error("severity must be LOW, MEDIUM or HIGH");
    }
    f.severity = severity;
  }
  if (const std::string& k = request.Query("kind"); !k.empty()) {
    v1::Alert::Kind kind;
    if (!v1::Alert::Kind_Parse(k, &kind) || kind == v1::Alert::KIND_UNSPECIFIED) {
      return Status::Error("kind must be MISCONDUCT or WELFARE");
    }
    f.kind = kind;
  }
  return f;
}

// An integer query parameter in [min, max], `fallback` when absent.
Result<long long> IntQuery(const Request& request, const std::string& name, long long fallback,
                           long long min, long long max) {
  const std::string& text = request.Query(name);
  if (text.empty()) return fallback;
  long long value = 0;
  size_t used = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || value < min || value > max) {
    return Status::Error(name + " must be a whole number from " + std::to_string(min) + " to " +
                         std::to_string(max));
  }
  return value;
}

// The token of a request: `Authorization: Bearer TOKEN`, or ?token= where `query_allowed`.
std::string BearerOf(const Request& request, bool query_allowed) {
  const std::string& header = request.Header("authorization");
  std::string scheme = header.substr(0, 7);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), ::tolower);
  if (scheme == "bearer ") {
    size_t start = header.find_first_not_of(' ', 7);
    return start == std::string::npos ? "" : header.substr(start);
  }
  return query_allowed ? request.Query("token") : "";
}

// The alerts `who` may see.
http::AlertFilter VisibleTo(const Identity& who) {
  return [&who](const v1::Alert& a) { return who.MaySee(a.kind()); };
}

std::string StringField(const google::protobuf::Struct& body, const std::string& name) {
  auto it = body.fields().find(name);
  if (it == body.fields().end() || it->second.kind_case() != google::protobuf::Value::kStringValue) {
    return "";
  }
  return it->second.string_value();
}

// The purpose the audit records for the live list and stream when the client gives none: watching
// new alerts is the directorate's standing purpose; a timeline needs the reviewer's own words.
constexpr char kLivePurpose[] = "live alert monitoring";

std::string PurposeOr(const Request& request, const char* standing) {
  const std::string& given = request.Query("purpose");
  return given.find_first_not_of(" \t") == std::string::npos ? standing : given;
}

struct Subscription {
  std::shared_ptr<http::EventStream> stream;
  std::string token;  // re-checked after a reload of the tokens file
  uint64_t generation = 0;
  Identity identity;
  Filters filters;
  std::string remote;
  std::string purpose;          // recorded in the audit with every batch
  uint64_t cursor = 0;          // alerts up to this sequence were considered
  uint64_t review_version = 0;  // review changes up to this version were considered
  Steady::time_point last_write;

  // Whether this stream shows `alert`: its roles may see it and it passes the stream's filters.
  bool Sees(const v1::Alert& alert) const { return identity.MaySee(alert.kind()) && filters.Pass(alert); }
};

}  // namespace

class Dashboard::Impl {
 public:
  explicit Impl(DashboardOptions options) : options_(std::move(options)) {}
  ~Impl() { Stop(); }

  Status Open();
  void Stop();
  std::string url() const { return server_->url(); }
  Status ReloadTokens();

 private:
  // Reading the topics.
  Status Assign();
  void Consume();
  void OnRecord(const rd_kafka_message_t& m);
  void NoteRead(const std::string& topic, int32_t partition, int64_t next_offset);
  bool WaitCaughtUp(Steady::duration limit);
  void Wake();

  // Serving.
  void Handle(const Request& request, const Responder& responder);
  Response Static(const Request& request);
  Response Me(const Identity& who);
  Response Timeline(const Request& request, const Identity& who);
  Response Recent(const Request& request, const Identity& who);
  Response Summary(const Request& request, const Identity& who);
  Response Decide(const Request& request, const Identity& who);
  Response AuditRecords(const Request& request, const Identity& who);
  void OpenStream(const Request& request, const Responder& responder, const std::string& token,
                  const Identity& who);

  // The stream fan-out thread: new alerts and review changes to every open stream.
  void FanOut();
  std::string PendingEvents(Subscription& sub, std::vector<std::string>* ids, bool* more);
  std::string AlertJson(const http::IndexedAlert& alert) const;
  std::string AlertEvent(const http::IndexedAlert& alert) const;
  std::string AlertsJson(const std::vector<AlertRef>& alerts) const;
  // Records the view; false (and the answer is 503) when the audit cannot be written.
  Status Audit(const Identity& who, const Request& request, const std::string& what,
               const std::vector<AlertRef>& alerts, const std::string& purpose = "",
               const std::string& officer = "");

  DashboardOptions options_;
  http::TokenStore tokens_;
  http::AlertIndex index_;
  http::ReviewBook reviews_;
  std::unique_ptr<AckedProducer> producer_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<http::ReviewDesk> desk_;
  KafkaHandle consumer_;

  std::atomic<bool> stopping_{false};
  std::thread consumer_thread_;
  std::thread fanout_thread_;

  std::mutex caught_up_mutex_;
  std::condition_variable caught_up_cv_;
  std::set<std::pair<std::string, int32_t>> loading_;  // partitions not yet read to their start end
  std::map<std::pair<std::string, int32_t>, int64_t> start_end_;

  std::mutex audit_records_mutex_;
  std::deque<std::string> audit_records_;  // newest last

  std::mutex streams_mutex_;
  std::condition_variable streams_cv_;
  bool changed_ = false;
  std::vector<std::shared_ptr<Subscription>> streams_;

  std::unique_ptr<http::HttpServer> server_;
};

Status Dashboard::Impl::Open() {
  if (Status loaded = tokens_.Reload(options_.tokens_path); !loaded.ok()) return loaded;
  if (options_.heartbeat_ms < 10) return Status::Error("heartbeat must be at least 10 ms");
  Result<std::unique_ptr<AckedProducer>> producer = AckedProducer::Open(options_.brokers);
  if (!producer.ok()) return producer.status();
  producer_ = std::move(producer.value());
  audit_ = std::make_unique<AuditLog>(producer_.get(), options_.topics.audit, "vigil dashboard");
  desk_ = std::make_unique<http::ReviewDesk>(reviews_, *producer_, options_.topics.reviews);
  Result<KafkaHandle> consumer = MakeConsumer(
      options_.brokers, {{"group.id", options_.group}, {"fetch.wait.max.ms", "100"}});
  if (!consumer.ok()) return consumer.status();
  consumer_ = std::move(consumer.value());
  if (Status assigned = Assign(); !assigned.ok()) return assigned;
  index_.SetListener([this] { Wake(); });
  reviews_.SetListener([this] { Wake(); });
  consumer_thread_ = std::thread([this] { Consume(); });
  if (!WaitCaughtUp(kCatchUpLimit)) {
    std::cerr << "dashboard: still reading " << options_.topics.alerts << " and "
              << options_.topics.reviews << " after " << kCatchUpLimit.count()
              << " s; serving what is read so far\n";
  }
  fanout_thread_ = std::thread([this] { FanOut(); });
  Result<std::unique_ptr<http::HttpServer>> server = http::HttpServer::Start(
      options_.listen, options_.limits,
      [this](const Request& request, const Responder& responder) { Handle(request, responder); });
  if (!server.ok()) return server.status();
  server_ = std::move(server.value());
  return Status::Ok();
}

void Dashboard::Impl::Stop() {
  stopping_ = true;
  Wake();
  {
    std::lock_guard<std::mutex> lock(caught_up_mutex_);
    caught_up_cv_.notify_all();
  }
  server_.reset();  // no handler runs after this
  if (fanout_thread_.joinable()) fanout_thread_.join();
  if (consumer_thread_.joinable()) consumer_thread_.join();
  if (consumer_) rd_kafka_consumer_close(consumer_.get());
  consumer_.reset();
}

Status Dashboard::Impl::ReloadTokens() {
  Status reloaded = tokens_.Reload(options_.tokens_path);
  if (reloaded.ok()) Wake();  // the fan-out re-checks every stream's token
  return reloaded;
}

// ---- reading the topics ----

Status Dashboard::Impl::Assign() {
  rd_kafka_t* rk = consumer_.get();
  PartitionList assignment(rd_kafka_topic_partition_list_new(16));
  for (const std::string* topic : {&options_.topics.alerts, &options_.topics.reviews, &options_.topics.audit}) {
    Result<int> partitions = PartitionCount(rk, *topic);
    if (!partitions.ok()) return Status::Error(partitions.status().message() + " at " + options_.brokers);
    for (int32_t p = 0; p < *partitions; ++p) {
      rd_kafka_topic_partition_list_add(assignment.get(), topic->c_str(), p)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
      if (topic == &options_.topics.audit) continue;  // the audit view need not be whole at start
      Result<std::pair<int64_t, int64_t>> offsets = QueryOffsets(rk, *topic, p);
      if (!offsets.ok()) return offsets.status();
      if (offsets->second > offsets->first) {
        loading_.insert({*topic, p});
        start_end_[{*topic, p}] = offsets->second;
      }
    }
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(rk, assignment.get());
  if (err) return Status::Error("cannot read the dashboard's topics: " + KafkaError(err));
  return Status::Ok();
}

void Dashboard::Impl::Consume() {
  while (!stopping_) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_.get(), 200);
    if (!m) continue;
    std::string topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      NoteRead(topic, m->partition, m->offset);
    } else if (m->err) {
      std::cerr << "dashboard: " << topic << ": " << rd_kafka_message_errstr(m) << " (retrying)\n";
    } else {
      OnRecord(*m);
      NoteRead(topic, m->partition, m->offset + 1);
    }
    rd_kafka_message_destroy(m);
  }
}

void Dashboard::Impl::OnRecord(const rd_kafka_message_t& m) {
  const std::string topic = rd_kafka_topic_name(m.rkt);
  const Position position{m.partition, m.offset};
  if (topic == options_.topics.alerts) {
    v1::Alert alert;
    if (!alert.ParseFromArray(m.payload, static_cast<int>(m.len))) {
      std::cerr << "dashboard: " << topic << " " << position.ToString() << " is not an Alert (skipped)\n";
      return;
    }
    index_.Add(std::move(alert), position);
  } else if (topic == options_.topics.reviews) {
    v1::Review review;
    if (!m.payload || !review.ParseFromArray(m.payload, static_cast<int>(m.len)) ||
        review.alert_id().empty()) {
      return;  // a tombstone, or not a Review
    }
    reviews_.Apply(std::move(review), position);
  } else if (topic == options_.topics.audit) {
    std::string record(static_cast<const char*>(m.payload), m.len);
    google::protobuf::Struct check;  // shown as JSON inside JSON: only what parses as JSON
    if (!google::protobuf::util::JsonStringToMessage(record, &check).ok()) return;
    std::lock_guard<std::mutex> lock(audit_records_mutex_);
    audit_records_.push_back(std::move(record));
    if (audit_records_.size() > kAuditRecordsKept) audit_records_.pop_front();
  }
}

void Dashboard::Impl::NoteRead(const std::string& topic, int32_t partition, int64_t next_offset) {
  std::lock_guard<std::mutex> lock(caught_up_mutex_);
  auto key = std::make_pair(topic, partition);
  if (loading_.count(key) && next_offset >= start_end_[key]) {
    loading_.erase(key);
    if (loading_.empty()) caught_up_cv_.notify_all();
  }
}

bool Dashboard::Impl::WaitCaughtUp(Steady::duration limit) {
  std::unique_lock<std::mutex> lock(caught_up_mutex_);
  return caught_up_cv_.wait_for(lock, limit, [this] { return loading_.empty() || stopping_; }) &&
         loading_.empty();
}

void Dashboard::Impl::Wake() {
  std::lock_guard<std::mutex> lock(streams_mutex_);
  changed_ = true;
  streams_cv_.notify_all();
}

// ---- serving ----

void Dashboard::Impl::Handle(const Request& request, const Responder& responder) {
  if (request.path.rfind("/api/", 0) != 0) return responder.Reply(Static(request));
  const bool stream = request.path == "/api/alerts/stream";
  const std::string token = BearerOf(request, stream);
  std::optional<Identity> who = tokens_.Authenticate(token);
  if (!who) {
    Response denied = Error(401, "a valid token is required (Authorization: Bearer TOKEN)");
    denied.headers.push_back({"WWW-Authenticate", "Bearer"});
    return responder.Reply(std::move(denied));
  }
  const bool post = request.path == "/api/reviews";
  if (request.method != (post ? "POST" : "GET")) {
    return responder.Reply(Error(405, request.path + " takes " + (post ? "POST" : "GET")));
  }
  if (stream) return OpenStream(request, responder, token, *who);
  if (request.path == "/api/me") return responder.Reply(Me(*who));
  if (request.path == "/api/alerts") return responder.Reply(Timeline(request, *who));
  if (request.path == "/api/alerts/recent") return responder.Reply(Recent(request, *who));
  if (request.path == "/api/summary") return responder.Reply(Summary(request, *who));
  if (request.path == "/api/reviews") return responder.Reply(Decide(request, *who));
  if (request.path == "/api/audit") return responder.Reply(AuditRecords(request, *who));
  responder.Reply(Error(404, "no such route: " + request.path));
}

Response Dashboard::Impl::Static(const Request& request) {
  if (request.method != "GET") return Error(405, request.path + " takes GET");
  struct Page {
    const char* path;
    const char* asset;
    const char* type;
  };
  static const Page kPages[] = {{"/", "index.html", "text/html; charset=utf-8"},
                                {"/index.html", "index.html", "text/html; charset=utf-8"},
                                {"/app.js", "app.js", "text/javascript; charset=utf-8"},
                                {"/style.css", "style.css", "text/css; charset=utf-8"}};
  for (const Page& page : kPages) {
    if (request.path != page.path) continue;
    const http::WebAsset* asset = http::FindWebAsset(page.asset);
    if (!asset) break;
    Response response = WithHeaders(Response::Json(200, std::string(asset->content)));
    response.content_type = page.type;
    return response;
  }
  if (request.path == "/favicon.ico") {  // browsers ask on every load; a 404 is a console error
    Response none = WithHeaders(Response::Json(204, ""));
    none.content_type = "image/x-icon";
    return none;
  }
  if (request.path == "/chart.js") {
    std::ifstream in(kChartJs, std::ios::binary);
    if (!in) {
      return Error(404, std::string("Chart.js is not installed on the dashboard's machine (") + kChartJs +
                            ", Debian package libjs-chart.js)");
    }
    std::stringstream text;
    text << in.rdbuf();
    Response response = WithHeaders(Response::Json(200, text.str()));
    response.content_type = "text/javascript; charset=utf-8";
    return response;
  }
  return Error(404, "no such page: " + request.path);
}

Response Dashboard::Impl::Me(const Identity& who) {
  std::string roles;
  for (const std::string& role : who.RoleNames()) roles += (roles.empty() ? "" : ",") + JsonQuote(role);
  return Json(200, "{\"name\":" + JsonQuote(who.name) + ",\"roles\":[" + roles + "]}");
}

std::string Dashboard::Impl::AlertJson(const http::IndexedAlert& alert) const {
  std::string json = alert.json;
  json.pop_back();  // the closing brace
  return json + ",\"position\":" + JsonQuote(alert.position.ToString()) +
         ",\"review\":" + reviews_.JsonOf(alert.alert.alert_id()) + "}";
}

std::string Dashboard::Impl::AlertEvent(const http::IndexedAlert& alert) const {
  return "id: " + alert.position.ToString() + "\ndata: " + AlertJson(alert) + "\n\n";
}

std::string Dashboard::Impl::AlertsJson(const std::vector<AlertRef>& alerts) const {
  std::string out = "[";
  for (const AlertRef& alert : alerts) out += (out.size() > 1 ? "," : "") + AlertJson(*alert);
  return out + "]";
}

Status Dashboard::Impl::Audit(const Identity& who, const Request& request, const std::string& what,
                              const std::vector<AlertRef>& alerts, const std::string& purpose,
                              const std::string& officer) {
  AuditEntry entry{who.name, request.remote, what, purpose, officer, {}};
  for (const AlertRef& alert : alerts) entry.alert_ids.push_back(alert->alert.alert_id());
  Status recorded = audit_->Record(entry);
  if (!recorded.ok()) std::cerr << "dashboard: " << recorded.message() << "; view refused (503)\n";
  return recorded;
}

Response Dashboard::Impl::Timeline(const Request& request, const Identity& who) {
  const std::string& officer = request.Query("officer");
  const std::string& purpose = request.Query("purpose");
  if (officer.empty()) return Error(400, "officer is required");
  if (purpose.find_first_not_of(" \t") == std::string::npos) {
    return Error(400, "purpose is required: why you are looking at this officer's alerts (it is "
                      "recorded in the audit)");
  }
  Result<long long> limit = IntQuery(request, "limit", 100, 1, 500);
  if (!limit.ok()) return Error(400, limit.status().message());
  std::optional<uint64_t> before;
  if (const std::string& text = request.Query("before"); !text.empty()) {
    std::optional<Position> position = Position::Parse(text);
    if (position) before = index_.ResumePoint(*position);
    if (!before) return Error(400, "before: not the position of an alert (PARTITION:OFFSET)");
  }
  http::AlertIndex::Page page = index_.ForOfficer(
      officer, before, VisibleTo(who),
      static_cast<size_t>(*limit));
  if (!Audit(who, request, "timeline", page.alerts, purpose, officer).ok()) {
    return Error(503, "the audit cannot be written; nothing is shown");
  }
  std::string next = page.more ? JsonQuote(page.alerts.back()->position.ToString()) : "null";
  return Json(200, "{\"alerts\":" + AlertsJson(page.alerts) + ",\"next\":" + next + "}");
}

Response Dashboard::Impl::Recent(const Request& request, const Identity& who) {
  Result<long long> limit = IntQuery(request, "limit", 50, 1, 500);
  if (!limit.ok()) return Error(400, limit.status().message());
  std::vector<AlertRef> alerts = index_.Recent(
      VisibleTo(who), static_cast<size_t>(*limit));
  if (!alerts.empty() && !Audit(who, request, "recent", alerts, PurposeOr(request, kLivePurpose)).ok()) {
    return Error(503, "the audit cannot be written; nothing is shown");
  }
  return Json(200, "{\"alerts\":" + AlertsJson(alerts) + "}");
}

Response Dashboard::Impl::Summary(const Request& request, const Identity& who) {
  Result<long long> days = IntQuery(request, "days", 14, 1, 366);
  if (!days.ok()) return Error(400, days.status().message());
  http::AlertIndex::Summary summary = index_.Summarize(
      static_cast<int>(*days), VisibleTo(who));
  auto counts = [](const std::vector<int>& v) {
    std::string out = "[";
    for (int n : v) out += (out.size() > 1 ? "," : "") + std::to_string(n);
    return out + "]";
  };
  std::string day_list, by_rule, by_severity, by_state;
  for (Millis day : summary.days) day_list += (day_list.empty() ? "" : ",") + JsonQuote(FormatDay(day));
  for (const auto& [rule, n] : summary.by_rule) {
    by_rule += (by_rule.empty() ? "" : ",") + JsonQuote(rule) + ":" + counts(n);
  }
  for (const auto& [severity, n] : summary.by_severity) {
    by_severity += (by_severity.empty() ? "" : ",") + JsonQuote(v1::Alert::Severity_Name(severity)) +
                   ":" + counts(n);
  }
  std::map<http::ReviewState, int> states;
  for (const std::string& id : summary.alert_ids) ++states[reviews_.StateOf(id)];
  for (http::ReviewState state : http::AllStates()) {
    by_state += (by_state.empty() ? "" : ",") + JsonQuote(http::StateName(state)) + ":" +
                std::to_string(states[state]);
  }
  return Json(200, "{\"days\":[" + day_list + "],\"byRule\":{" + by_rule + "},\"bySeverity\":{" +
                       by_severity + "},\"byState\":{" + by_state + "}}");
}

Response Dashboard::Impl::Decide(const Request& request, const Identity& who) {
  if (!who.Has(http::Role::kReviewer)) return Error(403, "recording decisions needs the reviewer role");
  google::protobuf::Struct body;
  if (!google::protobuf::util::JsonStringToMessage(request.body, &body).ok()) {
    return Error(400, "the body must be a JSON object {alertId, state, reason, expect}");
  }
  http::Decision decision;
  decision.alert_id = StringField(body, "alertId");
  decision.reason = StringField(body, "reason");
  decision.expect = StringField(body, "expect");
  AlertRef alert = index_.Find(decision.alert_id);
  if (!alert || !who.MaySee(alert->alert.kind())) return Error(404, "no such alert");
  std::optional<http::ReviewState> state = http::ParseState(StringField(body, "state"));
  if (!state) return Error(400, "state: unknown state '" + StringField(body, "state") + "'");
  decision.state = *state;
  // The answer shows the alert's review (or why not): recorded before the decision is made.
  if (!Audit(who, request, "review", {alert}).ok()) {
    return Error(503, "the audit cannot be written; nothing was decided");
  }
  http::ReviewDesk::Answer answer =
      desk_->Decide(alert->alert, decision, who.name, SystemClock().NowMillis());
  if (answer.status != 200) return Error(answer.status, answer.error);
  return Json(200, "{\"alertId\":" + JsonQuote(decision.alert_id) +
                       ",\"review\":" + http::ReviewJson(&answer.review) + "}");
}

Response Dashboard::Impl::AuditRecords(const Request& request, const Identity& who) {
  if (!who.Has(http::Role::kAuditor)) return Error(403, "reading the audit needs the auditor role");
  Result<long long> limit = IntQuery(request, "limit", 100, 1, static_cast<long long>(kAuditRecordsKept));
  if (!limit.ok()) return Error(400, limit.status().message());
  std::string records;
  std::lock_guard<std::mutex> lock(audit_records_mutex_);
  long long n = 0;
  for (auto it = audit_records_.rbegin(); it != audit_records_.rend() && n < *limit; ++it, ++n) {
    records += (records.empty() ? "" : ",") + *it;
  }
  return Json(200, "{\"records\":[" + records + "]}");
}

// ---- the alert stream ----

void Dashboard::Impl::OpenStream(const Request& request, const Responder& responder,
                                 const std::string& token, const Identity& who) {
  Result<Filters> filters = ParseFilters(request);
  if (!filters.ok()) return responder.Reply(Error(400, filters.status().message()));
  auto sub = std::make_shared<Subscription>();
  sub->token = token;
  sub->generation = tokens_.generation();
  sub->identity = who;
  sub->filters = *filters;
  sub->remote = request.remote;
  sub->purpose = PurposeOr(request, kLivePurpose);
  sub->review_version = reviews_.version();
  std::string last_id = request.Header("last-event-id");
  if (last_id.empty()) last_id = request.Query("lastEventId");
  if (!last_id.empty()) {
    std::optional<Position> position = Position::Parse(last_id);
    if (!position) return responder.Reply(Error(400, "Last-Event-ID must be PARTITION:OFFSET"));
    WaitCaughtUp(kResumeWait);  // a dashboard that just started may not have read it yet
    // An alert this dashboard never read (the topic lost it): from the beginning, losing nothing.
    sub->cursor = index_.ResumePoint(*position).value_or(0);
  } else {
    sub->cursor = request.Query("from") == "beginning" ? 0 : index_.last_sequence();
  }
  AuditEntry entry{who.name, request.remote, "stream", sub->purpose, "", {}};
  bool more = false;
  std::string events = PendingEvents(*sub, &entry.alert_ids, &more);
  if (Status recorded = entry.alert_ids.empty() ? Status::Ok() : audit_->Record(entry); !recorded.ok()) {
    std::cerr << "dashboard: " << recorded.message() << "; stream refused (503)\n";
    return responder.Reply(Error(503, "the audit cannot be written; nothing is shown"));
  }
  sub->stream = responder.StartStream(SafeHeaders());
  sub->stream->Send("retry: 3000\n\n" + events);
  sub->last_write = Steady::now();
  std::lock_guard<std::mutex> lock(streams_mutex_);
  streams_.push_back(std::move(sub));
  changed_ = true;  // more may have arrived, or remain beyond the first batch
  streams_cv_.notify_all();
}

// The review changes and alerts `sub` has not been sent yet (at most one batch of alerts), as SSE
// events; moves its cursor and review version past them and lists what they reveal in `ids`.
std::string Dashboard::Impl::PendingEvents(Subscription& sub, std::vector<std::string>* ids, bool* more) {
  auto visible = [&sub](const v1::Alert& a) { return sub.Sees(a); };
  std::string bytes;
  uint64_t now_version = 0;
  for (const std::string& id : reviews_.ChangedSince(sub.review_version, &now_version)) {
    AlertRef alert = index_.Find(id);  // not yet indexed: its own event will carry the review
    if (!alert || alert->sequence > sub.cursor || !visible(alert->alert)) continue;
    bytes += "event: review\ndata: {\"alertId\":" + JsonQuote(id) + ",\"review\":" +
             reviews_.JsonOf(id) + "}\n\n";
    ids->push_back(id);
  }
  sub.review_version = now_version;
  http::AlertIndex::Scan scan = index_.After(sub.cursor, visible, kStreamBatch);
  for (const AlertRef& alert : scan.alerts) {
    bytes += AlertEvent(*alert);
    ids->push_back(alert->alert.alert_id());
  }
  *more = *more || scan.alerts.size() == kStreamBatch;
  sub.cursor = scan.scanned_to;
  return bytes;
}

void Dashboard::Impl::FanOut() {
  const auto heartbeat = std::chrono::milliseconds(options_.heartbeat_ms);
  while (true) {
    std::vector<std::shared_ptr<Subscription>> streams;
    {
      std::unique_lock<std::mutex> lock(streams_mutex_);
      streams_cv_.wait_for(lock, std::min<Steady::duration>(heartbeat / 2, std::chrono::seconds(1)),
                           [this] { return changed_ || stopping_; });
      if (stopping_) break;
      changed_ = false;
      streams_.erase(std::remove_if(streams_.begin(), streams_.end(),
                                    [](const auto& s) { return !s->stream->open(); }),
                     streams_.end());
      streams = streams_;
    }
    const uint64_t generation = tokens_.generation();
    struct Batch {
      Subscription* sub;
      std::string bytes;
      bool reveals;  // alerts or reviews, not only a heartbeat
    };
    std::vector<Batch> batches;
    std::vector<AuditEntry> entries;
    bool more = false;
    for (const auto& sub : streams) {
      if (sub->generation != generation) {  // the tokens file was re-read: is the token still good?
        std::optional<Identity> who = tokens_.Authenticate(sub->token);
        if (!who) {
          sub->stream->Close();
          continue;
        }
        sub->identity = *who;
        sub->generation = generation;
      }
      AuditEntry entry{sub->identity.name, sub->remote, "stream", sub->purpose, "", {}};
      std::string bytes = PendingEvents(*sub, &entry.alert_ids, &more);
      if (!bytes.empty()) {
        entries.push_back(std::move(entry));
        batches.push_back({sub.get(), std::move(bytes), true});
      } else if (Steady::now() - sub->last_write >= heartbeat) {
        batches.push_back({sub.get(), ": hb\n\n", false});
      }
    }
    // Every batch's view is on the audit topic before any of it is written.
    if (!entries.empty() && !audit_->Record(entries).ok()) {
      std::cerr << "dashboard: the audit cannot be written; closing the streams it would have fed\n";
      for (const Batch& batch : batches) {
        if (batch.reveals) batch.sub->stream->Close();
      }
      batches.erase(std::remove_if(batches.begin(), batches.end(), [](const Batch& b) { return b.reveals; }),
                    batches.end());
    }
    for (Batch& batch : batches) {
      batch.sub->stream->Send(std::move(batch.bytes));
      batch.sub->last_write = Steady::now();
    }
    if (more) Wake();
  }
  std::lock_guard<std::mutex> lock(streams_mutex_);
  for (const auto& sub : streams_) sub->stream->Close();
  streams_.clear();
}

// ---- Dashboard ----

Dashboard::Dashboard(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Dashboard::~Dashboard() = default;

Result<std::unique_ptr<Dashboard>> Dashboard::Start(const DashboardOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  if (Status opened = impl->Open(); !opened.ok()) return opened;
  return std::unique_ptr<Dashboard>(new Dashboard(std::move(impl)));
}

std::string Dashboard::url() const { return impl_->url(); }
Status Dashboard::ReloadTokens() { return impl_->ReloadTokens(); }

}  // namespace vigil
