// The model of the synthetic force that generation (generation.cc) and planting (planting.cc)
// share: hashing, places, officer profiles, the roster of one officer on one day (a pure function of
// the seed), the shape of background system use, and the envelope builders. Internal to
// tools/synth/; the public API is synthetic_force.h.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "event.h"
#include "synthetic_force.h"

namespace vigil::synth {
// ---------------------------------------------------------------------------------------------
// Hashing: every random choice is a hash of (seed, what it is about), so any day of any officer
// can be recomputed without replaying what came before.

inline uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

inline uint64_t Hash(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0, uint64_t d = 0) {
  return Mix(seed ^ Mix(a ^ Mix(b ^ Mix(c ^ Mix(d)))));
}

inline double Unit(uint64_t h) { return static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0); }

// Tags keep the hashes of different choices apart.
enum Tag : uint64_t {
  kTagType = 1, kTagPhase, kTagCity, kTagSite, kTagTeam, kTagActivity, kTagLeave, kTagSick,
  kTagSickDay, kTagChange, kTagOvertime, kTagSession, kTagComplaint, kTagComplaintDay, kTagPick,
  kTagCitySite, kTagBenign, kTagBenignCount, kTagWeekday,
};

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() { return Mix(state_++); }
  double Uniform() { return Unit(Next()); }
  int64_t Below(int64_t n) { return static_cast<int64_t>(Next() % static_cast<uint64_t>(n)); }
  int Poisson(double mean) {
    if (mean <= 0) return 0;
    if (mean > 30) {
      double u1 = std::max(Uniform(), 1e-12), u2 = Uniform();
      double z = std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
      return std::max(0, static_cast<int>(std::lround(mean + z * std::sqrt(mean))));
    }
    const double limit = std::exp(-mean);
    int k = 0;
    for (double p = Uniform(); p > limit; p *= Uniform()) ++k;
    return k;
  }

 private:
  uint64_t state_;
};

inline int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
inline int Mod(int64_t a, int b) { return static_cast<int>(((a % b) + b) % b); }

// ---------------------------------------------------------------------------------------------
// Places.

struct City {
  const char* code;
  double lat, lon;
  int weight;  // share of officers
};

inline constexpr City kCities[] = {
    {"LON", 51.5074, -0.1278, 30}, {"BHM", 52.4862, -1.8904, 6}, {"MAN", 53.4808, -2.2426, 6},
    {"LDS", 53.8008, -1.5491, 4},  {"GLA", 55.8642, -4.2518, 4}, {"LIV", 53.4084, -2.9916, 3},
    {"NCL", 54.9783, -1.6178, 3},  {"SHF", 53.3811, -1.4701, 3}, {"BRS", 51.4545, -2.5879, 3},
    {"CDF", 51.4816, -3.1791, 3},  {"EDI", 55.9533, -3.1883, 3}, {"NOT", 52.9548, -1.1581, 3},
    {"LEI", 52.6369, -1.1398, 2},  {"PLY", 50.3755, -4.1427, 2}, {"SOU", 50.9097, -1.4044, 2},
    {"NOR", 52.6309, 1.2974, 2},   {"OXF", 51.7520, -1.2577, 2}, {"ABD", 57.1497, -2.0943, 1},
    {"CAM", 52.2053, 0.1218, 2},   {"INV", 57.4778, -4.2247, 1},
};
constexpr int kCityCount = sizeof(kCities) / sizeof(kCities[0]);
constexpr int kSitesPerCity = 8;

struct Site {
  std::string id;
  double lat = 0, lon = 0;  // 0, 0: no position
};

inline double Round5(double v) { return std::round(v * 1e5) / 1e5; }

// Sites lie within about 7 km of their city's centre, so two sites of one city are < 50 km apart.
inline Site CitySite(int city, int n) {
  const uint64_t h = Hash(0x5173, kTagCitySite, city, n);
  Site s;
  char id[16];
  std::snprintf(id, sizeof id, "%s-%02d", kCities[city].code, n + 1);
  s.id = id;
  s.lat = Round5(kCities[city].lat + (Unit(h) - 0.5) * 0.12);
  s.lon = Round5(kCities[city].lon + (Unit(Mix(h)) - 0.5) * 0.2);
  return s;
}

inline double DistanceKm(double lat1, double lon1, double lat2, double lon2) {
  constexpr double kRad = 3.14159265358979323846 / 180;
  const double dlat = (lat2 - lat1) * kRad, dlon = (lon2 - lon1) * kRad;
  const double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1 * kRad) * std::cos(lat2 * kRad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * 6371.0 * std::asin(std::min(1.0, std::sqrt(a)));
}

// A point `km` due north (south in Scotland) of a site: a training centre or a motorway services.
inline Site PointAway(const Site& from, double km, const char* id) {
  Site s;
  s.id = id;
  const double deg = km / (6371.0 * 3.14159265358979323846 / 180);
  s.lat = Round5(from.lat + (from.lat > 55 ? -deg : deg));
  s.lon = from.lon;
  return s;
}

// ---------------------------------------------------------------------------------------------
// Rosters. Shift workers follow a 10-day cycle (2 earlies 07-17, 2 lates 14-24, 2 nights 22-08,
// then a 4-day rest block); office staff (CID, admin) work Monday to Friday 08-16 with a weekend
// rest record. A shift record's first version is published with the weekly roster three days
// before its week; later versions (time changes, late leave, sickness, overtime cancellations)
// appear one or two days before the shift, sickness on the morning itself.

using RosterStatus = v1::RosterChange::Status;

struct Version {
  RosterStatus status = v1::RosterChange::ON_DUTY;
  Millis start = 0, end = 0, changed_at = 0;
};

struct Record {
  char kind = 0;  // 0: none; E L N D (office) R (rest) O (overtime)
  int n = 0;
  Version v[3];
  const Version& final() const { return v[n - 1]; }
};

struct Profile {
  bool office = false;
  int phase = 0;  // shift workers: cycle position of day 0
  int city = 0, site = 0, team = 0;
  double activity = 1;
};

struct ForceModel {
  SyntheticForceOptions opt;
  std::vector<Profile> profiles;
  std::vector<std::string> dates;  // "20260105" for days [-kLeadIn, days + 3)
  std::set<int64_t> planted_officers;
  std::map<int64_t, std::set<int>> quiet;  // officer -> days without background system use
  std::vector<std::pair<Millis, v1::Envelope>> planted_events;  // sorted by time at the end

  static constexpr int kLeadIn = 3;

  static std::string StaffId(int64_t o) { return SyntheticForce::StaffId(o); }

  explicit ForceModel(const SyntheticForceOptions& o) : opt(o) {
    profiles.resize(static_cast<size_t>(std::max<int64_t>(0, opt.officers)));
    int total_weight = 0;
    for (const auto& c : kCities) total_weight += c.weight;
    for (int64_t i = 0; i < opt.officers; ++i) {
      Profile& p = profiles[i];
      p.office = Unit(Hash(opt.seed, kTagType, i)) < 0.15;
      p.phase = static_cast<int>(Hash(opt.seed, kTagPhase, i) % 10);
      int w = static_cast<int>(Hash(opt.seed, kTagCity, i) % total_weight);
      for (p.city = 0; w >= kCities[p.city].weight; ++p.city) w -= kCities[p.city].weight;
      p.site = static_cast<int>(Hash(opt.seed, kTagSite, i) % kSitesPerCity);
      p.team = static_cast<int>(Hash(opt.seed, kTagTeam, i) % 6);
      p.activity = 0.5 + Unit(Hash(opt.seed, kTagActivity, i));
    }
    for (int x = -kLeadIn; x < opt.days + 3; ++x) {
      std::string d = FormatDay(Day(x));
      dates.push_back(d.substr(0, 4) + d.substr(5, 2) + d.substr(8, 2));
    }
  }

  Millis Day(int64_t x) const { return opt.start + x * kDay; }
  Millis At(int64_t x, int h, int m = 0, int s = 0) const {
    return Day(x) + h * kHour + m * kMinute + s * kSecond;
  }
  int DayOf(Millis t) const { return static_cast<int>(FloorDiv(t - opt.start, kDay)); }
  int Weekday(int64_t x) const { return Mod(FloorDiv(Day(x), kDay) + 3, 7); }  // Monday 0
  const std::string& Date(int x) const { return dates[x + kLeadIn]; }
  bool Planted(int64_t o) const { return planted_officers.count(o) > 0; }
  bool Quiet(int64_t o, int x) const {
    auto it = quiet.find(o);
    return it != quiet.end() && it->second.count(x) > 0;
  }
  int Cycle(int64_t o, int64_t x) const { return Mod(x + profiles[o].phase, 10); }

  std::string ShiftId(int64_t o, int x, char kind) const {
    return StaffId(o) + "-" + Date(x) + "-" + kind;
  }
  std::string UnitName(int64_t o) const {
    const Profile& p = profiles[o];
    return std::string(kCities[p.city].code) + (p.office ? " CID " : " Response ") +
           std::to_string(p.team + 1);
  }
  Site HomeSite(int64_t o) const { return CitySite(profiles[o].city, profiles[o].site); }

  static int WeekOf(int x) { return x < 7 ? 0 : x / 7; }
  Millis PubTime(int64_t o, int x) const {
    const Profile& p = profiles[o];
    const uint64_t h = Hash(opt.seed, kTagTeam, p.city, p.team, p.office);
    return At(7 * WeekOf(x) - 3, 9, static_cast<int>(h % 480));
  }

  // The base shift (first version) of officer o starting on day x, ignoring leave and changes.
  Record BaseRecord(int64_t o, int x) const {
    Record r;
    Version v;
    v.changed_at = PubTime(o, x);
    if (profiles[o].office) {
      const int wd = Weekday(x);
      if (wd < 5) {
        r.kind = 'D';
        v.start = At(x, 8), v.end = At(x, 16);
      } else if (wd == 5) {
        r.kind = 'R';
        v.status = v1::RosterChange::REST_DAY;
        v.start = Day(x), v.end = Day(x + 2);
      }
    } else {
      const int c = Cycle(o, x);
      if (c <= 1) r.kind = 'E', v.start = At(x, 7), v.end = At(x, 17);
      else if (c <= 3) r.kind = 'L', v.start = At(x, 14), v.end = At(x, 24);
      else if (c <= 5) r.kind = 'N', v.start = At(x, 22), v.end = At(x, 32);
      else if (c == 6) {
        r.kind = 'R';
        v.status = v1::RosterChange::REST_DAY;
        v.start = Day(x), v.end = Day(x + 4);
      }
    }
    if (r.kind) r.v[r.n++] = v;
    return r;
  }

  // Background sickness: at most one single day per officer per 120-day block.
  bool SickDay(int64_t o, int x) const {
    const int64_t block = FloorDiv(x, 120);
    const uint64_t h = Hash(opt.seed, kTagSick, o, static_cast<uint64_t>(block));
    if (Unit(h) >= 0.3) return false;
    return block * 120 + static_cast<int64_t>(Mix(h) % 120) == x;
  }

  // Every version of the main shift record of officer o starting on day x.
  Record MainRecord(int64_t o, int x) const {
    Record r = BaseRecord(o, x);
    if (!r.kind || r.kind == 'R' || x < 0 || Planted(o)) return r;
    const Profile& p = profiles[o];
    // Annual leave booked in advance for a whole working stretch (cycle or week).
    const int64_t stretch = p.office ? FloorDiv(FloorDiv(Day(x), kDay) + 3, 7) : FloorDiv(x + p.phase, 10);
    if (Unit(Hash(opt.seed, kTagLeave, o, static_cast<uint64_t>(stretch))) < 0.04) {
      r.v[0].status = v1::RosterChange::ANNUAL_LEAVE;
      return r;
    }
    const Version base = r.v[0];
    if (SickDay(o, x)) {
      Version s = base;  // the whole day is recorded as sickness absence
      s.status = v1::RosterChange::SICK;
      s.start = Day(x), s.end = Day(x + 1);
      s.changed_at = At(x, 6, static_cast<int>(Hash(opt.seed, kTagSickDay, o, x) % 30));
      r.v[r.n++] = s;
      return r;
    }
    const uint64_t h = Hash(opt.seed, kTagChange, o, x);
    const double u = Unit(h);
    if (u < 0.03) {  // moved an hour earlier or later, the day before
      Version m = base;
      const Millis shift = (Mix(h) & 1) ? kHour : -kHour;
      m.start += shift, m.end += shift;
      m.changed_at = At(x - 1, 10, static_cast<int>(Mix(h + 1) % 360));
      r.v[r.n++] = m;
    } else if (u < 0.04) {  // late leave, two days before
      Version l = base;
      l.status = v1::RosterChange::ANNUAL_LEAVE;
      l.changed_at = At(x - 2, 11, static_cast<int>(Mix(h + 2) % 240));
      r.v[r.n++] = l;
    }
    return r;
  }

  // Overtime on a rest day (shift workers: the second rest day 10-18; office: Saturday 09-15),
  // offered two days before, sometimes cancelled the day before.
  Record OvertimeRecord(int64_t o, int x) const {
    Record r;
    if (x < 0 || x >= opt.days || Planted(o)) return r;
    const bool office = profiles[o].office;
    if (office ? Weekday(x) != 5 : Cycle(o, x) != 7) return r;
    const uint64_t h = Hash(opt.seed, kTagOvertime, o, x);
    if (Unit(h) >= 0.06) return r;
    r.kind = 'O';
    Version v;
    v.status = v1::RosterChange::OVERTIME;
    v.start = office ? At(x, 9) : At(x, 10);
    v.end = office ? At(x, 15) : At(x, 18);
    v.changed_at = At(x - 2, 12, static_cast<int>(Mix(h) % 180));
    r.v[r.n++] = v;
    if (Unit(Mix(h + 1)) < 0.2) {
      v.status = v1::RosterChange::CANCELLED;
      v.changed_at = At(x - 1, 15, static_cast<int>(Mix(h + 2) % 120));
      r.v[r.n++] = v;
    }
    return r;
  }

  // ---------------------------------------------------------------------------------------------
  // System use. A worked shift has a session (LOGIN ... LOGOUT at one site) with some probability;
  // lookups in it follow the hour of day and always carry a case_ref.

  // The small volume (access_per_shift > 0): a session on about access_per_shift / 5 of worked
  // shifts, at most kMaxLookups lookups, so that two sessions in a UTC day stay below
  // access_volume_spike's 50. The realistic volume (access_per_shift 0): system use on every
  // worked shift, about access_per_officer_day / kWorkedShiftsPerOfficerDay access events in
  // Sessions() sessions; access_volume_spike stays quiet on it because rest days (counting 0)
  // keep every officer's standard deviation large.
  static constexpr int kMaxLookups = 24;
  static constexpr double kWorkedShiftsPerOfficerDay = 0.59;  // measured: main and overtime shifts
  bool Realistic() const { return opt.access_per_shift <= 0; }
  double AccessPerWorkedShift() const {
    return Realistic() ? std::max(0.0, opt.access_per_officer_day) / kWorkedShiftsPerOfficerDay
                       : std::max(0.0, opt.access_per_shift);
  }
  double SessionProbability() const {
    return Realistic() ? (AccessPerWorkedShift() > 0 ? 1.0 : 0.0) : std::min(1.0, AccessPerWorkedShift() / 5);
  }
  // Sessions (LOGIN ... LOGOUT) a worked shift's system use is split into: one in the small
  // volume; in the realistic one about one per 20 access events, from 1 to 6.
  int Sessions() const {
    if (!Realistic()) return 1;
    return std::clamp(static_cast<int>(std::lround(AccessPerWorkedShift() / 20)), 1, 6);
  }

  // Whether officer o has background system use on the shift (which: 0 main, 1 overtime) of day
  // x, and how many lookups: the first draws of the session's Rng.
  bool SessionShape(Rng& rng, int64_t o, int& lookups) const {
    const double p = SessionProbability();
    const bool has = rng.Uniform() < p;
    const double mean =
        p > 0 ? std::max(0.0, AccessPerWorkedShift() / p - 2 * Sessions()) * profiles[o].activity : 0;
    lookups = rng.Poisson(mean);
    if (!Realistic()) lookups = std::min(kMaxLookups, lookups);
    return has;
  }
  // Lookups of the background session of office officer o's main shift on day x (0 if none).
  int BackgroundLookups(int64_t o, int x) const {
    if (x < 0 || Quiet(o, x)) return 0;
    Record r = MainRecord(o, x);
    if (!r.kind || r.final().status != v1::RosterChange::ON_DUTY) return 0;
    Rng rng(Hash(opt.seed, kTagSession, o, x, 0));
    int n = 0;
    return SessionShape(rng, o, n) ? n : 0;
  }

  static double HourWeight(int hour) {
    static constexpr double kWeights[24] = {0.5, 0.3, 0.3, 0.3, 0.3, 0.3, 0.4, 0.7, 0.8, 1.0, 1.0, 1.0,
                                            0.8, 0.9, 1.0, 1.0, 1.0, 0.9, 0.8, 0.8, 0.7, 0.6, 0.5, 0.5};
    return kWeights[hour];
  }

  // ---------------------------------------------------------------------------------------------
  // Envelope builders.

  static v1::Envelope RosterEvent(const std::string& event_id, const std::string& staff,
                                  const std::string& unit, const std::string& shift_id,
                                  const Version& v) {
    v1::Envelope e;
    auto* r = e.mutable_roster();
    r->set_event_id(event_id);
    r->set_officer_id(staff);
    r->set_unit(unit);
    r->set_shift_id(shift_id);
    r->set_status(v.status);
    *r->mutable_start() = ToTimestamp(v.start);
    *r->mutable_end() = ToTimestamp(v.end);
    *r->mutable_changed_at() = ToTimestamp(v.changed_at);
    return e;
  }
  static v1::Envelope AccessEvent(const std::string& event_id, const std::string& staff,
                                  const char* system, v1::AccessEvent::Action action,
                                  const std::string& subject, const std::string& case_ref,
                                  const Site& site, Millis at) {
    v1::Envelope e;
    auto* a = e.mutable_access();
    a->set_event_id(event_id);
    a->set_officer_id(staff);
    a->set_system(system);
    a->set_action(action);
    a->set_subject_id(subject);
    a->set_case_ref(case_ref);
    a->set_site_id(site.id);
    a->set_lat(site.lat);
    a->set_lon(site.lon);
    *a->mutable_occurred_at() = ToTimestamp(at);
    return e;
  }
  static v1::Envelope ComplaintEvent(const std::string& event_id, const std::string& complaint_id,
                                     const std::string& staff, const std::string& complainant,
                                     v1::Complaint::Category category, Millis at) {
    v1::Envelope e;
    auto* c = e.mutable_complaint();
    c->set_event_id(event_id);
    c->set_complaint_id(complaint_id);
    c->set_officer_id(staff);
    c->set_complainant_id(complainant);
    c->set_category(category);
    *c->mutable_received_at() = ToTimestamp(at);
    return e;
  }
};

}  // namespace vigil::synth
