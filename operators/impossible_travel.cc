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
// State per officer: its positioned accesses as points sorted by (time, event_id), packed in one
// byte buffer, each point after the one before it (about 12 bytes, against 96 as a struct): its
// event id front-coded, zigzag deltas of its time, offset and partition (rulekit/front_coding.h),
// then its site as an index into a small table of (site id, coordinates), or, when the event named
// no site, its coordinates. A site's entry holds the coordinates too, as the contract does not fix
// them: events naming one site at two positions have an entry each. Beside the buffer: the last
// point decoded (the predecessor of the next, and the base its bytes follow), the point the first
// one follows (the last one dropped), and the UTC days that already have their alert. A point is
// kept while a late event could still fall next to it, plus the latest older one while it could
// still precede an alerting pair. Events mostly arrive in order, so a point is appended; a late
// one rewrites the buffer. Points no event can reach any more are dropped from the front when the
// buffer is full (so it does not grow in the steady state) and by a cleanup timer (so an officer
// who stops working is forgotten). The state's encoded form is the buffer as it is.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "registry.h"
#include "runtime/core.h"
#include "rulekit/codec.h"
#include "rulekit/front_coding.h"
#include "rulekit/geo.h"
#include "state/byte_codec.h"

namespace vigil {
namespace {

using rulekit::LatLon;

constexpr uint32_t kNoSite = UINT32_MAX;

// A site as points name it: its id and the coordinates of the events that named it there.
struct Site {
  IdString id;
  LatLon at;
};

// A point decoded (or about to be appended).
struct Point {
  Ref ref;
  LatLon at;
  uint32_t site = kNoSite;  // index into TravelState::sites, kNoSite when the event named none
};

bool PointBefore(const Point& a, const Point& b) { return RefBefore(a.ref, b.ref); }

// The most bytes one point takes in the buffer: its ref, its site index and maybe coordinates.
size_t MaxPointBytes(size_t id_size) {
  return rulekit::RefBase::MaxPutBytes(id_size) + rulekit::kMaxVarint + 16;
}

// Writes a point after `base` (the point before it) and makes it the base.
char* PutPoint(char* out, rulekit::RefBase& base, std::string_view id, Millis time, int64_t offset,
               int64_t partition, LatLon at, uint32_t site) {
  out = base.Put(out, id, time, offset, partition);
  out = rulekit::PutU64(out, site == kNoSite ? 0 : uint64_t{site} + 1);
  if (site != kNoSite) return out;
  out = rulekit::PutDouble(out, at.lat);
  return rulekit::PutDouble(out, at.lon);
}

char* PutPoint(char* out, rulekit::RefBase& base, const Point& p) {
  return PutPoint(out, base, p.ref.event_id, p.ref.time, p.ref.offset, p.ref.partition, p.at,
                  p.site);
}

// Reads a state's points in order, from the point the first one follows. Next() is false at the
// end or on malformed bytes (checked when a state is decoded).
class PointReader {
 public:
  PointReader(std::string_view bytes, const rulekit::RefBase& head, const std::vector<Site>& sites);
  bool Next();
  // The point read last, whole.
  void Get(Point* p) const;
  // The point read last as the base of the one after it.
  rulekit::RefBase base() const { return ref_.base(); }
  // Where the next point starts in the bytes.
  size_t pos() const { return bytes_.size() - in_.rest().size(); }
  bool done() const { return in_.done(); }
  static bool SkipPoint(ByteReader& in, Millis* dt);

 private:
  std::string_view bytes_;
  ByteReader in_;
  const std::vector<Site>& sites_;
  rulekit::RefBaseReader ref_;
  uint64_t site_ = 0;
  LatLon at_;
};

PointReader::PointReader(std::string_view bytes, const rulekit::RefBase& head,
                         const std::vector<Site>& sites)
    : bytes_(bytes), in_(bytes), sites_(sites) {
  ref_.event_id = head.event_id.last.view();
  ref_.time = head.time;
  ref_.offset = head.offset;
  ref_.partition = head.partition;
}

bool PointReader::Next() {
  if (in_.done() || !ref_.Next(in_) || !in_.U64(&site_) || site_ > sites_.size()) return false;
  if (site_ != 0) {
    at_ = sites_[site_ - 1].at;
    return true;
  }
  return in_.Double(&at_.lat) && in_.Double(&at_.lon);
}

void PointReader::Get(Point* p) const {
  p->ref.event_id.Assign(ref_.event_id);
  p->ref.time = ref_.time;
  p->ref.offset = ref_.offset;
  p->ref.partition = static_cast<int32_t>(ref_.partition);
  p->ref.stream = static_cast<uint8_t>(Stream::kAccess);  // the rule reads access events only
  p->at = at_;
  p->site = site_ == 0 ? kNoSite : static_cast<uint32_t>(site_ - 1);
}

// Steps over one point without decoding its id, leaving its time delta in `dt`: to find where a
// run of points ends before the ids that chain through it are needed.
bool PointReader::SkipPoint(ByteReader& in, Millis* dt) {
  uint64_t shared, site;
  std::string_view rest;
  int64_t skipped;
  double coordinate;
  if (!in.U64(&shared) || !in.Bytes(&rest) || !in.I64(dt) || !in.I64(&skipped) ||
      !in.I64(&skipped) || !in.U64(&site)) {
    return false;
  }
  return site != 0 || (in.Double(&coordinate) && in.Double(&coordinate));
}

class TravelState final : public RuleState {
 public:
  std::vector<Site> sites;           // the sites the points name (possibly some no longer)
  std::vector<Millis> alerted_days;  // sorted starts of the UTC days that have had their alert
  Millis cleanup_at = kMinTime;      // the latest cleanup timer set

  size_t size() const { return count_; }
  // The latest point's time and position (size() > 0).
  Millis last_time() const { return tail_.time; }
  LatLon last_at() const { return last_at_; }
  // The latest point, whole (size() > 0): only for an alert.
  Point LastPoint() const;
  // Whether `event` comes after every point, in (time, event_id) order (or ties the latest).
  bool IsLatest(const EventView& event) const {
    return count_ == 0 || event.time > tail_.time ||
           (event.time == tail_.time && event.event_id >= tail_.event_id.last.view());
  }
  // Appends the event's point (IsLatest(event)): O(1), no copy of its id but into the buffer.
  void Append(const EventView& event, LatLon at, uint32_t site);
  uint32_t SiteIndex(std::string_view site, LatLon at);
  std::string_view SiteOf(const Point& p) const {
    return p.site == kNoSite ? std::string_view() : sites[p.site].id.view();
  }
  // Whether a point of an id of `id_size` bytes fits without the buffer growing.
  bool Fits(size_t id_size) const {
    return bytes_.capacity() - bytes_.size() >= MaxPointBytes(id_size);
  }
  // Doubles the buffer when it is more than three-quarters full.
  void GrowIfFull() {
    if (bytes_.size() * 4 > bytes_.capacity() * 3) bytes_.Reserve(bytes_.capacity() * 2);
  }
  // After a burst the buffer may be far larger than what is left: give it back.
  void ShrinkIfSparse() {
    if (bytes_.capacity() > 4 * bytes_.size() + 256) bytes_.ShrinkToFit();
  }
  // Inserts `p`, which is before the latest point, in (time, event_id) order; if it has a
  // predecessor, copies it to `*before` and returns true. Rewrites the buffer.
  bool InsertLate(const Point& p, Point* before);
  // Forgets what no event at or after `horizon` can need; `reach` as ImpossibleTravel::reach_.
  void Forget(Millis horizon, Millis reach);

  void Encode(std::string& out) const override;
  bool Decode(std::string_view bytes) override;
  bool empty() const override { return count_ == 0 && alerted_days.empty(); }
  // O(1): called for every changed officer at each checkpoint.
  size_t MemoryBytes() const override {
    return bytes_.capacity() + sites.capacity() * sizeof(Site) +
           alerted_days.capacity() * sizeof(Millis) + site_heap_bytes_ +
           rulekit::HeapBytes(head_.event_id.last) + rulekit::HeapBytes(tail_.event_id.last) +
           0;
  }

 private:
  PointReader Reader() const { return PointReader(bytes_.view(), head_, sites); }
  // Writes `points` (sorted) as the whole buffer, after the zero base.
  void Rewrite(const std::vector<Point>& points);
  void DecodeAll(std::vector<Point>* points) const;
  // How many leading points Forget(horizon, reach) drops.
  size_t CountForgotten(Millis horizon, Millis reach) const;
  void DropSitesUnused();

  rulekit::AppendBuffer bytes_;  // the points, each after the one before
  rulekit::RefBase head_;        // what the first point follows: the last dropped, or zero
  rulekit::RefBase tail_;        // the last point's ref: the base of the next appended
  LatLon last_at_;               // the last point's position and site (its ref is tail_)
  uint32_t last_site_ = kNoSite;
  size_t count_ = 0;
  size_t sites_kept_ = 0;        // sites.size() when it was last compacted
  size_t site_heap_bytes_ = 0;   // heap bytes of the long ids in sites
};

uint32_t TravelState::SiteIndex(std::string_view site, LatLon at) {
  if (site.empty()) return kNoSite;
  // From the back: an officer mostly works at the terminal used last.
  for (size_t i = sites.size(); i-- > 0;) {
    if (sites[i].at == at && sites[i].id.view() == site) return static_cast<uint32_t>(i);
  }
  sites.push_back({IdString(site), at});
  site_heap_bytes_ += rulekit::HeapBytes(sites.back().id);
  return static_cast<uint32_t>(sites.size() - 1);
}

void TravelState::Append(const EventView& event, LatLon at, uint32_t site) {
  char* out = bytes_.Room(MaxPointBytes(event.event_id.size()));
  bytes_.Commit(
      PutPoint(out, tail_, event.event_id, event.time, event.offset, event.partition, at, site));
  last_at_ = at;
  last_site_ = site;
  ++count_;
}

Point TravelState::LastPoint() const {
  Point p;
  p.ref.event_id.Assign(tail_.event_id.last.view());
  p.ref.time = tail_.time;
  p.ref.offset = tail_.offset;
  p.ref.partition = static_cast<int32_t>(tail_.partition);
  p.ref.stream = static_cast<uint8_t>(Stream::kAccess);  // the rule reads access events only
  p.at = last_at_;
  p.site = last_site_;
  return p;
}

// A late point: rare enough to decode and rewrite the whole buffer.
bool TravelState::InsertLate(const Point& p, Point* before) {
  static thread_local std::vector<Point> points;
  DecodeAll(&points);
  auto slot = std::upper_bound(points.begin(), points.end(), p, PointBefore);
  const bool has_before = slot != points.begin();
  if (has_before) *before = *std::prev(slot);
  points.insert(slot, p);
  Rewrite(points);
  return has_before;
}

void TravelState::DecodeAll(std::vector<Point>* points) const {
  points->resize(count_);
  PointReader reader = Reader();
  for (Point& p : *points) {
    reader.Next();  // checked when decoded
    reader.Get(&p);
  }
}

void TravelState::Rewrite(const std::vector<Point>& points) {
  size_t bound = 0;
  for (const Point& p : points) bound += MaxPointBytes(p.ref.event_id.size());
  head_ = tail_ = rulekit::RefBase();
  rulekit::AppendBuffer rewritten;
  rewritten.Reserve(std::max(bound, bytes_.capacity()));
  char* out = rewritten.Room(bound);
  for (const Point& p : points) out = PutPoint(out, tail_, p);
  rewritten.Commit(out);
  bytes_ = std::move(rewritten);
  count_ = points.size();
  if (count_ == 0) return;
  last_at_ = points.back().at;
  last_site_ = points.back().site;
}

// Points before the horizon are a prefix; the latest of them may still be a predecessor.
size_t TravelState::CountForgotten(Millis horizon, Millis reach) const {
  ByteReader in(bytes_.view());
  size_t older = 0;
  Millis time = head_.time, dt;
  Millis latest_older = kMinTime;
  while (older < count_ && PointReader::SkipPoint(in, &dt) && time + dt < horizon) {
    time += dt;
    latest_older = time;
    ++older;
  }
  if (older > 0 && horizon - latest_older < reach) --older;
  return older;
}

void TravelState::Forget(Millis horizon, Millis reach) {
  const size_t forgotten = CountForgotten(horizon, reach);
  if (forgotten == count_ && count_ > 0) {
    bytes_.Assign({});
    head_ = tail_ = rulekit::RefBase();
    count_ = 0;
  } else if (forgotten > 0) {
    PointReader reader = Reader();
    for (size_t i = 0; i < forgotten; ++i) reader.Next();
    head_ = reader.base();
    // In place: the points kept follow the ones before them, unchanged.
    const std::string_view rest = bytes_.view().substr(reader.pos());
    char* start = bytes_.Room(0) - bytes_.size();
    std::memmove(start, rest.data(), rest.size());
    bytes_.Commit(start + rest.size());
    count_ -= forgotten;
  }
  if (sites.size() > 2 * sites_kept_ + 8) DropSitesUnused();
  // No event on a day that ended by the horizon can still come.
  size_t expired = 0;
  while (expired < alerted_days.size() && alerted_days[expired] + kDay <= horizon) ++expired;
  alerted_days.erase(alerted_days.begin(), alerted_days.begin() + expired);
}

// Compacts the site table, keeping the order of the sites still named, and rewrites the points
// with their new indices. Rare: only once the table has doubled since it was last compacted.
void TravelState::DropSitesUnused() {
  static thread_local std::vector<Point> points;
  static thread_local std::vector<uint32_t> new_index;
  DecodeAll(&points);
  new_index.assign(sites.size(), kNoSite);
  for (const Point& p : points) {
    if (p.site != kNoSite) new_index[p.site] = 0;
  }
  uint32_t kept = 0;
  for (size_t i = 0; i < sites.size(); ++i) {
    if (new_index[i] == kNoSite) {
      site_heap_bytes_ -= rulekit::HeapBytes(sites[i].id);
      continue;
    }
    new_index[i] = kept;
    if (kept != i) sites[kept] = std::move(sites[i]);
    ++kept;
  }
  sites.resize(kept);
  sites_kept_ = kept;
  for (Point& p : points) {
    if (p.site != kNoSite) p.site = new_index[p.site];
  }
  Rewrite(points);
}

void TravelState::Encode(std::string& out) const {
  ByteWriter w(out);
  w.U64(sites.size());
  for (const Site& site : sites) {
    w.Bytes(site.id.view());
    w.Double(site.at.lat);
    w.Double(site.at.lon);
  }
  w.U64(count_);
  w.Bytes(head_.event_id.last.view());
  w.I64(head_.time);
  w.I64(head_.offset);
  w.I64(head_.partition);
  w.Bytes(bytes_.view());
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
  site_heap_bytes_ = 0;
  if (!r.U64(&n) || n > bytes.size()) return false;
  sites.assign(n, Site{});
  for (Site& site : sites) {
    std::string_view id;
    if (!r.Bytes(&id) || id.empty() || !r.Double(&site.at.lat) || !r.Double(&site.at.lon)) {
      return false;
    }
    site.id.Assign(id);
    site_heap_bytes_ += rulekit::HeapBytes(site.id);
  }
  sites_kept_ = sites.size();
  std::string_view head_id, points;
  if (!r.U64(&n) || n > bytes.size() || !r.Bytes(&head_id) || !r.I64(&head_.time) ||
      !r.I64(&head_.offset) || !r.I64(&head_.partition) || !r.Bytes(&points)) {
    return false;
  }
  head_.event_id.last.Assign(head_id);
  bytes_.Assign(points);
  count_ = n;
  // Checked whole here, so that the points can be trusted later: in range and in order.
  PointReader reader = Reader();
  Point previous, point;
  for (size_t i = 0; i < count_; ++i) {
    if (!reader.Next()) return false;
    reader.Get(&point);
    if (i > 0 && PointBefore(point, previous)) return false;
    std::swap(previous, point);
  }
  last_at_ = previous.at;
  last_site_ = previous.site;
  if (!reader.done()) return false;
  tail_ = reader.base();
  if (!r.U64(&n) || n > bytes.size()) return false;
  alerted_days.assign(n, 0);
  Millis day_before = 0;
  for (Millis& day : alerted_days) {
    if (!r.I64(&day)) return false;
    day += day_before;
    day_before = day;
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
    MakeRoom(travel, event, ctx.time());
    const LatLon at{event.lat, event.lon};
    const uint32_t site = travel.SiteIndex(event.site_id, at);
    // The pair the event ends, decided before the event's point is added (the points are built,
    // on the heap, only for an alert: the common case copies no id); the alert after.
    std::unique_ptr<Pair> pair;
    if (travel.IsLatest(event)) {
      Speed speed;
      if (travel.size() > 0 && TooFast(travel.last_at(), travel.last_time(), at, event.time, &speed)) {
        pair.reset(new Pair{travel.LastPoint(), Point{RefOf(event), at, site}, speed});
      }
      travel.Append(event, at, site);
    } else {
      Point point{RefOf(event), at, site}, before;
      Speed speed;
      if (travel.InsertLate(point, &before) &&
          TooFast(before.at, before.ref.time, at, event.time, &speed)) {
        pair.reset(new Pair{std::move(before), std::move(point), speed});
      }
    }
    ScheduleCleanup(travel, event.time, ctx);
    if (pair) Alert(*pair, travel, ctx);
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
    // Alerts and cleanups are rare enough to allocate.
    travel.ShrinkIfSparse();
    if (travel.empty() || travel.cleanup_at > at) return;  // freed, or a later timer is set
    // Check again once what is left can go.
    Millis next = kMinTime;
    if (travel.size() > 0) next = travel.last_time() + lateness + reach_;
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
    return travel.last_time() - time.max_out_of_orderness - time.access_lateness;
  }

  // When the points fill their buffer, forgets what no acceptable event can reach before the
  // buffer grows. Still three-quarters full: it grows now, so that the next forgetting is a
  // quarter of the capacity away (amortized O(1) per event, no allocation in the steady state).
  void MakeRoom(TravelState& travel, const EventView& event, const TimeSettings& time) const {
    if (travel.size() == 0 || travel.Fits(event.event_id.size())) return;
    travel.Forget(SafeHorizon(travel, time), reach_);
    travel.GrowIfFull();
  }

  // One timer per officer and day at most, as the old core's schedule (day-aligned).
  void ScheduleCleanup(TravelState& travel, Millis t, RuleContext& ctx) const {
    const Millis at = DayStart(t + ctx.time().access_lateness + reach_) + kDay;
    if (at <= travel.cleanup_at) return;
    travel.cleanup_at = at;
    ctx.ScheduleCleanup(at);
  }

  struct Speed {
    double km = 0, kmh = 0;
  };
  // Two consecutive points, faster than the rule allows.
  struct Pair {
    Point a, b;
    Speed speed;
  };

  // Whether going from `a` at `ta` to `b` at `tb` is over min_km_ and faster than max_kmh_.
  bool TooFast(LatLon a, Millis ta, LatLon b, Millis tb, Speed* speed) const {
    const double km = rulekit::GreatCircleKm(a, b);
    if (!(km > min_km_)) return false;
    const Millis gap = tb - ta;
    const double kmh = gap == 0 ? INFINITY : km / (static_cast<double>(gap) / kHour);
    if (!(kmh > max_kmh_)) return false;
    *speed = {km, kmh};
    return true;
  }

  void Alert(const Pair& pair, TravelState& travel, RuleContext& ctx) const {
    if (!MarkDayAlerted(travel, DayStart(pair.b.ref.time))) return;
    ctx.Emit(MakeAlert(pair.a, pair.b, pair.speed.km, pair.speed.kmh, travel, ctx.officer_id()));
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
