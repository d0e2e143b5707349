#include "state_store.h"

#include "status.h"

namespace vigil {

StateStore::StateStore(std::unique_ptr<KvBackend> backend) : backend_(std::move(backend)) {}

std::optional<std::string> StateStore::Get(std::string_view key) {
  auto it = dirty_.find(key);
  if (it != dirty_.end()) return it->second.value;
  return backend_->Get(key);
}

void StateStore::Put(std::string_view key, std::string_view value) {
  auto it = dirty_.find(key);
  if (it != dirty_.end()) {
    it->second.value = std::string(value);
  } else {
    dirty_.emplace(std::string(key), Pending{std::string(value), false});
  }
}

void StateStore::PutNew(std::string_view key, std::string_view value) {
  auto it = dirty_.find(key);
  if (it != dirty_.end()) {
    it->second.value = std::string(value);  // keep its flag: it may have been in the backend
  } else {
    dirty_.emplace(std::string(key), Pending{std::string(value), true});
  }
}

void StateStore::Delete(std::string_view key) {
  auto it = dirty_.find(key);
  if (it == dirty_.end()) {
    dirty_.emplace(std::string(key), Pending{std::nullopt, false});
  } else if (it->second.only_here) {
    dirty_.erase(it);
  } else {
    it->second.value.reset();
  }
}

// Merges the backend's keys with the unflushed writes, the latter taking precedence.
void StateStore::Scan(std::string_view begin, std::string_view end,
                      const std::function<bool(std::string_view, std::string_view)>& fn) {
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

void StateStore::Checkpoint(bool sync) {
  if (dirty_.empty()) return;
  writes_.clear();  // kept between checkpoints: no large allocation each time
  for (const auto& [key, pending] : dirty_) {
    writes_.emplace_back(key, pending.value ? std::optional<std::string_view>(*pending.value)
                                            : std::nullopt);
  }
  backend_->Write(writes_, sync);
  keys_written_ += writes_.size();
  writes_.clear();
  dirty_.clear();
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

void KeySpace::ThrowCorrupt(std::string_view key) const {
  throw FatalError("state record cannot be parsed (key " + Full(key) + ")");
}

}  // namespace vigil
