// Watermarks (engine/time/watermarks.h), which keeps the engine watermark up to date incrementally:
// after any sequence of calls it must give what the plain definition gives, computed here from
// scratch over a std::map after every call. (engine_test.cc has the contract's cases one by one.)
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>

#include "time/watermarks.h"

namespace vigil {
namespace {

// The definition: the previous implementation, one pass over every partition per Current().
class Reference {
 public:
  explicit Reference(Millis lag) : lag_(lag) {}
  void Track(SourcePartition p) { partitions_.try_emplace(p); }
  void Untrack(SourcePartition p) { partitions_.erase(p); }
  void Observe(SourcePartition p, Millis t) {
    State& s = partitions_[p];
    s.max_event_time = std::max(s.max_event_time, t);
    s.has_events = true;
    s.idle = false;
  }
  void SetIdle(SourcePartition p) { partitions_[p].idle = true; }
  void Restore(SourcePartition p, Millis t) {
    State& s = partitions_[p];
    s.max_event_time = std::max(s.max_event_time, t);
    s.has_events = true;
  }
  Millis PartitionWatermark(SourcePartition p) const {
    auto it = partitions_.find(p);
    if (it == partitions_.end() || !it->second.has_events) return kMinTime;
    return it->second.max_event_time - lag_;
  }
  bool HasEvents(SourcePartition p) const {
    auto it = partitions_.find(p);
    return it != partitions_.end() && it->second.has_events;
  }
  Millis MaxEventTime(SourcePartition p) const {
    auto it = partitions_.find(p);
    return it == partitions_.end() ? kMinTime : it->second.max_event_time;
  }
  Millis Current() {
    if (finished_) return kMaxTime;
    Millis min_active = kMaxTime, max_any = kMinTime;
    bool any_active = false;
    for (const auto& [p, s] : partitions_) {
      const Millis wm = s.has_events ? s.max_event_time - lag_ : kMinTime;
      max_any = std::max(max_any, wm);
      if (!s.idle) {
        any_active = true;
        min_active = std::min(min_active, wm);
      }
    }
    engine_ = std::max(engine_, any_active ? min_active : max_any);
    return engine_;
  }
  void Finish() { finished_ = true; }

 private:
  struct State {
    Millis max_event_time = kMinTime;
    bool has_events = false;
    bool idle = false;
  };
  Millis lag_;
  std::map<SourcePartition, State> partitions_;
  Millis engine_ = kMinTime;
  bool finished_ = false;
};

void RunRandom(uint32_t seed, int sources, int partitions, bool far) {
  std::mt19937 rng(seed);
  const Millis lag = 5 * kSecond;
  Watermarks w(lag);
  Reference r(lag);
  auto pick = [&] {
    SourcePartition p{static_cast<int32_t>(rng() % sources), static_cast<int32_t>(rng() % partitions)};
    if (far && rng() % 4 == 0) p.partition = (rng() % 2 ? 100000 : -1) - p.partition;  // not indexed
    if (far && rng() % 8 == 0) p.source = 5000 + p.source;
    return p;
  };
  Millis clock = 1'000'000;
  for (int step = 0; step < 20000; ++step) {
    const uint32_t op = rng() % 100;
    const SourcePartition p = pick();
    if (op < 3) {
      w.Track(p), r.Track(p);
    } else if (op < 5) {
      w.Untrack(p), r.Untrack(p);
    } else if (op < 12) {
      w.SetIdle(p), r.SetIdle(p);
    } else if (op < 13) {
      const Millis t = clock - static_cast<Millis>(rng() % 100000);
      w.Restore(p, t), r.Restore(p, t);
    } else {
      clock += rng() % 1000;
      // Mostly in order; some late, some equal to the last (ties at the minimum).
      const uint32_t shape = rng() % 10;
      const Millis t = shape == 0 ? clock - static_cast<Millis>(rng() % 60000)
                                  : shape == 1 ? r.MaxEventTime(p) : clock;
      if (t == kMinTime) continue;
      w.Observe(p, t), r.Observe(p, t);
    }
    if (rng() % 3 != 0) REQUIRE(w.Current() == r.Current());  // not after every call
    const SourcePartition q = pick();
    REQUIRE(w.PartitionWatermark(q) == r.PartitionWatermark(q));
    REQUIRE(w.HasEvents(q) == r.HasEvents(q));
    REQUIRE(w.MaxEventTime(q) == r.MaxEventTime(q));
  }
  REQUIRE(w.Current() == r.Current());
  w.Finish(), r.Finish();
  REQUIRE(w.Current() == kMaxTime);
  REQUIRE(r.Current() == kMaxTime);
}

}  // namespace

TEST_CASE("Watermarks: the incremental engine watermark is the definition's, for any calls") {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    CAPTURE(seed);
    RunRandom(seed, 1 + seed % 3, 1 + seed % 7, /*far=*/false);
    RunRandom(seed, 3, 48, /*far=*/false);
    RunRandom(seed, 2, 4, /*far=*/true);
  }
}

TEST_CASE("Watermarks: the partition holding the minimum moving on lets the next one hold it") {
  Watermarks w(0);
  for (int p = 0; p < 3; ++p) w.Track({0, p});
  w.Observe({0, 0}, 10);
  w.Observe({0, 1}, 20);
  w.Observe({0, 2}, 10);
  CHECK(w.Current() == 10);
  w.Observe({0, 0}, 30);
  CHECK(w.Current() == 10);  // {0, 2} still holds it, at the same time as {0, 0} did
  w.Observe({0, 2}, 40);
  CHECK(w.Current() == 20);
  w.SetIdle({0, 1});
  CHECK(w.Current() == 30);
  w.Observe({0, 1}, 25);  // no longer idle, behind the engine: the engine does not go back
  CHECK(w.Current() == 30);
  w.SetIdle({0, 0});
  w.SetIdle({0, 1});
  w.SetIdle({0, 2});
  CHECK(w.Current() == 40);  // all idle: the greatest
  w.Track({1, 7});           // a new partition with no events holds it where it is
  CHECK(w.Current() == 40);
  w.Observe({1, 7}, 100);
  CHECK(w.Current() == 100);
  w.Untrack({1, 7});
  CHECK(w.Current() == 100);
  CHECK(w.PartitionWatermark({1, 7}) == kMinTime);
}

}  // namespace vigil
