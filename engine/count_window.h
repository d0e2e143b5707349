// CountWindow: "at least N events within W" with the contract's re-alert rule, for one key.
//
// Events t1 <= t2 are within W when t2 - t1 <= W; ties in time are ordered by event_id. A decision
// is made at each event, counting the events in [t - W, t] that precede or are it, and that lie
// after the window_end of the key's last alert ("re-alert as in rule 2"). Used by every rule that
// counts events in a sliding window (repeated_subject_lookup, complaint accumulation, ...).
#pragma once

#include <optional>
#include <vector>

#include "event_time.h"
#include "operator.h"
#include "state.pb.h"

namespace vigil {

class CountWindow {
 public:
  CountWindow(Millis window, int min_count) : window_(window), min_count_(min_count) {}

  // Adds `event` to `state` and decides at its time. Returns the counted events (oldest first)
  // when they reach min_count; the alert's window is [front().time_ms, back().time_ms].
  std::optional<std::vector<state::EventRef>> Add(state::CountWindowState& state,
                                                  const state::EventRef& event) const;

  // Drops events that no decision at or after `horizon` (the earliest time a future event can
  // have) can count. Returns true when nothing is left to remember.
  bool Expire(state::CountWindowState& state, Millis horizon) const;

  // The time after which every event now in `state` can be expired, given allowed lateness.
  Millis ExpiryTime(const state::CountWindowState& state, Millis lateness) const;

  // The same, for the window kept under `key` in an operator's state: AddAt adds and decides and
  // schedules the key's forgetting; ExpireAt is the handler of that cleanup timer. `lateness` is
  // the allowed lateness of the events counted.
  std::optional<std::vector<state::EventRef>> AddAt(OperatorContext& ctx, std::string_view key,
                                                    const state::EventRef& event,
                                                    Millis lateness) const;
  void ExpireAt(OperatorContext& ctx, std::string_view key, Millis lateness) const;

 private:
  Millis window_;
  int min_count_;
};

// Orders event references by (time, event_id).
bool EventBefore(const state::EventRef& a, const state::EventRef& b);
// Inserts `ref` into `events` (sorted by EventBefore, after equal ones); returns its index.
int InsertSorted(google::protobuf::RepeatedPtrField<state::EventRef>& events,
                 const state::EventRef& ref);

}  // namespace vigil
