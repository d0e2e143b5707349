// SeenIds: the event ids one scope (input partition) accepted within allowed lateness, for exact
// duplicate detection in the new core.
//
// Ids are kept by bucket, (stream, hour of event time). A flat open-addressing table (linear
// probing) holds one 8-byte slot per id: a 52-bit fingerprint of (stream, id) and the bucket.
// The id's bytes stay in memory only until the next snapshot (Save), in the bucket's `fresh`
// bytes with an index of their own; Save writes them to the store in append-only records,
// [stream][hour:8][sequence:4] -> the ids the bucket gained, and frees them. So memory per id
// is the slot, not the id (a day of access ids: 2 million at 45,000 officers, 45 million at a
// million). Every fingerprint hit is checked against the id itself: in the fresh bytes, or in
// the bucket's saved records, read back from the store (the last bucket read is kept, so that a
// burst of duplicates of one hour reads it once); two ids with the same fingerprint are never
// taken for one another, and a fingerprint alone never decides.
//
// A bucket is forgotten once its hour is behind the horizon of its stream (an event of that hour
// would be too late whether or not its id is remembered): its records are deleted at once, its
// slots when enough slots are stale to be worth a pass over the table (they match nothing
// meanwhile). Should an input spread its events over more hours than there are bucket numbers,
// the ids of the hours beyond go to one bucket per stream that never expires: they are kept
// longer than needed, never forgotten too early.
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
  // Ids saved already are checked against `space` (the one given to Save and Load).
  bool SeenOrAdd(uint8_t stream, std::string_view id, Millis time) {
    return SeenOrAdd(stream, id, time, Hash(stream, id));
  }
  // The same in two steps, so that the table's first probe can be loading (Prefetch) while the
  // caller does other work: `hash` is Hash(stream, id), and nothing is added in between.
  uint64_t Hash(uint8_t stream, std::string_view id) const {
    return hash_ == &DefaultHash ? DefaultHash(stream, id) : hash_(stream, id);
  }
  void Prefetch(uint64_t hash) const { __builtin_prefetch(&table_[Home(hash >> kBucketBits)]); }
  bool SeenOrAdd(uint8_t stream, std::string_view id, Millis time, uint64_t hash);

  // Writes what each bucket gained since the last call as one new record of `space`, and frees
  // those ids' bytes. `space` must outlive this object: saved ids are checked against it.
  void Save(KeySpace& space);
  // Forgets every bucket of stream s whose hour ends at or before horizon[s] (kMinTime: none),
  // deleting its records from `space`.
  void Expire(const std::array<Millis, kStreamCount>& horizon, KeySpace& space);
  // Reads every record of `space` (at the first touch of the scope after a start); `space` must
  // outlive this object.
  void Load(KeySpace& space);

  size_t size() const { return live_; }
  size_t MemoryBytes() const;

 private:
  // A slot: 0 when empty, else [fingerprint: the hash's high 52 bits][bucket number + 1: 12 bits].
  using Slot = uint64_t;
  static constexpr int kBucketBits = 12;
  static constexpr Slot kBucketMask = (Slot{1} << kBucketBits) - 1;
  static constexpr uint32_t kBuckets = kBucketMask;  // numbers 0 .. kBuckets - 1
  static constexpr uint32_t kNone = 0xffffffffu;
  enum class State : uint8_t { kFree, kLive, kExpired };
  struct Bucket {
    uint8_t stream = 0;
    Millis hour = 0;
    State state = State::kFree;
    uint32_t slots = 0;          // table slots that name it
    rulekit::AppendBuffer fresh; // ids added since the last Save: [length varint][bytes] each
    std::vector<std::string> records;  // the keys of its saved records, relative to the space
  };
  // The index of the fresh ids: their hash, bucket and offset in the bucket's fresh bytes.
  struct FreshEntry {
    uint64_t hash = 0;
    uint32_t bucket = kNone;
    uint32_t offset = 0;
  };

  // Where the probe for a fingerprint starts: from the fingerprint's bits alone (so that the
  // table can be rebuilt from its slots), mixed so that every bit counts.
  size_t Home(uint64_t fingerprint) const {
    return static_cast<size_t>((fingerprint * 0x9E3779B97F4A7C15ULL) >> shift_);
  }
  uint32_t BucketFor(uint8_t stream, Millis hour);
  uint32_t NewBucket(uint8_t stream, Millis hour);
  // The bucket of stream's hours beyond the bucket numbers; it never expires.
  uint32_t Overflow(uint8_t stream);
  uint32_t NumbersLeft() const {
    return kBuckets - static_cast<uint32_t>(buckets_.size() - free_buckets_.size());
  }
  // Whether bucket b holds id (its fresh bytes, then its saved records).
  bool Holds(uint32_t b, std::string_view id, uint64_t hash);
  bool FreshHolds(uint32_t b, std::string_view id, uint64_t hash) const;
  bool SavedHolds(uint32_t b, std::string_view id);
  void AddFresh(uint64_t hash, uint32_t b, uint32_t offset);
  // The fresh index with `size` entries, holding the live buckets' entries of the old one.
  void RebuildFreshIndex(size_t size);
  // Adds the slot of (hash, bucket b): at `at` (an empty slot the caller's probe found in this
  // table, with room to spare) or, given kNoPlace, where a probe finds room, growing the table.
  static constexpr size_t kNoPlace = ~size_t{0};
  void AddSlot(uint64_t hash, uint32_t b, size_t at);
  void Place(Slot slot);  // at the first empty slot from its home
  bool Full() const { return (occupied_ + 1) * 10 > table_.size() * 7; }
  // Rebuilds the table with `size` slots (a power of two), without the slots of expired buckets,
  // whose numbers are then free again.
  void Rebuild(size_t size);
  // Adds the ids of `bytes` (a record of bucket b) to the table.
  void IndexSaved(uint32_t b, std::string_view bytes);

  HashFn hash_;
  using Table = std::vector<Slot, HugePageAllocator<Slot>>;
  Table table_;
  size_t mask_ = 0;
  int shift_ = 0;
  uint64_t rebuilds_ = 0;  // tables built so far: a probe's slot index is valid within one
  size_t occupied_ = 0;  // slots in use, stale ones (of expired buckets) included
  size_t live_ = 0;      // ids of live buckets
  std::vector<FreshEntry> fresh_index_;
  size_t fresh_mask_ = 0;
  size_t fresh_count_ = 0;
  std::vector<Bucket> buckets_;
  std::vector<uint32_t> free_buckets_;
  size_t expired_ = 0;  // buckets expired whose numbers a rebuild has not freed yet
  std::map<std::pair<uint8_t, Millis>, uint32_t> by_hour_;
  std::array<uint32_t, kStreamCount> overflow_{kNone, kNone, kNone};  // the never-expiring buckets
  std::vector<uint32_t> unsaved_;
  uint32_t last_bucket_ = kNone;
  uint32_t next_record_ = 0;
  KeySpace* space_ = nullptr;
  // The saved ids of the bucket read back last (SavedHolds).
  uint32_t cached_bucket_ = kNone;
  std::string cached_bytes_;
  std::vector<std::string_view> cached_ids_;  // sorted
};

}  // namespace vigil
