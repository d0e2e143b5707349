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
// State per officer: its positioned accesses (kept while a late event could still fall next to
// them, and the latest older one while it could still be the predecessor of an alerting pair)
// and the UTC days that already have their alert.
#include <cmath>

#include "alert_builder.h"
#include "registry.h"

namespace vigil {
namespace {

constexpr char kPoint = 'p';    // 'p' officer '\0' [time:8] event_id -> StoredEvent
constexpr char kAlerted = 'd';  // 'd' officer '\0' [day:8] -> ""
constexpr char kLatest = 'l';   // 'l' officer -> StoredEvent, the latest point
constexpr char kCleanup = 'x';  // timer: 'x' officer
constexpr double kEarthRadiusKm = 6371.0;
constexpr double kPi = 3.14159265358979323846;

bool HasPosition(const v1::AccessEvent& a) { return !(a.lat() == 0 && a.lon() == 0); }

double GreatCircleKm(const v1::AccessEvent& a, const v1::AccessEvent& b) {
  auto rad = [](double degrees) { return degrees * kPi / 180.0; };
  double dlat = rad(b.lat() - a.lat());
  double dlon = rad(b.lon() - a.lon());
  double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
             std::cos(rad(a.lat())) * std::cos(rad(b.lat())) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(h)));
}

std::string Prefix(char kind, const std::string& officer) {
  std::string key(1, kind);
  key += officer;
  key.push_back('\0');
  return key;
}

std::string PointKey(const std::string& officer, Millis t, const std::string& event_id) {
  std::string key = Prefix(kPoint, officer);
  AppendI64(key, t);
  key += event_id;
  return key;
}

std::string Place(const v1::AccessEvent& a) {
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
    const std::string own_key = PointKey(officer, t, access.event_id());

    // The predecessor: the greatest stored point before this one. Usually the latest point (kept
    // under its own key too); only a late event needs a scan.
    const std::string latest_key = std::string(1, kLatest) + officer;
    const state::StoredEvent* latest = ctx.state().Find<state::StoredEvent>(latest_key);
    state::StoredEvent before;
    bool has_before = false;
    if (latest && own_key < PointKey(officer, latest->ref().time_ms(), latest->ref().event_id())) {
      std::optional<std::string> previous;
      ctx.state().ScanPrefix(Prefix(kPoint, officer), [&](std::string_view key, std::string_view value) {
        if (key >= own_key) return false;
        previous = std::string(value);
        return true;
      });
      if (previous && !before.ParseFromString(*previous)) {
        throw FatalError("impossible_travel: bad state record");
      }
      has_before = previous.has_value();
    } else {
      auto& new_latest = ctx.state().Mutable<state::StoredEvent>(latest_key);
      if (latest) new_latest.Swap(&before);  // the latest point so far is the predecessor
      has_before = latest != nullptr;
      new_latest = event;
    }
    ctx.state().Overwrite<state::StoredEvent>(own_key) = event;
    ctx.ScheduleCleanup(DayStart(t + ctx.time().access_lateness + reach_) + kDay,
                        std::string(1, kCleanup) + officer);
    if (has_before) Decide(before, event, ctx);
  }

  void OnTimer(Millis at, std::string_view key, std::string_view, OperatorContext& ctx) const override {
    if (key.empty() || key[0] != kCleanup) return;
    const std::string officer(key.substr(1));
    // No event can still arrive before `horizon`.
    const Millis horizon = ctx.watermark() - ctx.time().access_lateness;
    std::vector<std::pair<std::string, Millis>> older;  // points before the horizon, in order
    Millis latest_kept = kMinTime;
    ctx.state().ScanPrefix(Prefix(kPoint, officer), [&](std::string_view k, std::string_view) {
      Millis t = ReadI64(k.substr(officer.size() + 2, 8));
      if (t < horizon) {
        older.emplace_back(std::string(k), t);
      } else {
        latest_kept = std::max(latest_kept, t);
      }
      return true;
    });
    // The latest older point may still precede a future event closely enough to alert.
    if (!older.empty() && horizon - older.back().second < reach_) {
      latest_kept = std::max(latest_kept, older.back().second);
      older.pop_back();
    }
    for (const auto& [k, t] : older) ctx.state().Delete(k);
    if (latest_kept == kMinTime) ctx.state().Delete(std::string(1, kLatest) + officer);
    std::vector<std::string> days;
    Millis latest_day = kMinTime;
    ctx.state().ScanPrefix(Prefix(kAlerted, officer), [&](std::string_view k, std::string_view) {
      Millis day = ReadI64(k.substr(officer.size() + 2, 8));
      if (day + kDay <= horizon) {
        days.emplace_back(k);
      } else {
        latest_day = std::max(latest_day, day);
      }
      return true;
    });
    for (const auto& k : days) ctx.state().Delete(k);
    // Check again once what is left can go.
    Millis next = kMinTime;
    if (latest_kept != kMinTime) next = latest_kept + ctx.time().access_lateness + reach_;
    if (latest_day != kMinTime) next = std::max(next, latest_day + kDay + ctx.time().access_lateness);
    if (next != kMinTime) ctx.ScheduleCleanup(std::max(DayStart(next) + kDay, at + 1), key);
  }

 private:
  void Decide(const state::StoredEvent& before, const state::StoredEvent& after,
              OperatorContext& ctx) const {
    const auto& a = before.envelope().access();
    const auto& b = after.envelope().access();
    const double km = GreatCircleKm(a, b);
    if (!(km > config_.min_km())) return;
    const Millis gap = after.ref().time_ms() - before.ref().time_ms();
    const double kmh = gap == 0 ? INFINITY : km / (static_cast<double>(gap) / kHour);
    if (!(kmh > config_.max_kmh())) return;

    std::string day_key = Prefix(kAlerted, b.officer_id());
    AppendI64(day_key, DayStart(after.ref().time_ms()));
    if (ctx.state().Get(day_key)) return;  // this day already has its alert
    ctx.state().Put(day_key, "");

    AlertSpec spec;
    spec.rule_id = info_.rule_id;
    spec.kind = info_.kind;
    spec.severity = config_.severity();
    spec.officer_id = b.officer_id();
    spec.window_start = before.ref().time_ms();
    spec.window_end = after.ref().time_ms();
    char figures[96];
    if (gap == 0) {
      std::snprintf(figures, sizeof figures, "%.0f km away, at the same instant", km);
    } else {
      std::snprintf(figures, sizeof figures, "%.0f km away, %s later (%.0f km/h)", km,
                    FormatSpan(gap).c_str(), kmh);
    }
    spec.summary = "Officer " + b.officer_id() + "'s account was used at " + Place(a) + " at " +
                   FormatTime(spec.window_start) + " and at " + Place(b) + ", " + figures + ".";
    spec.evidence = {before.ref(), after.ref()};
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
