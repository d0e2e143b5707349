// Building an Alert the same way for every rule: deterministic alert_id, evidence capped at 50.
#pragma once

#include <string>
#include <vector>

#include "alert.pb.h"
#include "state.pb.h"
#include "event_time.h"

namespace vigil {

constexpr int kMaxEvidence = 50;

struct AlertSpec {
  std::string rule_id;
  v1::Alert::Kind kind = v1::Alert::MISCONDUCT;
  v1::Alert::Severity severity = v1::Alert::MEDIUM;
  std::string officer_id;
  std::string subject_id;
  Millis window_start = 0;
  Millis window_end = 0;
  std::string summary;
  std::vector<state::EventRef> evidence;  // every causing event; the alert lists the first 50
  double score = 0;
};

// For rules that count events: window from the first to the last counted event, every counted
// event as evidence, the count as score.
void SetCounted(AlertSpec& spec, const std::vector<state::EventRef>& counted);

// alert_id = 128-bit hash of rule_id, officer, subject and the sorted ids of every causing event:
// the same input and rules give the same id in live runs, replays and after a restart.
v1::Alert BuildAlert(const AlertSpec& spec);

// Lower-case hex of a 128-bit hash of `text` (not cryptographic).
std::string StableHash128(const std::string& text);

}  // namespace vigil
