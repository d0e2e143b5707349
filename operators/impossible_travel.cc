// impossible_travel (MISCONDUCT, MEDIUM).
//
// Two access events of one officer, consecutive in event time (ties by event_id) among those with
// a position (any action, LOGOUT included; lat = lon = 0 means no position), from points more than
// min_km (50) apart on the great circle (Earth radius 6371 km) at more than max_kmh (300); equal
// times count as infinite speed. At most one alert per (officer, UTC day of the later event);
// window_start/window_end are the earlier and the later event's times. Each pair is decided when
// its later event is delivered, so a late event decides the pair it ends; a pair it splits was
// decided already and stays as it was.
//
// State per officer, one record: its positioned accesses (kept while a late event could still fall
// next to them, and the latest older one while it could still be the predecessor of an alerting
// pair) and the UTC days that already have their alert.
#include <algorithm>
#include <cmath>

#include "alert_builder.h"
#include "count_window.h"
#include "registry.h"

namespace vigil {
namespace {

constexpr char kState = 's';    // 's' officer -> TravelState
constexpr char kCleanup = 'x';  // timer: 'x' officer
constexpr double kEarthRadiusKm = 6371.0;
constexpr double kPi = 3.14159265358979323846;

bool HasPosition(const v1::AccessEvent& a) { return !(a.lat() == 0 && a.lon() == 0); }

state::TravelPoint PointOf(const state::StoredEvent& event) {
  const auto& access = event.envelope().access();
  state::TravelPoint point;
  *point.mutable_ref() = event.ref();
  point.set_lat(access.lat());
  point.set_lon(access.lon());
  point.set_site_id(access.site_id());
  return point;
}

double GreatCircleKm(const state::TravelPoint& a, const state::TravelPoint& b) {
  auto rad = [](double degrees) { return degrees * kPi / 180.0; };
  double dlat = rad(b.lat() - a.lat());
  double dlon = rad(b.lon() - a.lon());
  double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
             std::cos(rad(a.lat())) * std::cos(rad(b.lat())) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(h)));
}

// Orders points as the contract's "consecutive in event time (ties by event_id)".
bool PointBefore(const state::TravelPoint& a, const state::TravelPoint& b) {
  return EventBefore(a.ref(), b.ref());
}

std::string Place(const state::TravelPoint& a) {
  if (!a.site_id().empty()) return a.site_id();
  char text[64];
  std::snprintf(text, sizeof text, "(%.4f, %.4f)", a.lat(), a.lon());
  return text;
}

class ImpossibleTravel final : public Operator {
 public:
  explicit ImpossibleTravel(const v1::RulesConfig& config)
      : config_(config.impossible_travel()),
        // No pair further apart in time than this can be fast enough: nothing on Earth is more
        // than half its circumference (pi x 6371 km) away.
        reach_(static_cast<Millis>(std::ceil(kPi * kEarthRadiusKm / config_.max_kmh() * kHour))) {
    info_ = {"impossible_travel", v1::Alert::MISCONDUCT,
             "Two consecutive uses of one officer's account (among those with a terminal "
             "position) from sites more than minKm apart, faster than maxKmh would allow; equal "
             "times count as infinitely fast. At most one alert per officer and UTC day of the "
             "later use."};
  }

  const RuleInfo& info() const override { return info_; }

  void OnEvent(const state::StoredEvent& event, OperatorContext& ctx) const override {
    if (!event.envelope().has_access()) return;
    const auto& access = event.envelope().access();
    if (!HasPosition(access)) return;
    const std::string& officer = access.officer_id();
    const Millis t = event.ref().time_ms();

    // The predecessor: the greatest stored point before this one (the latest, unless the event
    // is late).
    auto& travel = ctx.state().Mutable<state::TravelState>(StateKey(officer));
    auto* points = travel.mutable_points();
    state::TravelPoint point = PointOf(event);
    const int position = static_cast<int>(
        std::upper_bound(points->begin(), points->end(), point, PointBefore) - points->begin());
    points->Add(std::move(point));
    for (int i = points->size() - 1; i > position; --i) points->SwapElements(i, i - 1);
    ctx.ScheduleCleanup(DayStart(t + ctx.time().access_lateness + reach_) + kDay,
                        std::string(1, kCleanup) + officer);
    if (position > 0) {
      Decide(officer, points->Get(position - 1), points->Get(position), travel, ctx);
    }
  }

  void OnTimer(Millis at, std::string_view key, std::string_view, OperatorContext& ctx) const override {
    if (key.empty() || key[0] != kCleanup) return;
    const std::string officer(key.substr(1));
    const std::string state_key = StateKey(officer);
    if (!ctx.state().Find<state::TravelState>(state_key)) return;
    auto& travel = ctx.state().Mutable<state::TravelState>(state_key);
    // No event can still arrive before `horizon`.
    const Millis horizon = ctx.watermark() - ctx.time().access_lateness;
    auto* points = travel.mutable_points();
    int older = 0;  // points before the horizon: a prefix of the sorted list
    while (older < points->size() && points->Get(older).ref().time_ms() < horizon) ++older;
    // The latest older point may still precede a future event closely enough to alert.
    if (older > 0 && horizon - points->Get(older - 1).ref().time_ms() < reach_) --older;
    points->DeleteSubrange(0, older);
    const Millis latest_kept = points->empty() ? kMinTime : points->rbegin()->ref().time_ms();
    auto* days = travel.mutable_alerted_days();
    int expired = 0;
    while (expired < days->size() && days->Get(expired) + kDay <= horizon) ++expired;
    days->erase(days->begin(), days->begin() + expired);
    const Millis latest_day = days->empty() ? kMinTime : *days->rbegin();
    if (points->empty() && days->empty()) ctx.state().Delete(state_key);
    // Check again once what is left can go.
    Millis next = kMinTime;
    if (latest_kept != kMinTime) next = latest_kept + ctx.time().access_lateness + reach_;
    if (latest_day != kMinTime) next = std::max(next, latest_day + kDay + ctx.time().access_lateness);
    if (next != kMinTime) ctx.ScheduleCleanup(std::max(DayStart(next) + kDay, at + 1), key);
  }

 private:
  static std::string StateKey(const std::string& officer) {
    return std::string(1, kState) + officer;
  }

  void Decide(const std::string& officer, const state::TravelPoint& a, const state::TravelPoint& b,
              state::TravelState& travel, OperatorContext& ctx) const {
    const state::EventRef& before = a.ref();
    const state::EventRef& after = b.ref();
    const double km = GreatCircleKm(a, b);
    if (!(km > config_.min_km())) return;
    const Millis gap = after.time_ms() - before.time_ms();
    const double kmh = gap == 0 ? INFINITY : km / (static_cast<double>(gap) / kHour);
    if (!(kmh > config_.max_kmh())) return;

    const Millis day = DayStart(after.time_ms());
    auto* days = travel.mutable_alerted_days();
    auto slot = std::lower_bound(days->begin(), days->end(), day);
    if (slot != days->end() && *slot == day) return;  // this day already has its alert
    days->Add(day);
    std::sort(days->begin(), days->end());

    AlertSpec spec;
    spec.rule_id = info_.rule_id;
    spec.kind = info_.kind;
    spec.severity = config_.severity();
    spec.officer_id = officer;
    spec.window_start = before.time_ms();
    spec.window_end = after.time_ms();
    char figures[96];
    if (gap == 0) {
      std::snprintf(figures, sizeof figures, "%.0f km away, at the same instant", km);
    } else {
      std::snprintf(figures, sizeof figures, "%.0f km away, %s later (%.0f km/h)", km,
                    FormatSpan(gap).c_str(), kmh);
    }
    spec.summary = "Officer " + officer + "'s account was used at " + Place(a) + " at " +
                   FormatTime(spec.window_start) + " and at " + Place(b) + ", " + figures + ".";
    spec.evidence = {before, after};
    spec.score = km;
    ctx.Emit(BuildAlert(spec));
  }

  v1::ImpossibleTravelConfig config_;
  Millis reach_;
  RuleInfo info_;
};

}  // namespace

std::unique_ptr<Operator> MakeImpossibleTravel(const v1::RulesConfig& config) {
  return std::make_unique<ImpossibleTravel>(config);
}

}  // namespace vigil
