// OfficerTable: one scope's officer records in the new core, by dense slot index.
//
// Officer ids are interned once (a flat open-addressing table of (fingerprint, slot); the id is
// compared with the record's own copy), so finding an officer's record costs one hash and no allocation. A record holds everything the rules
// remember about one officer: the roster, one RuleState per rule (absent when empty), the pending
// timers, and the bookkeeping of the core (changed since the last checkpoint, in the store, in
// memory or dropped under the memory budget). Records are never moved: references stay valid.
//
// Single-threaded; one per scope, owned by the core.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rulekit/officer_roster.h"
#include "runtime/id_hash.h"
#include "runtime/rule.h"

namespace vigil {

// One pending timer of an officer. owner 0 is the core's roster cleanup, owner r + 1 rule r.
struct OfficerTimer {
  Millis at = 0;
  uint32_t tag = 0;
  uint16_t owner = 0;
  bool cleanup = false;
  bool operator==(const OfficerTimer& o) const {
    return at == o.at && tag == o.tag && owner == o.owner && cleanup == o.cleanup;
  }
};

struct OfficerRecord {
  std::string id;
  OfficerRoster roster;
  std::vector<std::unique_ptr<RuleState>> states;  // one per rule, nullptr when none
  std::vector<OfficerTimer> timers;
  size_t memory = 0;       // bytes charged to the budget at the last measurement
  // Where its encoding waits for the next snapshot in its scope's staged encodings
  // (Core::StageSnapshot), or kNotStaged; any delivery to it drops that encoding.
  static constexpr uint32_t kNotStaged = 0xffffffffu;
  uint32_t staged_at = kNotStaged;
  bool loaded = true;      // roster and states in memory (false: dropped, read back on use)
  bool dirty = false;      // changed since the last checkpoint
  bool stored = false;     // the store holds a record of it
  bool referenced = false; // used since the eviction clock last passed
  bool measured = true;    // `memory` is up to date

  bool nothing_left() const {
    if (!roster.empty() || !timers.empty()) return false;
    for (const auto& s : states) {
      if (s) return false;
    }
    return true;
  }
};

class OfficerTable {
 public:
  explicit OfficerTable(size_t rules) : rules_(rules) {}
  OfficerTable(const OfficerTable&) = delete;
  OfficerTable& operator=(const OfficerTable&) = delete;

  // The slot of `id`, added (empty, loaded) if new; *added says which.
  uint32_t Intern(std::string_view id, bool* added = nullptr) { return Intern(id, IdHash(id), added); }
  // The same, with `h` = IdHash(id) computed by the caller (who prefetched with it).
  uint32_t Intern(std::string_view id, uint64_t h, bool* added = nullptr) {
    const uint32_t fingerprint = Fingerprint(h);
    size_t i = h & mask_;
    for (; table_[i].slot != kEmpty; i = (i + 1) & mask_) {
      if (table_[i].fingerprint == fingerprint && at(table_[i].slot).id == id) {
        if (added) *added = false;
        return table_[i].slot;
      }
    }
    const uint32_t slot = static_cast<uint32_t>(size_);
    if ((slot & kPageMask) == 0) pages_.push_back(std::make_unique<OfficerRecord[]>(kPageSize));
    ++size_;
    OfficerRecord& record = at(slot);
    record.id.assign(id);
    record.states.resize(rules_);
    table_[i] = {fingerprint, slot};
    if (size_ * 2 > table_.size()) Grow();
    if (added) *added = true;
    return slot;
  }
  // Starts loading the table entry that Intern(id, hash) probes first: at scale it misses the
  // cache, and the caller has other work to overlap with it.
  void PrefetchEntry(uint64_t hash) const { __builtin_prefetch(&table_[hash & mask_]); }
  // Prefetching a record before its use, in three steps each one event or more apart, since each
  // needs what the step before loaded: the record, then its arrays, then its rule states.
  void PrefetchRecord(uint32_t slot) const {
    const char* p = reinterpret_cast<const char*>(&at(slot));
    for (size_t line = 0; line < sizeof(OfficerRecord); line += 64) __builtin_prefetch(p + line);
  }
  void PrefetchArrays(uint32_t slot) const {
    const OfficerRecord& record = at(slot);
    __builtin_prefetch(record.states.data());
    __builtin_prefetch(record.states.data() + 8);
    __builtin_prefetch(record.timers.data());
  }
  void PrefetchStates(uint32_t slot) const {
    for (const auto& state : at(slot).states) {
      if (state) __builtin_prefetch(state.get());
    }
  }
  OfficerRecord& at(uint32_t slot) { return pages_[slot >> kPageBits][slot & kPageMask]; }
  const OfficerRecord& at(uint32_t slot) const { return pages_[slot >> kPageBits][slot & kPageMask]; }
  size_t size() const { return size_; }

 private:
  static constexpr uint32_t kEmpty = 0xffffffffu;
  // Records live in fixed pages, so they never move and a slot's record is two loads away (a
  // std::deque's indexing cost more than the rest of a MarkDirty).
  static constexpr uint32_t kPageBits = 9;
  static constexpr uint32_t kPageSize = 1u << kPageBits;
  static constexpr uint32_t kPageMask = kPageSize - 1;
  // 8 bytes: the hash's high half beside the slot (its low bits give the position), so that twice
  // as many entries share a cache line as with the whole hash; Grow() hashes the ids again.
  struct Entry {
    uint32_t fingerprint = 0;
    uint32_t slot = kEmpty;
  };
  static uint32_t Fingerprint(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }
  void Grow() {
    std::vector<Entry> old(table_.size() * 2);
    old.swap(table_);
    mask_ = table_.size() - 1;
    for (const Entry& e : old) {
      if (e.slot == kEmpty) continue;
      size_t i = IdHash(at(e.slot).id) & mask_;
      while (table_[i].slot != kEmpty) i = (i + 1) & mask_;
      table_[i] = e;
    }
  }
  size_t rules_;
  std::vector<std::unique_ptr<OfficerRecord[]>> pages_;
  size_t size_ = 0;
  std::vector<Entry> table_ = std::vector<Entry>(64);  // open addressing, linear probing
  size_t mask_ = 63;
};

}  // namespace vigil
