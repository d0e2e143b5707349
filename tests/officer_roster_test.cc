// OfficerRoster (engine/rulekit/officer_roster.h) in memory: the contract's effective roster
// (greatest changed_at, ties by greater event_id, among changed_at <= as_of; CANCELLED removes),
// its covering and overlapping queries, forgetting and the durable form.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "events.pb.h"
#include "rulekit/officer_roster.h"

namespace vigil {
namespace {

constexpr Millis kT0 = 1'000'000'000'000;  // an arbitrary instant; shifts are placed around it

// A roster event as the core delivers it: event_id, shift_id, status, [start, end), changed_at.
EventView Version(const std::string& event_id, const std::string& shift_id, int32_t status,
                  Millis start, Millis end, Millis changed_at) {
  // The views must outlive the call: keep the strings in storage that never moves.
  static std::vector<std::unique_ptr<std::string>> strings;
  strings.push_back(std::make_unique<std::string>(event_id));
  const std::string& id = *strings.back();
  strings.push_back(std::make_unique<std::string>(shift_id));
  EventView view;
  view.stream = Stream::kRoster;
  view.event_id = id;
  view.officer_id = "MP1";
  view.shift_id = *strings.back();
  view.status = status;
  view.start = start;
  view.end = end;
  view.time = changed_at;
  view.partition = 2;
  view.offset = 17;
  return view;
}

// "shift_id:event_id" for each shift, in the order returned.
std::vector<std::string> Names(const std::vector<EffectiveShiftView>& shifts) {
  std::vector<std::string> names;
  for (const auto& s : shifts) {
    names.push_back(std::string(s.shift_id) + ":" + std::string(s.ref->event_id.view()));
  }
  return names;
}

std::vector<std::string> AsOf(const OfficerRoster& roster, Millis as_of) {
  std::vector<EffectiveShiftView> out;
  roster.ShiftsAsOf(as_of, &out);
  return Names(out);
}

const int32_t kOnDuty = v1::RosterChange::ON_DUTY;
const int32_t kSick = v1::RosterChange::SICK;
const int32_t kCancelled = v1::RosterChange::CANCELLED;

}  // namespace

TEST_CASE("officer_roster: the effective version is the latest changed_at, whatever the arrival order") {
  OfficerRoster a, b;
  const EventView v1 = Version("r1", "S1", kOnDuty, kT0, kT0 + kHour, kT0 - 3 * kDay);
  const EventView v2 = Version("r2", "S1", kSick, kT0, kT0 + 2 * kHour, kT0 - 2 * kDay);
  const EventView v3 = Version("r3", "S1", kOnDuty, kT0, kT0 + 3 * kHour, kT0 - kDay);
  for (const auto* v : {&v1, &v2, &v3}) a.Add(*v);
  for (const auto* v : {&v3, &v1, &v2}) b.Add(*v);
  for (const OfficerRoster* roster : {&a, &b}) {
    CHECK(AsOf(*roster, kT0 - 4 * kDay).empty());
    CHECK(AsOf(*roster, kT0 - 3 * kDay) == std::vector<std::string>{"S1:r1"});  // changed_at <= as_of
    CHECK(AsOf(*roster, kT0 - 2 * kDay - 1) == std::vector<std::string>{"S1:r1"});
    CHECK(AsOf(*roster, kT0 - 2 * kDay) == std::vector<std::string>{"S1:r2"});
    CHECK(AsOf(*roster, kT0) == std::vector<std::string>{"S1:r3"});
    std::vector<EffectiveShiftView> out;
    roster->ShiftsAsOf(kT0 - 2 * kDay, &out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].status == kSick);
    CHECK(out[0].start == kT0);
    CHECK(out[0].end == kT0 + 2 * kHour);
    CHECK(out[0].ref->time == kT0 - 2 * kDay);
    CHECK(out[0].ref->partition == 2);
    CHECK(out[0].ref->offset == 17);
    CHECK(out[0].ref->stream == static_cast<uint8_t>(Stream::kRoster));
  }
}

TEST_CASE("officer_roster: equal changed_at is decided by the greater event_id") {
  for (bool reversed : {false, true}) {
    OfficerRoster roster;
    const EventView low = Version("r1", "S1", kOnDuty, kT0, kT0 + kHour, kT0 - kDay);
    const EventView high = Version("r2", "S1", kSick, kT0, kT0 + kHour, kT0 - kDay);
    roster.Add(reversed ? high : low);
    roster.Add(reversed ? low : high);
    CHECK(AsOf(roster, kT0) == std::vector<std::string>{"S1:r2"});
  }
}

TEST_CASE("officer_roster: a CANCELLED effective version removes the shift until a later version") {
  OfficerRoster roster;
  roster.Add(Version("r1", "S1", kOnDuty, kT0, kT0 + kHour, kT0 - 3 * kDay));
  roster.Add(Version("r2", "S1", kCancelled, kT0, kT0 + kHour, kT0 - 2 * kDay));
  roster.Add(Version("r3", "S1", kSick, kT0, kT0 + kHour, kT0 - kDay));
  CHECK(AsOf(roster, kT0 - 3 * kDay) == std::vector<std::string>{"S1:r1"});
  CHECK(AsOf(roster, kT0 - 2 * kDay).empty());
  CHECK(AsOf(roster, kT0 - kDay) == std::vector<std::string>{"S1:r3"});
  std::vector<EffectiveShiftView> out;
  roster.Covering(kT0, kT0 - 2 * kDay, &out);
  CHECK(out.empty());
}

TEST_CASE("officer_roster: shifts come ordered by shift_id; Covering is [start, end)") {
  OfficerRoster roster;
  roster.Add(Version("r9", "S3", kOnDuty, kT0 + kHour, kT0 + 2 * kHour, kT0 - kDay));
  roster.Add(Version("r8", "S1", kSick, kT0, kT0 + 2 * kHour, kT0 - kDay));
  roster.Add(Version("r7", "S2", kOnDuty, kT0 - kHour, kT0, kT0 - kDay));
  CHECK(AsOf(roster, kT0) == std::vector<std::string>{"S1:r8", "S2:r7", "S3:r9"});
  std::vector<EffectiveShiftView> out = {EffectiveShiftView{}};  // cleared first
  roster.Covering(kT0, kT0, &out);
  CHECK(Names(out) == std::vector<std::string>{"S1:r8"});  // S2 ends at kT0: not covering
  roster.Covering(kT0 - 1, kT0, &out);
  CHECK(Names(out) == std::vector<std::string>{"S2:r7"});
  roster.Covering(kT0 + kHour, kT0, &out);
  CHECK(Names(out) == std::vector<std::string>{"S1:r8", "S3:r9"});
  roster.Covering(kT0 + 2 * kHour, kT0, &out);
  CHECK(out.empty());
}

TEST_CASE("officer_roster: MayCover looks at every version held, effective or not") {
  const uint32_t sick = OfficerRoster::StatusBit(kSick);
  OfficerRoster roster;
  CHECK_FALSE(roster.MayCover(kT0, sick));
  roster.Add(Version("r1", "S1", kOnDuty, kT0, kT0 + kHour, kT0 - 3 * kDay));
  CHECK_FALSE(roster.MayCover(kT0, sick));
  CHECK(roster.MayCover(kT0, OfficerRoster::StatusBit(kOnDuty)));
  // A SICK version later cancelled: no effective shift is sick, but a query as of before the
  // cancellation can return it, so it may cover.
  roster.Add(Version("r2", "S2", kSick, kT0 - kHour, kT0 + kHour, kT0 - 2 * kDay));
  roster.Add(Version("r3", "S2", kCancelled, kT0 - kHour, kT0 + kHour, kT0 - kDay));
  CHECK(roster.MayCover(kT0 - kHour, sick));
  CHECK(roster.MayCover(kT0 + kHour - 1, sick));
  CHECK_FALSE(roster.MayCover(kT0 + kHour, sick));  // [start, end)
  CHECK_FALSE(roster.MayCover(kT0 - kHour - 1, sick));
  std::vector<EffectiveShiftView> out;
  roster.Covering(kT0, kT0 - 2 * kDay, &out);
  CHECK(Names(out) == std::vector<std::string>{"S1:r1", "S2:r2"});
}

TEST_CASE("officer_roster: Overlapping needs a positive length in common") {
  OfficerRoster roster;
  roster.Add(Version("r1", "S1", kOnDuty, kT0, kT0 + kHour, kT0 - kDay));
  std::vector<EffectiveShiftView> out;
  roster.Overlapping(kT0 + kHour, kT0 + 2 * kHour, kT0, &out);
  CHECK(out.empty());  // touching at the end
  roster.Overlapping(kT0 - kHour, kT0, kT0, &out);
  CHECK(out.empty());  // touching at the start
  roster.Overlapping(kT0 + kHour - 1, kT0 + 2 * kHour, kT0, &out);
  CHECK(Names(out) == std::vector<std::string>{"S1:r1"});
  roster.Overlapping(kT0 - kHour, kT0 + 1, kT0, &out);
  CHECK(Names(out) == std::vector<std::string>{"S1:r1"});
  roster.Overlapping(kT0 + 10, kT0 + 20, kT0, &out);  // inside
  CHECK(Names(out) == std::vector<std::string>{"S1:r1"});
  roster.Overlapping(kT0 + 10, kT0 + 20, kT0 - kDay - 1, &out);  // not yet published
  CHECK(out.empty());
}

TEST_CASE("officer_roster: ForgetEnded forgets a shift only when no version ends at or after the horizon") {
  OfficerRoster roster;
  roster.Add(Version("r1", "S1", kOnDuty, kT0, kT0 + kHour, kT0 - kDay));
  roster.Add(Version("r2", "S1", kOnDuty, kT0, kT0 + 5 * kHour, kT0 - kDay + 1));  // moved later
  roster.Add(Version("r3", "S1", kOnDuty, kT0, kT0 + kHour, kT0 - kDay + 2));      // and back
  roster.Add(Version("r4", "S2", kSick, kT0, kT0 + 2 * kHour, kT0 - kDay));
  CHECK(roster.LatestEnd() == kT0 + 5 * kHour);
  roster.ForgetEnded(kT0 + 2 * kHour);  // S2's end equals the horizon: kept
  CHECK(AsOf(roster, kT0) == std::vector<std::string>{"S1:r3", "S2:r4"});
  roster.ForgetEnded(kT0 + 2 * kHour + 1);
  CHECK(AsOf(roster, kT0) == std::vector<std::string>{"S1:r3"});  // r2 keeps S1
  roster.ForgetEnded(kT0 + 5 * kHour + 1);
  CHECK(roster.empty());
  CHECK(roster.LatestEnd() == 0);
}

TEST_CASE("officer_roster: Encode/Decode round trip gives the same answers") {
  OfficerRoster roster;
  const std::string long_id(IdString::kInline + 5, 'x');  // held on the heap
  roster.Add(Version("r1", "S1", kOnDuty, kT0, kT0 + kHour, kT0 - kDay));
  roster.Add(Version("r2", "S1", kCancelled, kT0, kT0 + kHour, kT0 - 1));
  roster.Add(Version(long_id, "S2-" + long_id, kSick, kT0 - kDay, kT0 + kDay, kT0 - 2 * kDay));
  roster.Add(Version("r0", "S0", kOnDuty, -kHour, kHour, -kDay));  // negative times
  std::string bytes;
  roster.Encode(bytes);
  OfficerRoster copy;
  REQUIRE(copy.Decode(bytes));
  for (Millis as_of : {-kDay, kT0 - kDay, kT0 - 1, kT0}) {
    CHECK(AsOf(copy, as_of) == AsOf(roster, as_of));
  }
  std::vector<EffectiveShiftView> a, b;
  roster.ShiftsAsOf(kT0, &a);
  copy.ShiftsAsOf(kT0, &b);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].status == b[i].status);
    CHECK(a[i].start == b[i].start);
    CHECK(a[i].end == b[i].end);
    CHECK(a[i].ref->time == b[i].ref->time);
    CHECK(a[i].ref->offset == b[i].ref->offset);
    CHECK(a[i].ref->partition == b[i].ref->partition);
    CHECK(a[i].ref->stream == b[i].ref->stream);
  }
  std::string again;
  copy.Encode(again);
  CHECK(again == bytes);
  CHECK(copy.MemoryBytes() >= 4 * sizeof(Ref));

  SUBCASE("damaged bytes are refused and leave the roster empty") {
    CHECK(!copy.Decode(std::string_view(bytes).substr(0, bytes.size() - 1)));
    CHECK(copy.empty());
    CHECK(!copy.Decode(bytes + "x"));
    CHECK(copy.empty());
  }
  SUBCASE("an empty roster round-trips") {
    OfficerRoster empty;
    std::string none;
    empty.Encode(none);
    CHECK(copy.Decode(none));
    CHECK(copy.empty());
  }
}

}  // namespace vigil
