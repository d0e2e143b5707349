// off_duty_access (contract, rule 1): event-time fixtures run through the real Core.
//
// Fixture: officer MP1 has a REST_DAY shift [2026-03-01T00:00Z, 2026-03-02T00:00Z) published days
// before. Default roster_grace is 2 h, max_out_of_orderness 5 min, access lateness 1 day.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "core_runs.h"
#include "harness.h"
#include "state/kv_backend.h"

namespace vigil::testing {
namespace {

constexpr char kRule[] = "off_duty_access";

Millis P(const std::string& rfc3339) {
  return ParseTime(rfc3339).value();  // throws on a malformed fixture
}
std::string T(Millis t) { return FormatTime(t); }

const Millis kShiftStart = P("2026-03-01T00:00:00Z");
const Millis kShiftEnd = P("2026-03-02T00:00:00Z");
const std::string kPublished = "2026-02-25T10:00:00Z";

std::string RestDay(const std::string& status = "REST_DAY", const std::string& id = "r1",
                    const std::string& shift = "S1", const std::string& officer = "MP1") {
  return Roster(id, officer, shift, status, T(kShiftStart), T(kShiftEnd), kPublished);
}

// Runs lines through a fresh harness and returns the alerts of this rule.
std::vector<v1::Alert> Run(const std::vector<std::string>& lines, const std::string& rules = "{}") {
  return ReplayRule(kRule, lines, rules);
}

std::set<std::string> EvidenceIds(const v1::Alert& alert) {
  std::set<std::string> ids;
  for (const auto& e : alert.evidence()) ids.insert(e.event_id());
  return ids;
}

// Feeds each batch of lines to one core and advances once after each (as `vigil run` after a
// fetch: the events of a batch share one delivery turn), then finishes; returns this rule's alerts.
std::vector<v1::Alert> RunBatches(const std::vector<std::vector<std::string>>& batches) {
  Pipeline pipeline = MakePipeline(ConfigFrom({}), NewMemoryBackend());
  pipeline.core->watermarks().Track(kFile);
  std::vector<v1::Alert> alerts;
  auto collect = [&] {
    for (auto& alert : pipeline.core->TakeAlerts()) {
      if (alert.rule_id() == kRule) alerts.push_back(std::move(alert));
    }
  };
  int64_t offset = 0;
  for (const auto& batch : batches) {
    for (const v1::Envelope& event : ParseLines(batch)) {
      pipeline.core->IngestEvent(event, kFile, 0, {OfficerId(event), "", "input", -1, offset++});
    }
    pipeline.core->Advance();
    collect();
  }
  pipeline.core->watermarks().SetIdle(kFile);
  pipeline.core->Finish();
  collect();
  return alerts;
}

// The window_end of each alert of this rule, in the order emitted.
std::vector<Millis> AlertTimes(const std::vector<v1::Alert>& alerts) {
  std::vector<Millis> times;
  for (const auto& a : alerts) times.push_back(ToMillis(a.window_end()));
  return times;
}

}  // namespace

TEST_CASE("off_duty_access: a search on a rest day fires one MEDIUM alert at the access") {
  const Millis t = P("2026-03-01T10:00:00Z");
  auto alerts = Run({RestDay(), Access("a1", "MP1", T(t), "SEARCH", "P1")});
  REQUIRE(alerts.size() == 1);
  const auto& a = alerts[0];
  CHECK(a.rule_id() == kRule);
  CHECK(a.officer_id() == "MP1");
  CHECK(a.subject_id() == "");
  CHECK(a.severity() == v1::Alert::MEDIUM);
  CHECK(a.kind() == v1::Alert::MISCONDUCT);
  CHECK(ToMillis(a.window_start()) == t);
  CHECK(ToMillis(a.window_end()) == t);
  CHECK(EvidenceIds(a) == std::set<std::string>{"a1", "r1"});
  CHECK(!a.summary().empty());
  CHECK(a.alert_id().size() == 32);
}

TEST_CASE("off_duty_access: severity by status; SEARCH, RECORD_VIEW and LOGIN count, LOGOUT does not") {
  const std::string t = "2026-03-01T10:00:00Z";
  SUBCASE("SICK is HIGH") {
    auto alerts = Run({RestDay("SICK"), Access("a1", "MP1", t, "SEARCH", "P1")});
    REQUIRE(alerts.size() == 1);
    CHECK(alerts[0].severity() == v1::Alert::HIGH);
  }
  SUBCASE("ANNUAL_LEAVE is MEDIUM") {
    auto alerts = Run({RestDay("ANNUAL_LEAVE"), Access("a1", "MP1", t, "SEARCH", "P1")});
    REQUIRE(alerts.size() == 1);
    CHECK(alerts[0].severity() == v1::Alert::MEDIUM);
  }
  SUBCASE("RECORD_VIEW") { CHECK(Run({RestDay(), Access("a1", "MP1", t, "RECORD_VIEW", "P1")}).size() == 1); }
  SUBCASE("LOGIN") { CHECK(Run({RestDay(), Access("a1", "MP1", t, "LOGIN")}).size() == 1); }
  SUBCASE("LOGOUT") { CHECK(Run({RestDay(), Access("a1", "MP1", t, "LOGOUT")}).empty()); }
  SUBCASE("a SEARCH with no subject still uses a system") {
    CHECK(Run({RestDay(), Access("a1", "MP1", t, "SEARCH")}).size() == 1);
  }
  SUBCASE("another officer's access does not count") {
    CHECK(Run({RestDay(), Access("a1", "MP2", t, "SEARCH", "P1")}).empty());
  }
  SUBCASE("no roster at all: no alert") { CHECK(Run({Access("a1", "MP1", t, "SEARCH", "P1")}).empty()); }
}

TEST_CASE("off_duty_access: the shift covers [start, end)") {
  SUBCASE("at start") { CHECK(Run({RestDay(), Access("a1", "MP1", T(kShiftStart), "SEARCH")}).size() == 1); }
  SUBCASE("1 ms before start") {
    CHECK(Run({RestDay(), Access("a1", "MP1", T(kShiftStart - 1), "SEARCH")}).empty());
  }
  SUBCASE("1 ms before end") {
    auto alerts = Run({RestDay(), Access("a1", "MP1", T(kShiftEnd - 1), "SEARCH")});
    REQUIRE(alerts.size() == 1);
    CHECK(ToMillis(alerts[0].window_end()) == kShiftEnd - 1);
  }
  SUBCASE("at end") { CHECK(Run({RestDay(), Access("a1", "MP1", T(kShiftEnd), "SEARCH")}).empty()); }
}

TEST_CASE("off_duty_access: an ON_DUTY or OVERTIME shift covering the access suppresses the alert") {
  const std::string t = "2026-03-01T10:00:00Z";
  for (const std::string status : {"ON_DUTY", "OVERTIME"}) {
    CAPTURE(status);
    auto working = Roster("r2", "MP1", "S2", status, "2026-03-01T09:00:00Z", "2026-03-01T17:00:00Z",
                          kPublished);
    CHECK(Run({RestDay(), working, Access("a1", "MP1", t, "SEARCH")}).empty());
    // The same working shift not covering the access does not suppress it.
    CHECK(Run({RestDay(), working, Access("a1", "MP1", "2026-03-01T18:00:00Z", "SEARCH")}).size() == 1);
  }
}

TEST_CASE("off_duty_access: one alert per off-duty shift, at the first access in event time") {
  SUBCASE("later accesses in the same shift add nothing") {
    auto alerts = Run({RestDay(), Access("a1", "MP1", "2026-03-01T10:00:00Z", "SEARCH"),
                       Access("a2", "MP1", "2026-03-01T11:00:00Z", "SEARCH"),
                       Access("a3", "MP1", "2026-03-01T23:00:00Z", "LOGIN")});
    REQUIRE(alerts.size() == 1);
    CHECK(ToMillis(alerts[0].window_end()) == P("2026-03-01T10:00:00Z"));
    CHECK(EvidenceIds(alerts[0]).count("a1") == 1);
  }
  SUBCASE("ties in event time go to the smaller event_id, whatever the arrival order") {
    const std::string t = "2026-03-01T10:00:00Z";
    auto alerts = Run({RestDay(), Access("a2", "MP1", t, "SEARCH"), Access("a1", "MP1", t, "SEARCH")});
    REQUIRE(alerts.size() == 1);
    CHECK(EvidenceIds(alerts[0]) == std::set<std::string>{"a1", "r1"});
  }
  SUBCASE("two different off-duty shifts give two alerts") {
    auto next_day = Roster("r2", "MP1", "S2", "SICK", T(kShiftEnd), T(kShiftEnd + kDay), kPublished);
    auto alerts = Run({RestDay(), next_day, Access("a1", "MP1", "2026-03-01T10:00:00Z", "SEARCH"),
                       Access("a2", "MP1", "2026-03-02T10:00:00Z", "SEARCH")});
    REQUIRE(alerts.size() == 2);
    CHECK(alerts[0].severity() == v1::Alert::MEDIUM);
    CHECK(alerts[1].severity() == v1::Alert::HIGH);
    CHECK(alerts[0].alert_id() != alerts[1].alert_id());
  }
}

TEST_CASE("off_duty_access: several covering off-duty shifts: keyed by the smallest, HIGH if any is SICK") {
  // SA (REST_DAY) and SB (SICK) both cover 10:00; SB alone continues into the next day.
  auto sa = Roster("r1", "MP1", "SA", "REST_DAY", T(kShiftStart), T(kShiftEnd), kPublished);
  auto sb = Roster("r2", "MP1", "SB", "SICK", T(kShiftStart), T(kShiftEnd + kDay), kPublished);
  auto alerts = Run({sb, sa, Access("a1", "MP1", "2026-03-01T10:00:00Z", "SEARCH"),
                     Access("a2", "MP1", "2026-03-01T11:00:00Z", "SEARCH"),
                     Access("a3", "MP1", "2026-03-02T10:00:00Z", "SEARCH")});
  REQUIRE(alerts.size() == 2);
  // First alert: key SA (the smallest shift_id), HIGH because SICK covers the access.
  CHECK(ToMillis(alerts[0].window_end()) == P("2026-03-01T10:00:00Z"));
  CHECK(alerts[0].severity() == v1::Alert::HIGH);
  CHECK(EvidenceIds(alerts[0]).count("r1") == 1);
  // a2 is covered by SA and SB again: key SA, already alerted. a3 is covered by SB alone.
  CHECK(ToMillis(alerts[1].window_end()) == P("2026-03-02T10:00:00Z"));
  CHECK(alerts[1].severity() == v1::Alert::HIGH);
  CHECK(EvidenceIds(alerts[1]).count("r2") == 1);
}

TEST_CASE("off_duty_access: roster versions count only with changed_at <= t + roster_grace") {
  const Millis t = P("2026-03-01T10:00:00Z");
  const std::string access = Access("a1", "MP1", T(t), "SEARCH");
  auto version = [&](const std::string& id, const std::string& status, Millis changed) {
    return Roster(id, "MP1", "S1", status, T(kShiftStart), T(kShiftEnd), T(changed));
  };
  SUBCASE("rest day changed to ON_DUTY exactly at t + 2h: no alert") {
    CHECK(Run({RestDay(), access, version("r2", "ON_DUTY", t + 2 * kHour)}).empty());
  }
  SUBCASE("rest day changed to ON_DUTY 1 ms after t + 2h: alert") {
    CHECK(Run({RestDay(), access, version("r2", "ON_DUTY", t + 2 * kHour + 1)}).size() == 1);
  }
  SUBCASE("ON_DUTY changed to REST_DAY exactly at t + 2h: alert") {
    CHECK(Run({RestDay("ON_DUTY"), access, version("r2", "REST_DAY", t + 2 * kHour)}).size() == 1);
  }
  SUBCASE("ON_DUTY changed to REST_DAY 1 s after t + 2h: no alert") {
    CHECK(Run({RestDay("ON_DUTY"), access, version("r2", "REST_DAY", t + 2 * kHour + kSecond)}).empty());
  }
  SUBCASE("cancelled by t + 2h: no alert") {
    CHECK(Run({RestDay(), access, version("r2", "CANCELLED", t + 2 * kHour)}).empty());
  }
  SUBCASE("cancelled 1 ms after t + 2h: alert") {
    CHECK(Run({RestDay(), access, version("r2", "CANCELLED", t + 2 * kHour + 1)}).size() == 1);
  }
  SUBCASE("a cancelled shift re-instated later (greater changed_at) alerts again") {
    CHECK(Run({RestDay(), version("r2", "CANCELLED", t - kHour), version("r3", "SICK", t - 30 * kMinute),
               access})
              .size() == 1);
  }
  SUBCASE("the newest version wins even if it arrived first") {
    // r2 (newer, ON_DUTY) arrives before r1 (older, REST_DAY): the effective status is ON_DUTY.
    auto older = Roster("r1", "MP1", "S1", "REST_DAY", T(kShiftStart), T(kShiftEnd), "2026-02-25T10:00:00Z");
    auto newer = Roster("r2", "MP1", "S1", "ON_DUTY", T(kShiftStart), T(kShiftEnd), "2026-02-25T10:03:00Z");
    CHECK(Run({newer, older, access}).empty());
  }
  SUBCASE("a version that moves the shift away from t") {
    auto moved = Roster("r2", "MP1", "S1", "REST_DAY", T(kShiftEnd), T(kShiftEnd + kDay), T(t - kHour));
    CHECK(Run({RestDay(), moved, access}).empty());
  }
}

TEST_CASE("off_duty_access: versions with equal changed_at are ordered by event_id") {
  const std::string access = Access("a1", "MP1", "2026-03-01T10:00:00Z", "SEARCH");
  const std::string changed = "2026-02-26T10:00:00Z";
  auto v = [&](const std::string& id, const std::string& status) {
    return Roster(id, "MP1", "S1", status, T(kShiftStart), T(kShiftEnd), changed);
  };
  // The greater event_id wins, whatever the arrival order.
  CHECK(Run({v("r1", "CANCELLED"), v("r2", "REST_DAY"), access}).size() == 1);
  CHECK(Run({v("r2", "REST_DAY"), v("r1", "CANCELLED"), access}).size() == 1);
  CHECK(Run({v("r1", "REST_DAY"), v("r2", "CANCELLED"), access}).empty());
  CHECK(Run({v("r2", "CANCELLED"), v("r1", "REST_DAY"), access}).empty());
  // Byte-string comparison: "r10" < "r9".
  CHECK(Run({v("r10", "ON_DUTY"), v("r9", "SICK"), access}).size() == 1);
}

TEST_CASE("off_duty_access: arrival order within max_out_of_orderness does not change the alerts") {
  // In event-time order.
  const std::vector<std::string> ordered = {
      Roster("r1", "MP1", "S1", "REST_DAY", T(kShiftStart), T(kShiftEnd), "2026-03-01T09:58:00Z"),
      Access("a1", "MP1", "2026-03-01T10:00:00Z", "SEARCH"),
      Access("a2", "MP1", "2026-03-01T10:01:00Z", "LOGIN"),
      Roster("r2", "MP1", "S1", "ON_DUTY", T(kShiftStart), T(kShiftEnd), "2026-03-01T11:59:00Z"),
      Roster("r3", "MP1", "S1", "SICK", T(kShiftStart), T(kShiftEnd), "2026-03-01T12:02:00Z"),
      Access("a3", "MP1", "2026-03-01T12:04:00Z", "SEARCH"),
      Access("a4", "MP2", "2026-03-01T14:30:00Z", "SEARCH"),
  };
  // Each event arrives at most 5 minutes (event time) behind the latest seen; r2 (11:59) arrives
  // after a3 (12:04), exactly at the watermark.
  const std::vector<std::string> shuffled = {ordered[1], ordered[0], ordered[2], ordered[5],
                                             ordered[4], ordered[3], ordered[6]};
  auto a = Run(ordered);
  auto b = Run(shuffled);
  // a1 (10:00, decided as of 12:00) sees r2 ON_DUTY: nothing. a2 (10:01, as of 12:01) too.
  // a3 (12:04, as of 14:04) sees r3 SICK: HIGH.
  REQUIRE(a.size() == 1);
  CHECK(ToMillis(a[0].window_end()) == P("2026-03-01T12:04:00Z"));
  CHECK(a[0].severity() == v1::Alert::HIGH);
  CHECK(SortedIds(a) == SortedIds(b));
  REQUIRE(b.size() == 1);
  CHECK(b[0].window_end().seconds() == a[0].window_end().seconds());
}

TEST_CASE("off_duty_access: an access later than allowed lateness goes to the dead letters") {
  const Millis t = P("2026-03-01T10:00:00Z");
  // The filler event sets the partition watermark to filler - 5 min; lateness is 1 day.
  auto run = [&](Millis filler) {
    Harness h;
    h.Feed(RestDay());
    h.Feed(Access("f1", "MP9", T(filler), "LOGOUT"));
    h.Feed(Access("a1", "MP1", T(t), "SEARCH"));
    h.Finish();
    return std::make_tuple(h.AlertsFor(kRule).size(), h.metrics().too_late, h.dead_letters());
  };
  SUBCASE("exactly at watermark - lateness: accepted and used") {
    auto [alerts, too_late, letters] = run(t + kDay + 5 * kMinute);
    CHECK(alerts == 1);
    CHECK(too_late == 0);
    CHECK(letters.empty());
  }
  SUBCASE("1 ms older: too_late") {
    auto [alerts, too_late, letters] = run(t + kDay + 5 * kMinute + 1);
    CHECK(alerts == 0);
    CHECK(too_late == 1);
    REQUIRE(letters.size() == 1);
    CHECK(letters[0].reason == "too_late");
    CHECK(letters[0].value.find("\"a1\"") != std::string::npos);
    CHECK(letters[0].key == "MP1");
  }
}

TEST_CASE("off_duty_access: a roster version later than 7 days goes to the dead letters") {
  Harness h;
  h.Feed(Access("f1", "MP9", "2026-03-10T00:05:00Z", "LOGOUT"));  // watermark 2026-03-10T00:00
  h.Feed(Roster("r1", "MP1", "S1", "REST_DAY", "2026-03-02T00:00:00Z", "2026-03-04T00:00:00Z",
                "2026-03-02T23:59:59.999Z"));  // 1 ms older than watermark - 7 days
  h.Feed(Roster("r2", "MP1", "S2", "REST_DAY", "2026-03-05T00:00:00Z", "2026-03-06T00:00:00Z",
                "2026-03-03T00:00:00Z"));  // exactly at watermark - 7 days: accepted
  h.Feed(Access("a1", "MP1", "2026-03-10T00:04:00Z", "SEARCH"));
  h.Finish();
  CHECK(h.metrics().too_late == 1);
  REQUIRE(h.dead_letters().size() == 1);
  CHECK(h.dead_letters()[0].reason == "too_late");
  CHECK(h.dead_letters()[0].value.find("\"r1\"") != std::string::npos);
  CHECK(h.metrics().events_in[0] == 1);
}

TEST_CASE("off_duty_access: a late access within allowed lateness is decided on arrival") {
  Harness h;
  h.Feed(RestDay());
  h.Feed(Access("f1", "MP9", "2026-03-01T20:00:00Z", "LOGOUT"));  // watermark 19:55
  h.Feed(Access("a1", "MP1", "2026-03-01T10:00:00Z", "SEARCH"));  // 10 h late, lateness 1 day
  // The alert is emitted on arrival: the decision (10:00 + 2h) is already due.
  auto before_finish = h.AlertsFor(kRule);
  REQUIRE(before_finish.size() == 1);
  CHECK(ToMillis(before_finish[0].window_end()) == P("2026-03-01T10:00:00Z"));
  CHECK(h.metrics().late_accepted == 1);
  CHECK(h.metrics().too_late == 0);
  h.Finish();
  CHECK(h.AlertsFor(kRule).size() == 1);
}

TEST_CASE("off_duty_access: a late roster version is used by decisions not yet made, never by made ones") {
  SUBCASE("arrives behind the watermark but before the access is decided: used") {
    Harness h;
    h.Feed(Access("a1", "MP1", "2026-03-01T10:00:00Z", "SEARCH"));
    h.Feed(Access("f1", "MP9", "2026-03-01T11:00:00Z", "LOGOUT"));  // watermark 10:55
    h.Feed(Roster("r1", "MP1", "S1", "REST_DAY", T(kShiftStart), T(kShiftEnd),
                  "2026-03-01T09:00:00Z"));  // late by 1 h 55, within 7 days
    CHECK(h.metrics().late_accepted == 1);
    h.Finish();
    auto alerts = h.AlertsFor(kRule);
    REQUIRE(alerts.size() == 1);
    CHECK(ToMillis(alerts[0].window_end()) == P("2026-03-01T10:00:00Z"));
  }
  SUBCASE("arrives after the access was decided: that decision stands, later accesses use it") {
    Harness h;
    h.Feed(Access("a1", "MP1", "2026-03-01T10:00:00Z", "SEARCH"));
    h.Feed(Access("f1", "MP9", "2026-03-01T12:10:00Z", "LOGOUT"));  // watermark 12:05: a1 decided
    h.Feed(Roster("r1", "MP1", "S1", "REST_DAY", T(kShiftStart), T(kShiftEnd), "2026-03-01T09:00:00Z"));
    CHECK(h.AlertsFor(kRule).empty());
    h.Feed(Access("a2", "MP1", "2026-03-01T13:00:00Z", "SEARCH"));
    h.Finish();
    auto alerts = h.AlertsFor(kRule);
    REQUIRE(alerts.size() == 1);
    CHECK(ToMillis(alerts[0].window_end()) == P("2026-03-01T13:00:00Z"));
  }
}

TEST_CASE("off_duty_access: an access no version covers yet is covered by one delivered after it") {
  const Millis t = P("2026-03-01T10:00:00Z");
  auto rest_day_changed_at = [&](Millis changed) {
    return Roster("r1", "MP1", "S1", "REST_DAY", T(kShiftStart), T(kShiftEnd), T(changed));
  };
  SUBCASE("in event-time order, changed within the grace: alert") {
    CHECK(AlertTimes(Run({Access("a1", "MP1", T(t), "SEARCH"), rest_day_changed_at(t + kHour)})) ==
          std::vector<Millis>{t});
  }
  SUBCASE("changed exactly at t + grace: alert") {
    const std::string access = Access("a1", "MP1", T(t), "SEARCH");
    CHECK(Run({access, rest_day_changed_at(t + 2 * kHour)}).size() == 1);
  }
  SUBCASE("changed 1 ms after t + grace: no alert, but a later access uses it") {
    const Millis later = t + 3 * kHour;
    CHECK(AlertTimes(Run({Access("a1", "MP1", T(t), "SEARCH"),
                          rest_day_changed_at(t + 2 * kHour + 1),
                          Access("a2", "MP1", T(later), "SEARCH")})) == std::vector<Millis>{later});
  }
  SUBCASE("a version that is not off duty changes nothing") {
    CHECK(Run({Access("a1", "MP1", T(t), "SEARCH"),
               Roster("r1", "MP1", "S1", "CANCELLED", T(kShiftStart), T(kShiftEnd), T(t + kHour))})
              .empty());
  }
}

TEST_CASE("off_duty_access: a late version counts for the accesses whose decision is to come") {
  // a0 (decided at 11:00) is decided before the version arrives, a1 (12:00) after: a0's decision,
  // made without it, stands; a1 alerts.
  Harness h;
  h.Feed(Access("a0", "MP1", "2026-03-01T09:00:00Z", "SEARCH"));
  h.Feed(Access("a1", "MP1", "2026-03-01T10:00:00Z", "SEARCH"));
  h.Feed(Access("a2", "MP1", "2026-03-01T10:30:00Z", "LOGIN"));
  h.Feed(Access("f1", "MP9", "2026-03-01T11:55:00Z", "LOGOUT"));  // watermark 11:50
  h.Feed(Roster("r1", "MP1", "S1", "REST_DAY", T(kShiftStart), T(kShiftEnd),
                "2026-03-01T08:00:00Z"));
  CHECK(h.metrics().late_accepted == 1);
  h.Finish();
  CHECK(AlertTimes(h.AlertsFor(kRule)) == std::vector<Millis>{P("2026-03-01T10:00:00Z")});
}

TEST_CASE("off_duty_access: a late access and a late version delivered in the same turn") {
  const std::vector<std::string> filler = {Access("f1", "MP9", "2026-03-01T20:05:00Z", "LOGOUT")};
  const std::string access = Access("a1", "MP1", "2026-03-01T10:00:00Z", "SEARCH");
  auto rest_day_changed_at = [&](const std::string& changed) {
    return Roster("r1", "MP1", "S1", "REST_DAY", T(kShiftStart), T(kShiftEnd), changed);
  };
  // The access's decision (12:00) is overdue when it arrives, but in its turn it comes after the
  // version (11:00): the version counts, as for a timer set at the access.
  SUBCASE("the version in the same batch, after the access: alert") {
    CHECK(RunBatches({filler, {access, rest_day_changed_at("2026-03-01T11:00:00Z")}}).size() == 1);
  }
  SUBCASE("the version in the same batch, before the access: alert") {
    CHECK(RunBatches({filler, {rest_day_changed_at("2026-03-01T11:00:00Z"), access}}).size() == 1);
  }
  SUBCASE("the version in the next batch: the decision was made without it") {
    CHECK(RunBatches({filler, {access}, {rest_day_changed_at("2026-03-01T11:00:00Z")}}).empty());
  }
  SUBCASE("two accesses in one batch, the version covering both: the first alerts") {
    const std::string early = Access("a0", "MP1", "2026-03-01T09:00:00Z", "SEARCH");
    const auto alerts =
        RunBatches({filler, {access, early, rest_day_changed_at("2026-03-01T10:30:00Z")}});
    CHECK(AlertTimes(alerts) == std::vector<Millis>{P("2026-03-01T09:00:00Z")});
  }
}

TEST_CASE("off_duty_access: restarts with waiting accesses no version covers: the same alerts") {
  // a0's decision (11:00) passes before the late version r1 arrives, a1's (12:00) after it; MP1's
  // state is not touched in between, so a0 is still in it, undecided, at every restart point.
  const std::vector<std::string> lines = {
      Access("a0", "MP1", "2026-03-01T09:00:00Z", "SEARCH"),
      Access("a1", "MP1", "2026-03-01T10:00:00Z", "SEARCH"),
      Access("b1", "MP2", "2026-03-01T10:05:00Z", "SEARCH"),
      Access("f1", "MP9", "2026-03-01T11:10:00Z", "LOGOUT"),  // watermark 11:05: a0 due
      Roster("r1", "MP1", "S1", "REST_DAY", T(kShiftStart), T(kShiftEnd), "2026-03-01T08:00:00Z"),
      Roster("r2", "MP2", "S2", "SICK", T(kShiftStart), T(kShiftEnd), "2026-03-01T10:06:00Z"),
      Access("a2", "MP1", "2026-03-01T13:00:00Z", "SEARCH"),
      Access("f2", "MP9", "2026-03-01T16:00:00Z", "LOGOUT"),
  };
  const std::vector<v1::Envelope> events = ParseLines(lines);
  const v1::RulesConfig config = ConfigFrom({});
  RunSpec straight_spec;
  const Outputs straight = RunEvents(events, config, straight_spec);
  // MP1 at a1 (not a0), MP2 at b1.
  REQUIRE(straight.alerts.size() == 2);
  for (size_t restart_after = 1; restart_after < events.size(); ++restart_after) {
    CAPTURE(restart_after);
    RunSpec spec;
    spec.restart_after = restart_after;
    spec.check_round_trip = true;
    CHECK(RunEvents(events, config, spec).alert_ids == straight.alert_ids);
  }
  const auto alerts = Run(lines);
  CHECK(AlertTimes(alerts) ==
        std::vector<Millis>{P("2026-03-01T10:00:00Z"), P("2026-03-01T10:05:00Z")});
}

TEST_CASE("off_duty_access: duplicates by event_id are ignored and counted") {
  Harness h;
  h.Feed(RestDay());
  // Same event_id as the rest-day version but cancelling the shift: a duplicate, ignored.
  h.Feed(Roster("r1", "MP1", "S1", "CANCELLED", T(kShiftStart), T(kShiftEnd), "2026-02-26T10:00:00Z"));
  h.Feed(Access("a1", "MP1", "2026-03-01T10:00:00Z", "SEARCH"));
  h.Feed(Access("a1", "MP1", "2026-03-01T10:00:00Z", "SEARCH"));
  h.Finish();
  CHECK(h.metrics().duplicates == 2);
  CHECK(h.metrics().events_total() == 2);
  CHECK(h.AlertsFor(kRule).size() == 1);
}

TEST_CASE("off_duty_access: rules file settings") {
  const std::vector<std::string> sick = {RestDay("SICK"), Access("a1", "MP1", "2026-03-01T10:00:00Z", "SEARCH")};
  SUBCASE("severity override") {
    auto alerts = Run(sick, R"({"offDutyAccess": {"severity": "LOW"}})");
    REQUIRE(alerts.size() == 1);
    CHECK(alerts[0].severity() == v1::Alert::LOW);
  }
  SUBCASE("disabled") { CHECK(Run(sick, R"({"offDutyAccess": {"enabled": false}})").empty()); }
  SUBCASE("rosterGraceMinutes moves the as-of instant") {
    const Millis t = P("2026-03-01T10:00:00Z");
    auto on_duty_at = [&](Millis changed) {
      return std::vector<std::string>{
          RestDay(), Access("a1", "MP1", T(t), "SEARCH"),
          Roster("r2", "MP1", "S1", "ON_DUTY", T(kShiftStart), T(kShiftEnd), T(changed))};
    };
    const std::string rules = R"({"time": {"rosterGraceMinutes": 30}})";
    CHECK(Run(on_duty_at(t + 30 * kMinute), rules).empty());
    CHECK(Run(on_duty_at(t + 30 * kMinute + 1), rules).size() == 1);
    // With the default 2 h grace the same late change still counts.
    CHECK(Run(on_duty_at(t + 30 * kMinute + 1)).empty());
  }
}

TEST_CASE("off_duty_access: alert ids are deterministic") {
  const std::vector<std::string> lines = {
      RestDay(), Roster("r2", "MP1", "S2", "SICK", T(kShiftEnd), T(kShiftEnd + kDay), kPublished),
      Access("a1", "MP1", "2026-03-01T10:00:00Z", "SEARCH"),
      Access("a2", "MP1", "2026-03-01T10:02:00Z", "SEARCH"),
      Access("a3", "MP1", "2026-03-02T10:00:00Z", "LOGIN")};
  auto first = Run(lines);
  auto second = Run(lines);
  REQUIRE(first.size() == 2);
  CHECK(SortedIds(first) == SortedIds(second));
  // a2 arrives before a1, 2 minutes behind: same alerts, same ids.
  auto swapped = Run({lines[0], lines[1], lines[3], lines[2], lines[4]});
  CHECK(SortedIds(first) == SortedIds(swapped));
  // A different causing event gives a different id.
  auto other = Run({lines[0], lines[1], Access("a9", "MP1", "2026-03-01T10:00:00Z", "SEARCH"), lines[4]});
  REQUIRE(other.size() == 2);
  CHECK(SortedIds(other) != SortedIds(first));
}

}  // namespace vigil::testing
