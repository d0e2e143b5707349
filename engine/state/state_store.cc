#include "state/state_store.h"

#include <algorithm>
#include <iterator>

#include "status.h"

namespace vigil {

StateStore::StateStore(std::unique_ptr<KvBackend> backend, size_t max_objects)
    : backend_(std::move(backend)), max_objects_(max_objects) {}

std::optional<std::string> StateStore::Get(std::string_view key) {
  if (Slot* slot = FindSlot(key)) {
    if (!slot->object) return std::nullopt;
    std::string bytes;
    slot->object->Encode(bytes);
    return bytes;
  }
  auto it = dirty_.find(key);
  if (it != dirty_.end()) return it->second.value;
  return backend_->Get(key);
}

void StateStore::Put(std::string_view key, std::string_view value) {
  DropSlot(key);
  PutBytes(key, value, false);
}

void StateStore::PutNew(std::string_view key, std::string_view value) {
  DropSlot(key);
  PutBytes(key, value, true);
}

void StateStore::Delete(std::string_view key) {
  if (Slot* slot = FindSlot(key)) {
    if (!slot->maybe_stored) {  // never reached the backend: forget it altogether
      DropSlot(key);
      return;
    }
    slot->object.reset();  // stays decoded, as absent
    MarkDirty(*slot);
    return;
  }
  DeleteBytes(key);
}

void StateStore::PutBytes(std::string_view key, std::string_view value, bool only_here) {
  auto it = dirty_.find(key);
  if (it != dirty_.end()) {
    it->second.value = std::string(value);  // keep its flag: it may have been in the backend
  } else {
    dirty_.emplace(std::string(key), Pending{std::string(value), only_here});
  }
}

void StateStore::DeleteBytes(std::string_view key) {
  auto it = dirty_.find(key);
  if (it == dirty_.end()) {
    dirty_.emplace(std::string(key), Pending{std::nullopt, false});
  } else if (it->second.only_here) {
    dirty_.erase(it);
  } else {
    it->second.value.reset();
  }
}

StateStore::Slot* StateStore::FindSlot(std::string_view key) {
  if (objects_.empty()) return nullptr;
  lookup_.assign(key.data(), key.size());
  auto it = objects_.find(lookup_);
  return it == objects_.end() ? nullptr : &it->second;
}

void StateStore::DropSlot(std::string_view key) {
  if (objects_.empty()) return;
  lookup_.assign(key.data(), key.size());
  auto it = objects_.find(lookup_);
  if (it == objects_.end()) return;
  if (it->second.dirty) dirty_objects_.erase(it->first);
  objects_.erase(it);
}

StateStore::Slot& StateStore::NewSlot(std::optional<std::string>& raw) {
  auto pending = dirty_.find(lookup_);
  bool maybe_stored = true;
  if (pending != dirty_.end()) {
    raw = pending->second.value;
  } else {
    raw = backend_->Get(lookup_);
    maybe_stored = raw.has_value();
  }
  Slot& slot = objects_[lookup_];
  slot.maybe_stored = maybe_stored;
  slot.used = epoch_;
  return slot;
}

void StateStore::MarkDirty(Slot& slot) {
  if (slot.dirty) return;
  slot.dirty = true;
  // The slot is the one just found or added: its key is in lookup_.
  dirty_objects_.emplace(objects_.find(lookup_)->first, &slot);
}

void StateStore::FlushObject(std::string_view key, Slot& slot) {
  if (slot.object) {
    std::string bytes;
    slot.object->Encode(bytes);
    PutBytes(key, bytes, !slot.maybe_stored);
    slot.maybe_stored = true;
  } else if (slot.maybe_stored) {
    DeleteBytes(key);
    slot.maybe_stored = dirty_.count(key) > 0;
  }
  slot.dirty = false;
}

void StateStore::FlushObjects(std::string_view begin, std::string_view end) {
  auto it = dirty_objects_.lower_bound(begin);
  while (it != dirty_objects_.end() && it->first < end) {
    FlushObject(it->first, *it->second);
    it = dirty_objects_.erase(it);
  }
}

void StateStore::EvictObjects() {
  if (objects_.size() <= max_objects_) return;
  for (auto it = objects_.begin(); it != objects_.end();) {
    it = it->second.used < epoch_ ? objects_.erase(it) : std::next(it);
  }
  if (objects_.size() > max_objects_) objects_.clear();  // all in use: start afresh
}

// Merges the backend's keys with the unflushed writes, the latter taking precedence.
void StateStore::Scan(std::string_view begin, std::string_view end,
                      const std::function<bool(std::string_view, std::string_view)>& fn) {
  FlushObjects(begin, end);
  auto backend_it = backend_->NewIterator();
  backend_it->Seek(begin);
  auto dirty_it = dirty_.lower_bound(begin);
  auto backend_live = [&] { return backend_it->Valid() && backend_it->key() < end; };
  auto dirty_live = [&] { return dirty_it != dirty_.end() && dirty_it->first < end; };
  while (backend_live() || dirty_live()) {
    bool take_dirty = dirty_live() && (!backend_live() || dirty_it->first <= backend_it->key());
    if (take_dirty) {
      if (backend_live() && dirty_it->first == backend_it->key()) backend_it->Next();
      const auto& [key, pending] = *dirty_it;
      ++dirty_it;
      if (pending.value && !fn(key, *pending.value)) return;
    } else {
      if (!fn(backend_it->key(), backend_it->value())) return;
      backend_it->Next();
    }
  }
}

// One batch: the raw writes, then the dirty objects (a slot is the truth over a raw write of its
// key made before it was read), then the hook's; of two writes of a key in a batch the later wins.
void StateStore::Checkpoint(bool sync) {
  KvBatch batch;
  for (const auto& [key, pending] : dirty_) {
    if (pending.value) {
      batch.Put(key, *pending.value);
    } else {
      batch.Delete(key);
    }
  }
  for (const auto& [key, slot] : dirty_objects_) {
    if (slot->object) {
      encoded_.clear();  // an Encode may append
      slot->object->Encode(encoded_);
      batch.Put(key, encoded_);
    } else if (slot->maybe_stored) {
      batch.Delete(key);
    }
    slot->maybe_stored = slot->object != nullptr;
    slot->dirty = false;
  }
  if (before_checkpoint_) {
    // Reads in the hook still see the writes above (they are not in the backend yet).
    const size_t raw = dirty_.size(), objects = dirty_objects_.size();
    before_checkpoint_(batch);
    if (dirty_.size() != raw || dirty_objects_.size() != objects) {
      throw FatalError("internal error: the state store was written during its checkpoint");
    }
  }
  dirty_.clear();
  dirty_objects_.clear();
  batch.SortByKey();
  keys_written_ += batch.size();
  bytes_written_ += batch.bytes();
  if (!batch.empty()) backend_->WriteOwned(std::move(batch), sync);
  EvictObjects();  // before the new interval starts: what this interval used is kept
  ++epoch_;
}

void StateStore::ThrowCorrupt(std::string_view key) const {
  throw FatalError("state record cannot be parsed (key " + std::string(key) + ")");
}

void StateStore::ThrowWrongType(std::string_view key) const {
  throw FatalError("state record read as two different types (key " + std::string(key) + ")");
}

std::unique_ptr<KvBackend> CheckedStateFormat(std::unique_ptr<KvBackend> backend,
                                              const std::string& where) {
  // Outside every input partition's keys (those start with the partition number).
  const std::string key = std::string(4, '\xff') + "state-format";
  const std::optional<std::string> format = backend->Get(key);
  if (format == std::optional<std::string>(kStateFormat)) return backend;
  auto any = backend->NewIterator();
  any->Seek("");
  if (!format && !any->Valid()) {  // a new state directory
    backend->Write({{key, std::string_view(kStateFormat)}}, /*sync=*/true);
    return backend;
  }
  // Format 3 is the last one the old core (Processor, removed) wrote.
  const std::string written =
      !format ? std::string("before 3") : *format == "3" ? "3, of Vigil with its old core" : *format;
  throw FatalError("the state in " + where + " was written by another version of Vigil (state " +
                   "format " + written + ", this version reads " + kStateFormat + "); resume " +
                   "it with that version, or start this one on an empty --state-dir (it then " +
                   "reads its input topics from the beginning)");
}

std::string ScopePrefix(uint32_t scope, std::string_view name) {
  std::string prefix;
  AppendU32(prefix, scope);
  prefix.append(name);
  prefix.push_back('\0');
  return prefix;
}

void AppendU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void AppendI64(std::string& out, int64_t v) {
  uint64_t u = static_cast<uint64_t>(v) ^ (uint64_t{1} << 63);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((u >> shift) & 0xff));
}

uint32_t ReadU32(std::string_view in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

int64_t ReadI64(std::string_view in) {
  uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u = (u << 8) | static_cast<uint8_t>(in[i]);
  return static_cast<int64_t>(u ^ (uint64_t{1} << 63));
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<uint8_t>(end.back()) == 0xff) end.pop_back();
  if (end.empty()) return std::string(64, '\xff');  // no finite bound: effectively "end of keys"
  end.back() = static_cast<char>(static_cast<uint8_t>(end.back()) + 1);
  return end;
}

std::string KeySpace::Full(std::string_view key) const {
  std::string full = prefix_;
  full.append(key);
  return full;
}

void KeySpace::ScanPrefix(std::string_view prefix,
                          const std::function<bool(std::string_view, std::string_view)>& fn) {
  std::string begin = Full(prefix);
  std::string end = PrefixEnd(begin);
  store_->Scan(begin, end, [&](std::string_view key, std::string_view value) {
    return fn(key.substr(prefix_.size()), value);
  });
}

void KeySpace::ScanRange(std::string_view begin, std::string_view end,
                         const std::function<bool(std::string_view, std::string_view)>& fn) {
  store_->Scan(Full(begin), Full(end), [&](std::string_view key, std::string_view value) {
    return fn(key.substr(prefix_.size()), value);
  });
}

}  // namespace vigil
