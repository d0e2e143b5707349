// StateStore: Vigil's keyed state, a write-back buffer over a KvBackend.
//
// Reads see every write made since the last checkpoint; writes stay in memory until Checkpoint(),
// which applies them to the backend in one atomic batch. So a checkpoint is all-or-nothing: state,
// alert outbox and source offsets written together are durable together (engine/live/CHECKPOINTS.md).
//
// Values read through Find/Mutable/Overwrite stay decoded in memory between events and are encoded
// only when a checkpoint writes them; a before-checkpoint hook lets the core add what it keeps
// in memory only (its officer records, held events, timers) to the same batch (a KvBatch, handed
// to the backend without a copy).
//
// KeySpace is a scoped view: a key prefix (input partition + namespace) that
// its user cannot see outside of. Single-threaded: one StateStore belongs to one processing thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <type_traits>
#include <unordered_map>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message_lite.h>

#include "state/kv_backend.h"

namespace vigil {

// A decoded state value kept by the StateStore between events (see StateStore::Find).
class StateObject {
 public:
  virtual ~StateObject() = default;
  virtual void Encode(std::string& out) const = 0;
};

// How a type kept as a decoded object is encoded: protobuf messages by default; other types
// provide `void Encode(std::string&) const` and `static bool Decode(std::string_view, T*)`.
template <typename T, typename = void>
struct StateCodec {
  static void Encode(const T& value, std::string& out) { value.Encode(out); }
  static bool Decode(std::string_view bytes, T* out) { return T::Decode(bytes, out); }
};
template <typename T>
struct StateCodec<T, std::enable_if_t<std::is_base_of_v<google::protobuf::MessageLite, T>>> {
  static void Encode(const T& value, std::string& out) { value.SerializeToString(&out); }
  static bool Decode(std::string_view bytes, T* out) {
    return out->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  }
};

template <typename T>
class TypedStateObject final : public StateObject {
 public:
  void Encode(std::string& out) const override { StateCodec<T>::Encode(value, out); }
  T value;
};

class StateStore {
 public:
  // Reads of flushed keys go to the backend (RocksDB's block cache and memtables); values read
  // through Find/Mutable stay decoded in memory (up to max_objects of them, see Checkpoint).
  explicit StateStore(std::unique_ptr<KvBackend> backend, size_t max_objects = 1u << 20);

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

  // The value of `key` decoded as a T, or nullptr if the key is absent. The object stays in memory
  // (a read of the same key needs neither the backend nor a decode) and stays valid until the next
  // write of this key or the next Checkpoint(). The key must be read as one type only.
  template <typename T>
  const T* Find(std::string_view key) {
    Slot& slot = SlotFor<T>(key);
    return slot.object ? &static_cast<TypedStateObject<T>*>(slot.object.get())->value : nullptr;
  }
  // The value of `key` to change in place (a default T if absent): it is encoded only when the
  // next checkpoint writes it. Valid as long as Find's result, but for changing only until the
  // next Scan (which encodes the changes so far): call Mutable again after a Scan.
  template <typename T>
  T& Mutable(std::string_view key) {
    Slot& slot = SlotFor<T>(key);
    if (!slot.object) slot.object = std::make_unique<TypedStateObject<T>>();
    MarkDirty(slot);
    return static_cast<TypedStateObject<T>*>(slot.object.get())->value;
  }

  // A value to replace whatever `key` holds, without reading it: a default T to fill in.
  // `is_new`: as PutNew, the key is known not to be in the backend unless written since the last
  // checkpoint (then a Delete before the next checkpoint leaves no trace).
  template <typename T>
  T& Overwrite(std::string_view key, bool is_new = false) {
    lookup_.assign(key.data(), key.size());
    auto [it, added] = objects_.try_emplace(lookup_);
    Slot& slot = it->second;
    slot.used = epoch_;
    if (added && is_new && dirty_.find(lookup_) == dirty_.end()) slot.maybe_stored = false;
    auto object = std::make_unique<TypedStateObject<T>>();
    T& value = object->value;
    slot.object = std::move(object);
    MarkDirty(slot);
    return value;
  }

  // Deletes `key` and returns what it held, decoded as a T (nullopt if absent).
  template <typename T>
  std::optional<T> Take(std::string_view key) {
    Slot& slot = SlotFor<T>(key);
    std::optional<T> value;
    if (slot.object) value = std::move(static_cast<TypedStateObject<T>*>(slot.object.get())->value);
    Delete(key);
    return value;
  }

  // Makes every write so far durable in one atomic batch.
  void Checkpoint(bool sync);
  // Called by every Checkpoint() to add what its owner keeps in memory only, once the store's own
  // writes are in the batch: the hook's come last, so they win over the store's of the same keys.
  // The hook must not write to the store (those writes would miss this batch).
  void SetBeforeCheckpoint(std::function<void(KvBatch&)> hook) {
    before_checkpoint_ = std::move(hook);
  }

  size_t objects() const { return objects_.size(); }
  size_t pending_writes() const { return dirty_.size() + dirty_objects_.size(); }
  uint64_t keys_written() const { return keys_written_; }  // to the backend, since opening
  uint64_t bytes_written() const { return bytes_written_; }  // keys and values, since opening
  // Checkpoint batches handed to the backend and still being written (BackgroundWriter).
  size_t BytesInFlight() const { return backend_->BytesInFlight(); }

 private:
  struct Pending {
    std::optional<std::string> value;  // nullopt: delete
    bool only_here = false;            // never written to the backend: a delete can just drop it
  };
  // A decoded value. While a key has a slot, the slot is its truth (over dirty_ and the backend).
  struct Slot {
    std::unique_ptr<StateObject> object;  // nullptr: the key is absent
    bool dirty = false;                   // changed since the last checkpoint
    bool maybe_stored = true;             // the backend (or a pending write) may hold the key
    uint64_t used = 0;                    // checkpoint epoch of the last use
  };

  template <typename T>
  Slot& SlotFor(std::string_view key) {
    lookup_.assign(key.data(), key.size());
    auto it = objects_.find(lookup_);
    if (it != objects_.end()) {
      if (it->second.object && !dynamic_cast<TypedStateObject<T>*>(it->second.object.get())) {
        ThrowWrongType(key);
      }
      it->second.used = epoch_;
      return it->second;
    }
    std::optional<std::string> raw;
    Slot& slot = NewSlot(raw);
    if (raw) {
      auto object = std::make_unique<TypedStateObject<T>>();
      if (!StateCodec<T>::Decode(*raw, &object->value)) ThrowCorrupt(key);
      slot.object = std::move(object);
    }
    return slot;
  }
  // Adds the slot of the key in lookup_, with the key's current bytes in `raw` for the caller to
  // decode.
  Slot& NewSlot(std::optional<std::string>& raw);
  // The slot of `key`, or nullptr.
  Slot* FindSlot(std::string_view key);
  // Forgets the slot of `key` (a raw write replaces the decoded value).
  void DropSlot(std::string_view key);
  void MarkDirty(Slot& slot);
  // Writes the dirty objects in [begin, end) to dirty_, so that a Scan sees them.
  void FlushObjects(std::string_view begin, std::string_view end);
  void FlushObject(std::string_view key, Slot& slot);
  // Forgets slots not used since the last checkpoint once there are more than max_objects_.
  void EvictObjects();
  [[noreturn]] void ThrowCorrupt(std::string_view key) const;
  [[noreturn]] void ThrowWrongType(std::string_view key) const;
  // The write-back buffer of bytes, below the decoded objects.
  void PutBytes(std::string_view key, std::string_view value, bool only_here);
  void DeleteBytes(std::string_view key);

  std::unique_ptr<KvBackend> backend_;
  std::map<std::string, Pending, std::less<>> dirty_;
  uint64_t keys_written_ = 0;
  uint64_t bytes_written_ = 0;
  size_t max_objects_;
  uint64_t epoch_ = 0;
  std::unordered_map<std::string, Slot> objects_;
  std::string lookup_;  // key buffer for objects_ lookups (no allocation per lookup)
  // The dirty slots by key (views of objects_' keys), ordered for range flushes.
  std::map<std::string_view, Slot*> dirty_objects_;
  std::string encoded_;  // a dirty object's bytes during a checkpoint
  std::function<void(KvBatch&)> before_checkpoint_;
};

// The layout of Vigil's state records (schemas/state.proto and the key spaces of
// engine/live/CHECKPOINTS.md). A state directory records the format it was written in; Vigil resumes
// only from its own format, since an older layout would be misread, not rejected, by protobuf.
// 5: impossible_travel's points packed, off_duty_access's may-alert flag, each scope's drained
// watermark; 4: the old core (Processor) is gone; 3 was written by it or by the new core beside it.
constexpr char kStateFormat[] = "5";
// Returns `backend` after checking its format marker: an empty database gets the current one; a
// database with another format, or with state and no marker (written before markers), is refused
// with a FatalError naming `where` and what to do.
std::unique_ptr<KvBackend> CheckedStateFormat(std::unique_ptr<KvBackend> backend,
                                              const std::string& where);

// Big-endian encodings that sort like the numbers they encode.
void AppendU32(std::string& out, uint32_t v);
void AppendI64(std::string& out, int64_t v);  // order-preserving for negative values too
uint32_t ReadU32(std::string_view in);
int64_t ReadI64(std::string_view in);
// The smallest key greater than every key starting with prefix.
std::string PrefixEnd(std::string_view prefix);
// Namespaced key prefix inside an input partition's keys (its scope): [scope:4 bytes] name '\0'.
std::string ScopePrefix(uint32_t scope, std::string_view name);

// A prefix-scoped view of a StateStore.
class KeySpace {
 public:
  KeySpace(StateStore& store, std::string prefix) : store_(&store), prefix_(std::move(prefix)) {}
  const std::string& prefix() const { return prefix_; }

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

  // Decoded values (StateStore::Find/Mutable): keys relative to this space.
  template <typename T>
  const T* Find(std::string_view key) { return store_->Find<T>(Scratch(key)); }
  template <typename T>
  T& Mutable(std::string_view key) { return store_->Mutable<T>(Scratch(key)); }
  template <typename T>
  T& Overwrite(std::string_view key, bool is_new = false) {
    return store_->Overwrite<T>(Scratch(key), is_new);
  }
  template <typename T>
  std::optional<T> Take(std::string_view key) { return store_->Take<T>(Scratch(key)); }

  // Copying helpers over Find/Mutable: a missing key reads as an empty message.
  template <typename Message>
  bool Load(std::string_view key, Message* out) {
    const Message* found = Find<Message>(key);
    if (!found) {
      out->Clear();
      return false;
    }
    *out = *found;
    return true;
  }
  template <typename Message>
  void Save(std::string_view key, const Message& value) {
    Overwrite<Message>(key) = value;
  }

 private:
  std::string Full(std::string_view key) const;
  // prefix + key in a buffer reused by every call (the store copies what it keeps).
  std::string_view Scratch(std::string_view key) {
    scratch_.assign(prefix_);
    scratch_.append(key);
    return scratch_;
  }
  StateStore* store_;
  std::string prefix_;
  std::string scratch_;
};

}  // namespace vigil
