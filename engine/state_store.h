// StateStore: Vigil's keyed state, a write-back buffer over a KvBackend.
//
// Reads see every write made since the last checkpoint; writes stay in memory until Checkpoint(),
// which applies them to the backend in one atomic batch. So a checkpoint is all-or-nothing: state,
// alert outbox and source offsets written together are durable together (engine/CHECKPOINTS.md).
//
// KeySpace is the view an operator gets: a key prefix (input partition + namespace) that it
// cannot see outside of. Single-threaded: one StateStore belongs to one processing thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kv_backend.h"

namespace vigil {

class StateStore {
 public:
  // Reads of flushed keys go to the backend (RocksDB's block cache and memtables): a cache of
  // values in front of it was measured to cost more than it saved.
  explicit StateStore(std::unique_ptr<KvBackend> backend);

  std::optional<std::string> Get(std::string_view key);
  void Put(std::string_view key, std::string_view value);
  // Put of a key the caller knows is not in the backend unless an unflushed write or delete of it
  // is pending here (e.g. a fresh time-ordered key): if it is deleted before the next checkpoint,
  // neither write reaches the backend.
  void PutNew(std::string_view key, std::string_view value);
  void Delete(std::string_view key);
  // Calls fn(key, value) for every live key in [begin, end) in key order; fn returns false to stop.
  // fn must not write to the store.
  void Scan(std::string_view begin, std::string_view end,
            const std::function<bool(std::string_view, std::string_view)>& fn);
  // Makes every write so far durable in one atomic batch.
  void Checkpoint(bool sync);

  size_t pending_writes() const { return dirty_.size(); }
  uint64_t keys_written() const { return keys_written_; }  // to the backend, since opening

 private:
  struct Pending {
    std::optional<std::string> value;  // nullopt: delete
    bool only_here = false;            // never written to the backend: a delete can just drop it
  };

  std::unique_ptr<KvBackend> backend_;
  std::map<std::string, Pending, std::less<>> dirty_;
  uint64_t keys_written_ = 0;
  std::vector<KvWrite> writes_;
};

// Big-endian encodings that sort like the numbers they encode.
void AppendU32(std::string& out, uint32_t v);
void AppendI64(std::string& out, int64_t v);  // order-preserving for negative values too
uint32_t ReadU32(std::string_view in);
int64_t ReadI64(std::string_view in);
// The smallest key greater than every key starting with prefix.
std::string PrefixEnd(std::string_view prefix);

// A prefix-scoped view of a StateStore.
class KeySpace {
 public:
  KeySpace(StateStore& store, std::string prefix) : store_(&store), prefix_(std::move(prefix)) {}

  std::optional<std::string> Get(std::string_view key) { return store_->Get(Scratch(key)); }
  void Put(std::string_view key, std::string_view value) { store_->Put(Scratch(key), value); }
  void PutNew(std::string_view key, std::string_view value) { store_->PutNew(Scratch(key), value); }
  void Delete(std::string_view key) { store_->Delete(Scratch(key)); }
  // Keys passed to fn are relative to this space.
  void ScanPrefix(std::string_view prefix,
                  const std::function<bool(std::string_view, std::string_view)>& fn);
  // Keys in [begin, end), relative to this space.
  void ScanRange(std::string_view begin, std::string_view end,
                 const std::function<bool(std::string_view, std::string_view)>& fn);

  // Protobuf helpers: a missing key reads as an empty message.
  template <typename Message>
  bool Load(std::string_view key, Message* out) {
    auto raw = Get(key);
    out->Clear();
    if (!raw) return false;
    if (!out->ParseFromString(*raw)) ThrowCorrupt(key);
    return true;
  }
  template <typename Message>
  void Save(std::string_view key, const Message& value) {
    Put(key, value.SerializeAsString());
  }

 private:
  std::string Full(std::string_view key) const;
  // prefix + key in a buffer reused by every call (the store copies what it keeps).
  std::string_view Scratch(std::string_view key) {
    scratch_.assign(prefix_);
    scratch_.append(key);
    return scratch_;
  }
  [[noreturn]] void ThrowCorrupt(std::string_view key) const;
  StateStore* store_;
  std::string prefix_;
  std::string scratch_;
};

}  // namespace vigil
