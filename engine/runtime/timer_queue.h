// TimerQueue: one scope's pending timers in firing order, a binary min-heap.
//
// Order: time; at equal times the core's roster cleanup first (a rule's timer at t sees the roster
// as forgetting left it at t, as in the old core, where its owner sorted first), then by officer
// slot, rule, cleanup before decision timers (as the old core's key order) and tag. Only time and
// the roster-first rule can change a decision: officers never see each other's state, and one
// officer's rules never see each other's.
//
// Single-threaded; one per scope, owned by the core.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "runtime/officer_table.h"

namespace vigil {

struct QueuedTimer {
  OfficerTimer timer;
  uint32_t slot = 0;
};

class TimerQueue {
 public:
  void Push(const QueuedTimer& t) {
    heap_.push_back(t);
    std::push_heap(heap_.begin(), heap_.end(), Later{});
  }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  Millis NextTime() const { return heap_.empty() ? kMaxTime : heap_.front().timer.at; }
  const QueuedTimer& Front() const { return heap_.front(); }
  QueuedTimer Pop() {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    QueuedTimer t = heap_.back();
    heap_.pop_back();
    return t;
  }
  // Moves every timer for which take(t) is true to `out`.
  template <typename Pred>
  void Extract(Pred take, std::vector<QueuedTimer>& out) {
    auto split = std::partition(heap_.begin(), heap_.end(), [&](const QueuedTimer& t) { return !take(t); });
    out.insert(out.end(), split, heap_.end());
    heap_.erase(split, heap_.end());
    std::make_heap(heap_.begin(), heap_.end(), Later{});
  }
  size_t MemoryBytes() const { return heap_.capacity() * sizeof(QueuedTimer); }

 private:
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
  std::vector<QueuedTimer> heap_;
};

}  // namespace vigil
