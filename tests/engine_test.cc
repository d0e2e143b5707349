// Engine building blocks: Watermarks.
#include <doctest/doctest.h>

#include "time/watermarks.h"

namespace vigil {
namespace {

constexpr Millis kLag = 5 * kMinute;
const SourcePartition kP1{0, 0};
const SourcePartition kP2{0, 1};
const SourcePartition kP3{1, 0};

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

}  // namespace vigil
