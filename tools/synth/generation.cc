// Generation: the background events of the force (roster versions, system use on worked shifts,
// rare complaints) merged with the planted ones (planting.cc), day by day, in delivery order.
//
// Speed: a year of a 45,000-officer force at the realistic volume is about 730 million events,
// generated while a benchmark's core processes them, so generation writes each background event's
// protobuf wire bytes straight into its day's buffer (wire.h) with ids built in reused character
// buffers; no message objects, no per-event allocation. The order within a day is a sort of small
// (time, sequence, offset) entries; the day's bytes are then copied out in that order.
#include <algorithm>
#include <cstdio>
#include <map>
#include <vector>

#include "force_model.h"
#include "planting.h"
#include "wire.h"

namespace vigil {

namespace synth {
namespace {

// Appends the decimal digits of v.
char* Digits(char* at, uint64_t v) {
  char buf[20];
  int n = 0;
  do buf[n++] = static_cast<char>('0' + v % 10), v /= 10;
  while (v);
  while (n) *at++ = buf[--n];
  return at;
}
// Appends v as exactly `width` digits (v < 10^width).
char* Fixed(char* at, uint64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) at[i] = static_cast<char>('0' + v % 10), v /= 10;
  return at + width;
}

// The events of one UTC day not yet delivered: their bytes in an arena, and where each starts.
struct Bucket {
  struct Entry {
    Millis key;    // delivery order: event time plus a small delay for a few access events
    uint64_t seq;  // generation order, for ties
    uint64_t offset;
    uint32_t length;
    Stream stream;
  };
  std::string arena;
  std::vector<Entry> entries;
  void Clear() { arena.clear(), entries.clear(); }
};

}  // namespace

// A generation run: the buckets of the days not yet delivered, and the cursors.
struct GeneratorState {
  const ForceModel& m;
  std::map<int, Bucket> buckets;
  std::vector<Bucket> spare;  // cleared buckets, their capacity kept
  std::vector<char> planted;  // per officer: planted (no background variety)
  std::vector<Millis> times;  // reused by EmitSession
  uint64_t seq = 0;
  ForceStats stats;
  size_t next_planted = 0;
  int next_day = -ForceModel::kLeadIn;

  explicit GeneratorState(const ForceModel& model) : m(model) {
    planted.assign(m.profiles.size(), 0);
    for (int64_t o : m.planted_officers) planted[o] = 1;
  }

  Bucket& BucketOf(int day) {
    auto it = buckets.find(day);
    if (it != buckets.end()) return it->second;
    Bucket b;
    if (!spare.empty()) b = std::move(spare.back()), spare.pop_back();
    return buckets.emplace(day, std::move(b)).first->second;
  }

  // Starts an event of event time t on `stream`: its bytes go to the returned arena, then End.
  // Null when t is at or after the end of the force (the night shift of the last day).
  std::string* Begin(Millis t, Millis delay, Stream stream) {
    const int day = m.DayOf(t);
    if (day >= m.opt.days) return nullptr;
    Bucket& b = BucketOf(day);
    b.entries.push_back({t + delay, seq++, b.arena.size(), 0, stream});
    current_ = &b;
    return &b.arena;
  }
  void End() {
    Bucket::Entry& e = current_->entries.back();
    e.length = static_cast<uint32_t>(current_->arena.size() - e.offset);
  }
  void Add(const v1::Envelope& e) {
    const Stream stream = StreamOf(e);
    if (std::string* out = Begin(EventTime(e), 0, stream)) {
      out->append(EncodeEvent(e));
      End();
    }
  }

  // Moves day `day`'s events, in delivery order, to the end of `out`.
  void Flush(int day, EncodedDay& out) {
    auto it = buckets.find(day);
    if (it == buckets.end()) return;
    Bucket& b = it->second;
    std::sort(b.entries.begin(), b.entries.end(), [](const Bucket::Entry& x, const Bucket::Entry& y) {
      return x.key != y.key ? x.key < y.key : x.seq < y.seq;
    });
    size_t bytes = out.bytes();
    for (const Bucket::Entry& e : b.entries) bytes += 5 + e.length;
    if (bytes > out.capacity()) out.Reserve(bytes);  // exactly: no doubling past what a day needs
    for (const Bucket::Entry& e : b.entries) {
      switch (e.stream) {
        case Stream::kRoster: ++stats.roster; break;
        case Stream::kAccess: ++stats.access; break;
        case Stream::kComplaint: ++stats.complaints; break;
      }
      out.Append(e.stream, std::string_view(b.arena.data() + e.offset, e.length));
    }
    b.Clear();
    spare.push_back(std::move(b));
    buckets.erase(it);
  }

  size_t ScratchBytes() const {
    size_t n = times.capacity() * sizeof(Millis) + planted.capacity();
    for (const auto& [day, b] : buckets) n += b.arena.capacity() + b.entries.capacity() * sizeof(Bucket::Entry);
    for (const Bucket& b : spare) n += b.arena.capacity() + b.entries.capacity() * sizeof(Bucket::Entry);
    return n;
  }

  // ---------------------------------------------------------------------------------------------
  // Background events.

  // The versions of record r (officer o, shift day x) from `from_version` published on only_day.
  void EmitRecord(int64_t o, int x, const Record& r, int from_version, int only_day) {
    if (!r.kind) return;
    char shift[40];
    char* end = shift;
    const std::string staff = ForceModel::StaffId(o);
    std::memcpy(end, staff.data(), staff.size()), end += staff.size();
    *end++ = '-';
    const std::string& date = m.Date(x);
    std::memcpy(end, date.data(), date.size()), end += date.size();
    *end++ = '-';
    *end++ = r.kind;
    const std::string_view shift_id(shift, end - shift);
    std::string unit;
    for (int i = from_version; i < r.n; ++i) {
      const Version& v = r.v[i];
      if (m.DayOf(v.changed_at) != only_day) continue;
      std::string* out = Begin(v.changed_at, 0, Stream::kRoster);
      if (!out) continue;
      if (unit.empty()) unit = m.UnitName(o);
      char id[48];
      char* id_end = id;
      std::memcpy(id_end, shift, shift_id.size()), id_end += shift_id.size();
      *id_end++ = '/';
      id_end = Digits(id_end, static_cast<uint64_t>(i));
      wire::String(*out, 1, std::string_view(id, id_end - id));
      wire::String(*out, 2, staff);
      wire::String(*out, 3, unit);
      wire::String(*out, 4, shift_id);
      wire::Enum(*out, 5, v.status);
      wire::Timestamp(*out, 6, v.start);
      wire::Timestamp(*out, 7, v.end);
      wire::Timestamp(*out, 8, v.changed_at);
      End();
    }
  }

  void Access(Millis t, Millis delay, std::string_view id, std::string_view staff, std::string_view system,
              v1::AccessEvent::Action action, std::string_view subject, std::string_view case_ref,
              const Site& site) {
    std::string* out = Begin(t, delay, Stream::kAccess);
    if (!out) return;
    wire::String(*out, 1, id);
    wire::String(*out, 2, staff);
    wire::String(*out, 3, system);
    wire::Enum(*out, 4, action);
    wire::String(*out, 5, subject);
    wire::String(*out, 6, case_ref);
    wire::String(*out, 7, site.id);
    wire::Double(*out, 8, site.lat);
    wire::Double(*out, 9, site.lon);
    wire::Timestamp(*out, 10, t);
    End();
  }

  // System use on officer o's shift (which: 0 main, 1 overtime) starting on day x: LOGIN, lookups
  // following the hour of day (each with a case_ref), LOGOUT, all at one site; in the realistic
  // volume the lookups are split into several such sessions.
  void EmitSession(int64_t o, int x, int which, const Version& shift) {
    Rng rng(Hash(m.opt.seed, kTagSession, o, x, which));
    int lookups = 0;
    if (!m.SessionShape(rng, o, lookups)) return;
    const Profile& p = m.profiles[o];
    char staff_buf[24];
    const std::string_view staff(staff_buf, Digits(std::strcpy(staff_buf, "MP") + 2, 100001 + o) - staff_buf);
    Site site;
    const double where = rng.Uniform();
    if (where < 0.9 || planted[o]) site = m.HomeSite(o);  // planted officers: one site, home
    else if (where < 0.98) site = CitySite(p.city, static_cast<int>((p.site + 1 + rng.Below(kSitesPerCity - 1)) % kSitesPerCity));
    else site = CitySite(static_cast<int>(rng.Below(kCityCount)), static_cast<int>(rng.Below(kSitesPerCity)));
    static const char* kRms[] = {"NICHE-RMS", "ATHENA"};
    const std::string_view rms = kRms[(p.city + p.team) % 2];
    const Millis login = shift.start + (5 + rng.Below(40)) * kMinute + rng.Below(60) * kSecond;
    const Millis logout = shift.end - (5 + rng.Below(25)) * kMinute - rng.Below(60) * kSecond;
    // Ids: "A-<staff>-<date>-m<n>" (main shift) or "-o<n>" (overtime).
    char id[64];
    char* const prefix_end = [&] {
      char* at = id;
      *at++ = 'A', *at++ = '-';
      std::memcpy(at, staff.data(), staff.size()), at += staff.size();
      *at++ = '-';
      const std::string& date = m.Date(x);
      std::memcpy(at, date.data(), date.size()), at += date.size();
      *at++ = '-', *at++ = which ? 'o' : 'm';
      return at;
    }();
    uint64_t n = 0;
    auto next_id = [&] { return std::string_view(id, Digits(prefix_end, n++) - id); };
    auto delay = [&]() { return rng.Uniform() < 0.03 ? (1 + rng.Below(90)) * kSecond : Millis{0}; };
    {
      const std::string_view login_id = next_id();
      Access(login, delay(), login_id, staff, rms, v1::AccessEvent::LOGIN, "", "", site);
    }
    // Times first (diurnal), then what is looked up.
    times.clear();
    const Millis span = logout - login - 2 * kMinute;
    for (int i = 0; i < lookups && span > 0; ++i) {
      Millis t = 0;
      for (int tries = 0; tries < 20; ++tries) {
        t = login + kMinute + static_cast<Millis>(rng.Uniform() * span);
        if (rng.Uniform() < ForceModel::HourWeight(Mod(FloorDiv(t, kHour), 24))) break;
      }
      times.push_back(t);
    }
    std::sort(times.begin(), times.end());
    constexpr int kMaxCases = 8;
    char cases[kMaxCases][20];
    const int case_count = 1 + static_cast<int>(rng.Below(m.Realistic() ? kMaxCases : 3));
    const std::string& date = m.Date(x);
    for (int i = 0; i < case_count; ++i) {  // "CR/<year>/<6 digits>"
      char* at = cases[i];
      std::memcpy(at, "CR/", 3), at += 3;
      std::memcpy(at, date.data(), 4), at += 4;
      *at++ = '/';
      Fixed(at, static_cast<uint64_t>(rng.Below(1000000)), 6);
    }
    constexpr size_t kCaseLength = 14;
    char subject_buf[2][10];  // the current and the last subject: "S" and 8 digits
    int current = 0;
    bool have_last = false;
    static const Site kMobile{"MOBILE", 0, 0};
    const int sessions = m.Sessions();
    const size_t count = times.size();
    for (size_t i = 0; i < count; ++i) {
      const Millis t = times[i];
      // Between sessions: a LOGOUT after the last lookup of one, a LOGIN before the next.
      if (sessions > 1 && i > 0 && i * sessions / count != (i - 1) * sessions / count) {
        const Millis mid = times[i - 1] + (t - times[i - 1]) / 2;
        const Millis out_at = std::min(times[i - 1] + 2 * kMinute, mid), in_at = std::max(t - 2 * kMinute, mid);
        const std::string_view out_id = next_id();
        Access(out_at, delay(), out_id, staff, rms, v1::AccessEvent::LOGOUT, "", "", site);
        const std::string_view in_id = next_id();
        Access(in_at, delay(), in_id, staff, rms, v1::AccessEvent::LOGIN, "", "", site);
      }
      const double kind = rng.Uniform();
      std::string_view system = rms;
      auto action = v1::AccessEvent::SEARCH;
      if (kind < 0.3 && have_last) {
        action = v1::AccessEvent::RECORD_VIEW;  // the last subject again
      } else {
        current ^= 1;
        subject_buf[current][0] = 'S';
        Fixed(subject_buf[current] + 1, 10000000 + static_cast<uint64_t>(rng.Below(5000000)), 8);
        system = kind < 0.6 ? std::string_view("PNC") : kind < 0.75 ? std::string_view("PND") : rms;
        if (system == rms && kind > 0.9) action = v1::AccessEvent::RECORD_VIEW;
      }
      have_last = true;
      const std::string_view subject(subject_buf[current], 9);
      const std::string_view case_ref(cases[rng.Below(case_count)], kCaseLength);
      const Site& at = rng.Uniform() < 0.1 ? kMobile : site;
      const std::string_view lookup_id = next_id();
      Access(t, delay(), lookup_id, staff, system, action, subject, case_ref, at);
    }
    const std::string_view logout_id = next_id();
    Access(logout, delay(), logout_id, staff, rms, v1::AccessEvent::LOGOUT, "", "", site);
  }

  // Background complaints: at most one per officer per 400-day block; a sensitive category only
  // in even blocks, so no officer accumulates 3 complaints, or 2 sensitive ones, within 365 days.
  void EmitComplaint(int64_t o, int x) {
    if (planted[o]) return;
    const int64_t block = FloorDiv(x, 400);
    const uint64_t h = Hash(m.opt.seed, kTagComplaint, o, static_cast<uint64_t>(block));
    if (Unit(h) >= 0.12 || block * 400 + static_cast<int64_t>(Mix(h) % 400) != x) return;
    Rng rng(Hash(m.opt.seed, kTagComplaintDay, o, x));
    static const v1::Complaint::Category kAll[] = {
        v1::Complaint::INCIVILITY,      v1::Complaint::INCIVILITY,       v1::Complaint::USE_OF_FORCE,
        v1::Complaint::OTHER,           v1::Complaint::DISHONESTY,       v1::Complaint::DISCRIMINATION,
        v1::Complaint::ABUSE_OF_POSITION, v1::Complaint::SEXUAL_MISCONDUCT};
    const int choices = Mod(block, 2) == 0 ? 8 : 6;
    char complainant[16];
    std::snprintf(complainant, sizeof complainant, "S%08d", 1 + static_cast<int>(rng.Below(8999999)));
    const std::string staff = ForceModel::StaffId(o);
    const std::string& date = m.Date(x);
    const auto category = kAll[rng.Below(choices)];
    const int hour = 8 + static_cast<int>(rng.Below(10)), minute = static_cast<int>(rng.Below(60)),
              second = static_cast<int>(rng.Below(60));
    Add(ForceModel::ComplaintEvent("C-" + staff + "-" + date, "CMP-" + date + "-" + std::to_string(o), staff,
                                   complainant, category, m.At(x, hour, minute, second)));
  }

  // Generates shift day s (rosters published today, system use on shifts starting today,
  // complaints received today, planted events of today) and moves day s's events to `out`.
  void Day(int s, EncodedDay& out) {
    const SyntheticForceOptions& opt = m.opt;
    // 1. The weekly roster, three days before its week.
    if (Mod(s + 3, 7) == 0) {
      const int week = (s + 3) / 7;
      const int from = week == 0 ? -ForceModel::kLeadIn : 7 * week, to = std::min(opt.days, 7 * week + 7);
      for (int64_t o = 0; o < opt.officers; ++o) {
        for (int x = from; x < to; ++x) EmitRecord(o, x, m.MainRecord(o, x), 0, s);
      }
    }
    // 2. Later versions and overtime, published up to two days ahead.
    for (int x = std::max(s, 0); x <= std::min(s + 2, opt.days - 1); ++x) {
      for (int64_t o = 0; o < opt.officers; ++o) {
        EmitRecord(o, x, m.MainRecord(o, x), 1, s);
        EmitRecord(o, x, m.OvertimeRecord(o, x), 0, s);
      }
    }
    // 3. System use on the shifts starting today, and complaints received today.
    if (s >= 0) {
      for (int64_t o = 0; o < opt.officers; ++o) {
        if (!m.Quiet(o, s)) {
          Record main = m.MainRecord(o, s);
          if (main.kind && main.kind != 'R' && main.final().status == v1::RosterChange::ON_DUTY) {
            EmitSession(o, s, 0, main.final());
          }
          Record ot = m.OvertimeRecord(o, s);
          if (ot.kind && ot.final().status == v1::RosterChange::OVERTIME) EmitSession(o, s, 1, ot.final());
        }
        EmitComplaint(o, s);
      }
    }
    // 4. Planted events of today.
    while (next_planted < m.planted_events.size() && m.DayOf(m.planted_events[next_planted].first) <= s) {
      Add(m.planted_events[next_planted++].second);
    }
    Flush(s, out);
    if (s == opt.days - 1) {  // nothing should be left; if anything is, it goes last
      while (!buckets.empty()) Flush(buckets.begin()->first, out);
    }
  }

 private:
  Bucket* current_ = nullptr;
};

}  // namespace synth

struct SyntheticForce::Impl {
  synth::ForceModel model;
  explicit Impl(const SyntheticForceOptions& o) : model(o) {}
};

struct SyntheticForce::Days::State : synth::GeneratorState {
  using GeneratorState::GeneratorState;
};

SyntheticForce::SyntheticForce(SyntheticForceOptions options)
    : options_(options), impl_(std::make_unique<Impl>(options)) {
  if (options_.plant) plan_ = synth::PlantPatterns(impl_->model);
}

SyntheticForce::~SyntheticForce() = default;

SyntheticForce::Days::Days(const SyntheticForce& force) : state_(std::make_unique<State>(force.impl_->model)) {}
SyntheticForce::Days::~Days() = default;

bool SyntheticForce::Days::Next(EncodedDay& out) {
  out.Clear();
  if (state_->next_day >= state_->m.opt.days) return false;
  out.day = state_->next_day;
  state_->Day(state_->next_day++, out);
  return true;
}
int SyntheticForce::Days::done() const { return state_->next_day + synth::ForceModel::kLeadIn; }
int SyntheticForce::Days::total() const {
  return std::max(0, state_->m.opt.days) + synth::ForceModel::kLeadIn;
}
const ForceStats& SyntheticForce::Days::stats() const { return state_->stats; }
size_t SyntheticForce::Days::scratch_bytes() const { return state_->ScratchBytes(); }

ForceStats SyntheticForce::Generate(const EventSink& sink, const Progress& progress) const {
  Days days(*this);
  EncodedDay day;
  while (days.Next(day)) {
    day.ForEach([&](Stream stream, std::string_view bytes) {
      v1::Envelope e;
      bool parsed = false;
      switch (stream) {
        case Stream::kRoster: parsed = e.mutable_roster()->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())); break;
        case Stream::kAccess: parsed = e.mutable_access()->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())); break;
        case Stream::kComplaint: parsed = e.mutable_complaint()->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())); break;
      }
      if (!parsed) throw FatalError("synthetic force: an event does not parse");
      sink(e);
    });
    if (progress) progress(days.done(), days.total(), days.stats());
  }
  return days.stats();
}

SyntheticForceOptions RealisticVolume(SyntheticForceOptions options, double per_officer_day) {
  options.access_per_shift = 0;
  options.access_per_officer_day = per_officer_day;
  return options;
}

double AccessPerShiftFor(double events_per_day, int64_t officers) {
  constexpr double kRosterPerOfficerDay = 0.85;
  if (officers <= 0) return 0;
  return std::max(0.0, (events_per_day / officers - kRosterPerOfficerDay) /
                           synth::ForceModel::kWorkedShiftsPerOfficerDay);
}

std::string SyntheticForce::StaffId(int64_t officer) { return "MP" + std::to_string(100001 + officer); }

}  // namespace vigil
