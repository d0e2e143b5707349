#include "runtime/seen_ids.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>

#include <sys/mman.h>

#include "runtime/id_hash.h"
#include "state/byte_codec.h"
#include "status.h"

namespace vigil {
namespace {

constexpr Millis kSeenBucket = kHour;
constexpr size_t kBucketKeySize = 9;  // [stream][hour:8]; a record adds [sequence:4]

constexpr size_t kHugePage = size_t{2} << 20;

}  // namespace

void* AllocateHugePages(size_t bytes) {
  if (bytes < kHugePage) return ::operator new(bytes);
  const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* p = std::aligned_alloc(kHugePage, rounded);
  if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  madvise(p, rounded, MADV_HUGEPAGE);  // advice only: without it the table works the same
#endif
  return p;
}

void FreeHugePages(void* p, size_t bytes) {
  if (bytes < kHugePage) {
    ::operator delete(p);
  } else {
    std::free(p);
  }
}


namespace {

// Reads the id at `at` of [length varint][bytes] ids; sets *next past it. nullopt if cut short.
std::optional<std::string_view> IdAt(std::string_view bytes, size_t at, size_t* next) {
  size_t length = 0;
  int shift = 0;
  while (true) {
    if (at >= bytes.size() || shift > 28) return std::nullopt;
    const unsigned char byte = static_cast<unsigned char>(bytes[at++]);
    length |= static_cast<size_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) break;
    shift += 7;
  }
  if (length > bytes.size() - at) return std::nullopt;
  *next = at + length;
  return bytes.substr(at, length);
}

std::string BucketKey(uint8_t stream, Millis hour) {
  std::string key(1, static_cast<char>(stream));
  AppendI64(key, hour);
  return key;
}

constexpr size_t kFirstSlots = 64;

}  // namespace

SeenIds::SeenIds(HashFn hash) : hash_(hash) { Rebuild(kFirstSlots); }

bool SeenIds::SeenOrAdd(uint8_t stream, std::string_view id, Millis time, uint64_t h) {
  const uint64_t fingerprint = h >> kBucketBits;
  size_t i = Home(fingerprint);
  for (; table_[i] != 0; i = (i + 1) & mask_) {
    const Slot slot = table_[i];
    if (slot >> kBucketBits != fingerprint) continue;
    const uint32_t b = static_cast<uint32_t>(slot & kBucketMask) - 1;
    const Bucket& bucket = buckets_[b];
    if (bucket.state == State::kLive && bucket.stream == stream && Holds(b, id, h)) return true;
  }
  const Millis hour = FloorTo(time, kSeenBucket);
  const uint64_t rebuilds = rebuilds_;
  uint32_t b = last_bucket_;
  if (b == kNone || buckets_[b].hour != hour || buckets_[b].stream != stream) {
    b = BucketFor(stream, hour);
    last_bucket_ = b;
  }
  Bucket& bucket = buckets_[b];
  const uint32_t offset = static_cast<uint32_t>(bucket.fresh.size());
  // As ByteWriter::Bytes writes it (one length byte below 128).
  bucket.fresh.Commit(rulekit::PutBytes(bucket.fresh.Room(rulekit::kMaxVarint + id.size()), id));
  if (offset == 0) unsaved_.push_back(b);
  AddFresh(h, b, offset);
  // At the empty slot the look-up ended at, unless BucketFor rebuilt the table or it must grow.
  AddSlot(h, b, rebuilds_ == rebuilds && !Full() ? i : kNoPlace);
  return false;
}

bool SeenIds::Holds(uint32_t b, std::string_view id, uint64_t hash) {
  return FreshHolds(b, id, hash) || (!buckets_[b].records.empty() && SavedHolds(b, id));
}

bool SeenIds::FreshHolds(uint32_t b, std::string_view id, uint64_t hash) const {
  if (fresh_count_ == 0) return false;
  const std::string_view bytes = buckets_[b].fresh.view();
  for (size_t i = hash & fresh_mask_; fresh_index_[i].bucket != kNone; i = (i + 1) & fresh_mask_) {
    const FreshEntry& e = fresh_index_[i];
    if (e.hash != hash || e.bucket != b) continue;
    size_t next;
    if (IdAt(bytes, e.offset, &next) == id) return true;
  }
  return false;
}

// Rare: a duplicate of an id saved already, or two ids with one fingerprint.
bool SeenIds::SavedHolds(uint32_t b, std::string_view id) {
  if (cached_bucket_ != b) {
    cached_bucket_ = kNone;
    cached_bytes_.clear();
    cached_ids_.clear();
    if (space_ == nullptr) throw FatalError("seen ids: saved ids without a store to read them from");
    // Its own records (an overflow bucket's may name other hours).
    for (const std::string& record : buckets_[b].records) {
      const std::optional<std::string> ids = space_->Get(record);
      if (!ids) throw FatalError("seen-ids record missing from the store");
      cached_bytes_ += *ids;
    }
    for (size_t at = 0, next; at < cached_bytes_.size(); at = next) {
      std::optional<std::string_view> saved = IdAt(cached_bytes_, at, &next);
      if (!saved) throw FatalError("seen-ids record cannot be parsed");
      cached_ids_.push_back(*saved);
    }
    std::sort(cached_ids_.begin(), cached_ids_.end());
    cached_bucket_ = b;
  }
  return std::binary_search(cached_ids_.begin(), cached_ids_.end(), id);
}

void SeenIds::AddFresh(uint64_t hash, uint32_t b, uint32_t offset) {
  if ((fresh_count_ + 1) * 2 > fresh_index_.size()) {
    RebuildFreshIndex(std::max<size_t>(64, fresh_index_.size() * 2));
  }
  size_t i = hash & fresh_mask_;
  while (fresh_index_[i].bucket != kNone) i = (i + 1) & fresh_mask_;
  fresh_index_[i] = FreshEntry{hash, b, offset};
  ++fresh_count_;
}

void SeenIds::RebuildFreshIndex(size_t size) {
  std::vector<FreshEntry> old(size);
  old.swap(fresh_index_);
  fresh_mask_ = size == 0 ? 0 : size - 1;
  fresh_count_ = 0;
  for (const FreshEntry& e : old) {
    if (e.bucket != kNone && buckets_[e.bucket].state == State::kLive) AddFresh(e.hash, e.bucket, e.offset);
  }
}

uint32_t SeenIds::BucketFor(uint8_t stream, Millis hour) {
  auto it = by_hour_.find({stream, hour});
  if (it != by_hour_.end()) return it->second;
  // The last kStreamCount numbers are kept for the overflow buckets.
  if (NumbersLeft() <= kStreamCount && expired_ > 0) Rebuild(table_.size());  // frees numbers
  if (NumbersLeft() <= kStreamCount) return Overflow(stream);
  const uint32_t b = NewBucket(stream, hour);
  by_hour_.emplace(std::make_pair(stream, hour), b);
  return b;
}

uint32_t SeenIds::Overflow(uint8_t stream) {
  if (overflow_[stream] == kNone) overflow_[stream] = NewBucket(stream, kMaxTime);
  return overflow_[stream];
}

uint32_t SeenIds::NewBucket(uint8_t stream, Millis hour) {
  uint32_t b;
  if (!free_buckets_.empty()) {
    b = free_buckets_.back();
    free_buckets_.pop_back();
  } else {
    b = static_cast<uint32_t>(buckets_.size());
    buckets_.emplace_back();
  }
  Bucket& bucket = buckets_[b];
  bucket = Bucket();
  bucket.stream = stream;
  bucket.hour = hour;
  bucket.state = State::kLive;
  return b;
}

void SeenIds::AddSlot(uint64_t hash, uint32_t b, size_t at) {
  const Slot slot = hash >> kBucketBits << kBucketBits | (b + 1);
  ++buckets_[b].slots;
  ++live_;
  if (at != kNoPlace) {
    table_[at] = slot;
    ++occupied_;
    return;
  }
  if (Full()) Rebuild(table_.size() * 2);
  Place(slot);
}

void SeenIds::Place(Slot slot) {
  size_t i = Home(slot >> kBucketBits);
  while (table_[i] != 0) i = (i + 1) & mask_;
  table_[i] = slot;
  ++occupied_;
}

void SeenIds::Rebuild(size_t size) {
  Table old(size, 0);
  old.swap(table_);
  mask_ = size - 1;
  shift_ = 64 - __builtin_ctzll(size);
  occupied_ = 0;
  ++rebuilds_;
  for (const Slot slot : old) {
    if (slot != 0 && buckets_[(slot & kBucketMask) - 1].state == State::kLive) Place(slot);
  }
  for (uint32_t b = 0; b < buckets_.size() && expired_ > 0; ++b) {
    if (buckets_[b].state != State::kExpired) continue;
    buckets_[b] = Bucket();
    free_buckets_.push_back(b);
    --expired_;
  }
}

void SeenIds::Save(KeySpace& space) {
  space_ = &space;
  for (uint32_t b : unsaved_) {
    Bucket& bucket = buckets_[b];
    if (bucket.state != State::kLive || bucket.fresh.size() == 0) continue;
    std::string record = BucketKey(bucket.stream, bucket.hour);
    AppendU32(record, next_record_++);
    space.PutNew(record, bucket.fresh.view());
    bucket.fresh = rulekit::AppendBuffer();
    bucket.records.push_back(std::move(record));
    if (cached_bucket_ == b) cached_bucket_ = kNone;
  }
  unsaved_.clear();
  fresh_index_ = std::vector<FreshEntry>();
  fresh_mask_ = 0;
  fresh_count_ = 0;
}

void SeenIds::Expire(const std::array<Millis, kStreamCount>& horizon, KeySpace& space) {
  space_ = &space;
  size_t stale = 0;
  for (auto it = by_hour_.begin(); it != by_hour_.end();) {
    const auto [stream, hour] = it->first;
    if (hour + kSeenBucket > horizon[stream]) {
      ++it;
      continue;
    }
    const uint32_t b = it->second;
    Bucket& bucket = buckets_[b];
    for (const std::string& record : bucket.records) space.Delete(record);
    live_ -= bucket.slots;
    stale += bucket.slots;
    // Its slots stay until the next rebuild and match nothing (the bucket is not live); its fresh
    // ids' index entries are never read again (a look-up reads a live bucket's only).
    bucket.fresh = rulekit::AppendBuffer();
    bucket.records.clear();
    bucket.state = State::kExpired;
    ++expired_;
    if (last_bucket_ == b) last_bucket_ = kNone;
    if (cached_bucket_ == b) cached_bucket_ = kNone;
    it = by_hour_.erase(it);
  }
  // Before the expired buckets' numbers can be used again, their fresh ids leave the index.
  if (stale > 0 && fresh_count_ > 0) RebuildFreshIndex(fresh_index_.size());
  // A pass over the table once a quarter of its slots are stale: each costs O(slots) and frees
  // what the expired hours held.
  if (stale > 0 && (occupied_ - live_) * 4 > occupied_) {
    size_t size = kFirstSlots;
    while (live_ * 10 >= size * 7 / 2) size *= 2;  // at most 35 % full after it
    Rebuild(std::max(size, table_.size() / 2));
  }
}

void SeenIds::IndexSaved(uint32_t b, std::string_view bytes) {
  const Bucket& bucket = buckets_[b];
  for (size_t at = 0, next; at < bytes.size(); at = next) {
    std::optional<std::string_view> id = IdAt(bytes, at, &next);
    if (!id) throw FatalError("seen-ids record cannot be parsed");
    AddSlot(Hash(bucket.stream, *id), b, kNoPlace);
  }
}

void SeenIds::Load(KeySpace& space) {
  space_ = &space;
  space.ScanPrefix("", [&](std::string_view key, std::string_view ids) {
    if (key.size() != kBucketKeySize + 4) throw FatalError("seen-ids record key cannot be parsed");
    const uint8_t stream = static_cast<uint8_t>(key[0]);
    if (stream >= kStreamCount) throw FatalError("seen-ids record key cannot be parsed");
    const Millis hour = ReadI64(key.substr(1, 8));
    const uint32_t b = hour == kMaxTime ? Overflow(stream) : BucketFor(stream, hour);
    buckets_[b].records.emplace_back(key);
    next_record_ = std::max(next_record_, ReadU32(key.substr(kBucketKeySize)) + 1);
    IndexSaved(b, ids);
    return true;
  });
}

size_t SeenIds::MemoryBytes() const {
  size_t bytes = table_.capacity() * sizeof(Slot) + buckets_.capacity() * sizeof(Bucket) +
                 fresh_index_.capacity() * sizeof(FreshEntry) + cached_bytes_.capacity() +
                 cached_ids_.capacity() * sizeof(std::string_view);
  for (const Bucket& bucket : buckets_) {
    bytes += bucket.fresh.capacity();
    for (const auto& r : bucket.records) bytes += r.capacity() + sizeof r;
  }
  return bytes;
}

}  // namespace vigil
