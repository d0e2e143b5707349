#include "state/kv_batch.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "status.h"

namespace vigil {
namespace {

// The first block holds the small batches of most checkpoints (outbox, offsets) in one allocation
// (clear() keeps it); later blocks are above glibc's largest mmap threshold (32 MiB), so they are mapped
// on their own and unmapped when freed. Only the pages written are ever resident.
constexpr size_t kFirstBlock = 64u << 10;
constexpr size_t kLaterBlock = 64u << 20;

}  // namespace

KvBatch::KvBatch(std::initializer_list<KvWrite> writes) {
  for (const auto& [key, value] : writes) {
    if (value) {
      Put(key, *value);
    } else {
      Delete(key);
    }
  }
}

KvBatch::KvBatch(KvBatch&& other) noexcept { *this = std::move(other); }

KvBatch& KvBatch::operator=(KvBatch&& other) noexcept {
  blocks_ = std::exchange(other.blocks_, {});
  entries_ = std::exchange(other.entries_, {});
  block_size_ = std::exchange(other.block_size_, 0);
  block_used_ = std::exchange(other.block_used_, 0);
  stored_ = std::exchange(other.stored_, 0);
  bytes_ = std::exchange(other.bytes_, 0);
  return *this;
}

void KvBatch::Put(std::string_view prefix, std::string_view key, std::string_view value) {
  Add(prefix, key, value, false);
}

void KvBatch::Delete(std::string_view prefix, std::string_view key) { Add(prefix, key, {}, true); }

void KvBatch::Append(const KvBatch& other, std::string_view prefix) {
  for (size_t i = 0; i < other.size(); ++i) {
    const std::optional<std::string_view> v = other.value(i);
    Add(prefix, other.key(i), v.value_or(std::string_view()), !v);
  }
}

void KvBatch::Add(std::string_view prefix, std::string_view key, std::string_view value,
                  bool is_delete) {
  const size_t key_size = prefix.size() + key.size();
  if (key_size > UINT32_MAX || value.size() > UINT32_MAX) {
    throw FatalError("a state write of over 4 GiB (key " + std::string(prefix) + std::string(key) +
                     ")");
  }
  char* at = Reserve(key_size + value.size());
  // memcpy of an empty view's null pointer is undefined: copy only what there is.
  if (!prefix.empty()) std::memcpy(at, prefix.data(), prefix.size());
  if (!key.empty()) std::memcpy(at + prefix.size(), key.data(), key.size());
  if (!value.empty()) std::memcpy(at + key_size, value.data(), value.size());
  entries_.push_back(Entry{at, static_cast<uint32_t>(key_size), static_cast<uint32_t>(value.size()),
                           is_delete});
  bytes_ += key_size + value.size();
}

char* KvBatch::Reserve(size_t n) {
  if (blocks_.empty() || block_size_ - block_used_ < n) {
    block_size_ = std::max(n, blocks_.empty() ? kFirstBlock : kLaterBlock);
    // new char[] leaves the bytes uninitialised: a page is touched only when written.
    blocks_.emplace_back(new char[block_size_]);
    block_used_ = 0;
  }
  char* at = blocks_.back().get() + block_used_;
  block_used_ += n;
  stored_ += n;
  return at;
}

void KvBatch::SortByKey() {
  auto by_key = [](const Entry& a, const Entry& b) {
    return std::string_view(a.key, a.key_size) < std::string_view(b.key, b.key_size);
  };
  if (InKeyOrder()) return;
  std::stable_sort(entries_.begin(), entries_.end(), by_key);
  size_t kept = 0;  // of equal keys (adjacent, in write order) the last wins
  bytes_ = 0;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (i + 1 < entries_.size() && key(i + 1) == key(i)) continue;
    entries_[kept] = entries_[i];
    bytes_ += entries_[kept].key_size + entries_[kept].value_size;
    ++kept;
  }
  entries_.resize(kept);
}

bool KvBatch::InKeyOrder() const {
  for (size_t i = 1; i < entries_.size(); ++i) {
    if (!(key(i - 1) < key(i))) return false;
  }
  return true;
}

size_t KvBatch::LowerBound(std::string_view k) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), k, [](const Entry& e, std::string_view k) {
    return std::string_view(e.key, e.key_size) < k;
  });
  return static_cast<size_t>(it - entries_.begin());
}

void KvBatch::clear() {
  const bool small = blocks_.size() == 1 && block_size_ == kFirstBlock;
  if (!small) {  // a large batch: its memory goes back
    blocks_.clear();
    block_size_ = 0;
  }
  block_used_ = 0;
  stored_ = 0;
  bytes_ = 0;
  entries_.clear();
  if (entries_.capacity() * sizeof(Entry) > kFirstBlock) entries_.shrink_to_fit();
}

}  // namespace vigil
