#include "runtime/seen_ids.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

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


SeenIds::SeenIds(HashFn hash) : hash_(hash), table_(64), mask_(63) {}

std::string_view SeenIds::IdAt(const Bucket& bucket, size_t offset, size_t* next) const {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(bucket.ids.data()) + offset;
  size_t length = 0;
  int shift = 0;
  size_t used = 0;
  while (true) {
    const unsigned char byte = p[used++];
    length |= static_cast<size_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) break;
    shift += 7;
  }
  if (next) *next = offset + used + length;
  return std::string_view(bucket.ids.data() + offset + used, length);
}

bool SeenIds::Matches(const Entry& e, std::string_view id) const {
  const Bucket& bucket = buckets_[e.bucket];
  const unsigned char first = static_cast<unsigned char>(bucket.ids.data()[e.offset]);
  if (first < 0x80) {  // the common case: an id shorter than 128 bytes
    return first == id.size() &&
           std::memcmp(bucket.ids.data() + e.offset + 1, id.data(), id.size()) == 0;
  }
  return IdAt(bucket, e.offset, nullptr) == id;
}

bool SeenIds::SeenOrAdd(uint8_t stream, std::string_view id, Millis time, uint64_t h) {
  size_t i = h & mask_;
  for (; table_[i].bucket != kEmpty; i = (i + 1) & mask_) {
    const Entry& e = table_[i];
    if (e.hash == h && buckets_[e.bucket].stream == stream && Matches(e, id)) return true;
  }
  const Millis hour = FloorTo(time, kSeenBucket);
  uint32_t b = last_bucket_;
  if (b == kEmpty || buckets_[b].hour != hour || buckets_[b].stream != stream) {
    b = BucketFor(stream, hour);
    last_bucket_ = b;
  }
  Bucket& bucket = buckets_[b];
  const uint32_t offset = static_cast<uint32_t>(bucket.ids.size());
  // As ByteWriter::Bytes writes it (one length byte below 128).
  bucket.ids.Commit(rulekit::PutBytes(bucket.ids.Room(rulekit::kMaxVarint + id.size()), id));
  if (!bucket.unsaved) {
    bucket.unsaved = true;
    unsaved_.push_back(b);
  }
  if ((count_ + 1) * 2 > table_.size()) {
    Insert(h, b, offset);  // grows the table first
  } else {
    table_[i] = Entry{h, b, offset};  // the empty entry the look-up ended at
    ++count_;
  }
  return false;
}

uint32_t SeenIds::BucketFor(uint8_t stream, Millis hour) {
  auto [it, added] = by_hour_.try_emplace({stream, hour}, kEmpty);
  if (!added) return it->second;
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
  bucket.live = true;
  it->second = b;
  return b;
}

void SeenIds::Insert(uint64_t hash, uint32_t bucket, uint32_t offset) {
  if ((count_ + 1) * 2 > table_.size()) Grow();
  size_t i = hash & mask_;
  while (table_[i].bucket != kEmpty) i = (i + 1) & mask_;
  table_[i] = Entry{hash, bucket, offset};
  ++count_;
}

void SeenIds::Grow() {
  Table old(table_.size() * 2);
  old.swap(table_);
  mask_ = table_.size() - 1;
  for (const Entry& e : old) {
    if (e.bucket == kEmpty) continue;
    size_t i = e.hash & mask_;
    while (table_[i].bucket != kEmpty) i = (i + 1) & mask_;
    table_[i] = e;
  }
}

void SeenIds::Erase(uint64_t hash, uint32_t bucket, uint32_t offset) {
  size_t i = hash & mask_;
  while (true) {
    const Entry& e = table_[i];
    if (e.bucket == kEmpty) return;  // not found (cannot happen)
    if (e.bucket == bucket && e.offset == offset) break;
    i = (i + 1) & mask_;
  }
  // Backward-shift deletion: no tombstones, probe sequences stay short.
  size_t j = i;
  while (true) {
    j = (j + 1) & mask_;
    if (table_[j].bucket == kEmpty) break;
    const size_t home = table_[j].hash & mask_;
    const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (stays) continue;
    table_[i] = table_[j];
    i = j;
  }
  table_[i].bucket = kEmpty;
  --count_;
}

void SeenIds::Save(KeySpace& space) {
  for (uint32_t b : unsaved_) {
    Bucket& bucket = buckets_[b];
    if (!bucket.live || !bucket.unsaved) continue;
    bucket.unsaved = false;
    std::string record(1, static_cast<char>(bucket.stream));
    AppendI64(record, bucket.hour);
    AppendU32(record, next_record_++);
    space.PutNew(record, bucket.ids.view().substr(bucket.saved));
    bucket.saved = bucket.ids.size();
    bucket.records.push_back(std::move(record));
  }
  unsaved_.clear();
}

void SeenIds::Expire(const std::array<Millis, kStreamCount>& horizon, KeySpace& space) {
  for (auto it = by_hour_.begin(); it != by_hour_.end();) {
    const auto [stream, hour] = it->first;
    if (hour + kSeenBucket > horizon[stream]) {
      ++it;
      continue;
    }
    const uint32_t b = it->second;
    Bucket& bucket = buckets_[b];
    for (size_t at = 0, next; at < bucket.ids.size(); at = next) {
      std::string_view id = IdAt(bucket, at, &next);
      Erase(Hash(bucket.stream, id), b, static_cast<uint32_t>(at));
    }
    for (const std::string& record : bucket.records) space.Delete(record);
    bucket = Bucket();
    free_buckets_.push_back(b);
    if (last_bucket_ == b) last_bucket_ = kEmpty;
    it = by_hour_.erase(it);
  }
}

void SeenIds::IndexBucketBytes(uint32_t b, size_t from) {
  const Bucket& bucket = buckets_[b];
  for (size_t at = from, next; at < bucket.ids.size(); at = next) {
    std::string_view id = IdAt(bucket, at, &next);
    if (next > bucket.ids.size()) throw FatalError("seen-ids record cannot be parsed");
    Insert(Hash(bucket.stream, id), b, static_cast<uint32_t>(at));
  }
}

void SeenIds::Load(KeySpace& space) {
  space.ScanPrefix("", [&](std::string_view key, std::string_view ids) {
    if (key.size() != kBucketKeySize + 4) throw FatalError("seen-ids record key cannot be parsed");
    const uint8_t stream = static_cast<uint8_t>(key[0]);
    if (stream >= kStreamCount) throw FatalError("seen-ids record key cannot be parsed");
    const uint32_t b = BucketFor(stream, ReadI64(key.substr(1, 8)));
    Bucket& bucket = buckets_[b];
    const size_t from = bucket.ids.size();
    bucket.ids.Append(ids);
    bucket.saved = bucket.ids.size();
    bucket.records.emplace_back(key);
    next_record_ = std::max(next_record_, ReadU32(key.substr(kBucketKeySize)) + 1);
    IndexBucketBytes(b, from);
    return true;
  });
}

size_t SeenIds::MemoryBytes() const {
  size_t bytes = table_.capacity() * sizeof(Entry) + buckets_.capacity() * sizeof(Bucket);
  for (const Bucket& bucket : buckets_) {
    bytes += bucket.ids.capacity();
    for (const auto& r : bucket.records) bytes += r.capacity() + sizeof r;
  }
  return bytes;
}

}  // namespace vigil
