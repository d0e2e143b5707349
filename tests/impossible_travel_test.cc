// impossible_travel (contract, rule 6): consecutive positioned accesses more than 50 km apart at
// more than 300 km/h (equal times: infinite speed); one alert per (officer, UTC day of the later).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "harness.h"
#include "rule_runner.h"
#include "registry.h"
#include "rules_config.h"

namespace vigil::testing {
namespace {

constexpr char kRule[] = "impossible_travel";
const Millis kT0 = ParseTime("2026-03-10T10:00:00Z").value();

struct Place {
  double lat, lon;
};
const Place kLondon{51.5074, -0.1278};
const Place kLeeds{53.8008, -1.5491};
const Place kLeicester{52.6369, -1.1398};

double Km(Place a, Place b) {  // the contract's great circle, computed independently
  const double r = 6371.0, d2r = M_PI / 180;
  double x = std::sin((b.lat - a.lat) * d2r / 2), y = std::sin((b.lon - a.lon) * d2r / 2);
  double h = x * x + std::cos(a.lat * d2r) * std::cos(b.lat * d2r) * y * y;
  return 2 * r * std::asin(std::sqrt(h));
}

std::string At(const std::string& id, Millis offset, Place p, const std::string& action = "SEARCH",
               const std::string& officer = "MP1") {
  return Access(id, officer, FormatTime(kT0 + offset), action, action == "SEARCH" ? "P1" : "", "",
                p.lat, p.lon);
}

std::vector<v1::Alert> Run(const std::vector<std::string>& lines, const std::string& rules = "{}") {
  return ReplayRule(kRule, lines, rules);
}

}  // namespace

TEST_CASE("impossible_travel: London then Leeds 30 minutes later fires MEDIUM") {
  auto alerts = Run({At("a1", 0, kLondon), At("a2", 30 * kMinute, kLeeds)});
  REQUIRE(alerts.size() == 1);
  const auto& a = alerts[0];
  CHECK(a.severity() == v1::Alert::MEDIUM);
  CHECK(a.subject_id().empty());
  CHECK(ToMillis(a.window_start()) == kT0);
  CHECK(ToMillis(a.window_end()) == kT0 + 30 * kMinute);
  CHECK(a.score() == doctest::Approx(Km(kLondon, kLeeds)).epsilon(0.001));
  CHECK(a.evidence_size() == 2);
  CHECK(a.summary().find("km/h") != std::string::npos);
}

TEST_CASE("impossible_travel: just under 300 km/h or not over 50 km does not fire") {
  const double km = Km(kLondon, kLeeds);
  const Millis at_300 = static_cast<Millis>(km / 300 * kHour);
  CHECK(Run({At("a1", 0, kLondon), At("a2", at_300 - kSecond, kLeeds)}).size() == 1);
  CHECK(Run({At("a1", 0, kLondon), At("a2", at_300 + kSecond, kLeeds)}).empty());
  // Same instant: infinite speed, but only beyond 50 km.
  const Place north49{10 + 49.0 / 111.195, 10}, north51{10 + 51.0 / 111.195, 10};
  CHECK(Km({10, 10}, north49) < 50);
  CHECK(Km({10, 10}, north51) > 50);
  CHECK(Run({At("a1", 0, {10, 10}), At("a2", 0, north49)}).empty());
  CHECK(Run({At("a1", 0, {10, 10}), At("a2", 0, north51)}).size() == 1);
}

TEST_CASE("impossible_travel: only consecutive positioned events form pairs; LOGOUT counts") {
  // Accesses without a position are skipped; LOGOUT takes part.
  CHECK(Run({At("a1", 0, kLondon, "LOGOUT"), At("a2", 10 * kMinute, {0, 0}, "LOGIN"),
             At("a3", 30 * kMinute, kLeeds, "LOGIN")}).size() == 1);
  // With minKm 200 the London-Leeds pair would alert, but it is not consecutive: both legs via
  // Leicester are under 200 km.
  const std::string rules = R"({"impossibleTravel": {"minKm": 200}})";
  CHECK(Km(kLondon, kLeicester) < 200);
  CHECK(Km(kLeicester, kLeeds) < 200);
  CHECK(Run({At("a1", 0, kLondon), At("a2", 20 * kMinute, kLeicester), At("a3", 40 * kMinute, kLeeds)},
            rules).empty());
  CHECK(Run({At("a1", 0, kLondon), At("a3", 40 * kMinute, kLeeds)}, rules).size() == 1);
}

TEST_CASE("impossible_travel: at most one alert per officer and UTC day of the later event") {
  auto alerts = Run({At("a1", 0, kLondon), At("a2", 30 * kMinute, kLeeds), At("a3", kHour, kLondon),
                     At("a4", 90 * kMinute, kLeeds), At("a5", kDay, kLondon),
                     At("a6", kDay + 30 * kMinute, kLeeds)});
  CHECK(alerts.size() == 2);
  // Across midnight, the later event's day decides.
  const Millis before_midnight = DayStart(kT0) + kDay - 10 * kMinute - kT0;
  auto night = Run({At("a1", before_midnight, kLondon), At("a2", before_midnight + 20 * kMinute, kLeeds)});
  REQUIRE(night.size() == 1);
  CHECK(FormatDay(ToMillis(night[0].window_end())) == FormatDay(DayStart(kT0) + kDay));
}

TEST_CASE("impossible_travel: order within the bound, late events, too-late events") {
  auto a = Run({At("a1", 0, kLondon), At("a2", 2 * kMinute, kLeeds)});
  auto b = Run({At("a2", 2 * kMinute, kLeeds), At("a1", 0, kLondon)});
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  CHECK(a[0].alert_id() == b[0].alert_id());
  // a2 arrives 20 hours behind the watermark: it decides the pair it ends.
  CHECK(Run({At("a1", 0, kLondon), At("x", 20 * kHour, kLondon, "SEARCH", "MP2"),
             At("a2", 30 * kMinute, kLeeds)}).size() == 1);
  // Beyond the access lateness (24 h) it is dead-lettered.
  Harness h;
  for (const auto& line : {At("a1", 0, kLondon), At("x", 30 * kHour, kLondon, "SEARCH", "MP2"),
                           At("a2", 30 * kMinute, kLeeds)}) {
    h.Feed(line);
  }
  h.Finish();
  CHECK(h.AlertsFor(kRule).empty());
  CHECK(h.metrics().too_late == 1);
}

TEST_CASE("impossible_travel: a late event between a decided pair does not change that decision") {
  // London 10:00, Leeds 12:00 (136 km/h: no alert) is decided; then a late Leeds at 10:20 arrives:
  // its own pair (London 10:00, Leeds 10:20) alerts.
  auto alerts = Run({At("a1", 0, kLondon), At("a3", 2 * kHour, kLeeds),
                     At("x", 10 * kHour, kLondon, "SEARCH", "MP2"), At("a2", 20 * kMinute, kLeeds)});
  REQUIRE(alerts.size() == 1);
  CHECK(ToMillis(alerts[0].window_end()) == kT0 + 20 * kMinute);
}

TEST_CASE("impossible_travel: parameters from the rules file") {
  CHECK(Run({At("a1", 0, kLondon), At("a2", 30 * kMinute, kLeeds)},
            R"({"impossibleTravel": {"maxKmh": 600}})").empty());
  CHECK(Run({At("a1", 0, kLondon), At("a2", 30 * kMinute, kLeeds)},
            R"({"impossibleTravel": {"minKm": 300}})").empty());
  auto high = Run({At("a1", 0, kLondon), At("a2", 30 * kMinute, kLeeds)},
                  R"({"impossibleTravel": {"severity": "HIGH"}})");
  REQUIRE(high.size() == 1);
  CHECK(high[0].severity() == v1::Alert::HIGH);
}

// One access event at `p` for RuleRunner (offsets differ by time and by the alerts so far).
EventView TravelEvent(const RuleRunner& run, std::string_view id, Millis t, Place p,
                      std::string_view site = "") {
  EventView event;
  event.stream = Stream::kAccess;
  event.officer_id = "MP1";
  event.event_id = id;
  event.time = t;
  event.site_id = site;
  event.lat = p.lat;
  event.lon = p.lon;
  event.partition = 3;
  event.offset = 1000 + static_cast<int64_t>(run.alerts().size()) + t / kSecond;
  return event;
}

std::vector<std::string> Summaries(const RuleRunner& run) {
  std::vector<std::string> out;
  for (const RuleAlert& a : run.alerts()) {
    out.push_back(a.summary + " " + a.evidence[0].event_id.str() + " " +
                  a.evidence[1].event_id.str() + " " + std::to_string(a.evidence[1].offset));
  }
  return out;
}

TEST_CASE("impossible_travel: the compact state encodes and decodes to the same decisions") {
  // Long ids (beyond the inline 30 bytes), sharing most of their bytes or none; no site; a site
  // seen at two positions; equal times; late events inserted before the latest; days apart, so
  // that points are forgotten between.
  const std::string long_id(40, 'x');
  struct In {
    std::string id;
    Millis t;
    Place p;
    std::string site;
  };
  std::vector<In> events;
  for (int day = 0; day < 5; ++day) {
    const Millis d = day * kDay;
    events.push_back({long_id + "-" + std::to_string(day) + "-1", d, kLondon, "T-LON"});
    events.push_back({long_id + "-" + std::to_string(day) + "-2", d + 20 * kMinute, kLeeds, ""});
    events.push_back({"b" + std::to_string(day), d + 20 * kMinute, kLondon, "T-LON"});  // equal time
    events.push_back({"c" + std::to_string(day), d + 3 * kHour, kLeeds, "T-LON"});  // moved site
    events.push_back({"d" + std::to_string(day), d + 2 * kHour, kLeicester, ""});   // late
    events.push_back({"a" + std::to_string(day), d + 20 * kMinute, kLeicester, "T-LEI"});  // late, tie
  }
  events.push_back({"z", 30 * kDay, kLeeds, "T-LEE"});  // after everything is forgotten
  events.push_back({"z2", 30 * kDay + kMinute, kLondon, ""});
  RuleRunner plain(kImpossibleTravelRule, false), reencoded(kImpossibleTravelRule, true);
  for (const In& e : events) {
    plain.Feed(TravelEvent(plain, e.id, kT0 + e.t, e.p, e.site));
    reencoded.Feed(TravelEvent(reencoded, e.id, kT0 + e.t, e.p, e.site));
  }
  CHECK(plain.alerts().size() == 6);
  CHECK(Summaries(plain) == Summaries(reencoded));
  CHECK(Summaries(plain)[0].find("T-LON") != std::string::npos);
  CHECK(Summaries(plain)[5].find("(51.5074, -0.1278)") != std::string::npos);
}

TEST_CASE("impossible_travel: a point costs at most 32 bytes in memory and 16 encoded") {
  // A realistic day: ids differing in their last digits, a few terminals, minutes apart.
  RuleRunner run(kImpossibleTravelRule, false);
  const Place terminals[] = {kLondon, kLeicester, {51.5, -0.12}};
  const size_t n = 2000;
  for (size_t i = 0; i < n; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "acc-MP001234-%08zu", 5000000 + i * 37);
    const size_t site = (i / 7) % 3;
    const std::string terminal = "TERM-" + std::to_string(site);
    run.Feed(TravelEvent(run, id, kT0 + static_cast<Millis>(i) * 40 * kSecond, terminals[site],
                         terminal));
  }
  REQUIRE(run.state());
  // 2,000 points 40 s apart span 22 hours: none can be forgotten yet.
  CHECK(run.state()->MemoryBytes() <= 32 * n);
  CHECK(run.EncodedBytes() <= 16 * n);
  MESSAGE("memory bytes per point " << run.state()->MemoryBytes() / double(n) << ", encoded "
                                    << run.EncodedBytes() / double(n));
}

}  // namespace vigil::testing
