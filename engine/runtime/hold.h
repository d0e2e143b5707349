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
#include "state_store.h"

namespace vigil {

class Hold {
 public:
  Hold() = default;
  Hold(const Hold&) = delete;
  Hold& operator=(const Hold&) = delete;

  // Holds `event`, whose views point into `bytes` (a view outside it is copied as well).
  void Add(const EventView& event, std::string_view bytes) { AddImpl(event, bytes, false); }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  // Time of the first event in delivery order (kMaxTime when none).
  Millis NextTime() const { return heap_.empty() ? kMaxTime : held_[heap_.front()].view.time; }
  // The first event in delivery order; valid until PopFront().
  const EventView& Front() const { return held_[heap_.front()].view; }
  // Removes the first event, once delivered.
  void PopFront();

  // Before a checkpoint: events held since the last one, and deletions of delivered stored ones.
  void WriteCheckpoint(const std::string& prefix, CheckpointWrites& writes);
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
  struct Later {  // heap order: a before b in delivery order means !Later(a, b) ...
    const std::vector<Held>* held;
    bool operator()(uint32_t a, uint32_t b) const;
  };

  void AddImpl(const EventView& event, std::string_view bytes, bool stored);
  // Room for `size` bytes: returns where, sets *chunk.
  char* Allocate(size_t size, uint32_t* chunk);
  void Release(uint32_t chunk);
  static std::string Key(const EventView& event);

  std::vector<Held> held_;
  std::vector<uint32_t> free_held_;
  std::vector<uint32_t> heap_;
  std::vector<Chunk> chunks_;
  std::vector<uint32_t> spare_chunks_;  // empty chunks kept for reuse
  uint32_t current_ = UINT32_MAX;        // the chunk being filled
  std::vector<std::pair<uint32_t, uint32_t>> unsaved_;  // (held index, generation)
  std::vector<std::string> deletes_;     // keys of stored events delivered since the checkpoint
  size_t arena_bytes_ = 0;
};

}  // namespace vigil
