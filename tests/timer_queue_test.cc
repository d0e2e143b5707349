// TimerQueue (engine/runtime/timer_queue.h), which keeps timers in time buckets sorted only when
// they come due: after any sequence of pushes, pops and extractions it must give the timers in the
// order a single ordered set gives them (the definition), including timers set behind or inside
// the bucket being consumed.
#include <doctest/doctest.h>

#include <random>
#include <set>
#include <tuple>
#include <vector>

#include "runtime/timer_queue.h"

namespace vigil {
namespace {

// The firing order as the contract states it: time, the roster's cleanup first, officer slot,
// rule, cleanup before decision, tag.
auto Key(const QueuedTimer& t) {
  return std::make_tuple(t.timer.at, t.timer.owner != 0, t.slot, t.timer.owner, !t.timer.cleanup,
                         t.timer.tag);
}
struct Before {
  bool operator()(const QueuedTimer& a, const QueuedTimer& b) const { return Key(a) < Key(b); }
};

QueuedTimer RandomTimer(std::mt19937_64& rng, Millis now) {
  QueuedTimer t;
  // Mostly ahead of now, some behind it and inside its minute (the late heap), a few far ahead.
  const int kind = static_cast<int>(rng() % 10);
  const Millis offset = kind < 2   ? -static_cast<Millis>(rng() % (2 * kHour))
                        : kind < 4 ? static_cast<Millis>(rng() % kHour)
                        : kind < 9 ? static_cast<Millis>(rng() % (6 * kHour))
                                   : static_cast<Millis>(rng() % (10 * kDay));
  t.timer.at = now + offset;
  if (rng() % 4 == 0) t.timer.at = FloorTo(t.timer.at, kHour);  // ties at one instant
  t.timer.tag = static_cast<uint32_t>(rng() % 3);
  t.timer.owner = static_cast<uint16_t>(rng() % 4);
  t.timer.cleanup = rng() % 2 == 0;
  t.slot = static_cast<uint32_t>(rng() % 50);
  return t;
}

TEST_CASE("TimerQueue: pops in the definition's order under any interleaving") {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    TimerQueue queue;
    std::set<QueuedTimer, Before> reference;
    Millis now = 1'700'000'000'000;
    for (int step = 0; step < 4000; ++step) {
      const int op = static_cast<int>(rng() % 10);
      if (op < 5) {
        const QueuedTimer t = RandomTimer(rng, now);
        if (!reference.insert(t).second) continue;  // the core never queues one timer twice
        queue.Push(t);
      } else if (op < 9) {
        if (reference.empty()) {
          CHECK(queue.empty());
          CHECK(queue.NextTime() == kMaxTime);
          continue;
        }
        REQUIRE(queue.NextTime() == reference.begin()->timer.at);
        const QueuedTimer got = queue.Pop();
        CHECK(Key(got) == Key(*reference.begin()));
        reference.erase(reference.begin());
        now = std::max(now, got.timer.at);
      } else if (step % 50 == 9) {
        std::vector<QueuedTimer> out;
        queue.Extract([](const QueuedTimer& t) { return t.timer.cleanup; }, out);
        for (const QueuedTimer& t : out) {
          CHECK(t.timer.cleanup);
          CHECK(reference.erase(t) == 1);
        }
      }
      REQUIRE(queue.size() == reference.size());
    }
    while (!reference.empty()) {
      CHECK(Key(queue.Pop()) == Key(*reference.begin()));
      reference.erase(reference.begin());
    }
    CHECK(queue.empty());
  }
}

TEST_CASE("TimerQueue: a timer set behind the bucket being consumed fires before the rest of it") {
  TimerQueue queue;
  auto timer = [](Millis at, uint32_t slot) {
    QueuedTimer t;
    t.timer.at = at;
    t.timer.owner = 1;
    t.slot = slot;
    return t;
  };
  const Millis m = 1000 * kMinute;
  queue.Push(timer(m + 30 * kSecond, 1));
  queue.Push(timer(m + 40 * kSecond, 2));
  queue.Push(timer(m + 2 * kMinute, 3));
  CHECK(queue.Pop().slot == 1);             // the bucket of m is current now
  queue.Push(timer(m + 35 * kSecond, 4));   // inside it
  queue.Push(timer(m - kHour, 5));          // behind it
  CHECK(queue.Pop().slot == 5);
  CHECK(queue.Pop().slot == 4);
  CHECK(queue.Pop().slot == 2);
  CHECK(queue.Pop().slot == 3);
  CHECK(queue.empty());
}

}  // namespace
}  // namespace vigil
