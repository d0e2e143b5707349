// KvBatch: the writes of one atomic batch, owning their bytes.
//
// Every layer of the state path builds or reads this one type: the StateStore fills it at a
// checkpoint (the core's snapshot adds its records straight into it), the BackgroundWriter takes
// it over without a copy (KvBackend::WriteOwned) and serves reads from it while it is written, and
// the RocksDB backend writes it. A snapshot is the largest thing Vigil holds besides its state, so
// it is held once (bench/RESULTS.md: a copy per layer cost 100 MiB per 60,000 officers).
//
// Keys and values are appended to blocks that never move: a batch grows without copying what it
// holds (a doubling buffer would hold the old and the new copy at once) and without an allocation
// per write. Blocks past the first are large enough that the allocator maps them directly, so a
// batch's memory goes back to the system when it is dropped, not to a heap it would stay
// resident in. The views key() and value() return are valid until the batch is cleared or dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil {

// One write: a value to put, or nullopt to delete.
using KvWrite = std::pair<std::string_view, std::optional<std::string_view>>;

class KvBatch {
 public:
  KvBatch() = default;
  KvBatch(std::initializer_list<KvWrite> writes);  // a batch written at once (set-ups, markers)
  KvBatch(KvBatch&& other) noexcept;
  KvBatch& operator=(KvBatch&& other) noexcept;
  KvBatch(const KvBatch&) = delete;
  KvBatch& operator=(const KvBatch&) = delete;

  // The key is prefix + key (a scope's prefix and a record's id, without joining them first).
  void Put(std::string_view prefix, std::string_view key, std::string_view value);
  void Delete(std::string_view prefix, std::string_view key);
  void Put(std::string_view key, std::string_view value) { Put({}, key, value); }
  void Delete(std::string_view key) { Delete({}, key); }
  // Appends every write of `other`, its keys behind `prefix`.
  void Append(const KvBatch& other, std::string_view prefix = {});

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  std::string_view key(size_t i) const { return {entries_[i].key, entries_[i].key_size}; }
  // nullopt: a delete.
  std::optional<std::string_view> value(size_t i) const {
    const Entry& e = entries_[i];
    if (e.is_delete) return std::nullopt;
    return std::string_view(e.key + e.key_size, e.value_size);
  }
  uint64_t bytes() const { return bytes_; }  // of keys and values
  // What the batch keeps in memory: the bytes written to its blocks and its index.
  size_t MemoryBytes() const { return stored_ + entries_.capacity() * sizeof(Entry); }

  // Orders the writes by key and keeps, of several writes of one key, the last one made: the batch
  // then leaves what applying its writes in order would (RocksDB inserts in key order fastest, a
  // table file needs it, and BackgroundWriter searches it).
  void SortByKey();
  // Whether the keys strictly increase (as after SortByKey).
  bool InKeyOrder() const;
  // The first write whose key is not less than `key`; the batch must be in key order.
  size_t LowerBound(std::string_view key) const;

  // Forgets every write; the first block stays for the next batch, the others are freed.
  void clear();

 private:
  struct Entry {
    const char* key;  // the value's bytes follow the key's
    uint32_t key_size;
    uint32_t value_size;
    bool is_delete;
  };
  void Add(std::string_view prefix, std::string_view key, std::string_view value, bool is_delete);
  // Room for n contiguous bytes in the last block (a new block if it has no room).
  char* Reserve(size_t n);

  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t block_size_ = 0;  // of the last block
  size_t block_used_ = 0;  // of the last block
  size_t stored_ = 0;      // bytes used in all blocks
  uint64_t bytes_ = 0;
  std::vector<Entry> entries_;
};

}  // namespace vigil
