// Engine building blocks: Watermarks, CountWindow, EffectiveRoster.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "count_window.h"
#include "effective_roster.h"
#include "rules_config.h"
#include "state_store.h"
#include "watermarks.h"

namespace vigil {
namespace {

constexpr Millis kLag = 5 * kMinute;
const SourcePartition kP1{0, 0};
const SourcePartition kP2{0, 1};
const SourcePartition kP3{1, 0};

state::EventRef Ref(const std::string& id, Millis t) {
  state::EventRef ref;
  ref.set_event_id(id);
  ref.set_time_ms(t);
  return ref;
}

std::vector<std::string> IdsOf(const std::vector<state::EventRef>& refs) {
  std::vector<std::string> ids;
  for (const auto& r : refs) ids.push_back(r.event_id());
  return ids;
}

}  // namespace

// ---- Watermarks ----

TEST_CASE("Watermarks: a tracked partition with no events holds the engine at -infinity") {
  Watermarks w(kLag);
  w.Track(kP1);
  w.Track(kP2);
  CHECK(w.Current() == kMinTime);
  w.Observe(kP1, 10 * kHour);
  CHECK(w.PartitionWatermark(kP1) == 10 * kHour - kLag);
  CHECK(w.PartitionWatermark(kP2) == kMinTime);
  CHECK(w.Current() == kMinTime);  // P2 has nothing yet and is not idle
  w.Observe(kP2, 8 * kHour);
  CHECK(w.Current() == 8 * kHour - kLag);  // the minimum over non-idle partitions
}

TEST_CASE("Watermarks: a partition's watermark trails its highest event time") {
  Watermarks w(kLag);
  w.Track(kP1);
  w.Observe(kP1, 10 * kHour);
  w.Observe(kP1, 9 * kHour);  // out of order: does not move it back
  CHECK(w.MaxEventTime(kP1) == 10 * kHour);
  CHECK(w.PartitionWatermark(kP1) == 10 * kHour - kLag);
  CHECK(w.Current() == 10 * kHour - kLag);
  w.Observe(kP1, 11 * kHour);
  CHECK(w.Current() == 11 * kHour - kLag);
}

TEST_CASE("Watermarks: idle only by SetIdle; idle partitions are left out of the minimum") {
  Watermarks w(kLag);
  w.Track(kP1);
  w.Track(kP2);
  w.Observe(kP1, 10 * kHour);
  w.Observe(kP2, 2 * kHour);
  // Asking many times changes nothing: there is no idleness by silence.
  for (int i = 0; i < 100; ++i) CHECK(w.Current() == 2 * kHour - kLag);
  w.SetIdle(kP2);
  CHECK(w.Current() == 10 * kHour - kLag);
  SUBCASE("a partition that was never observed can be idle too") {
    Watermarks v(kLag);
    v.Track(kP1);
    v.Track(kP3);
    v.Observe(kP1, 5 * kHour);
    CHECK(v.Current() == kMinTime);
    v.SetIdle(kP3);
    CHECK(v.Current() == 5 * kHour - kLag);
  }
}

TEST_CASE("Watermarks: the engine watermark never goes back") {
  Watermarks w(kLag);
  w.Track(kP1);
  w.Track(kP2);
  w.Observe(kP1, 10 * kHour);
  w.Observe(kP2, 2 * kHour);
  w.SetIdle(kP2);
  CHECK(w.Current() == 10 * kHour - kLag);
  // P2 wakes up with old events: the minimum drops, the engine watermark does not.
  w.Observe(kP2, 3 * kHour);
  CHECK(w.Current() == 10 * kHour - kLag);
  // A new partition with no events: still no going back.
  w.Track(kP3);
  CHECK(w.Current() == 10 * kHour - kLag);
  // It moves on once every non-idle partition is past it.
  w.Observe(kP2, 12 * kHour);
  w.Observe(kP3, 13 * kHour);
  w.Observe(kP1, 14 * kHour);
  CHECK(w.Current() == 12 * kHour - kLag);
}

TEST_CASE("Watermarks: when every partition is idle, the greatest partition watermark; Finish is +infinity") {
  Watermarks w(kLag);
  w.Track(kP1);
  w.Track(kP2);
  w.Observe(kP1, 10 * kHour);
  w.Observe(kP2, 4 * kHour);
  w.SetIdle(kP1);
  w.SetIdle(kP2);
  CHECK(w.Current() == 10 * kHour - kLag);
  w.Finish();
  CHECK(w.Current() == kMaxTime);
}

TEST_CASE("Watermarks: PartitionWatermark and Restore") {
  Watermarks w(kLag);
  w.Track(kP1);
  w.Track(kP2);
  w.Observe(kP1, 10 * kHour);
  CHECK(w.PartitionWatermark(kP1) == 10 * kHour - kLag);
  CHECK(w.PartitionWatermark(kP2) == kMinTime);  // P2 has no events yet
  w.Restore(kP2, 3 * kHour);
  CHECK(w.HasEvents(kP2));
  CHECK(w.MaxEventTime(kP2) == 3 * kHour);
  CHECK(w.PartitionWatermark(kP2) == 3 * kHour - kLag);
  CHECK(w.Current() == 3 * kHour - kLag);
}

// ---- CountWindow ----

TEST_CASE("CountWindow: at least N within W, inclusive") {
  const Millis W = 30 * kDay;
  CountWindow window(W, 3);
  SUBCASE("t2 - t1 == W counts") {
    state::CountWindowState s;
    CHECK_FALSE(window.Add(s, Ref("e1", 0)));
    CHECK_FALSE(window.Add(s, Ref("e2", W / 2)));
    auto counted = window.Add(s, Ref("e3", W));
    REQUIRE(counted);
    CHECK(IdsOf(*counted) == std::vector<std::string>{"e1", "e2", "e3"});
    CHECK(s.has_alert());
    CHECK(s.last_alert_end_ms() == W);
  }
  SUBCASE("W + 1 ms does not") {
    state::CountWindowState s;
    window.Add(s, Ref("e1", 0));
    window.Add(s, Ref("e2", W / 2));
    CHECK_FALSE(window.Add(s, Ref("e3", W + 1)));
    CHECK_FALSE(s.has_alert());
  }
}

TEST_CASE("CountWindow: after an alert, events up to its window_end no longer count") {
  CountWindow window(10 * kDay, 2);
  state::CountWindowState s;
  window.Add(s, Ref("e1", 0));
  auto first = window.Add(s, Ref("e2", kDay));
  REQUIRE(first);
  CHECK_FALSE(window.Add(s, Ref("e3", 2 * kDay)));  // e1, e2 consumed
  auto second = window.Add(s, Ref("e4", 3 * kDay));
  REQUIRE(second);
  CHECK(IdsOf(*second) == std::vector<std::string>{"e3", "e4"});
  CHECK(s.last_alert_end_ms() == 3 * kDay);
}

TEST_CASE("CountWindow: ties by event_id; a late event decides with the events before it") {
  CountWindow window(kDay, 3);
  SUBCASE("equal times in event_id order, whatever the insertion order") {
    state::CountWindowState s;
    CHECK_FALSE(window.Add(s, Ref("c", kHour)));
    CHECK_FALSE(window.Add(s, Ref("a", kHour)));  // decides with a only (c sorts after it)
    auto counted = window.Add(s, Ref("b", kHour));  // b precedes c: counts a, b
    CHECK_FALSE(counted);
    REQUIRE(s.events_size() == 3);
    CHECK(s.events(0).event_id() == "a");
    CHECK(s.events(1).event_id() == "b");
    CHECK(s.events(2).event_id() == "c");
    auto next = window.Add(s, Ref("d", kHour));
    REQUIRE(next);
    CHECK(IdsOf(*next) == std::vector<std::string>{"a", "b", "c", "d"});
  }
  SUBCASE("a late event in the middle counts only what precedes it") {
    state::CountWindowState s;
    window.Add(s, Ref("e1", 0));
    window.Add(s, Ref("e3", 2 * kHour));
    CHECK_FALSE(window.Add(s, Ref("e2", kHour)));  // [e1, e2]: 2
    auto counted = window.Add(s, Ref("e4", 3 * kHour));
    REQUIRE(counted);
    CHECK(IdsOf(*counted) == std::vector<std::string>{"e1", "e2", "e3", "e4"});
  }
}

TEST_CASE("CountWindow: expiry keeps what a future decision can count") {
  const Millis W = 10 * kDay;
  CountWindow window(W, 3);
  state::CountWindowState s;
  window.Add(s, Ref("e1", 0));
  window.Add(s, Ref("e2", 5 * kDay));
  CHECK(window.ExpiryTime(s, kDay) == 5 * kDay + W + kDay);
  // A future event at >= horizon can reach back W: e1 (0) is useless once horizon > W.
  CHECK_FALSE(window.Expire(s, W));
  CHECK(s.events_size() == 2);
  CHECK_FALSE(window.Expire(s, W + 1));
  REQUIRE(s.events_size() == 1);
  CHECK(s.events(0).event_id() == "e2");
  CHECK(window.Expire(s, 5 * kDay + W + 1));
  CHECK(s.events_size() == 0);
}

// ---- EffectiveRoster ----

namespace {

v1::RosterChange Version(const std::string& id, const std::string& shift, v1::RosterChange::Status status,
                         Millis start, Millis end, Millis changed, const std::string& officer = "MP1") {
  v1::RosterChange v;
  v.set_event_id(id);
  v.set_officer_id(officer);
  v.set_unit("U1");
  v.set_shift_id(shift);
  v.set_status(status);
  *v.mutable_start() = ToTimestamp(start);
  *v.mutable_end() = ToTimestamp(end);
  *v.mutable_changed_at() = ToTimestamp(changed);
  return v;
}

struct RosterFixture {
  StateStore store{NewMemoryBackend()};
  RosterCache cache;
  TimeSettings time = TimeSettings::From(DefaultRulesConfig());
  EffectiveRoster roster{KeySpace(store, "roster"), &cache};

  void Add(const v1::RosterChange& v) { roster.Add(v, Ref(v.event_id(), ToMillis(v.changed_at())), time); }
  // The effective statuses of MP1's shifts as of `as_of`, as "shift:STATUS" in shift_id order.
  std::vector<std::string> AsOf(Millis as_of, EffectiveRoster* other = nullptr) {
    std::vector<std::string> out;
    for (const auto& s : (other ? other : &roster)->ShiftsAsOf("MP1", as_of)) {
      out.push_back(s.shift_id + ":" + v1::RosterChange::Status_Name(s.status));
    }
    return out;
  }
};

constexpr Millis kDay1 = 20 * kDay;  // some day
using S = v1::RosterChange;

}  // namespace

TEST_CASE("EffectiveRoster: the version with the greatest changed_at wins, as of an instant") {
  RosterFixture f;
  f.Add(Version("r3", "S1", S::ON_DUTY, kDay1, kDay1 + kDay, 30 * kHour));  // arrives first
  f.Add(Version("r1", "S1", S::REST_DAY, kDay1, kDay1 + kDay, 10 * kHour));
  f.Add(Version("r2", "S1", S::SICK, kDay1, kDay1 + kDay, 20 * kHour));
  CHECK(f.AsOf(10 * kHour - 1).empty());  // no version yet
  CHECK(f.AsOf(10 * kHour) == std::vector<std::string>{"S1:REST_DAY"});  // changed_at <= as_of
  CHECK(f.AsOf(20 * kHour - 1) == std::vector<std::string>{"S1:REST_DAY"});
  CHECK(f.AsOf(20 * kHour) == std::vector<std::string>{"S1:SICK"});
  CHECK(f.AsOf(30 * kHour) == std::vector<std::string>{"S1:ON_DUTY"});
  CHECK(f.AsOf(kMaxTime) == std::vector<std::string>{"S1:ON_DUTY"});
  auto shifts = f.roster.ShiftsAsOf("MP1", 25 * kHour);
  REQUIRE(shifts.size() == 1);
  CHECK(shifts[0].ref.event_id() == "r2");
  CHECK(shifts[0].start == kDay1);
  CHECK(shifts[0].end == kDay1 + kDay);
}

TEST_CASE("EffectiveRoster: equal changed_at: the greater event_id wins (byte order)") {
  RosterFixture f;
  f.Add(Version("r2", "S1", S::SICK, kDay1, kDay1 + kDay, 10 * kHour));
  f.Add(Version("r10", "S1", S::ON_DUTY, kDay1, kDay1 + kDay, 10 * kHour));  // "r10" < "r2"
  f.Add(Version("q9", "S2", S::CANCELLED, kDay1, kDay1 + kDay, 10 * kHour));
  f.Add(Version("r1", "S2", S::REST_DAY, kDay1, kDay1 + kDay, 10 * kHour));
  CHECK(f.AsOf(kMaxTime) == std::vector<std::string>{"S1:SICK", "S2:REST_DAY"});
}

TEST_CASE("EffectiveRoster: CANCELLED removes the shift; a later version brings it back") {
  RosterFixture f;
  f.Add(Version("r1", "S1", S::REST_DAY, kDay1, kDay1 + kDay, 10 * kHour));
  f.Add(Version("r2", "S1", S::CANCELLED, kDay1, kDay1 + kDay, 11 * kHour));
  f.Add(Version("r3", "S1", S::ANNUAL_LEAVE, kDay1, kDay1 + kDay, 12 * kHour));
  CHECK(f.AsOf(10 * kHour) == std::vector<std::string>{"S1:REST_DAY"});
  CHECK(f.AsOf(11 * kHour).empty());
  CHECK(f.AsOf(12 * kHour) == std::vector<std::string>{"S1:ANNUAL_LEAVE"});
}

TEST_CASE("EffectiveRoster: Covering is [start, end); Overlapping needs positive length") {
  RosterFixture f;
  f.Add(Version("r1", "SB", S::SICK, kDay1, kDay1 + kDay, 0));
  f.Add(Version("r2", "SA", S::ON_DUTY, kDay1 + 8 * kHour, kDay1 + 16 * kHour, 0));
  f.Add(Version("r3", "SC", S::REST_DAY, kDay1, kDay1 + kDay, 0, "MP2"));  // another officer
  auto ids = [](const std::vector<EffectiveShift>& shifts) {
    std::vector<std::string> out;
    for (const auto& s : shifts) out.push_back(s.shift_id);
    return out;
  };
  CHECK(ids(f.roster.Covering("MP1", kDay1, kMaxTime)) == std::vector<std::string>{"SB"});
  CHECK(ids(f.roster.Covering("MP1", kDay1 - 1, kMaxTime)).empty());
  CHECK(ids(f.roster.Covering("MP1", kDay1 + 8 * kHour, kMaxTime)) == std::vector<std::string>{"SA", "SB"});
  CHECK(ids(f.roster.Covering("MP1", kDay1 + 16 * kHour, kMaxTime)) == std::vector<std::string>{"SB"});
  CHECK(ids(f.roster.Covering("MP1", kDay1 + kDay, kMaxTime)).empty());
  CHECK(ids(f.roster.Covering("MP1", kDay1 + kDay - 1, kMaxTime)) == std::vector<std::string>{"SB"});
  // Touching intervals do not overlap.
  CHECK(ids(f.roster.Overlapping("MP1", kDay1 + kDay, kDay1 + 2 * kDay, kMaxTime)).empty());
  CHECK(ids(f.roster.Overlapping("MP1", kDay1 - kHour, kDay1, kMaxTime)).empty());
  CHECK(ids(f.roster.Overlapping("MP1", kDay1 + 15 * kHour, kDay1 + 17 * kHour, kMaxTime)) ==
        std::vector<std::string>{"SA", "SB"});
  CHECK(ids(f.roster.Covering("MP2", kDay1, kMaxTime)) == std::vector<std::string>{"SC"});
  // as_of before any version: nothing.
  CHECK(f.roster.Covering("MP1", kDay1, -1).empty());
}

TEST_CASE("EffectiveRoster: answers come from the store, not only the cache") {
  RosterFixture f;
  f.Add(Version("r1", "S1", S::REST_DAY, kDay1, kDay1 + kDay, 10 * kHour));
  f.Add(Version("r2", "S1", S::SICK, kDay1, kDay1 + kDay, 20 * kHour));
  f.store.Checkpoint(false);
  RosterCache fresh_cache;
  EffectiveRoster fresh(KeySpace(f.store, "roster"), &fresh_cache);
  CHECK(f.AsOf(15 * kHour, &fresh) == std::vector<std::string>{"S1:REST_DAY"});
  CHECK(f.AsOf(kMaxTime, &fresh) == std::vector<std::string>{"S1:SICK"});
}

TEST_CASE("EffectiveRoster: a shift is forgotten only when every version ended before the horizon") {
  RosterFixture f;
  f.Add(Version("r1", "S1", S::REST_DAY, kDay1, kDay1 + kDay, 0));
  f.Add(Version("r2", "S1", S::REST_DAY, kDay1 + kDay, kDay1 + 2 * kDay, kHour));  // moved later
  CHECK_FALSE(f.roster.ForgetIfEnded("MP1", "S1", kDay1 + 2 * kDay));
  CHECK(f.AsOf(kMaxTime).size() == 1);
  CHECK(f.roster.ForgetIfEnded("MP1", "S1", kDay1 + 2 * kDay + 1));
  CHECK(f.AsOf(kMaxTime).empty());
}

}  // namespace vigil
