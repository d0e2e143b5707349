// Planting: the patterns of every rule (each reading like its paragraph of the contract), their
// near misses, and benign behaviour, planted on officers of their own at known places. What is
// planted goes into the model (its planted events, quiet days and planted officers), which
// generation (generation.cc) then merges with the background; the plan says what to expect.
#include "planting.h"

namespace vigil::synth {
namespace {

struct Planter : ForceModel {
  explicit Planter(ForceModel&& model) : ForceModel(std::move(model)) {}

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
    Planter& impl;
    int64_t o;
    std::string staff, prefix;
    int n = 0;
    bool benign;  // what it plants is benign behaviour, not a pattern
    Script(Planter& i, int64_t officer, bool is_benign = false)
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

  using BenignCase = void (Planter::*)(int variant);
  struct BenignKind {
    double base;  // cases at benign_rate 1
    BenignCase plant;
  };

  void PlantBenign() {
    static constexpr BenignKind kKinds[] = {
        {4, &Planter::BenignRosterCheck},    {2, &Planter::BenignLeaveLogin},   {1, &Planter::BenignSickLogin},
        {3, &Planter::BenignLookups},        {1, &Planter::BenignComplainant},  {2, &Planter::BenignComplaints},
        {1, &Planter::BenignSensitive},      {2, &Planter::BenignGateway},      {2, &Planter::BenignEnquiry},
        {2, &Planter::BenignOvertime},       {2, &Planter::BenignSickness},
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
}  // namespace

std::vector<PlantedPattern> PlantPatterns(ForceModel& model) {
  Planter planter(std::move(model));
  planter.PlantAll();
  model = std::move(static_cast<ForceModel&>(planter));
  return std::move(planter.plan);
}

}  // namespace vigil::synth
