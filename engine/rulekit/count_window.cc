// CountWindow (contract, "Rules": inclusive windows, ties by event_id, re-alert as in rule 2).
#include "rulekit/count_window.h"

#include <algorithm>

#include "rulekit/codec.h"

namespace vigil::rulekit {
namespace {

using Iter = std::vector<Ref>::iterator;

// The first event at or after time `t` in [begin, end).
Iter FirstAtOrAfter(Iter begin, Iter end, Millis t) {
  return std::lower_bound(begin, end, t, [](const Ref& r, Millis v) { return r.time < v; });
}

// The first event after time `t` in [begin, end).
Iter FirstAfter(Iter begin, Iter end, Millis t) {
  return std::upper_bound(begin, end, t, [](Millis v, const Ref& r) { return v < r.time; });
}

}  // namespace

void CountWindowState::Encode(ByteWriter& out) const {
  out.U64(events.size());
  out.Bool(has_alert);
  out.I64(last_alert_end);
  rulekit::PutRefs(out, events, 0);  // sorted by time: short deltas
}

void CountWindowState::EraseFront(size_t n) {
  if (n == 0) return;
  if (id_heap_bytes != 0) {
    for (size_t i = 0; i < n; ++i) id_heap_bytes -= HeapBytes(events[i].event_id);
  }
  events.erase(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(n));
}

bool CountWindowState::Decode(ByteReader& in) {
  uint64_t n;
  if (!in.U64(&n) || !in.Bool(&has_alert) || !in.I64(&last_alert_end)) return false;
  if (n > in.rest().size()) return false;  // each ref takes bytes: a damaged count, not a reserve
  events.clear();
  id_heap_bytes = 0;
  events.reserve(n);
  Millis previous = 0;
  for (uint64_t i = 0; i < n; ++i) {
    Ref ref;
    if (!in.ReadRef(&ref, previous)) return false;
    if (!events.empty() && !RefBefore(events.back(), ref)) return false;  // not in order
    previous = ref.time;
    id_heap_bytes += HeapBytes(ref.event_id);
    events.push_back(std::move(ref));
  }
  return true;
}

bool CountWindow::Add(CountWindowState& state, Ref event, std::vector<Ref>* counted) const {
  auto& events = state.events;
  // Events arrive mostly in order, so the place is usually the end.
  state.id_heap_bytes += HeapBytes(event.event_id);
  auto at = events.end();
  if (!events.empty() && RefBefore(event, events.back())) {
    at = std::upper_bound(events.begin(), events.end(), event, RefBefore);
  }
  at = events.insert(at, std::move(event));
  const Millis t = at->time;
  const Iter end = at + 1;  // events after this one (equal time, greater id) are not counted
  Iter first = FirstAtOrAfter(events.begin(), end, t - window_);
  if (state.has_alert) first = std::max(first, FirstAfter(events.begin(), end, state.last_alert_end));
  if (end - first < min_count_) return false;
  counted->assign(first, end);
  state.has_alert = true;
  state.last_alert_end = std::max(state.last_alert_end, t);
  state.EraseFront(FirstAfter(events.begin(), events.end(), state.last_alert_end) - events.begin());
  return true;
}

bool CountWindow::Expire(CountWindowState& state, Millis horizon) const {
  auto& events = state.events;
  // Both kinds of useless event, too old and consumed by the last alert, form a prefix.
  Iter keep = FirstAtOrAfter(events.begin(), events.end(), horizon - window_);
  if (state.has_alert) {
    keep = std::max(keep, FirstAfter(events.begin(), events.end(), state.last_alert_end));
  }
  state.EraseFront(keep - events.begin());
  // A late event at or before the last alert's end must still be kept from counting.
  const bool alert_matters = state.has_alert && state.last_alert_end >= horizon;
  if (!events.empty() || alert_matters) return false;
  state.has_alert = false;  // as the old core deleted the key: a fresh state, capacity kept
  state.last_alert_end = 0;
  return true;
}

Millis CountWindow::ExpiryTime(const CountWindowState& state, Millis lateness) const {
  Millis latest = state.has_alert ? state.last_alert_end : kMinTime;
  if (!state.events.empty()) latest = std::max(latest, state.events.back().time);
  return latest + window_ + lateness;
}

void PendingCleanup::Need(Millis at, RuleContext& ctx) {
  if (at >= at_) return;  // the pending one comes first; when it fires it asks again
  ctx.ScheduleCleanup(at);
  at_ = at;
}

bool AddCounted(const CountWindow& window, CountWindowState& state, PendingCleanup& cleanup,
                Ref event, Millis lateness, RuleContext& ctx, std::vector<Ref>* counted) {
  window.Expire(state, Horizon(event.time, ctx, lateness));
  const bool alert = window.Add(state, std::move(event), counted);
  cleanup.Need(window.ExpiryTime(state, lateness), ctx);
  return alert;
}

}  // namespace vigil::rulekit
