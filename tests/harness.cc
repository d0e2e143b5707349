#include "harness.h"

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>
#include <google/protobuf/util/json_util.h>

#include "event.h"
#include "rules_config.h"

namespace vigil::testing {

int RunShell(const std::string& command) {
  int status = std::system((command + " 2>/dev/null").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

namespace {
v1::RulesConfig ConfigOrFail(const std::string& json) {
  Result<v1::RulesConfig> config = ParseRulesConfig(json);
  REQUIRE_MESSAGE(config.ok(), (config.ok() ? "" : config.status().message()));
  return *config;
}
}  // namespace

Harness::Harness(const std::string& rules_json)
    : pipeline_(MakePipeline(ConfigOrFail(rules_json), NewMemoryBackend())) {
  replayer_ = std::make_unique<LineReplayer>(
      pipeline_, "test",
      [this](const v1::Alert& alert) { alerts_.push_back(alert); },
      [this](const DeadLetter& letter) { dead_letters_.push_back(letter); });
}

void Harness::Feed(const std::string& json_line) {
  Status fed = replayer_->Feed(json_line);
  REQUIRE_MESSAGE(fed.ok(), fed.message());
}

std::string Harness::FeedInvalid(const std::string& json_line) {
  Status fed = replayer_->Feed(json_line);
  REQUIRE_FALSE(fed.ok());
  return fed.message();
}

void Harness::Finish() { replayer_->Finish(); }

void Harness::Checkpoint() {
  pipeline_.core->PrepareCheckpoint();
  pipeline_.store->Checkpoint(false);
}

std::vector<v1::Alert> Harness::AlertsFor(const std::string& rule_id) const {
  std::vector<v1::Alert> out;
  for (const auto& a : alerts_) {
    if (a.rule_id() == rule_id) out.push_back(a);
  }
  return out;
}

std::vector<v1::Alert> ReplayRule(const std::string& rule_id, const std::vector<std::string>& lines,
                                  const std::string& rules_json) {
  Harness h(rules_json);
  for (const auto& line : lines) h.Feed(line);
  h.Finish();
  return h.AlertsFor(rule_id);
}

std::vector<std::string> SortedIds(const std::vector<v1::Alert>& alerts) {
  std::vector<std::string> ids;
  for (const auto& a : alerts) ids.push_back(a.alert_id());
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::string Roster(const std::string& event_id, const std::string& officer,
                   const std::string& shift_id, const std::string& status, const std::string& start,
                   const std::string& end, const std::string& changed_at) {
  return R"({"roster":{"eventId":")" + event_id + R"(","officerId":")" + officer +
         R"(","unit":"U1","shiftId":")" + shift_id + R"(","status":")" + status +
         R"(","start":")" + start + R"(","end":")" + end + R"(","changedAt":")" + changed_at +
         R"("}})";
}

std::string Access(const std::string& event_id, const std::string& officer, const std::string& at,
                   const std::string& action, const std::string& subject,
                   const std::string& case_ref, double lat, double lon) {
  return R"({"access":{"eventId":")" + event_id + R"(","officerId":")" + officer +
         R"(","system":"NICHE-RMS","action":")" + action + R"(","subjectId":")" + subject +
         R"(","caseRef":")" + case_ref + R"(","siteId":"S","lat":)" + std::to_string(lat) +
         R"(,"lon":)" + std::to_string(lon) + R"(,"occurredAt":")" + at + R"("}})";
}

std::string Complaint(const std::string& event_id, const std::string& officer,
                      const std::string& complainant, const std::string& category,
                      const std::string& received_at, const std::string& complaint_id) {
  return R"({"complaint":{"eventId":")" + event_id + R"(","complaintId":")" +
         (complaint_id.empty() ? "C-" + event_id : complaint_id) + R"(","officerId":")" + officer +
         R"(","complainantId":")" + complainant + R"(","category":")" + category +
         R"(","receivedAt":")" + received_at + R"("}})";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string WriteEventsInRange(const std::string& events, Millis from, Millis to,
                               const std::string& path) {
  std::ofstream out(path);
  for (const auto& line : ReadLines(events)) {
    Result<v1::Envelope> event = ParseEventJson(line);
    REQUIRE(event.ok());
    if (EventTime(*event) >= from && EventTime(*event) <= to) out << line << "\n";
  }
  return path;
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::vector<v1::Alert> ReadAlerts(const std::string& path) {
  std::vector<v1::Alert> alerts;
  for (const auto& line : ReadLines(path)) {
    v1::Alert alert;
    auto status = google::protobuf::util::JsonStringToMessage(line, &alert);
    REQUIRE_MESSAGE(status.ok(), path << ": " << status.ToString());
    alerts.push_back(alert);
  }
  return alerts;
}

std::vector<std::string> AlertKeys(const std::vector<v1::Alert>& alerts) {
  std::vector<std::string> keys;
  for (const auto& a : alerts) {
    keys.push_back(a.rule_id() + " " + a.officer_id() + " " + a.subject_id() + " " +
                   FormatDay(ToMillis(a.window_end())));
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace vigil::testing
