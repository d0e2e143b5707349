// TimerQueue: one scope's pending timers in firing order, in time buckets.
//
// Order: time; at equal times the core's roster cleanup first (a rule's timer at t sees the roster
// as forgetting left it at t, as in the old core, where its owner sorted first), then by officer
// slot, rule, cleanup before decision timers (as the old core's key order) and tag. Only time and
// the roster-first rule can change a decision: officers never see each other's state, and one
// officer's rules never see each other's.
//
// Layout (the "timers in time buckets"): a timer goes to the bucket of its five minutes, appended
// unsorted (O(1): rules mostly set timers a grace period ahead, in nearly increasing time, so the
// last bucket touched is usually the one), and each bucket keeps its earliest time for NextTime().
// When a timer is popped and none is current, the earliest bucket becomes current: sorted once and
// consumed from its head. While it is, a timer set in or before its bucket goes to a small heap
// beside it, and the earlier of the two fronts fires first; every bucket still in `buckets_` is
// later, so the two fronts are the queue's minimum. The order is the same strict total order as a
// single heap's (identical timers are never queued twice: the core sets a timer once), so timers
// fire in exactly the same sequence.
//
// Single-threaded; one per scope, owned by the core.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <vector>

#include "runtime/officer_table.h"

namespace vigil {

struct QueuedTimer {
  OfficerTimer timer;
  uint32_t slot = 0;
};

class TimerQueue {
 public:
  TimerQueue() = default;
  TimerQueue(const TimerQueue&) = delete;  // recent_ points into buckets_
  TimerQueue& operator=(const TimerQueue&) = delete;

  void Push(const QueuedTimer& t) {
    ++size_;
    const Millis bucket = FloorTo(t.timer.at, kBucket);
    if (has_current_ && bucket <= current_bucket_) {
      late_.push_back(t);
      std::push_heap(late_.begin(), late_.end(), Later{});
      return;
    }
    BucketIt& recent = recent_[Recent(bucket)];
    if (recent == buckets_.end() || recent->first != bucket) {
      auto [it, added] = buckets_.try_emplace(bucket);
      if (added && !spare_.empty()) {  // storage of a consumed bucket: no allocation
        it->second.timers.swap(spare_.back());
        spare_.pop_back();
      }
      recent = it;
    }
    Bucket& b = recent->second;
    b.timers.push_back(t);
    b.earliest = std::min(b.earliest, t.timer.at);
  }
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  Millis NextTime() const {
    if (const QueuedTimer* front = Front()) return front->timer.at;
    return buckets_.empty() ? kMaxTime : buckets_.begin()->second.earliest;
  }
  // The first timer, removed (the queue must not be empty).
  QueuedTimer Pop() {
    if (Exhausted()) Refill();
    QueuedTimer t;
    if (FromLate()) {
      std::pop_heap(late_.begin(), late_.end(), Later{});
      t = late_.back();
      late_.pop_back();
    } else {
      t = current_[head_++];
    }
    --size_;
    if (Exhausted()) has_current_ = false;  // later timers go to their buckets again
    return t;
  }
  // Moves every timer for which take(t) is true to `out`.
  template <typename Pred>
  void Extract(Pred take, std::vector<QueuedTimer>& out) {
    std::vector<QueuedTimer> kept;
    auto sort_out = [&](const QueuedTimer& t) { (take(t) ? out : kept).push_back(t); };
    for (size_t i = head_; i < current_.size(); ++i) sort_out(current_[i]);
    for (const QueuedTimer& t : late_) sort_out(t);
    for (const auto& [start, bucket] : buckets_) {
      for (const QueuedTimer& t : bucket.timers) sort_out(t);
    }
    Clear();
    for (const QueuedTimer& t : kept) Push(t);
  }
  size_t MemoryBytes() const {
    size_t bytes = (current_.capacity() + late_.capacity()) * sizeof(QueuedTimer);
    for (const auto& [start, bucket] : buckets_) {
      bytes += bucket.timers.capacity() * sizeof(QueuedTimer) + kNodeBytes;
    }
    for (const auto& timers : spare_) bytes += timers.capacity() * sizeof(QueuedTimer);
    return bytes;
  }

 private:
  // Five minutes: rules mostly set timers minutes ahead of the front, and a timer within the
  // current bucket goes to the late heap. Measured (callgrind, 2,000 officers x 2 days): with hour
  // buckets 142,043 of 198,779 timers went to the heap, which cost more than the rest of the queue;
  // 1,007.7M Ir in all with 1-minute buckets (a map node per bucket), 997.7M with 5, 1,004.7M with
  // 15 (the heap again).
  static constexpr Millis kBucket = 5 * kMinute;
  static constexpr size_t kSpareBuckets = 64;  // emptied bucket vectors kept for new buckets
  static constexpr size_t kRecent = 16;
  struct Bucket {
    std::vector<QueuedTimer> timers;  // unsorted
    Millis earliest = kMaxTime;
  };
  // A map node, about: the tree's links, the value and malloc's header.
  static constexpr size_t kNodeBytes = 32 + sizeof(std::pair<const Millis, Bucket>) + 16;
  // A function object, not a function pointer, so that the heap's loops inline it. The order after
  // time, (owner != 0, slot, owner, !cleanup, tag), is compared as two words: the first four packed
  // into one (1 + 32 + 16 + 1 bits), then the tag.
  struct Later {
    static uint64_t Order(const QueuedTimer& t) {
      return uint64_t{t.timer.owner != 0} << 63 | uint64_t{t.slot} << 31 |
             uint64_t{t.timer.owner} << 15 | uint64_t{!t.timer.cleanup} << 14;
    }
    bool operator()(const QueuedTimer& a, const QueuedTimer& b) const {
      if (a.timer.at != b.timer.at) return a.timer.at > b.timer.at;
      const uint64_t x = Order(a), y = Order(b);
      if (x != y) return x > y;
      return a.timer.tag > b.timer.tag;
    }
  };
  using BucketIt = std::map<Millis, Bucket>::iterator;
  static size_t Recent(Millis bucket) { return static_cast<size_t>(bucket / kBucket) % kRecent; }
  std::array<BucketIt, kRecent> MakeRecent() {
    std::array<BucketIt, kRecent> recent;
    recent.fill(buckets_.end());
    return recent;
  }
  bool Exhausted() const { return head_ == current_.size() && late_.empty(); }
  // Whether the next timer is the late heap's (else the current bucket's head).
  bool FromLate() const {
    if (late_.empty()) return false;
    return head_ == current_.size() || Later{}(current_[head_], late_.front());
  }
  const QueuedTimer* Front() const {
    if (FromLate()) return &late_.front();
    return head_ < current_.size() ? &current_[head_] : nullptr;
  }
  // The current bucket and the late heap are empty: the earliest bucket becomes current (there is
  // one: the queue is not empty).
  void Refill() {
    current_.clear();
    head_ = 0;
    auto first = buckets_.begin();
    BucketIt& recent = recent_[Recent(first->first)];
    if (recent == first) recent = buckets_.end();
    current_.swap(first->second.timers);
    if (spare_.size() < kSpareBuckets) spare_.push_back(std::move(first->second.timers));
    current_bucket_ = first->first;
    has_current_ = true;
    buckets_.erase(first);
    std::sort(current_.begin(), current_.end(),
              [](const QueuedTimer& a, const QueuedTimer& b) { return Later{}(b, a); });
  }
  void Clear() {
    current_.clear();
    head_ = 0;
    late_.clear();
    buckets_.clear();
    recent_.fill(buckets_.end());
    has_current_ = false;
    size_ = 0;
  }

  std::vector<QueuedTimer> current_;  // the current bucket, sorted, consumed from head_
  size_t head_ = 0;
  Millis current_bucket_ = 0;
  bool has_current_ = false;
  std::vector<QueuedTimer> late_;  // a heap: timers set at or before the current bucket
  std::map<Millis, Bucket> buckets_;  // by start time; all later than the current one
  // The buckets pushed to lately, by bucket number modulo kRecent: rules set timers at a few distances
  // ahead (decisions minutes ahead, cleanups hours or days), so most pushes find theirs here
  // without a look-up in the map.
  std::array<BucketIt, kRecent> recent_ = MakeRecent();
  std::vector<std::vector<QueuedTimer>> spare_;  // cleared, with their capacity
  size_t size_ = 0;
};

}  // namespace vigil
