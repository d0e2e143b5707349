// impossible_travel (MISCONDUCT, MEDIUM), contract rule 6: two access events of one officer,
// consecutive in event time among those with a position (LOGOUT included), from points more than
// `min_km` = 50 km apart (great-circle, Earth radius 6371 km) at more than `max_kmh` = 300 km/h
// (equal times count as infinite speed). At most one alert per (officer, UTC day of the later
// event); `window_end` is the later event's time.
//
// As the old core (operators/impossible_travel.cc), alert for alert: "consecutive" orders by
// (time, event_id); each pair is decided when its later event is delivered, so a late event
// decides the pair it ends (with its predecessor), while the pair it splits was decided already
// and stays as it was (its new successor pair is not decided).
//
// State per officer: its positioned accesses as compact points sorted by (time, event_id), their
// site ids once each in a small table, and the UTC days that already have their alert. A point is
// kept while a late event could still fall next to it, plus the latest older one while it could
// still precede an alerting pair. Events mostly arrive in order, so a point is appended; points no
// event can reach any more are dropped when the vector is full (so it does not grow in the steady
// state) and by a cleanup timer (so an officer who stops working is forgotten).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "registry.h"
#include "runtime/core.h"
#include "rulekit/codec.h"
#include "rulekit/geo.h"
#include "state/byte_codec.h"

namespace vigil {
namespace {

using rulekit::LatLon;

constexpr uint32_t kNoSite = UINT32_MAX;

struct Point {
  Ref ref;
  LatLon at;
  uint32_t site = kNoSite;  // index into TravelState::sites, kNoSite when the event named none
};

bool PointBefore(const Point& a, const Point& b) { return RefBefore(a.ref, b.ref); }

class TravelState final : public RuleState {
 public:
  std::vector<Point> points;         // sorted by (time, event_id)
  std::vector<IdString> sites;       // the site ids the points name (possibly some no longer)
  std::vector<Millis> alerted_days;  // sorted starts of the UTC days that have had their alert
  Millis cleanup_at = kMinTime;      // the latest cleanup timer set

  uint32_t SiteIndex(std::string_view site);
  std::string_view SiteOf(const Point& p) const {
    return p.site == kNoSite ? std::string_view() : sites[p.site].view();
  }
  // Forgets what no event at or after `horizon` can need; `reach` as ImpossibleTravel::reach_.
  void Forget(Millis horizon, Millis reach);

  void Encode(std::string& out) const override;
  bool Decode(std::string_view bytes) override;
  bool empty() const override { return points.empty() && alerted_days.empty(); }
  // O(1): called for every changed officer at each checkpoint.
  size_t MemoryBytes() const override {
    return points.capacity() * sizeof(Point) + sites.capacity() * sizeof(IdString) +
           alerted_days.capacity() * sizeof(Millis) + id_heap_bytes_;
  }
  // Accounts for a point added to `points` (MemoryBytes).
  void Added(const Point& p) { id_heap_bytes_ += rulekit::HeapBytes(p.ref.event_id); }

 private:
  void DropSitesUnused();
  size_t id_heap_bytes_ = 0;  // heap bytes of the long ids in points and sites
};

uint32_t TravelState::SiteIndex(std::string_view site) {
  if (site.empty()) return kNoSite;
  // From the back: an officer mostly works at the terminal used last.
  for (size_t i = sites.size(); i-- > 0;) {
    if (sites[i].view() == site) return static_cast<uint32_t>(i);
  }
  sites.emplace_back(site);
  id_heap_bytes_ += rulekit::HeapBytes(sites.back());
  return static_cast<uint32_t>(sites.size() - 1);
}

void TravelState::Forget(Millis horizon, Millis reach) {
  // Points before the horizon are a prefix; the latest of them may still be a predecessor.
  size_t older = std::partition_point(points.begin(), points.end(),
                                      [&](const Point& p) { return p.ref.time < horizon; }) -
                 points.begin();
  if (older > 0 && horizon - points[older - 1].ref.time < reach) --older;
  if (older > 0) {
    if (id_heap_bytes_ != 0) {
      for (size_t i = 0; i < older; ++i) id_heap_bytes_ -= rulekit::HeapBytes(points[i].ref.event_id);
    }
    points.erase(points.begin(), points.begin() + older);
    DropSitesUnused();
  }
  // No event on a day that ended by the horizon can still come.
  size_t expired = 0;
  while (expired < alerted_days.size() && alerted_days[expired] + kDay <= horizon) ++expired;
  alerted_days.erase(alerted_days.begin(), alerted_days.begin() + expired);
}

// Compacts the site table in place, keeping the order of the sites still named. The scratch
// vector keeps its capacity between calls: no allocation once it has grown.
void TravelState::DropSitesUnused() {
  static thread_local std::vector<uint32_t> new_index;
  new_index.assign(sites.size(), kNoSite);
  for (const Point& p : points) {
    if (p.site != kNoSite) new_index[p.site] = 0;
  }
  uint32_t kept = 0;
  for (size_t i = 0; i < sites.size(); ++i) {
    if (new_index[i] == kNoSite) {
      id_heap_bytes_ -= rulekit::HeapBytes(sites[i]);
      continue;
    }
    new_index[i] = kept;
    if (kept != i) sites[kept] = std::move(sites[i]);
    ++kept;
  }
  sites.resize(kept);
  for (Point& p : points) {
    if (p.site != kNoSite) p.site = new_index[p.site];
  }
}

void TravelState::Encode(std::string& out) const {
  ByteWriter w(out);
  w.U64(sites.size());
  for (const IdString& site : sites) w.Bytes(site.view());
  w.U64(points.size());
  // Each point: its ref, then lat, lon (8 bytes each) and site + 1 (0: none).
  rulekit::PutRefs(
      w, points, 0, 16 + rulekit::kMaxVarint, [](const Point& p) -> const Ref& { return p.ref; },
      [](char* out, const Point& p) {
        out = rulekit::PutDouble(out, p.at.lat);
        out = rulekit::PutDouble(out, p.at.lon);
        return rulekit::PutU64(out, p.site == kNoSite ? 0 : uint64_t{p.site} + 1);
      });
  w.U64(alerted_days.size());
  Millis previous = 0;
  for (Millis day : alerted_days) {
    w.I64(day - previous);
    previous = day;
  }
  w.I64(cleanup_at);
}

bool TravelState::Decode(std::string_view bytes) {
  ByteReader r(bytes);
  uint64_t n;
  id_heap_bytes_ = 0;
  if (!r.U64(&n) || n > bytes.size()) return false;
  sites.clear();
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view site;
    if (!r.Bytes(&site)) return false;
    sites.emplace_back(site);
    id_heap_bytes_ += rulekit::HeapBytes(sites.back());
  }
  if (!r.U64(&n) || n > bytes.size()) return false;
  points.assign(n, Point{});
  Millis previous = 0;
  for (Point& p : points) {
    uint64_t site;
    if (!r.ReadRef(&p.ref, previous) || !r.Double(&p.at.lat) || !r.Double(&p.at.lon) ||
        !r.U64(&site) || site > sites.size()) {
      return false;
    }
    previous = p.ref.time;
    p.site = site == 0 ? kNoSite : static_cast<uint32_t>(site - 1);
    Added(p);
  }
  if (!std::is_sorted(points.begin(), points.end(), PointBefore)) return false;
  if (!r.U64(&n) || n > bytes.size()) return false;
  alerted_days.assign(n, 0);
  previous = 0;
  for (Millis& day : alerted_days) {
    if (!r.I64(&day)) return false;
    day += previous;
    previous = day;
  }
  return r.I64(&cleanup_at) && r.done();
}

std::string Place(const TravelState& travel, const Point& p) {
  const std::string_view site = travel.SiteOf(p);
  if (!site.empty()) return std::string(site);
  char text[64];
  std::snprintf(text, sizeof text, "(%.4f, %.4f)", p.at.lat, p.at.lon);
  return text;
}

class ImpossibleTravel final : public Rule {
 public:
  explicit ImpossibleTravel(const v1::RulesConfig& config)
      : config_(config.impossible_travel()),
        min_km_(config_.min_km()),
        max_kmh_(config_.max_kmh()),
        // No pair further apart in time than this can be fast enough: nothing on Earth is more
        // than half its circumference away. The same bound as the old core's.
        reach_(static_cast<Millis>(std::ceil(rulekit::kMaxGreatCircleKm / max_kmh_ * kHour))) {
    info_ = {"impossible_travel", v1::Alert::MISCONDUCT,
             "Two consecutive uses of one officer's account (among those with a terminal "
             "position) from sites more than minKm apart, faster than maxKmh would allow; equal "
             "times count as infinitely fast. At most one alert per officer and UTC day of the "
             "later use."};
  }

  const RuleInfo& info() const override { return info_; }
  uint32_t streams() const override { return StreamBit(Stream::kAccess); }
  std::unique_ptr<RuleState> NewState() const override { return std::make_unique<TravelState>(); }

  void OnEvent(const EventView& event, RuleContext& ctx) const override {
    if (!event.has_position()) return;
    auto& travel = ctx.Mutable<TravelState>();
    MakeRoom(travel, ctx.time());
    const size_t position = Insert(travel, event);
    ScheduleCleanup(travel, event.time, ctx);
    if (position > 0) Decide(travel.points[position - 1], travel.points[position], travel, ctx);
  }

  // Cleanup (never at the end of a bounded run): by the timer's own instant `at`, not the
  // watermark. When the watermark jumps (a lagging partition's batch, a partition going idle, a
  // restart) the timer fires while events between it and the watermark are still held, and one
  // of them may need a point the watermark would already have let go (as complainant_lookup).
  void OnTimer(Millis at, uint32_t, RuleContext& ctx) const override {
    if (!ctx.Find<TravelState>()) return;
    auto& travel = ctx.Mutable<TravelState>();
    const Millis lateness = ctx.time().access_lateness;
    travel.Forget(std::min(at, ctx.watermark()) - lateness, reach_);
    // After a burst the vector may be far larger than what is left: give it back (alerts and
    // cleanups are rare enough to allocate).
    if (travel.points.capacity() > 4 * travel.points.size() + 16) travel.points.shrink_to_fit();
    if (travel.empty() || travel.cleanup_at > at) return;  // freed, or a later timer is set
    // Check again once what is left can go.
    Millis next = kMinTime;
    if (!travel.points.empty()) next = travel.points.back().ref.time + lateness + reach_;
    if (!travel.alerted_days.empty()) {
      next = std::max(next, travel.alerted_days.back() + kDay + lateness);
    }
    travel.cleanup_at = std::max(DayStart(next) + kDay, at + 1);
    ctx.ScheduleCleanup(travel.cleanup_at);
  }

 private:
  // The earliest time an event still to come can have, from this officer's state alone: its
  // latest point was in its partition, whose watermark is at least that minus the out-of-order
  // bound, and an event more than the lateness behind the partition watermark is dead-lettered.
  // Unlike the engine watermark it does not jump to +infinity at the end of a bounded run.
  static Millis SafeHorizon(const TravelState& travel, const TimeSettings& time) {
    return travel.points.back().ref.time - time.max_out_of_orderness - time.access_lateness;
  }

  // When the points fill their vector, forgets what no acceptable event can reach before the
  // vector grows. Still three-quarters full: it grows now, so that the next forgetting is a
  // quarter of the capacity away (amortized O(1) per event, no allocation in the steady state).
  void MakeRoom(TravelState& travel, const TimeSettings& time) const {
    auto& points = travel.points;
    if (points.empty() || points.size() < points.capacity()) return;
    travel.Forget(SafeHorizon(travel, time), reach_);
    if (points.size() * 4 > points.capacity() * 3) points.reserve(points.capacity() * 2);
  }

  // Inserts the event's point in (time, event_id) order; returns its index.
  static size_t Insert(TravelState& travel, const EventView& event) {
    Point point{RefOf(event), {event.lat, event.lon}, travel.SiteIndex(event.site_id)};
    travel.Added(point);
    auto& points = travel.points;
    if (points.empty() || PointBefore(points.back(), point)) {
      points.push_back(std::move(point));
      return points.size() - 1;
    }
    auto slot = std::upper_bound(points.begin(), points.end(), point, PointBefore);
    const size_t position = slot - points.begin();
    points.insert(slot, std::move(point));
    return position;
  }

  // One timer per officer and day at most, as the old core's schedule (day-aligned).
  void ScheduleCleanup(TravelState& travel, Millis t, RuleContext& ctx) const {
    const Millis at = DayStart(t + ctx.time().access_lateness + reach_) + kDay;
    if (at <= travel.cleanup_at) return;
    travel.cleanup_at = at;
    ctx.ScheduleCleanup(at);
  }

  void Decide(const Point& a, const Point& b, TravelState& travel, RuleContext& ctx) const {
    const double km = rulekit::GreatCircleKm(a.at, b.at);
    if (!(km > min_km_)) return;
    const Millis gap = b.ref.time - a.ref.time;
    const double kmh = gap == 0 ? INFINITY : km / (static_cast<double>(gap) / kHour);
    if (!(kmh > max_kmh_)) return;
    if (!MarkDayAlerted(travel, DayStart(b.ref.time))) return;
    ctx.Emit(MakeAlert(a, b, km, kmh, travel, ctx.officer_id()));
  }

  // False if the day already had its alert.
  static bool MarkDayAlerted(TravelState& travel, Millis day) {
    auto& days = travel.alerted_days;
    auto slot = std::lower_bound(days.begin(), days.end(), day);
    if (slot != days.end() && *slot == day) return false;
    days.insert(slot, day);
    return true;
  }

  RuleAlert MakeAlert(const Point& a, const Point& b, double km, double kmh,
                      const TravelState& travel, std::string_view officer) const {
    RuleAlert alert = NewAlert(info_, config_.severity(), officer);
    alert.window_start = a.ref.time;
    alert.window_end = b.ref.time;
    const Millis gap = b.ref.time - a.ref.time;
    char figures[96];
    if (gap == 0) {
      std::snprintf(figures, sizeof figures, "%.0f km away, at the same instant", km);
    } else {
      std::snprintf(figures, sizeof figures, "%.0f km away, %s later (%.0f km/h)", km,
                    FormatSpan(gap).c_str(), kmh);
    }
    alert.summary = "Officer " + alert.officer_id + "'s account was used at " + Place(travel, a) +
                    " at " + FormatTime(alert.window_start) + " and at " + Place(travel, b) + ", " +
                    figures + ".";
    alert.evidence = {a.ref, b.ref};
    alert.score = km;
    return alert;
  }

  v1::ImpossibleTravelConfig config_;
  double min_km_;
  double max_kmh_;
  Millis reach_;
  RuleInfo info_;
};

}  // namespace

const RuleDescriptor kImpossibleTravelRule = {
    "impossible_travel",
    v1::Alert::MISCONDUCT,
    [](const v1::RulesConfig& config) { return config.impossible_travel().enabled(); },
    [](const v1::RulesConfig& config) -> std::unique_ptr<Rule> {
      return std::make_unique<ImpossibleTravel>(config);
    },
};

}  // namespace vigil
