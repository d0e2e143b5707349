// The synthetic force: see synthetic_force.h for what it promises.
//
// Layout of this file: hashing and officer profiles; the roster of one officer on one day (a pure
// function); system sessions; the planted patterns (rule by rule, each reading like its paragraph of
// the contract); benign behaviour; the day-by-day generator. The plan JSON, the labels and alert
// matching are in synthetic_match.cc.
#include "synthetic_force.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "event.h"

namespace vigil {

namespace {

// ---------------------------------------------------------------------------------------------
// Hashing: every random choice is a hash of (seed, what it is about), so any day of any officer
// can be recomputed without replaying what came before.

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t Hash(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0, uint64_t d = 0) {
  return Mix(seed ^ Mix(a ^ Mix(b ^ Mix(c ^ Mix(d)))));
}

double Unit(uint64_t h) { return static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0); }

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

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int Mod(int64_t a, int b) { return static_cast<int>(((a % b) + b) % b); }

// ---------------------------------------------------------------------------------------------
// Places.

struct City {
  const char* code;
  double lat, lon;
  int weight;  // share of officers
};

constexpr City kCities[] = {
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

double Round5(double v) { return std::round(v * 1e5) / 1e5; }

// Sites lie within about 7 km of their city's centre, so two sites of one city are < 50 km apart.
Site CitySite(int city, int n) {
  const uint64_t h = Hash(0x5173, kTagCitySite, city, n);
  Site s;
  char id[16];
  std::snprintf(id, sizeof id, "%s-%02d", kCities[city].code, n + 1);
  s.id = id;
  s.lat = Round5(kCities[city].lat + (Unit(h) - 0.5) * 0.12);
  s.lon = Round5(kCities[city].lon + (Unit(Mix(h)) - 0.5) * 0.2);
  return s;
}

double DistanceKm(double lat1, double lon1, double lat2, double lon2) {
  constexpr double kRad = 3.14159265358979323846 / 180;
  const double dlat = (lat2 - lat1) * kRad, dlon = (lon2 - lon1) * kRad;
  const double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1 * kRad) * std::cos(lat2 * kRad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * 6371.0 * std::asin(std::min(1.0, std::sqrt(a)));
}

// A point `km` due north (south in Scotland) of a site: a training centre or a motorway services.
Site PointAway(const Site& from, double km, const char* id) {
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

}  // namespace

struct SyntheticForce::Impl {
  SyntheticForceOptions opt;
  std::vector<Profile> profiles;
  std::vector<std::string> dates;  // "20260105" for days [-kLeadIn, days + 3)
  std::set<int64_t> planted_officers;
  std::map<int64_t, std::set<int>> quiet;  // officer -> days without background system use
  std::vector<std::pair<Millis, v1::Envelope>> planted_events;  // sorted by time at the end

  static constexpr int kLeadIn = 3;

  explicit Impl(const SyntheticForceOptions& o) : opt(o) {
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

  double SessionProbability() const { return std::min(1.0, std::max(0.0, opt.access_per_shift) / 5); }
  static constexpr int kMaxLookups = 24;  // two sessions in a UTC day stay below 50 lookups

  // Whether officer o has a background session on the shift (which: 0 main, 1 overtime) of day
  // x, and how many lookups: the first draws of the session's Rng.
  bool SessionShape(Rng& rng, int64_t o, int& lookups) const {
    const double p = SessionProbability();
    const bool has = rng.Uniform() < p;
    const double mean = p > 0 ? std::max(0.0, opt.access_per_shift / p - 2) * profiles[o].activity : 0;
    lookups = std::min(kMaxLookups, rng.Poisson(mean));
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

  // ---------------------------------------------------------------------------------------------
  // Generation, day by day.

  struct Pending {
    Millis key;  // delivery order: event time plus a small delay for a few access events
    uint64_t seq;
    std::string bytes;  // the serialized Envelope
  };

  struct Run {
    const Impl& impl;
    const EventSink& sink;
    std::map<int, std::vector<Pending>> buckets;
    uint64_t seq = 0;
    ForceStats stats;

    void Add(const v1::Envelope& e, Millis delay = 0) {
      const Millis t = EventTime(e);
      const int day = impl.DayOf(t);
      if (day >= impl.opt.days) return;  // the night shift of the last day runs past the end
      buckets[day].push_back(Pending{t + delay, seq++, e.SerializeAsString()});
    }
    void Flush(int day) {
      auto it = buckets.find(day);
      if (it == buckets.end()) return;
      std::vector<Pending>& events = it->second;
      std::sort(events.begin(), events.end(), [](const Pending& a, const Pending& b) {
        return a.key != b.key ? a.key < b.key : a.seq < b.seq;
      });
      v1::Envelope e;
      for (const Pending& p : events) {
        e.ParseFromString(p.bytes);
        switch (StreamOf(e)) {
          case Stream::kRoster: ++stats.roster; break;
          case Stream::kAccess: ++stats.access; break;
          case Stream::kComplaint: ++stats.complaints; break;
        }
        sink(e);
      }
      buckets.erase(it);
    }
  };

  void EmitRecord(Run& run, int64_t o, int x, const Record& r, int from_version,
                  int only_day) const {
    if (!r.kind) return;
    const std::string shift_id = ShiftId(o, x, r.kind);
    const std::string staff = StaffId(o), unit = UnitName(o);
    for (int i = from_version; i < r.n; ++i) {
      if (DayOf(r.v[i].changed_at) != only_day) continue;
      run.Add(RosterEvent(shift_id + "/" + std::to_string(i), staff, unit, shift_id, r.v[i]));
    }
  }

  void EmitSession(Run& run, int64_t o, int x, int which, const Version& shift) const {
    Rng rng(Hash(opt.seed, kTagSession, o, x, which));
    int lookups = 0;
    if (!SessionShape(rng, o, lookups)) return;
    const Profile& p = profiles[o];
    const std::string staff = StaffId(o);
    Site site;
    const double where = rng.Uniform();
    if (where < 0.9 || Planted(o)) site = HomeSite(o);  // planted officers: one site, home
    else if (where < 0.98) site = CitySite(p.city, static_cast<int>((p.site + 1 + rng.Below(kSitesPerCity - 1)) % kSitesPerCity));
    else site = CitySite(static_cast<int>(rng.Below(kCityCount)), static_cast<int>(rng.Below(kSitesPerCity)));
    static const char* kRms[] = {"NICHE-RMS", "ATHENA"};
    const char* rms = kRms[(p.city + p.team) % 2];
    const Millis login = shift.start + (5 + rng.Below(40)) * kMinute + rng.Below(60) * kSecond;
    const Millis logout = shift.end - (5 + rng.Below(25)) * kMinute - rng.Below(60) * kSecond;
    const std::string prefix = "A-" + staff + "-" + Date(x) + (which ? "-o" : "-m");
    int n = 0;
    auto id = [&]() { return prefix + std::to_string(n++); };
    auto delay = [&]() { return rng.Uniform() < 0.03 ? (1 + rng.Below(90)) * kSecond : Millis{0}; };
    run.Add(AccessEvent(id(), staff, rms, v1::AccessEvent::LOGIN, "", "", site, login), delay());
    // Times first (diurnal), then what is looked up.
    std::vector<Millis> times;
    const Millis span = logout - login - 2 * kMinute;
    for (int i = 0; i < lookups && span > 0; ++i) {
      Millis t = 0;
      for (int tries = 0; tries < 20; ++tries) {
        t = login + kMinute + static_cast<Millis>(rng.Uniform() * span);
        if (rng.Uniform() < HourWeight(Mod(FloorDiv(t, kHour), 24))) break;
      }
      times.push_back(t);
    }
    std::sort(times.begin(), times.end());
    std::string cases[3];
    const int case_count = 1 + static_cast<int>(rng.Below(3));
    for (int i = 0; i < case_count; ++i) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "CR/%.4s/%06d", Date(x).c_str(), static_cast<int>(rng.Below(1000000)));
      cases[i] = buf;
    }
    std::string last_subject;
    static const Site kMobile{"MOBILE", 0, 0};
    for (Millis t : times) {
      const double kind = rng.Uniform();
      const char* system = rms;
      auto action = v1::AccessEvent::SEARCH;
      std::string subject;
      if (kind < 0.3 && !last_subject.empty()) {
        action = v1::AccessEvent::RECORD_VIEW, subject = last_subject;
      } else {
        char buf[16];
        std::snprintf(buf, sizeof buf, "S%08d", 10000000 + static_cast<int>(rng.Below(5000000)));
        subject = buf;
        system = kind < 0.6 ? "PNC" : kind < 0.75 ? "PND" : rms;
        if (system == rms && kind > 0.9) action = v1::AccessEvent::RECORD_VIEW;
      }
      last_subject = subject;
      const std::string& case_ref = cases[rng.Below(case_count)];
      const Site& at = rng.Uniform() < 0.1 ? kMobile : site;
      run.Add(AccessEvent(id(), staff, system, action, subject, case_ref, at, t), delay());
    }
    run.Add(AccessEvent(id(), staff, rms, v1::AccessEvent::LOGOUT, "", "", site, logout), delay());
  }

  // Background complaints: at most one per officer per 400-day block; a sensitive category only
  // in even blocks, so no officer accumulates 3 complaints, or 2 sensitive ones, within 365 days.
  void EmitComplaint(Run& run, int64_t o, int x) const {
    if (Planted(o)) return;
    const int64_t block = FloorDiv(x, 400);
    const uint64_t h = Hash(opt.seed, kTagComplaint, o, static_cast<uint64_t>(block));
    if (Unit(h) >= 0.12 || block * 400 + static_cast<int64_t>(Mix(h) % 400) != x) return;
    Rng rng(Hash(opt.seed, kTagComplaintDay, o, x));
    static const v1::Complaint::Category kAll[] = {
        v1::Complaint::INCIVILITY,      v1::Complaint::INCIVILITY,       v1::Complaint::USE_OF_FORCE,
        v1::Complaint::OTHER,           v1::Complaint::DISHONESTY,       v1::Complaint::DISCRIMINATION,
        v1::Complaint::ABUSE_OF_POSITION, v1::Complaint::SEXUAL_MISCONDUCT};
    const int choices = Mod(block, 2) == 0 ? 8 : 6;
    char complainant[16];
    std::snprintf(complainant, sizeof complainant, "S%08d", 1 + static_cast<int>(rng.Below(8999999)));
    const std::string staff = StaffId(o);
    run.Add(ComplaintEvent("C-" + staff + "-" + Date(x), "CMP-" + Date(x) + "-" + std::to_string(o),
                           staff, complainant, kAll[rng.Below(choices)],
                           At(x, 8 + static_cast<int>(rng.Below(10)), static_cast<int>(rng.Below(60)),
                              static_cast<int>(rng.Below(60)))));
  }

  ForceStats Generate(const EventSink& sink, const Progress& progress) const {
    Run run{*this, sink, {}, 0, {}};
    size_t next_planted = 0;
    const int total = opt.days + kLeadIn;
    for (int s = -kLeadIn; s < opt.days; ++s) {
      // 1. The weekly roster, three days before its week.
      if (Mod(s + 3, 7) == 0) {
        const int week = (s + 3) / 7;
        const int from = week == 0 ? -kLeadIn : 7 * week, to = std::min(opt.days, 7 * week + 7);
        for (int64_t o = 0; o < opt.officers; ++o) {
          for (int x = from; x < to; ++x) EmitRecord(run, o, x, MainRecord(o, x), 0, s);
        }
      }
      // 2. Later versions and overtime, published up to two days ahead.
      for (int x = std::max(s, 0); x <= std::min(s + 2, opt.days - 1); ++x) {
        for (int64_t o = 0; o < opt.officers; ++o) {
          EmitRecord(run, o, x, MainRecord(o, x), 1, s);
          EmitRecord(run, o, x, OvertimeRecord(o, x), 0, s);
        }
      }
      // 3. System use on the shifts starting today, and complaints received today.
      if (s >= 0) {
        for (int64_t o = 0; o < opt.officers; ++o) {
          if (!Quiet(o, s)) {
            Record main = MainRecord(o, s);
            if (main.kind && main.kind != 'R' && main.final().status == v1::RosterChange::ON_DUTY) {
              EmitSession(run, o, s, 0, main.final());
            }
            Record ot = OvertimeRecord(o, s);
            if (ot.kind && ot.final().status == v1::RosterChange::OVERTIME) {
              EmitSession(run, o, s, 1, ot.final());
            }
          }
          EmitComplaint(run, o, s);
        }
      }
      // 4. Planted events of today.
      while (next_planted < planted_events.size() && DayOf(planted_events[next_planted].first) <= s) {
        run.Add(planted_events[next_planted++].second);
      }
      run.Flush(s);
      if (progress) progress(s + kLeadIn + 1, total, run.stats);
    }
    while (!run.buckets.empty()) run.Flush(run.buckets.begin()->first);
    return run.stats;
  }

  // ---------------------------------------------------------------------------------------------
  // Planting.

  std::vector<PlantedPattern> plan;
  int pattern_count = 0;
  std::set<int64_t> used;
  uint64_t pick_cursor = 0;

  // An officer not used yet satisfying `ok`, spread through the force; -1 if none.
  template <typename Pred>
  int64_t Pick(Pred ok) {
    const int64_t n = opt.officers;
    if (n <= 0) return -1;
    const int64_t from = static_cast<int64_t>(Hash(opt.seed, kTagPick, pick_cursor++) % n);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t o = (from + i) % n;
      if (!used.count(o) && ok(o)) {
        used.insert(o);
        planted_officers.insert(o);
        return o;
      }
    }
    return -1;
  }
  int64_t PickShiftWorker() { return Pick([&](int64_t o) { return !profiles[o].office; }); }

  // The first day >= from on which shift worker o's cycle is at position c.
  int NextCycleDay(int64_t o, int from, int c) const { return from + Mod(c - Cycle(o, from), 10); }
  // A time `hours` into shift worker o's base shift on day x.
  Millis InShift(int64_t o, int x, int hours, int minutes = 0) const {
    return BaseRecord(o, x).v[0].start + hours * kHour + minutes * kMinute;
  }

  struct Script {
    Impl& impl;
    int64_t o;
    std::string staff, prefix;
    int n = 0;
    bool benign;  // what it plants is benign behaviour, not a pattern
    Script(Impl& i, int64_t officer, bool is_benign = false)
        : impl(i), o(officer), staff(StaffId(officer)),
          prefix("P" + std::to_string(i.pattern_count++) + "-"), benign(is_benign) {}
    std::string Id() { return prefix + std::to_string(n++); }
    void Add(v1::Envelope e) { impl.planted_events.emplace_back(EventTime(e), std::move(e)); }
    void Access(v1::AccessEvent::Action action, Millis at, const std::string& subject = "",
                const std::string& case_ref = "", const Site* site = nullptr) {
      const Site home = impl.HomeSite(o);
      Add(AccessEvent(Id(), staff, action == v1::AccessEvent::SEARCH ? "PNC" : "NICHE-RMS", action,
                      subject, case_ref, site ? *site : home, at));
    }
    void Lookup(Millis at, const std::string& subject, bool with_case = true, const Site* site = nullptr) {
      Access(v1::AccessEvent::SEARCH, at, subject, with_case ? "CR/PLANTED/" + prefix + std::to_string(n) : "",
             site);
    }
    // A new version of one of the officer's shift records.
    void Shift(const std::string& shift_id, RosterStatus status, Millis start, Millis end, Millis changed_at) {
      Version v;
      v.status = status, v.start = start, v.end = end, v.changed_at = changed_at;
      Add(RosterEvent(Id(), staff, impl.UnitName(o), shift_id, v));
    }
    void Complaint(v1::Complaint::Category category, const std::string& complainant, Millis at) {
      const std::string id = Id();
      Add(ComplaintEvent(id, "CMP-" + id, staff, complainant, category, at));
    }
    void Quiet(int x) { impl.quiet[o].insert(x); }
    // Shift worker o off sick on day x (cycle position 0-1: its early shift), phoned in at 06:10.
    void OffSick(int x) {
      Quiet(x);
      Shift(impl.ShiftId(o, x, 'E'), v1::RosterChange::SICK, impl.Day(x), impl.Day(x + 1), impl.At(x, 6, 10));
    }
    // Shift worker o's early shift on day x turned into annual leave two days before.
    void OnLeave(int x) {
      Shift(impl.ShiftId(o, x, 'E'), v1::RosterChange::ANNUAL_LEAVE, impl.At(x, 7), impl.At(x, 17),
            impl.At(x - 2, 10));
    }
    // Whole days of sickness: a worked shift becomes SICK; on a rest day (or a day without a
    // record) a SICK record of its own, as long-term sickness is recorded through rest days.
    void SickDays(const std::vector<int>& days) {
      for (int x : days) {
        Quiet(x);
        const char kind = impl.BaseRecord(o, x).kind;
        const char sick_kind = (kind && kind != 'R') ? kind : 'S';
        Shift(impl.ShiftId(o, x, sick_kind), v1::RosterChange::SICK, impl.Day(x), impl.Day(x + 1),
              impl.At(x, 6, 15));
      }
    }
    void Expect(const std::string& rule, Millis window_end, const std::string& note,
                bool near_miss = false, const std::string& subject = "") {
      impl.plan.push_back({rule, staff, subject, DayStart(window_end), near_miss, note, benign});
    }
  };

  std::string PlantedSubject() {
    char buf[16];
    std::snprintf(buf, sizeof buf, "S09%06d", static_cast<int>(++planted_subjects));
    return buf;
  }
  int planted_subjects = 0;

  void PlantAll() {
    PlantOffDutyAccess();
    PlantRepeatedSubjectLookup();
    PlantComplainantLookup();
    PlantComplaints();
    PlantImpossibleTravel();
    PlantAccessVolumeSpike();
    PlantOvertimeOverlap();
    PlantBradfordFactor();
    PlantBenign();
    std::stable_sort(planted_events.begin(), planted_events.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  }

  int D() const { return opt.days; }

  // 1. off_duty_access.
  void PlantOffDutyAccess() {
    const std::string rule = "off_duty_access";
    if (int64_t o = PickShiftWorker(); o >= 0) {  // logs in on a rest day, twice in one rest block
      const int r = NextCycleDay(o, 2, 7);
      if (r + 1 < D()) {
        Script s(*this, o);
        s.Access(v1::AccessEvent::LOGIN, At(r, 10, 55));
        s.Lookup(At(r, 11, 0), PlantedSubject());
        s.Access(v1::AccessEvent::LOGOUT, At(r, 11, 30));
        s.Lookup(At(r + 1, 15, 0), PlantedSubject());  // same rest block: no second alert
        s.Expect(rule, At(r, 10, 55), "LOGIN and searches on a rest day (one alert per rest block)");
      }
    }
    if (int64_t o = PickShiftWorker(); o >= 0) {  // phones in sick, then logs in from home
      const int w = NextCycleDay(o, 1, 0);
      if (w < D()) {
        Script s(*this, o);
        s.OffSick(w);
        s.Access(v1::AccessEvent::LOGIN, At(w, 10, 30));
        s.Expect(rule, At(w, 10, 30), "LOGIN while off sick (HIGH)");
      }
    }
    if (int64_t o = PickShiftWorker(); o >= 0) {  // rest day turned into duty 2 h 01 min after
      const int r = NextCycleDay(o, 2, 7);
      if (r < D()) {
        Script s(*this, o);
        s.Access(v1::AccessEvent::LOGIN, At(r, 10, 0));
        s.Shift(ShiftId(o, r - 1, 'R'), v1::RosterChange::ON_DUTY, At(r, 9), At(r, 17), At(r, 12, 1));
        s.Expect(rule, At(r, 10, 0), "LOGIN on a rest day changed to ON_DUTY 2 h 01 min later, beyond roster_grace");
      }
    }
    if (int64_t o = PickShiftWorker(); o >= 0) {  // near miss: changed to duty within the grace
      const int r = NextCycleDay(o, 2, 7);
      if (r < D()) {
        Script s(*this, o);
        s.Access(v1::AccessEvent::LOGIN, At(r, 10, 0));
        s.Lookup(At(r, 10, 5), PlantedSubject());
        s.Shift(ShiftId(o, r - 1, 'R'), v1::RosterChange::ON_DUTY, At(r, 9), At(r, 17), At(r, 11, 30));
        s.Lookup(At(r, 13, 0), PlantedSubject());
        s.Access(v1::AccessEvent::LOGOUT, At(r, 16, 45));
        s.Expect(rule, At(r, 10, 0), "rest day changed to ON_DUTY 1 h 30 min after the LOGIN, within roster_grace",
                 true);
      }
    }
    if (int64_t o = PickShiftWorker(); o >= 0) {  // near miss: only a LOGOUT after the night shift
      const int n = NextCycleDay(o, 1, 5);
      if (n + 1 < D()) {
        Script s(*this, o);
        s.Quiet(n);
        s.Access(v1::AccessEvent::LOGIN, At(n, 22, 30));
        s.Lookup(At(n, 23, 10), PlantedSubject());
        s.Access(v1::AccessEvent::LOGOUT, At(n + 1, 8, 20));
        s.Expect(rule, At(n + 1, 8, 20), "LOGOUT 20 min after the night shift ended, in the rest block", true);
      }
    }
  }

  // 2. repeated_subject_lookup.
  void PlantRepeatedSubjectLookup() {
    const std::string rule = "repeated_subject_lookup";
    if (int64_t o = PickShiftWorker(); o >= 0) {  // 3 lookups on 3 shifts
      const int w = NextCycleDay(o, 1, 0);
      if (w + 2 < D()) {
        Script s(*this, o);
        const std::string subject = PlantedSubject();
        for (int i = 0; i < 3; ++i) s.Lookup(InShift(o, w + i, 3), subject, false);
        s.Expect(rule, InShift(o, w + 2, 3), "3 lookups without case_ref on 3 shifts", false, subject);
      }
    }
    if (int64_t o = PickShiftWorker(); o >= 0) {  // 6 lookups: two alerts (re-alert)
      const int w = NextCycleDay(o, 1, 0);
      if (w + 5 < D()) {
        Script s(*this, o);
        const std::string subject = PlantedSubject();
        for (int i = 0; i < 6; ++i) s.Lookup(InShift(o, w + i, 3), subject, false);
        s.Expect(rule, InShift(o, w + 2, 3), "lookups 1-3 of 6 without case_ref", false, subject);
        s.Expect(rule, InShift(o, w + 5, 3), "lookups 4-6 of 6 without case_ref (re-alert)", false, subject);
      }
    }
    if (int64_t o = PickShiftWorker(); o >= 0) {  // near miss: 2 without case_ref, 2 with
      const int w = NextCycleDay(o, 1, 0);
      if (w + 3 < D()) {
        Script s(*this, o);
        const std::string subject = PlantedSubject();
        for (int i = 0; i < 4; ++i) s.Lookup(InShift(o, w + i, 3), subject, i >= 2);
        s.Expect(rule, InShift(o, w + 2, 3), "2 lookups without case_ref, then 2 with", true, subject);
      }
    }
    if (int64_t o = Pick([&](int64_t o) { return !profiles[o].office && NextCycleDay(o, 0, 0) + 30 < D(); });
        o >= 0) {  // boundary: third lookup exactly 30 days after the first
      const int w = NextCycleDay(o, 0, 0);
      Script s(*this, o);
      const std::string subject = PlantedSubject();
      for (int d : {0, 10, 30}) s.Lookup(At(w + d, 10), subject, false);
      s.Expect(rule, At(w + 30, 10), "3 lookups spanning exactly 30 days", false, subject);
    }
    if (int64_t o = Pick([&](int64_t o) { return !profiles[o].office && NextCycleDay(o, 0, 0) + 30 < D(); });
        o >= 0) {  // near miss: 30 days and 1 second
      const int w = NextCycleDay(o, 0, 0);
      Script s(*this, o);
      const std::string subject = PlantedSubject();
      s.Lookup(At(w, 10), subject, false);
      s.Lookup(At(w + 10, 10), subject, false);
      s.Lookup(At(w + 30, 10, 0, 1), subject, false);
      s.Expect(rule, At(w + 30, 10), "3 lookups spanning 30 days and 1 second", true, subject);
    }
  }

  // 3. complainant_lookup.
  void PlantComplainantLookup() {
    const std::string rule = "complainant_lookup";
    if (int64_t o = PickShiftWorker(); o >= 0) {  // looks up the complainant after the complaint
      const int c = 3, w = NextCycleDay(o, c + 2, 0);
      if (w + 1 < D()) {
        Script s(*this, o);
        const std::string subject = PlantedSubject();
        s.Complaint(v1::Complaint::INCIVILITY, subject, At(c, 14, 0));
        s.Lookup(InShift(o, w, 2), subject);
        s.Lookup(InShift(o, w + 1, 2), subject);  // same complaint: no second alert
        s.Expect(rule, InShift(o, w, 2), "complainant viewed days after the complaint", false, subject);
      }
    }
    if (int64_t o = PickShiftWorker(); o >= 0) {  // looked up 6 days before the complaint
      const int w = NextCycleDay(o, 2, 0);
      const Millis looked = InShift(o, w, 2), received = looked + 6 * kDay;
      if (DayOf(received) < D()) {
        Script s(*this, o);
        const std::string subject = PlantedSubject();
        s.Lookup(looked, subject);
        s.Complaint(v1::Complaint::USE_OF_FORCE, subject, received);
        s.Expect(rule, received, "complainant searched 6 days before the complaint", false, subject);
      }
    }
    if (int64_t o = PickShiftWorker(); o >= 0) {  // near miss: 7 days and 1 hour before
      const int w = NextCycleDay(o, 2, 0);
      const Millis looked = InShift(o, w, 2), received = looked + 7 * kDay + kHour;
      if (DayOf(received) < D()) {
        Script s(*this, o);
        const std::string subject = PlantedSubject();
        s.Lookup(looked, subject);
        s.Complaint(v1::Complaint::INCIVILITY, subject, received);
        s.Expect(rule, received, "complainant searched 7 days 1 hour before the complaint", true, subject);
      }
    }
  }

  // 4. complaint_accumulation and 5. sensitive_complaint_pattern.
  void PlantComplaints() {
    if (D() < 14) return;
    using C = v1::Complaint;
    struct Plan { const char* rule; Series complaints; bool near_miss; const char* note; };
    const Plan plans[] = {
        {"complaint_accumulation", {{2, C::INCIVILITY}, {7, C::USE_OF_FORCE}, {12, C::OTHER}}, false,
         "3 complaints within 10 days"},
        {"complaint_accumulation", {{3, C::DISHONESTY}, {10, C::INCIVILITY}}, true, "only 2 complaints"},
        {"sensitive_complaint_pattern", {{4, C::SEXUAL_MISCONDUCT}, {9, C::ABUSE_OF_POSITION}}, false,
         "sexual misconduct, then abuse of position"},
        {"sensitive_complaint_pattern", {{5, C::SEXUAL_MISCONDUCT}, {11, C::DISCRIMINATION}}, true,
         "one sensitive complaint and one discrimination complaint"},
    };
    for (const Plan& p : plans) {
      if (!PlantComplaintSeries(p.rule, p.complaints, p.near_miss, p.note)) return;
    }
  }

  using Series = std::vector<std::pair<int, v1::Complaint::Category>>;
  // Complaints against one officer, received on the given days; from one complainant when
  // `one_complainant` (a serial complainant), else from a different one each. False when no
  // officer is left.
  bool PlantComplaintSeries(const std::string& rule, const Series& complaints, bool near_miss,
                            const std::string& note, bool benign = false, bool one_complainant = false) {
    const int64_t o = Pick([](int64_t) { return true; });
    if (o < 0) return false;
    Script s(*this, o, benign);
    const std::string complainant = one_complainant ? PlantedSubject() : "";
    Millis last = 0;
    for (const auto& [day, category] : complaints) {
      last = At(day, 9 + day % 7, 17);
      s.Complaint(category, one_complainant ? complainant : PlantedSubject(), last);
    }
    s.Expect(rule, last, note, near_miss);
    return true;
  }

  // 6. impossible_travel. Each on an early shift with no other system use that day.
  void PlantImpossibleTravel() {
    const std::string rule = "impossible_travel";
    auto day_for = [&](int64_t o) { return NextCycleDay(o, 1, 0); };
    if (int64_t o = PickShiftWorker(); o >= 0 && day_for(o) < D()) {  // another city 25 min later
      const int w = day_for(o);
      Script s(*this, o);
      s.Quiet(w);
      const Site home = HomeSite(o);
      int far = 0;
      for (int c = 0; c < kCityCount; ++c) {
        const double km = DistanceKm(home.lat, home.lon, kCities[c].lat, kCities[c].lon);
        if (km >= 200 && km <= 500) { far = c; break; }
        if (km > DistanceKm(home.lat, home.lon, kCities[far].lat, kCities[far].lon)) far = c;
      }
      const Site away = CitySite(far, 0);
      static const Site kMobile{"MOBILE", 0, 0};
      s.Access(v1::AccessEvent::LOGIN, At(w, 7, 30));
      s.Lookup(At(w, 9, 0), PlantedSubject());
      s.Lookup(At(w, 9, 10), PlantedSubject(), true, &kMobile);  // no position: skipped
      s.Access(v1::AccessEvent::LOGIN, At(w, 9, 25), "", "", &away);
      s.Lookup(At(w, 10, 0), PlantedSubject(), true, &away);
      s.Access(v1::AccessEvent::LOGOUT, At(w, 16, 30), "", "", &away);
      s.Expect(rule, At(w, 9, 25), "logins " + std::to_string(static_cast<int>(DistanceKm(home.lat, home.lon, away.lat, away.lon))) +
                                       " km apart 25 min apart");
    }
    // Two at one instant: 100 km apart (alert), 40 km apart (near miss: not > 50 km).
    for (double km : {100.0, 40.0}) {
      if (int64_t o = PickShiftWorker(); o >= 0 && day_for(o) < D()) {
        const int w = day_for(o);
        Script s(*this, o);
        s.Quiet(w);
        const Site away = PointAway(HomeSite(o), km, km > 50 ? "TRN-100KM" : "TRN-40KM");
        s.Access(v1::AccessEvent::LOGIN, At(w, 7, 30));
        s.Lookup(At(w, 9, 0), PlantedSubject());
        s.Access(v1::AccessEvent::LOGIN, At(w, 9, 0), "", "", &away);
        s.Access(v1::AccessEvent::LOGOUT, At(w, 16, 0), "", "", &away);
        s.Expect(rule, At(w, 9, 0), km > 50 ? "two sites 100 km apart at the same instant"
                                            : "two sites 40 km apart at the same instant", km < 50);
      }
    }
    if (int64_t o = PickShiftWorker(); o >= 0 && day_for(o) < D()) {  // near miss: 280 km/h
      const int w = day_for(o);
      Script s(*this, o);
      s.Quiet(w);
      const Site home = HomeSite(o);
      const Site away = PointAway(home, 140, "TRN-140KM");
      const double km = DistanceKm(home.lat, home.lon, away.lat, away.lon);
      const Millis gap = static_cast<Millis>(std::ceil(km / 280 * 3600)) * kSecond + kSecond;
      s.Access(v1::AccessEvent::LOGIN, At(w, 7, 30));
      s.Lookup(At(w, 9, 0), PlantedSubject());
      s.Access(v1::AccessEvent::LOGIN, At(w, 9, 0) + gap, "", "", &away);
      s.Access(v1::AccessEvent::LOGOUT, At(w, 16, 0), "", "", &away);
      s.Expect(rule, At(w, 9, 0) + gap, "two sites 140 km apart at just under 280 km/h", true);
    }
  }

  // 7. access_volume_spike, on office staff (weekday shifts). The window is the spike's day
  // [00:00, next 00:00), so its window_end falls on the next UTC day.
  void PlantAccessVolumeSpike() {
    PlantSpike(WeekdayFrom(0, 0, 4), 14, -1, false, "spike 14 days after the first access");
    PlantSpike(WeekdayFrom(0, 0, 4), 14, 49, true, "49 lookups in a day, below min_count 50");
    PlantSpike(WeekdayFrom(0, 1, 4), 13, 80, true, "spike only 13 days after the first access");
  }

  // The first day >= x with lo <= weekday <= hi (Monday 0); -1 if none.
  int WeekdayFrom(int x, int lo, int hi) const {
    for (int i = 0; i < 7; ++i) {
      if (Weekday(x + i) >= lo && Weekday(x + i) <= hi) return x + i;
    }
    return -1;
  }

  // An office officer whose first access is a small session on day `first` and who makes `count`
  // lookups on day first + gap; count -1: enough to clear max(50, mean + 4 sd) of the 28 days
  // before.
  void PlantSpike(int first, int gap, int count, bool near_miss, const std::string& note,
                  bool benign = false) {
    if (first < 0 || first + gap >= D()) return;
    const int64_t o = Pick([&](int64_t o) { return profiles[o].office; });
    if (o < 0) return;
    Script s(*this, o, benign);
    for (int x = 0; x <= first; ++x) s.Quiet(x);
    const int d = first + gap;
    s.Quiet(d);
    s.Access(v1::AccessEvent::LOGIN, At(first, 8, 20));
    for (int i = 0; i < 3; ++i) s.Lookup(At(first, 9 + 2 * i), PlantedSubject());
    s.Access(v1::AccessEvent::LOGOUT, At(first, 15, 40));
    if (count < 0) count = SpikeCount(o, first, d);
    s.Access(v1::AccessEvent::LOGIN, At(d, 8, 5));
    const Millis from = At(d, 8, 10), span = 7 * kHour + 40 * kMinute;
    for (int i = 0; i < count; ++i) s.Lookup(from + span * i / count, PlantedSubject());
    s.Access(v1::AccessEvent::LOGOUT, At(d, 15, 55));
    s.Expect("access_volume_spike", Day(d + 1), note + " (" + std::to_string(count) + " lookups)", near_miss);
  }
  // Lookups that clear max(50, mean + 4 sd) of office officer o's days d-28 .. d-1, with 3 on
  // day `first` and the background sessions on the others.
  int SpikeCount(int64_t o, int first, int d) const {
    std::vector<double> counts;
    for (int x = d - 28; x < d; ++x) counts.push_back(x == first ? 3 : BackgroundLookups(o, x));
    double mean = 0, var = 0;
    for (double c : counts) mean += c;
    mean /= counts.size();
    for (double c : counts) var += (c - mean) * (c - mean);
    const double threshold = mean + 4 * std::sqrt(var / (counts.size() - 1));
    return std::max(60, static_cast<int>(std::ceil(threshold)) + 5);
  }

  // 8. overtime_overlap: each on an early shift day w with no system use.
  void PlantOvertimeOverlap() {
    const std::string rule = "overtime_overlap";
    enum Case { kLeave, kSick, kTouching, kCancelledLeave };
    for (Case c : {kLeave, kSick, kTouching, kCancelledLeave}) {
      const int64_t o = PickShiftWorker();
      if (o < 0) return;
      const int w = NextCycleDay(o, 1, 0);
      if (w >= D()) continue;
      Script s(*this, o);
      s.Quiet(w);
      const std::string shift = ShiftId(o, w, 'E');
      Millis ot_start = At(w, 12), ot_end = At(w, 20);
      std::string note;
      switch (c) {
        case kLeave:
          s.OnLeave(w);
          note = "overtime 12-20 on a day of annual leave 07-17";
          break;
        case kSick:
          s.OffSick(w);
          ot_start = At(w, 18), ot_end = At(w, 22);
          note = "overtime 18-22 on a day off sick";
          break;
        case kTouching:
          s.OnLeave(w);
          ot_start = At(w, 17), ot_end = At(w, 21);
          note = "overtime 17-21 right after annual leave 07-17 (no overlap)";
          break;
        case kCancelledLeave:
          s.OnLeave(w);
          s.Shift(shift, v1::RosterChange::CANCELLED, At(w, 7), At(w, 17), At(w - 1, 10));
          note = "overtime 12-20 over annual leave cancelled the day before";
          break;
      }
      s.Shift(ShiftId(o, w, 'O'), v1::RosterChange::OVERTIME, ot_start, ot_end,
              At(w - 2 + (c == kCancelledLeave), 12));
      s.Expect(rule, ot_end, note, c == kTouching || c == kCancelledLeave);
    }
  }

  // 9. bradford_factor: whole-day sickness on working days of a 10-day cycle. The window is the
  // alert's day [00:00, next 00:00), so its window_end falls on the next UTC day.
  void PlantBradfordFactor() {
    const std::string rule = "bradford_factor";
    // Sick days (offsets from a cycle start): spells {0} {2} {4} {10} {12} {14, 15}: on day 15,
    // S = 6, D = 7, B = 252 >= 250. Without day 15: B = 216 on day 14 (near miss).
    for (bool near_miss : {false, true}) {
      const int64_t o = Pick([&](int64_t o) {
        return !profiles[o].office && NextCycleDay(o, 0, 0) + 15 < D();
      });
      if (o < 0) return;
      const int c0 = NextCycleDay(o, 0, 0);
      Script s(*this, o);
      std::vector<int> days = {0, 2, 4, 10, 12, 14};
      if (!near_miss) days.push_back(15);
      for (int& d : days) d += c0;
      s.SickDays(days);
      s.Expect(rule, Day(days.back() + 1),
               near_miss ? "6 one-day spells: B = 216" : "6 spells, 7 sick days: B = 252", near_miss);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Benign behaviour: what officers do for good reasons that the rules catch all the same. Each
  // case is planted like a pattern, on an officer of its own, and its expected alert is marked
  // benign; the notes say what a reviewer would find. Cases spread over the force's days by hash;
  // one that does not fit the force is left out.

  using BenignCase = void (Impl::*)(int variant);
  struct BenignKind {
    double base;  // cases at benign_rate 1
    BenignCase plant;
  };

  void PlantBenign() {
    static constexpr BenignKind kKinds[] = {
        {4, &Impl::BenignRosterCheck},    {2, &Impl::BenignLeaveLogin},   {1, &Impl::BenignSickLogin},
        {3, &Impl::BenignLookups},        {1, &Impl::BenignComplainant},  {2, &Impl::BenignComplaints},
        {1, &Impl::BenignSensitive},      {2, &Impl::BenignGateway},      {2, &Impl::BenignEnquiry},
        {2, &Impl::BenignOvertime},       {2, &Impl::BenignSickness},
    };
    for (const BenignKind& kind : kKinds) {
      for (int i = 0, n = BenignCount(kind.base); i < n; ++i) (this->*kind.plant)(i);
    }
  }

  uint64_t benign_draws = 0;

  // How many cases of a kind with `base` at benign_rate 1; the seed decides the fraction.
  int BenignCount(double base) {
    const double x = std::max(0.0, opt.benign_rate) * base;
    const int whole = static_cast<int>(x);
    return whole + (Unit(Hash(opt.seed, kTagBenignCount, benign_draws++)) < x - whole ? 1 : 0);
  }
  // A day x >= from for a case using days x .. x + span - 1, at shift worker o's cycle position c
  // (c < 0: any day), chosen by the hash h; -1 if none fits.
  int ChooseDay(int64_t o, int c, int span, int from, uint64_t h) const {
    std::vector<int> days;
    for (int x = from; x + span <= D(); ++x) {
      if (c < 0 || Cycle(o, x) == c) days.push_back(x);
    }
    return days.empty() ? -1 : days[h % days.size()];
  }
  // The day for shift worker o, from day 3 so that leave booked two days ahead and the rest block
  // of the day begin in the stream; the same on every call, as Pick's predicate needs.
  int BenignDay(int64_t o, int c, int span) const {
    const uint64_t h = Hash(opt.seed, kTagBenign, static_cast<uint64_t>(o), static_cast<uint64_t>(c));
    return ChooseDay(o, c, span, 3, h);
  }
  // A day for a case that fits any officer on any day; each call draws anew.
  int BenignAnyDay(int span) {
    return ChooseDay(-1, -1, span, 0, Hash(opt.seed, kTagBenign, kTagPick, benign_draws++));
  }
  // A shift worker not used yet on whom the case fits, and its day in `x`; -1 if none.
  int64_t PickBenignShiftWorker(int c, int span, int& x) {
    const int64_t o = Pick([&](int64_t o) { return !profiles[o].office && BenignDay(o, c, span) >= 0; });
    if (o >= 0) x = BenignDay(o, c, span);
    return o;
  }

  // Remote access from home: the portal reports no position.
  inline static const Site kRemote{"REMOTE", 0, 0};

  // 1. off_duty_access: a LOGIN on a rest day to read next week's roster, out again minutes later.
  void BenignRosterCheck(int variant) {
    int r = 0;
    const int64_t o = PickBenignShiftWorker(6 + variant % 4, 1, r);
    if (o < 0) return;
    Script s(*this, o, true);
    const Millis login = At(r, 9 + variant % 10, 7 * variant % 60);
    s.Access(v1::AccessEvent::LOGIN, login, "", "", &kRemote);
    s.Access(v1::AccessEvent::LOGOUT, login + (3 + variant % 5) * kMinute, "", "", &kRemote);
    s.Expect("off_duty_access", login, "LOGIN on a rest day to check next week's roster, out minutes later");
  }
  // 1. off_duty_access: a LOGIN during annual leave to answer a supervisor's message.
  void BenignLeaveLogin(int variant) {
    int w = 0;
    const int64_t o = PickBenignShiftWorker(variant % 2, 1, w);  // an early shift 07-17
    if (o < 0) return;
    Script s(*this, o, true);
    s.Quiet(w);
    s.OnLeave(w);
    const Millis login = At(w, 11 + variant % 4, 20);
    s.Access(v1::AccessEvent::LOGIN, login, "", "", &kRemote);
    s.Access(v1::AccessEvent::LOGOUT, login + 9 * kMinute, "", "", &kRemote);
    s.Expect("off_duty_access", login,
             "LOGIN during annual leave to answer a supervisor's message about a court date");
  }
  // 1. off_duty_access (HIGH): a LOGIN while off sick to send in the self-certification form.
  void BenignSickLogin(int variant) {
    int w = 0;
    const int64_t o = PickBenignShiftWorker(variant % 2, 1, w);
    if (o < 0) return;
    Script s(*this, o, true);
    s.OffSick(w);
    const Millis login = At(w, 10, 40);
    s.Access(v1::AccessEvent::LOGIN, login, "", "", &kRemote);
    s.Access(v1::AccessEvent::LOGOUT, login + 6 * kMinute, "", "", &kRemote);
    s.Expect("off_duty_access", login, "LOGIN while off sick to send in the self-certification form");
  }
  // 2. repeated_subject_lookup: one person looked up on three shifts, for a reason recorded
  // somewhere other than the case reference.
  void BenignLookups(int variant) {
    static const char* kWhy[] = {
        "a relative reported missing: the missing-person record checked on 3 shifts, the reference "
        "kept on the missing-persons system",
        "a colleague's vehicle checked on 3 shifts after a supervisor's welfare concern, no case opened",
        "a witness traced for a statement on 3 shifts, the reference written in the pocket notebook",
    };
    int w = 0;
    const int64_t o = PickBenignShiftWorker(0, 3, w);
    if (o < 0) return;
    Script s(*this, o, true);
    const std::string subject = PlantedSubject();
    for (int i = 0; i < 3; ++i) s.Lookup(InShift(o, w + i, 3 + variant % 3), subject, false);
    s.Expect("repeated_subject_lookup", InShift(o, w + 2, 3 + variant % 3), kWhy[variant % 3], false, subject);
  }
  // 3. complainant_lookup (rare): the complainant is also the victim in a case the officer works.
  void BenignComplainant(int) {
    int w = 0;
    const int64_t o = PickBenignShiftWorker(0, 1, w);
    if (o < 0) return;
    Script s(*this, o, true);
    const std::string subject = PlantedSubject();
    s.Complaint(v1::Complaint::INCIVILITY, subject, At(w - 2, 15, 30));
    s.Lookup(InShift(o, w, 2), subject);  // with the burglary's case reference
    s.Expect("complainant_lookup", InShift(o, w, 2),
             "the complainant is also the victim of a burglary the officer investigates, looked up under it",
             false, subject);
  }
  // 4. complaint_accumulation: complaints that follow the job, none upheld.
  void BenignComplaints(int variant) {
    using C = v1::Complaint;
    const bool serial = variant % 2 == 0;
    const int x = BenignAnyDay(serial ? 9 : 3);
    if (x < 0) return;
    const std::string rule = "complaint_accumulation";
    if (serial) {
      PlantComplaintSeries(rule, {{x, C::INCIVILITY}, {x + 3, C::OTHER}, {x + 8, C::INCIVILITY}}, false,
                           "3 complaints from one serial complainant after an arrest, none upheld", true, true);
    } else {
      PlantComplaintSeries(rule, {{x, C::USE_OF_FORCE}, {x + 1, C::INCIVILITY}, {x + 2, C::USE_OF_FORCE}}, false,
                           "3 complaints after a public-order deployment, none upheld on body-worn video", true);
    }
  }
  // 5. sensitive_complaint_pattern: two allegations by one detained person, disproved.
  void BenignSensitive(int) {
    using C = v1::Complaint;
    const int x = BenignAnyDay(5);
    if (x < 0) return;
    PlantComplaintSeries("sensitive_complaint_pattern",
                         {{x, C::SEXUAL_MISCONDUCT}, {x + 4, C::ABUSE_OF_POSITION}}, false,
                         "two allegations by one detained person after an arrest, disproved by custody video",
                         true, true);
  }
  // 6. impossible_travel: a second LOGIN through the remote-desktop gateway, which reports its
  // data centre's position.
  void BenignGateway(int variant) {
    static const Site kDataCentres[] = {{"DC-NORTH", 53.8, -1.55}, {"DC-SOUTH", 51.45, -2.59}};
    int w = 0;
    const int64_t o = PickBenignShiftWorker(variant % 2, 1, w);  // an early shift 07-17
    if (o < 0) return;
    Script s(*this, o, true);
    s.Quiet(w);
    const Site home = HomeSite(o);
    const Site* dc = &kDataCentres[0];
    if (DistanceKm(home.lat, home.lon, dc->lat, dc->lon) < 100) dc = &kDataCentres[1];
    const int km = static_cast<int>(DistanceKm(home.lat, home.lon, dc->lat, dc->lon));
    s.Access(v1::AccessEvent::LOGIN, At(w, 7, 30));
    s.Lookup(At(w, 9, 0), PlantedSubject());
    s.Access(v1::AccessEvent::LOGIN, At(w, 9, 10), "", "", dc);
    s.Lookup(At(w, 9, 30), PlantedSubject(), true, dc);
    s.Access(v1::AccessEvent::LOGOUT, At(w, 16, 30), "", "", dc);
    s.Expect("impossible_travel", At(w, 9, 10),
             "second LOGIN through the remote-desktop gateway, which reports its data centre " +
                 std::to_string(km) + " km away");
  }
  // 7. access_volume_spike: a day of lookups for a major enquiry.
  void BenignEnquiry(int variant) {
    static const char* kWhy[] = {"house-to-house enquiry after a murder: every name checked in one day",
                                 "disclosure review before a trial: every witness record checked in one day"};
    std::vector<int> weekdays;  // days the spike's first access may fall on, 14 days before it
    for (int x = 0; x + 14 < D(); ++x) {
      if (Weekday(x) < 5) weekdays.push_back(x);
    }
    if (weekdays.empty()) return;
    const int first = weekdays[Hash(opt.seed, kTagBenign, kTagWeekday, benign_draws++) % weekdays.size()];
    PlantSpike(first, 14, -1, false, kWhy[variant % 2], true);
  }
  // 8. overtime_overlap: overtime over a day recorded as leave or sickness, for good reasons.
  void BenignOvertime(int variant) {
    int w = 0;
    const int64_t o = PickBenignShiftWorker(variant % 2, 1, w);  // an early shift 07-17
    if (o < 0) return;
    Script s(*this, o, true);
    const bool court = variant % 2 == 0;
    s.Quiet(w);
    if (court) s.OnLeave(w);
    else s.OffSick(w);
    const Millis start = court ? At(w, 9, 30) : At(w, 14), end = court ? At(w, 13, 30) : At(w, 20);
    s.Shift(ShiftId(o, w, 'O'), v1::RosterChange::OVERTIME, start, end, At(w - 3, 14));
    s.Expect("overtime_overlap", end,
             court ? "called to court on a day of annual leave: court attendance is paid as overtime"
                   : "back from a morning appointment for booked overtime; the day's sickness record was "
                     "never closed");
  }
  // 9. bradford_factor: sickness with a known cause. Spells {0-5} {8} {10} {12} {14}: on day 14,
  // S = 5, D = 10, B = 250.
  void BenignSickness(int variant) {
    const int x = BenignAnyDay(15);
    if (x < 0) return;
    const int64_t o = Pick([](int64_t) { return true; });
    if (o < 0) return;
    Script s(*this, o, true);
    std::vector<int> days = {0, 1, 2, 3, 4, 5, 8, 10, 12, 14};
    for (int& d : days) d += x;
    s.SickDays(days);
    s.Expect("bradford_factor", Day(days.back() + 1),
             variant % 2
                 ? "a recurring condition under an occupational-health plan: a 6-day spell, then 4 single days"
                 : "6 days off after surgery, then 4 single days of physiotherapy recorded as sickness");
  }
};

SyntheticForce::SyntheticForce(SyntheticForceOptions options)
    : options_(options), impl_(std::make_unique<Impl>(options)) {
  if (options_.plant) impl_->PlantAll();
  plan_ = impl_->plan;
}

SyntheticForce::~SyntheticForce() = default;

ForceStats SyntheticForce::Generate(const EventSink& sink, const Progress& progress) const {
  return impl_->Generate(sink, progress);
}

double AccessPerShiftFor(double events_per_day, int64_t officers) {
  constexpr double kRosterPerOfficerDay = 0.85, kWorkedShiftsPerOfficerDay = 0.59;
  if (officers <= 0) return 0;
  return std::max(0.0, (events_per_day / officers - kRosterPerOfficerDay) / kWorkedShiftsPerOfficerDay);
}

std::string SyntheticForce::StaffId(int64_t officer) { return "MP" + std::to_string(100001 + officer); }

}  // namespace vigil
