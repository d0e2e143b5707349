// rulekit::DayCounts (the new core's per-UTC-day values): one bucket per day, Close() true the
// first time only, zero-filled ranges, pruning of closed days only, decision instants, its
// encoding. Also the state encodings of the two rules built on it (access_volume_spike,
// bradford_factor): Decode(Encode(x)) encodes the same.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "registry.h"
#include "rulekit/day_counts.h"
#include "runtime/core.h"

namespace vigil {
namespace {

using rulekit::DayCounts;

const Millis kDay0 = ParseTime("2026-02-01T00:00:00Z").value();

// A RuleContext around one state object that records the timers asked for.
class FakeContext final : public RuleContext {
 public:
  explicit FakeContext(std::unique_ptr<RuleState> state = nullptr) : state_(std::move(state)) {}
  std::vector<std::pair<Millis, uint32_t>> timers, cleanups;
  std::vector<RuleAlert> alerts;
  Millis now = kMinTime;

  std::string_view officer_id() const override { return "MP1"; }
  void SetTimer(Millis at, uint32_t tag) override { timers.emplace_back(at, tag); }
  void ScheduleCleanup(Millis at, uint32_t tag) override { cleanups.emplace_back(at, tag); }
  void Emit(RuleAlert alert) override { alerts.push_back(std::move(alert)); }
  const OfficerRoster& roster() override { return roster_; }
  Millis watermark() const override { return now; }
  const TimeSettings& time() const override { return time_; }
  OfficerRoster& mutable_roster() { return roster_; }
  RuleState* state() { return state_.get(); }

 protected:
  const RuleState* FindState() override { return state_.get(); }
  RuleState& MutableState() override {
    if (!state_) throw std::logic_error("FakeContext has no state");
    return *state_;
  }

 private:
  std::unique_ptr<RuleState> state_;
  OfficerRoster roster_;
  TimeSettings time_ = TimeSettings::From(v1::RulesConfig());
};

std::string RoundTrip(const DayCounts& counts, DayCounts* decoded) {
  std::string bytes;
  ByteWriter w(bytes);
  counts.Encode(w);
  ByteReader r(bytes);
  REQUIRE(decoded->Decode(r));
  CHECK(r.done());
  return bytes;
}

}  // namespace

TEST_CASE("day_counts: values per day, zero-filled ranges, any instant of the day") {
  DayCounts c;
  CHECK(c.empty());
  auto added = c.Add(kDay0 + 3 * kDay + 5 * kHour, 2);
  CHECK(added.created);
  CHECK_FALSE(added.closed);
  added = c.Add(kDay0 + 3 * kDay + 23 * kHour, 1);
  CHECK_FALSE(added.created);
  c.Set(kDay0 + kDay, 7);
  c.Add(kDay0 - 2 * kDay, 4);  // before 1970 or not, days are floored
  CHECK(c.value(kDay0 + 3 * kDay) == 3);
  CHECK(c.value(kDay0 + kDay + kHour) == 7);
  CHECK(c.value(kDay0 + 2 * kDay) == 0);
  CHECK(c.buckets().size() == 3);
  CHECK(c.buckets().front().day() == kDay0 - 2 * kDay);  // ordered by day
  CHECK(c.Range(kDay0 - 2 * kDay, 7) == std::vector<int64_t>{4, 0, 0, 7, 0, 3, 0});
  CHECK(c.Range(kDay0 + 2 * kDay, 0).empty());
  DayCounts negative;
  negative.Add(-kHour, 1);  // 1969-12-31
  CHECK(negative.buckets().front().day() == -kDay);
}

TEST_CASE("day_counts: a day closes once; a late value still counts; only closed days are pruned") {
  DayCounts c;
  c.Add(kDay0, 5);
  CHECK_FALSE(c.closed(kDay0));
  CHECK(c.Close(kDay0 + kHour));
  CHECK(c.closed(kDay0));
  CHECK_FALSE(c.Close(kDay0));
  auto late = c.Add(kDay0 + 20 * kHour, 1);
  CHECK(late.closed);
  CHECK(c.value(kDay0) == 6);
  CHECK(c.Close(kDay0 + 4 * kDay));  // a day without a bucket gets one, closed
  CHECK(c.value(kDay0 + 4 * kDay) == 0);
  c.Add(kDay0 + kDay, 1);  // open
  c.DropClosedBefore(kDay0 + 5 * kDay);
  REQUIRE(c.buckets().size() == 1);
  CHECK(c.buckets()[0].day() == kDay0 + kDay);
}

TEST_CASE("day_counts: decision instants and the close timer") {
  const Millis offset = 14 * kHour;
  const Millis day = kDay0 + 2 * kDay;
  CHECK(DayCounts::DecisionInstant(day + 3 * kHour, offset) == day + offset);
  CHECK(DayCounts::DayOfDecision(day + offset, offset) == day);
  CHECK(DayCounts::DayOfDecision(day + kDay, kDay) == day);
  FakeContext ctx;
  DayCounts c;
  c.ScheduleClose(ctx, day, offset, 3);
  REQUIRE(ctx.timers.size() == 1);
  CHECK(ctx.timers[0] == std::make_pair(day + offset, 3u));
  c.Close(day);
  c.ScheduleClose(ctx, day + kHour, offset, 3);  // closed: no timer
  CHECK(ctx.timers.size() == 1);
}

TEST_CASE("day_counts: Cleanup forgets closed days past the lookback and asks again for the rest") {
  const Millis lookback = 3 * kDay, reach = 4 * kDay;
  CHECK(DayCounts::CleanupTime(kDay0 + 5 * kHour, reach) == kDay0 + 6 * kDay);
  FakeContext ctx;
  DayCounts c;
  for (int d = 0; d < 8; ++d) {
    c.Add(kDay0 + d * kDay, 1);
    if (d != 2) c.Close(kDay0 + d * kDay);  // day 2 stays open: never forgotten
  }
  // At day 6 + 1 h: the day before is day 5, so days before day 2 go; a late event can still
  // touch day 7, which bounds nothing here.
  const Millis at = kDay0 + 6 * kDay + kHour;
  CHECK(c.Cleanup(at, kDay0 + 7 * kDay, lookback, reach, 5, ctx) == kDay0 + 2 * kDay);
  REQUIRE(c.buckets().size() == 6);
  CHECK(c.buckets().front().day() == kDay0 + 2 * kDay);
  REQUIRE(ctx.cleanups.size() == 1);
  CHECK(ctx.cleanups[0] == std::make_pair(DayCounts::CleanupTime(kDay0 + 7 * kDay, reach), 5u));
  // A late event that can still touch day 3 keeps what day 3's decision looks back to.
  CHECK(c.Cleanup(kDay0 + 20 * kDay, kDay0 + 3 * kDay, lookback, reach, 5, ctx) == kDay0);
  CHECK(c.buckets().size() == 6);
  // Everything forgettable gone except the open day: the next cleanup still comes after `at`.
  const Millis late = kDay0 + 40 * kDay;
  c.Cleanup(late, late, lookback, reach, 5, ctx);
  REQUIRE(c.buckets().size() == 1);
  CHECK(ctx.cleanups.back() == std::make_pair(late + 1, 5u));
  // Nothing left: no timer.
  DayCounts none;
  const size_t asked = ctx.cleanups.size();
  none.Cleanup(late, late, lookback, reach, 5, ctx);
  CHECK(ctx.cleanups.size() == asked);
}

TEST_CASE("day_counts: the encoding round-trips; damaged bytes are refused") {
  DayCounts c, decoded;
  RoundTrip(c, &decoded);
  CHECK(decoded.empty());
  c.Add(kDay0, 120);
  c.Add(kDay0 + 30 * kDay, -3);
  c.Close(kDay0);
  c.Add(-400 * kDay, 1);
  const std::string bytes = RoundTrip(c, &decoded);
  REQUIRE(decoded.buckets().size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(decoded.buckets()[i].day() == c.buckets()[i].day());
    CHECK(decoded.buckets()[i].value == c.buckets()[i].value);
    CHECK(decoded.buckets()[i].closed == c.buckets()[i].closed);
  }
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    ByteReader r(std::string_view(bytes).substr(0, cut));
    CHECK_FALSE(decoded.Decode(r));
    CHECK(decoded.empty());
  }
  std::string unordered;  // two buckets, the second one not after the first
  ByteWriter w(unordered);
  w.U64(2);
  for (int i = 0; i < 2; ++i) {
    w.I64(i == 0 ? 100 : 0);
    w.I64(1);
    w.Bool(false);
  }
  ByteReader r(unordered);
  CHECK_FALSE(decoded.Decode(r));
}

namespace {

// Events for the rules below: ids kept alive here, as the core's hold keeps the bytes.
struct Events {
  std::vector<std::unique_ptr<std::string>> ids;
  EventView Access(const std::string& id, Millis at, int32_t action) {
    ids.push_back(std::make_unique<std::string>(id));
    EventView e;
    e.stream = Stream::kAccess;
    e.event_id = *ids.back();
    e.officer_id = "MP1";
    e.time = at;
    e.action = action;
    return e;
  }
  EventView Sick(const std::string& id, Millis changed, Millis start, Millis end) {
    ids.push_back(std::make_unique<std::string>(id));
    EventView e;
    e.stream = Stream::kRoster;
    e.event_id = *ids.back();
    e.officer_id = "MP1";
    e.shift_id = *ids.back();
    e.status = v1::RosterChange::SICK;
    e.time = changed;
    e.start = start;
    e.end = end;
    return e;
  }
};

// Encodes the context's state, decodes it into a fresh one and checks it encodes the same.
void CheckRoundTrip(const Rule& rule, FakeContext& ctx) {
  std::string bytes, again;
  ctx.state()->Encode(bytes);
  auto decoded = rule.NewState();
  REQUIRE(decoded->Decode(bytes));
  decoded->Encode(again);
  CHECK(again == bytes);
  CHECK_FALSE(decoded->Decode(bytes.substr(0, bytes.size() - 1)));
}

}  // namespace

TEST_CASE("day_counts: access_volume_spike on a fake context: timers, evidence, state round trip") {
  const v1::RulesConfig config = DefaultRulesConfig();
  auto rule = kAccessVolumeSpikeRule.make(config);
  FakeContext ctx(rule->NewState());
  Events events;
  rule->OnEvent(events.Access("login", kDay0 + 8 * kHour, v1::AccessEvent::LOGIN), ctx);
  CHECK(ctx.timers.empty());
  const Millis day = kDay0 + 20 * kDay;
  for (int i = 59; i >= 0; --i) {  // in reverse: the evidence is the first 50 by time
    const auto action = i % 2 ? v1::AccessEvent::RECORD_VIEW : v1::AccessEvent::SEARCH;
    rule->OnEvent(events.Access("a" + std::to_string(i), day + 9 * kHour + i * kMinute, action), ctx);
  }
  REQUIRE(ctx.timers.size() == 1);  // one close for the day, one cleanup
  CHECK(ctx.timers[0].first == day + kDay);
  CHECK(ctx.cleanups.size() == 1);
  CheckRoundTrip(*rule, ctx);
  ctx.now = day + kDay;
  rule->OnTimer(day + kDay, ctx.timers[0].second, ctx);
  REQUIRE(ctx.alerts.size() == 1);
  const RuleAlert& alert = ctx.alerts[0];
  CHECK(alert.score == 60);
  REQUIRE(alert.evidence.size() == 50);
  CHECK(alert.evidence.front().event_id == IdString("a0"));
  CHECK(alert.evidence.back().event_id == IdString("a49"));
  CHECK(alert.summary.find("60 searches and record views on 2026-02-21") != std::string::npos);
  CheckRoundTrip(*rule, ctx);
  CHECK_FALSE(ctx.state()->empty());  // the first access is kept for good
}

TEST_CASE("day_counts: bradford_factor on a fake context: a sick day decided at noon + grace") {
  v1::RulesConfig config = DefaultRulesConfig();
  config.mutable_bradford_factor()->set_threshold(1);
  auto rule = kBradfordFactorRule.make(config);
  FakeContext ctx(rule->NewState());
  Events events;
  const Millis day = kDay0 + 3 * kDay;
  const EventView sick = events.Sick("r3", day - 4 * kHour, day + 8 * kHour, day + 16 * kHour);
  ctx.mutable_roster().Add(sick);
  rule->OnEvent(sick, ctx);
  REQUIRE(ctx.timers.size() == 1);
  const Millis decide = day + 12 * kHour + ctx.time().roster_grace;
  CHECK(ctx.timers[0].first == decide);
  ctx.now = decide;
  rule->OnTimer(decide, ctx.timers[0].second, ctx);
  REQUIRE(ctx.alerts.size() == 1);
  CHECK(ctx.alerts[0].score == 1);
  CHECK(ctx.alerts[0].window_start == day);
  REQUIRE(ctx.alerts[0].evidence.size() == 1);
  CHECK(ctx.alerts[0].evidence[0].event_id == IdString("r3"));
  CheckRoundTrip(*rule, ctx);
}

}  // namespace vigil
