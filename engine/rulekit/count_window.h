// CountWindow: "at least N events within W" with the contract's re-alert rule, for one key, in the
// new core (the successor of vigil::CountWindow, engine/count_window.h, with the same decisions).
//
// Contract: events t1 <= t2 are within W when t2 - t1 <= W; ties in time are ordered by event_id.
// A decision is made at each event, counting the events in [t - W, t] that precede or are it, and
// that lie after the window_end of the key's last alert ("re-alert as in rule 2": after an alert,
// the events up to and including its window_end no longer count towards the next alert for the
// same key).
//
// The state of one key is a plain value (CountWindowState) that a rule keeps inside its per-officer
// RuleState, one per key; CountWindow holds only the rule's settings. Adding costs O(log n) plus the
// insertion; no allocation once the state's vector has grown to the key's usual size.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "time/event_time.h"
#include "rulekit/ref.h"
#include "runtime/rule.h"
#include "state/byte_codec.h"

namespace vigil::rulekit {

// What a CountWindow remembers for one key.
struct CountWindowState {
  std::vector<Ref> events;  // sorted by RefBefore; only events a future decision may count
  bool has_alert = false;
  // The window_end of the key's last alert. Starts at 0 and grows by max(), as the old core's
  // protobuf field did, so that both cores give the same alerts (even for times before 1970).
  Millis last_alert_end = 0;
  // Heap bytes of the long event ids in `events` (0 in practice): CountWindow keeps it, so that
  // MemoryBytes() is O(1).
  size_t id_heap_bytes = 0;

  bool empty() const { return events.empty() && !has_alert; }
  void Encode(ByteWriter& out) const;
  bool Decode(ByteReader& in);
  size_t MemoryBytes() const { return events.capacity() * sizeof(Ref) + id_heap_bytes; }
  // Erases events[0, n), keeping id_heap_bytes.
  void EraseFront(size_t n);
};

class CountWindow {
 public:
  CountWindow(Millis window, int min_count) : window_(window), min_count_(min_count) {}

  // Adds `event` to `state` and decides at its time. True when the counted events reach min_count:
  // `counted` then holds them, oldest first (the alert's window is [front().time, back().time]),
  // and they are forgotten, as no later decision may count them. `counted` is untouched otherwise.
  bool Add(CountWindowState& state, Ref event, std::vector<Ref>* counted) const;

  // Drops events that no decision at or after `horizon` (the earliest time a future event can
  // have) can count. Returns true, leaving `state` empty(), when nothing is left to remember.
  bool Expire(CountWindowState& state, Millis horizon) const;

  // The time after which every event now in `state` can be expired, given allowed lateness.
  Millis ExpiryTime(const CountWindowState& state, Millis lateness) const;

  Millis window() const { return window_; }

 private:
  Millis window_;
  int min_count_;
};

// The earliest time an event still to be delivered can have, while the rule handles an event or
// timer at time `now`: held events come in time order after it, late ones no earlier than the
// watermark minus allowed lateness. (The watermark alone is not enough: when it jumps, as at the
// end of a bounded run, the events it releases are far behind it.)
inline Millis Horizon(Millis now, const RuleContext& ctx, Millis lateness) {
  return std::min(now, ctx.watermark() - lateness);  // kMinTime is a quarter of the range
}

// The one cleanup timer a rule keeps pending for an officer's count windows. The old core set one
// per event (one per hour of window and key once coalesced); one is enough, because expiring is safe
// at any time: when it fires the rule expires what it can and asks again for the earliest instant
// anything left can go. Kept in the rule's state so that it survives a restart with the timer.
class PendingCleanup {
 public:
  // Makes sure a cleanup timer (tag 0) fires no later than `at` (give a time after the one firing
  // when called from OnTimer, so that the rule makes progress).
  void Need(Millis at, RuleContext& ctx);
  // From OnTimer(at): the pending timer has fired if it was due by `at` (timers fire in order).
  void Fired(Millis at) {
    if (at_ <= at) at_ = kNone;
  }
  void Encode(ByteWriter& out) const { out.I64(at_); }
  bool Decode(ByteReader& in) { return in.I64(&at_); }

 private:
  static constexpr Millis kNone = kMaxTime;
  Millis at_ = kNone;
};

// What a rule does with each event it counts: forgets what the horizon makes useless (keeping the
// state compact between cleanups), adds and decides, and keeps a cleanup pending for the key.
bool AddCounted(const CountWindow& window, CountWindowState& state, PendingCleanup& cleanup,
                Ref event, Millis lateness, RuleContext& ctx, std::vector<Ref>* counted);

}  // namespace vigil::rulekit
