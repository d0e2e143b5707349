// Test harness: runs the real core and rules over an in-memory state store, fed one NDJSON
// event line at a time as a single input partition (exactly as `vigil replay` feeds a file).
//
//   Harness h(R"({"repeatedSubjectLookup": {"minLookups": 2}})");   // rules file JSON, "{}" = defaults
//   h.Feed(Access("a1", "MP1", "2026-03-01T08:00:00Z", "SEARCH", "S1"));
//   h.Finish();                 // end of stream: watermark to +infinity
//   CHECK(h.AlertsFor("repeated_subject_lookup").size() == 1);
#pragma once

#include <string>
#include <vector>

#include "alert.pb.h"
#include "time/event_time.h"
#include "pipeline.h"
#include "replay/replay.h"

namespace vigil::testing {

// Runs a shell command line, its stderr discarded; its exit status (-1 if it did not exit).
int RunShell(const std::string& command);

class Harness {
 public:
  explicit Harness(const std::string& rules_json = "{}");
  // Feeds one event line; fails the test if the line is invalid.
  void Feed(const std::string& json_line);
  // Feeds a line expected to be invalid; returns the error message.
  std::string FeedInvalid(const std::string& json_line);
  void Finish();
  // Makes everything so far durable in the store, as a checkpoint of `vigil run` does.
  void Checkpoint();

  const std::vector<v1::Alert>& alerts() const { return alerts_; }
  std::vector<v1::Alert> AlertsFor(const std::string& rule_id) const;
  const std::vector<DeadLetter>& dead_letters() const { return dead_letters_; }
  const ProcessorMetrics& metrics() const { return pipeline_.core->metrics(); }
  Millis watermark() { return pipeline_.core->watermarks().Current(); }
  StateStore& store() { return *pipeline_.store; }

 private:
  Pipeline pipeline_;
  std::unique_ptr<LineReplayer> replayer_;
  std::vector<v1::Alert> alerts_;
  std::vector<DeadLetter> dead_letters_;
};

// Replays `lines` to the end of the stream with the rules file `rules_json` and returns the alerts
// of `rule_id`.
std::vector<v1::Alert> ReplayRule(const std::string& rule_id, const std::vector<std::string>& lines,
                                  const std::string& rules_json = "{}");
// The alert ids, sorted.
std::vector<std::string> SortedIds(const std::vector<v1::Alert>& alerts);

// Event builders (proto3 JSON lines). Times are RFC 3339 strings.
std::string Roster(const std::string& event_id, const std::string& officer,
                   const std::string& shift_id, const std::string& status, const std::string& start,
                   const std::string& end, const std::string& changed_at);
std::string Access(const std::string& event_id, const std::string& officer, const std::string& at,
                   const std::string& action, const std::string& subject = "",
                   const std::string& case_ref = "", double lat = 0, double lon = 0);
std::string Complaint(const std::string& event_id, const std::string& officer,
                      const std::string& complainant, const std::string& category,
                      const std::string& received_at, const std::string& complaint_id = "");

// Reads an NDJSON file into lines.
std::vector<std::string> ReadLines(const std::string& path);
// A whole file as text.
std::string ReadFile(const std::string& path);
// Writes to `path` the lines of the event file `events` whose event time lies in [from, to];
// returns `path`.
std::string WriteEventsInRange(const std::string& events, Millis from, Millis to,
                               const std::string& path);
// Alerts from an NDJSON file.
std::vector<v1::Alert> ReadAlerts(const std::string& path);
// (rule_id, officer_id, subject_id, UTC day of window_end) for each alert, sorted: the comparison
// key of shared/scenarios/README.md.
std::vector<std::string> AlertKeys(const std::vector<v1::Alert>& alerts);

}  // namespace vigil::testing
