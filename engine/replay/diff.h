// `vigil diff`: what a change of rules would do to the alerts of a history, alert by alert.
//
// Both rule sets run over the same input in one pass (ReplayBoth from a file, ReplayBothFromKafka
// from a time range of the input topics), each with its own temporary RocksDB state; or the
// alerts already on two alert topics are compared (ReadAlertTopic: live against shadow). CompareAlerts then matches the two sets' alerts into cases and counts them per
// rule and ISO week; ScoreLabels scores each set against the outcomes of past reviews.
//
// Matching (MatchAlerts). An alert from A and one from B are the same case when they have the
// same rule, officer and subject (subject_id, possibly empty) and their windows
// [window_start, window_end] overlap (closed intervals: touching counts). Identical alert_id is
// the trivial case. Each alert matches at most one other: candidate pairs are taken greedily,
// identical ids first, then by the largest overlap, ties by window start and alert id in both
// sets, so the result does not depend on the order the alerts were emitted. So a lower threshold
// that fires earlier, on fewer events of the same pattern, is the same case, as a reviewer would
// see it.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "alert.pb.h"
#include "time/event_time.h"
#include "replay/replay_kafka.h"
#include "rules.pb.h"
#include "status.h"

namespace vigil {

struct DiffReplay {
  std::vector<v1::Alert> a;
  std::vector<v1::Alert> b;
  uint64_t lines = 0;    // lines of the file, or records read from Kafka
  uint64_t skipped = 0;  // invalid lines (reported on stderr with their line number) or records
};

// Feeds every line of `in` to a pipeline of `a` and one of `b` (LineReplayer each, temporary
// RocksDB state each), to the end of the stream.
DiffReplay ReplayBoth(std::istream& in, const std::string& source_name, const v1::RulesConfig& a,
                      const v1::RulesConfig& b, bool progress);

// Feeds the input topics' events in [range.from, range.to] to a pipeline of `a` and one of `b`
// in one pass (FeedKafkaRange; temporary RocksDB state each). The records are read with the wider
// of A's and B's margins (WiderMargins; range.time is replaced), so neither set misses an event
// it would use. Errors: those of FeedKafkaRange.
Result<DiffReplay> ReplayBothFromKafka(const KafkaRangeOptions& range, const v1::RulesConfig& a,
                                       const v1::RulesConfig& b);

// The alerts already on an alert topic (`vigil run` publishes to vigil.alerts, its
// --shadow-rules to vigil.alerts.shadow), read from the beginning to the end as it was at start.
struct TopicAlerts {
  std::vector<v1::Alert> alerts;  // window_end in [from, to]; one per alert id, the first read
  uint64_t records = 0;
  uint64_t outside = 0;     // alerts whose window_end is outside [from, to]
  uint64_t invalid = 0;     // records that are not alerts
  uint64_t duplicates = 0;  // alerts of the range whose id was already read (e.g. published twice)
  std::set<std::string> rules_versions;  // of the alerts kept
};
// Errors: those of ReadTopic (a missing topic, Kafka unreachable).
Result<TopicAlerts> ReadAlertTopic(const std::string& brokers, const std::string& topic, Millis from,
                                   Millis to);

struct AlertMatch {
  size_t a;  // index into the A alerts
  size_t b;  // index into the B alerts
};
// See "Matching" above. Pairs are returned in the order of A's alerts.
std::vector<AlertMatch> MatchAlerts(const std::vector<v1::Alert>& a,
                                    const std::vector<v1::Alert>& b);

// "2026-W03": the ISO 8601 week (weeks start on Monday; week 1 holds the year's first Thursday).
std::string IsoWeek(Millis t);

// The rule ids of a RulesConfig: its rule messages (every field but `time`), in field order.
std::vector<std::string> RuleIds();

// The settings of `rule_id` that differ between A and B, one "minLookups: A 3, B 5" each
// (proto3 JSON names; `description` ignored).
std::vector<std::string> SettingDifferences(const std::string& rule_id, const v1::RulesConfig& a,
                                            const v1::RulesConfig& b);

struct WeekCounts {
  uint64_t a = 0;
  uint64_t b = 0;
};

struct RuleDiff {
  uint64_t a = 0, b = 0, matched = 0, only_a = 0, only_b = 0;
  uint64_t officers = 0;                    // officers with an alert of the rule under either set
  std::map<std::string, WeekCounts> weeks;  // ISO week of window_end -> alerts
};

// An alert of one set with no counterpart in the other, and the figures that decided it.
struct UnmatchedAlert {
  v1::Alert alert;
  std::vector<std::string> settings;  // SettingDifferences of its rule
  std::string why;  // why the other set did not fire, when its settings show it; else empty
  bool settings_known = true;  // false: the rule sets are unknown (alerts read from topics)
};

struct DiffResult {
  std::map<std::string, RuleDiff> rules;  // every rule id, alerts or not
  std::vector<UnmatchedAlert> only_a, only_b;
  std::vector<AlertMatch> matches;
};

DiffResult CompareAlerts(const std::vector<v1::Alert>& a, const std::vector<v1::Alert>& b,
                         const v1::RulesConfig& config_a, const v1::RulesConfig& config_b);
// The same when the rule sets are unknown (alerts read from topics without --rules): every
// unmatched alert has settings_known false and no reason.
DiffResult CompareAlerts(const std::vector<v1::Alert>& a, const std::vector<v1::Alert>& b);

// One line of a labels file. With an alert id (what `vigil consume --topic vigil.reviews
// --labels` writes) it labels that alert's case; without one (the synthetic force's labels) it
// labels the officer for the rule: any alert of that rule for that officer is the case.
struct Label {
  std::string alert_id;
  std::string officer_id;
  std::string rule_id;
  std::string label;  // true_positive, false_positive or duplicate
};

// Reads NDJSON labels; a bad line is an error naming `name` and the line number. Blank lines are
// skipped; a later label of the same alert (or officer and rule) replaces an earlier one.
Result<std::vector<Label>> ParseLabels(std::istream& in, const std::string& name);

// A rule set's figures against the labels of one rule. A labelled case counts once however many
// alerts it has: tp = true_positive cases alerted, fp = false_positive cases alerted, misses =
// true_positive cases not alerted. Duplicates alerted are counted apart, outside precision and
// recall (a duplicate is workload, not a wrong call on a case).
struct LabelScore {
  uint64_t tp = 0, fp = 0, misses = 0, duplicates = 0;
  std::optional<double> Precision() const;
  std::optional<double> Recall() const;
};

struct RuleLabels {
  uint64_t support = 0;  // true_positive and false_positive labels of the rule
  LabelScore a, b;
};

// An alert-id label applies to the set's alert with that id, or to the set's alert matched to
// the other set's alert with that id (a label from reviewing A's alert judges B's same case).
std::map<std::string, RuleLabels> ScoreLabels(const std::vector<Label>& labels,
                                              const std::vector<v1::Alert>& a,
                                              const std::vector<v1::Alert>& b,
                                              const std::vector<AlertMatch>& matches);

}  // namespace vigil
