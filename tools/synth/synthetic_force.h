// A synthetic police force for `vigil generate`, `vigil demo` and benchmarks: rosters, system use
// and complaints for N officers over D days, with misconduct and welfare patterns planted at known
// places for every rule of the contract, and near misses just outside each rule's boundary.
//
//   SyntheticForceOptions options;            // 45,000 officers, 21 days from 2026-01-05
//   options.officers = 200;
//   SyntheticForce force(options);
//   force.Generate([&](const v1::Envelope& e) { out << ToJsonLine(e) << "\n"; });
//   std::vector<RuleTally> tally = MatchAlerts(force.plan(), alerts);
//
//   SyntheticForce::Days days(force);         // or a day at a time, encoded as on Kafka
//   EncodedDay day;
//   while (days.Next(day)) day.ForEach([&](Stream s, std::string_view value) { ... });
//
// Files (tools/synth/): force_model.h (hashing, places, rosters, the shape of system use),
// generation.cc (background events, the day-by-day generator), wire.h (the protobuf encoder it
// writes with), planting.cc (patterns, near misses, benign cases), matching.cc (plan JSON, labels,
// alerts against the plan).
//
// Volume: two modes. The small one (access_per_shift > 0, the default 1.5) is what the tests and
// `vigil demo` use: about a third of worked shifts have one short session. The realistic one
// (access_per_shift 0) gives access_per_officer_day access events per officer per day (45 by
// default: about 2 million a day for 45,000 officers), all on worked shifts, in several sessions
// a shift; `vigil generate` and the benchmarks default to it. The diurnal pattern, the plants and
// the near misses are the same in both.
//
// Determinism: the events are a pure function of the options (seed included); two runs with the
// same options give the same events in the same order. Everything about an officer's day is
// derived from a hash of (seed, officer, day), so generation streams day by day and keeps about one
// day of events in memory whatever the number of days (the largest is the first weekly roster:
// about 70 MB at 45,000 officers).
//
// Order: events come in nondecreasing event time, except that a few access events are delivered up
// to 90 s late (a realistic disorder well within the contract's default 5 min out-of-orderness).
// Weekly rosters are published three days before the week starts, so the stream begins three days
// before `start` with roster events only.
//
// Background behaviour is built not to trip any rule: background lookups always carry a case_ref
// and never name a complainant, sessions lie inside worked shifts, an officer uses one site per
// shift and sites change only between shifts, background sickness is single days at most once per
// 120 days, overtime falls on rest days, and an officer gets at most one background complaint per
// 400 days (a sensitive one only in even 400-day blocks).
//
// Benign behaviour is what a real force does that the rules catch although nobody did wrong: a
// rest-day log-in to check the roster, a relative looked up for a reason the case reference does
// not show, three complaints from one serial complainant, a remote-desktop gateway reporting its
// data centre's position, a major-incident enquiry, court attendance paid as overtime on a leave
// day, sickness with a known cause. It is planted like the patterns (PlantedPattern::benign), so
// every alert on the generated events should match a planted pattern or a benign case. Its amount
// is fixed per rule, not per officer (about 22 cases at benign_rate 1 against about 16 planted
// alerts), so the share of benign alerts, the precision a reviewer sees, is the same at every
// force size; benign_rate scales it and 0 turns it off. Planted patterns do not depend on it.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "alert.pb.h"
#include "event.h"
#include "time/event_time.h"
#include "events.pb.h"

namespace vigil {

struct SyntheticForceOptions {
  int64_t officers = 45000;        // staff ids MP100001, MP100002, ...
  int days = 21;                   // shift days [start, start + days); 21 lets every rule fire
  Millis start = 1767571200000;    // 2026-01-05T00:00:00Z (a Monday)
  uint64_t seed = 1;
  // The small volume, when > 0 (the default): mean access events (LOGIN, LOGOUT, SEARCH,
  // RECORD_VIEW) per worked shift. About a third of shifts have one system session at 1.5;
  // sessions get longer above 5, up to 24 look-ups. 0: the realistic volume below.
  double access_per_shift = 1.5;
  // The realistic volume, when access_per_shift is 0: mean access events per officer per day
  // (officers off duty included), all of them on worked shifts: an officer on duty uses several
  // systems many times a shift, in several sessions (about 76 access events a worked shift at
  // 45). 45 gives about 2 million access events a day for 45,000 officers.
  double access_per_officer_day = kRealisticAccessPerOfficerDay;
  static constexpr double kRealisticAccessPerOfficerDay = 45;
  bool plant = true;               // plant the rule patterns (and their near misses)
  // Benign cases: benign_rate x about 22 (fractions decided by the seed); 0: none. Needs `plant`.
  double benign_rate = 1.0;
};

// Options for the realistic volume: `per_officer_day` access events per officer per day.
SyntheticForceOptions RealisticVolume(SyntheticForceOptions options,
                                      double per_officer_day = SyntheticForceOptions::kRealisticAccessPerOfficerDay);

// The access_per_shift that gives about `events_per_day` events a day (roster, access and
// complaints together) for a force of `officers`; 0 if rosters alone exceed it. Approximate: about
// 0.59 worked shifts and 0.85 roster versions per officer per day.
double AccessPerShiftFor(double events_per_day, int64_t officers);

// One planted pattern: the alert the contract implies (near_miss false) or a place just outside a
// rule's boundary where no alert may appear (near_miss true). A benign case (benign true) is an
// alert too, on behaviour with an innocent explanation: a false positive to a reviewer. window_end_day is the start of the UTC
// day of the alert's window_end; for the day-window rules (access_volume_spike, bradford_factor)
// the window is [day, next day), so that is the day after the day the alert is about.
struct PlantedPattern {
  std::string rule_id, officer_id, subject_id;
  Millis window_end_day = 0;
  bool near_miss = false;
  std::string note;  // what was planted, for people
  bool benign = false;
};

struct ForceStats {
  uint64_t roster = 0, access = 0, complaints = 0;
  uint64_t total() const { return roster + access + complaints; }
};

// One day of the force's events as Kafka records, in delivery order: for each, its stream and the
// protobuf value of the stream's message (RosterChange, AccessEvent or Complaint), byte for byte
// what EncodeEvent gives for the same event. Packed in one buffer (5 bytes of overhead a record).
class EncodedDay {
 public:
  int day = 0;  // days from options.start: -3 .. days - 1 (the first three only rosters)
  size_t size() const { return count_; }
  size_t bytes() const { return data_.size(); }
  size_t capacity() const { return data_.capacity(); }  // the memory it holds
  void Clear() { data_.clear(), count_ = 0; }
  void Reserve(size_t bytes) { data_.reserve(bytes); }
  void Append(Stream stream, std::string_view value) {
    const auto length = static_cast<uint32_t>(value.size());
    data_.push_back(static_cast<char>(stream));
    data_.append(reinterpret_cast<const char*>(&length), sizeof length);
    data_.append(value);
    ++count_;
  }
  // Calls fn(stream, value) for every record, in order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    size_t at = 0;
    while (at < data_.size()) {
      const auto stream = static_cast<Stream>(data_[at]);
      uint32_t length;
      std::memcpy(&length, data_.data() + at + 1, sizeof length);
      fn(stream, std::string_view(data_.data() + at + 5, length));
      at += 5 + length;
    }
  }

 private:
  std::string data_;
  size_t count_ = 0;
};

class SyntheticForce {
 public:
  using EventSink = std::function<void(const v1::Envelope&)>;
  // Called after each generated day: (days done, days in total including the lead-in, stats so far).
  using Progress = std::function<void(int, int, const ForceStats&)>;

  // Plans the patterns (cheap); nothing is generated until Generate.
  explicit SyntheticForce(SyntheticForceOptions options);
  ~SyntheticForce();
  SyntheticForce(const SyntheticForce&) = delete;
  SyntheticForce& operator=(const SyntheticForce&) = delete;

  const SyntheticForceOptions& options() const { return options_; }
  // The planted patterns, in rule order. Patterns that do not fit the force (too few officers or
  // days) are left out.
  const std::vector<PlantedPattern>& plan() const { return plan_; }
  // Emits every event once, in (nearly) event-time order. May be called more than once.
  ForceStats Generate(const EventSink& sink, const Progress& progress = {}) const;

  // The same events in the same order, encoded, one day at a time: Next fills `out` (cleared
  // first, its capacity kept, so that reusing two EncodedDays recycles their memory) with the next
  // day and returns false after the last. Memory: the day being built and part of the next (a
  // night shift runs past midnight). The force must outlive it; several may run at once.
  class Days {
   public:
    explicit Days(const SyntheticForce& force);
    ~Days();
    Days(const Days&) = delete;
    Days& operator=(const Days&) = delete;
    bool Next(EncodedDay& out);
    int done() const;   // days returned so far
    int total() const;  // days in total, the 3 of the lead-in included
    const ForceStats& stats() const;  // events returned so far
    size_t scratch_bytes() const;     // memory held by the generator besides the EncodedDays

    struct State;

   private:
    std::unique_ptr<State> state_;
  };

  static std::string StaffId(int64_t officer);

  struct Impl;

 private:
  SyntheticForceOptions options_;
  std::vector<PlantedPattern> plan_;
  std::unique_ptr<Impl> impl_;
};

// The plan as JSON: {"options": {...}, "patterns": [{"ruleId", "officerId", "subjectId",
// "windowEndDay": "2026-01-19", "nearMiss", "benign", "note"}, ...]}.
std::string PlanToJson(const SyntheticForceOptions& options, const std::vector<PlantedPattern>& plan);

// What a reviewer would conclude about each (officer, rule) case of the plan that should alert:
// planted patterns are true positives, benign cases false positives. Near misses are left out
// (they should not alert, and whether one would be misconduct is the point of the boundary).
struct CaseLabel {
  std::string officer_id, rule_id;
  bool true_positive = true;
  std::string why;  // "planted: <note>" or "benign: <note>"
};
// One label per (officer, rule), in plan order.
std::vector<CaseLabel> LabelsOf(const std::vector<PlantedPattern>& plan);
// NDJSON, one {"officerId","ruleId","label":"true_positive"|"false_positive","why"} a line: what
// `vigil diff --labels` reads.
std::string LabelsToNdjson(const std::vector<CaseLabel>& labels);

// How the alerts of one rule compare with the plan, matching on (rule_id, officer_id, subject_id,
// UTC day of window_end). Each planted pattern or benign case absorbs at most one alert. Apart
// from that matching, every alert is also counted by the label of its (officer, rule) case, as a
// reviewer's outcome would be: on_planted + on_benign + unlabelled = all alerts of the rule.
struct RuleTally {
  std::string rule_id;
  int planted = 0;     // planted patterns (near misses and benign cases excluded)
  int found = 0;       // planted patterns with a matching alert
  int benign = 0;      // benign cases
  int benign_found = 0;  // benign cases with a matching alert
  int missed = 0;      // planted patterns and benign cases without one
  int unexpected = 0;  // alerts matching no pattern or case (near-miss hits included)
  int near_miss_hits = 0;  // of which on a near miss
  int on_planted = 0;  // alerts whose (officer, rule) is labelled true_positive
  int on_benign = 0;   // alerts whose (officer, rule) is labelled false_positive
  std::vector<std::string> missed_keys, unexpected_keys;  // "officer subject day [note]"
};
// One tally per rule named in the plan or the alerts, sorted by rule_id.
std::vector<RuleTally> MatchAlerts(const std::vector<PlantedPattern>& plan,
                                   const std::vector<v1::Alert>& alerts);

}  // namespace vigil
