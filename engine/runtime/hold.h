// Hold: the events of one scope that the engine watermark has not passed yet, in delivery order.
//
// Each held event's record bytes are copied into a chunked arena and its EventView is rebased into
// the copy (every view of an event points into its record bytes), so the caller's buffer may go at
// once and holding an event allocates nothing but arena chunks, which are recycled once every event
// in them is delivered. Events come out ordered by (time, event_id, stream), from a binary heap.
//
// Durability: an event still held at a checkpoint is written to the batch (key [time:8][event_id]
// '\0'[stream], value: the view's fields), most never are; a stored event that is delivered later
// has its key deleted at the next checkpoint. Load() reads them back after a restart.
//
// Single-threaded; one per scope, owned by the core.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/event_view.h"
#include "state/state_store.h"

namespace vigil {

class Hold {
 public:
  Hold() = default;
  Hold(const Hold&) = delete;
  Hold& operator=(const Hold&) = delete;

  // No officer slot known for a held event (one read back by Load()).
  static constexpr uint32_t kNoSlot = UINT32_MAX;

  // Holds `event`, whose views point into `bytes` (a view outside it is copied as well), with the
  // slot of its officer's record if the caller knows it (FrontSlot, SlotAhead).
  void Add(const EventView& event, std::string_view bytes, uint32_t slot = kNoSlot) {
    AddImpl(event, bytes, false, slot);
  }
  bool empty() const { return heap_.empty() && run_head_ == run_.size(); }
  size_t size() const { return heap_.size() + run_.size() - run_head_; }
  // Time of the first event in delivery order (kMaxTime when none).
  Millis NextTime() const {
    const Entry* first = First();
    return first ? first->time : kMaxTime;
  }
  // The first event in delivery order; valid until PopFront().
  const EventView& Front() const { return held_[First()->index].view; }
  // The officer slot given with the first event (kNoSlot if none was).
  uint32_t FrontSlot() const { return First()->slot; }
  // A hint for prefetching: the slot given with the event `ahead` places after the next one that
  // arrived in delivery order (the usual case; events that came out of order are not counted).
  // kNoSlot when there are not as many.
  uint32_t SlotAhead(size_t ahead) const {
    const size_t i = run_head_ + ahead;
    return i < run_.size() ? run_[i].slot : kNoSlot;
  }
  // Removes the first event, once delivered.
  void PopFront();

  // Before a checkpoint: events held since the last one, and deletions of delivered stored ones.
  void WriteCheckpoint(const std::string& prefix, KvBatch& writes);
  // After a start: every event the store holds under `space`.
  void Load(KeySpace& space);

  size_t MemoryBytes() const;

  // The durable form of one event (exposed for tests).
  static void EncodeEvent(const EventView& event, std::string& out);
  static bool DecodeEvent(std::string_view bytes, EventView* out);

 private:
  struct Held {
    EventView view;
    uint32_t chunk = 0;
    uint32_t generation = 0;
    bool stored = false;
    bool live = false;
  };
  struct Chunk {
    std::unique_ptr<char[]> data;
    size_t capacity = 0;
    size_t used = 0;
    uint32_t live = 0;  // held events in it
  };
  struct Entry {
    Millis time;
    uint32_t index;
    uint32_t slot;  // in the padding: the run's slots are read ahead without touching held_
  };
  // Whether a comes after b in delivery order (the heap's comparison).
  struct Later {
    const std::vector<Held>* held;
    bool operator()(const Entry& a, const Entry& b) const {
      if (a.time != b.time) return a.time > b.time;
      return Tie(a, b);
    }
    bool Tie(const Entry& a, const Entry& b) const;  // equal times: event_id, then stream
  };
  const Entry* First() const {
    const bool run = run_head_ < run_.size();
    if (heap_.empty()) return run ? &run_[run_head_] : nullptr;
    if (!run || Later{&held_}(run_[run_head_], heap_.front())) return &heap_.front();
    return &run_[run_head_];
  }

  void AddImpl(const EventView& event, std::string_view bytes, bool stored, uint32_t slot);
  // Room for `size` bytes: returns where, sets *chunk.
  char* Allocate(size_t size, uint32_t* chunk);
  void Release(uint32_t chunk);
  static std::string Key(const EventView& event);

  std::vector<Held> held_;
  std::vector<uint32_t> free_held_;
  // Events arriving in delivery order (the usual case) queue up in `run_`, O(1) each; the others
  // go to the heap. The first event is the earlier of the two fronts.
  std::vector<Entry> run_;
  size_t run_head_ = 0;
  std::vector<Entry> heap_;
  std::vector<Chunk> chunks_;
  std::vector<uint32_t> spare_chunks_;  // empty chunks kept for reuse
  uint32_t current_ = UINT32_MAX;        // the chunk being filled
  std::vector<std::pair<uint32_t, uint32_t>> unsaved_;  // (held index, generation)
  std::vector<std::string> deletes_;     // keys of stored events delivered since the checkpoint
  size_t arena_bytes_ = 0;
};

}  // namespace vigil
