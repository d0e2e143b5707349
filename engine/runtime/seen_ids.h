// SeenIds: the event ids one scope (input partition) accepted within allowed lateness, for exact
// duplicate detection in the new core.
//
// Ids are kept by bucket, (stream, hour of event time), as length-prefixed bytes in one string per
// bucket; a flat open-addressing table (linear probing) maps a 64-bit fingerprint of (stream, id)
// to where the id is stored, and every fingerprint hit is checked against those bytes, so two ids
// with the same fingerprint are never taken for one another. Buckets are persisted in append-only
// records, [stream][hour:8][sequence:4] -> the bytes the bucket gained since the last checkpoint,
// and a bucket is forgotten (table entries and records) once its hour is behind the horizon of its
// stream: an event of that hour would be too late whether or not its id is remembered.
//
// Single-threaded; one per scope, owned by the core.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "event.h"
#include "time/event_time.h"
#include "rulekit/codec.h"
#include "runtime/id_hash.h"
#include "state/state_store.h"

namespace vigil {

void* AllocateHugePages(size_t bytes);
void FreeHugePages(void* p, size_t bytes);

// Allocates arrays of 2 MiB or more aligned to 2 MiB and advised as transparent huge pages (the
// kernel's setting here is "madvise"), smaller ones as operator new does. For the seen ids' table:
// with 4 KiB pages each random probe of a table of many MiB was a TLB miss besides a cache miss.
template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(AllocateHugePages(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { FreeHugePages(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const { return true; }
  template <typename U>
  bool operator!=(const HugePageAllocator<U>&) const { return false; }
};

class SeenIds {
 public:
  using HashFn = uint64_t (*)(uint8_t stream, std::string_view id);
  static uint64_t DefaultHash(uint8_t stream, std::string_view id) {
    return IdHash(id, static_cast<uint64_t>(stream) << 56);
  }

  // `hash`: tests pass a poor one to exercise fingerprint collisions.
  explicit SeenIds(HashFn hash = &DefaultHash);

  // True if (stream, id) is known; otherwise records it in the bucket of `time` and returns false.
  bool SeenOrAdd(uint8_t stream, std::string_view id, Millis time) {
    return SeenOrAdd(stream, id, time, Hash(stream, id));
  }
  // The same in two steps, so that the table's first probe can be loading (Prefetch) while the
  // caller does other work: `hash` is Hash(stream, id), and nothing is added in between.
  uint64_t Hash(uint8_t stream, std::string_view id) const {
    return hash_ == &DefaultHash ? DefaultHash(stream, id) : hash_(stream, id);
  }
  void Prefetch(uint64_t hash) const { __builtin_prefetch(&table_[hash & mask_]); }
  bool SeenOrAdd(uint8_t stream, std::string_view id, Millis time, uint64_t hash);

  // Writes what each bucket gained since the last call as one new record of `space`.
  void Save(KeySpace& space);
  // Forgets every bucket of stream s whose hour ends at or before horizon[s] (kMinTime: none),
  // deleting its records from `space`.
  void Expire(const std::array<Millis, kStreamCount>& horizon, KeySpace& space);
  // Reads every record of `space` (at the first touch of the scope after a start).
  void Load(KeySpace& space);

  size_t size() const { return count_; }
  size_t MemoryBytes() const;

 private:
  static constexpr uint32_t kEmpty = 0xffffffffu;
  struct Entry {
    uint64_t hash = 0;
    uint32_t bucket = kEmpty;
    uint32_t offset = 0;  // of the id's length prefix in the bucket's bytes
  };
  // Append-only bytes with an inline append: a std::string's costs an out-of-line call per id.
  struct Bucket {
    uint8_t stream = 0;
    Millis hour = 0;
    rulekit::AppendBuffer ids;  // each id: [length varint][bytes]
    size_t saved = 0;  // bytes of `ids` already in records
    std::vector<std::string> records;  // their keys, relative to the space
    bool live = false;
    bool unsaved = false;
  };

  uint32_t BucketFor(uint8_t stream, Millis hour);
  bool Matches(const Entry& e, std::string_view id) const;
  std::string_view IdAt(const Bucket& bucket, size_t offset, size_t* next) const;
  void Insert(uint64_t hash, uint32_t bucket, uint32_t offset);
  void Erase(uint64_t hash, uint32_t bucket, uint32_t offset);
  void Grow();
  // Adds the ids of `bytes`, appended to bucket b at `from`, to the table.
  void IndexBucketBytes(uint32_t b, size_t from);

  HashFn hash_;
  using Table = std::vector<Entry, HugePageAllocator<Entry>>;
  Table table_;
  size_t mask_ = 0;
  size_t count_ = 0;
  std::vector<Bucket> buckets_;
  std::vector<uint32_t> free_buckets_;
  std::map<std::pair<uint8_t, Millis>, uint32_t> by_hour_;
  std::vector<uint32_t> unsaved_;
  uint32_t last_bucket_ = kEmpty;
  uint32_t next_record_ = 0;
};

}  // namespace vigil
