#include "count_window.h"

#include <algorithm>
#include <tuple>

namespace vigil {

bool EventBefore(const state::EventRef& a, const state::EventRef& b) {
  if (a.time_ms() != b.time_ms()) return a.time_ms() < b.time_ms();
  return a.event_id() < b.event_id();
}

int InsertSorted(google::protobuf::RepeatedPtrField<state::EventRef>& events,
                 const state::EventRef& ref) {
  int position = static_cast<int>(
      std::upper_bound(events.begin(), events.end(), ref, EventBefore) - events.begin());
  *events.Add() = ref;
  for (int i = events.size() - 1; i > position; --i) events.SwapElements(i, i - 1);
  return position;
}

std::optional<std::vector<state::EventRef>> CountWindow::Add(state::CountWindowState& state,
                                                             const state::EventRef& event) const {
  auto* events = state.mutable_events();
  const int position = InsertSorted(*events, event);
  const Millis t = event.time_ms();
  std::vector<state::EventRef> counted;
  for (auto it = events->begin(); it != events->begin() + position + 1; ++it) {
    bool in_window = t - it->time_ms() <= window_;
    bool after_last_alert = !state.has_alert() || it->time_ms() > state.last_alert_end_ms();
    if (in_window && after_last_alert) counted.push_back(*it);
  }
  if (static_cast<int>(counted.size()) < min_count_) return std::nullopt;
  state.set_has_alert(true);
  state.set_last_alert_end_ms(std::max(state.last_alert_end_ms(), t));
  return counted;
}

bool CountWindow::Expire(state::CountWindowState& state, Millis horizon) const {
  auto* events = state.mutable_events();
  auto useless = [&](const state::EventRef& e) {
    bool too_old = e.time_ms() < horizon - window_;
    bool consumed = state.has_alert() && e.time_ms() <= state.last_alert_end_ms();
    return too_old || consumed;
  };
  events->erase(std::remove_if(events->begin(), events->end(), useless), events->end());
  bool alert_matters = state.has_alert() && state.last_alert_end_ms() >= horizon;
  return events->empty() && !alert_matters;
}

Millis CountWindow::ExpiryTime(const state::CountWindowState& state, Millis lateness) const {
  Millis latest = state.has_alert() ? state.last_alert_end_ms() : kMinTime;
  for (const auto& e : state.events()) latest = std::max(latest, e.time_ms());
  return latest + window_ + lateness;
}

std::optional<std::vector<state::EventRef>> CountWindow::AddAt(OperatorContext& ctx,
                                                               std::string_view key,
                                                               const state::EventRef& event,
                                                               Millis lateness) const {
  auto& state = ctx.state().Mutable<state::CountWindowState>(key);
  auto counted = Add(state, event);
  ctx.ScheduleCleanup(ExpiryTime(state, lateness), key);
  return counted;
}

void CountWindow::ExpireAt(OperatorContext& ctx, std::string_view key, Millis lateness) const {
  if (!ctx.state().Find<state::CountWindowState>(key)) return;
  if (Expire(ctx.state().Mutable<state::CountWindowState>(key), ctx.watermark() - lateness)) {
    ctx.state().Delete(key);
  }
}

}  // namespace vigil
