// EffectiveRoster: the roster as the contract defines it, shared by every rule that reads it.
//
// For each shift_id the effective version as of instant T is the version with the greatest
// changed_at (ties: greater event_id) among those with changed_at <= T; the shift is absent if
// that version is CANCELLED (or if no version existed by T). Queries name T explicitly, so answers
// do not depend on the order in which versions arrived.
//
// Stored per input partition under the "roster" namespace: key officer '\0' shift_id -> every
// version of that shift. Versions are kept until the watermark is past the shift's end plus roster
// grace plus the largest allowed lateness, after which no decision can ask about it.
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "events.pb.h"
#include "rules_config.h"
#include "state.pb.h"
#include "state_store.h"

namespace vigil {

// One effective shift. `shift_id` and `ref` refer into the roster's cache: they stay valid until
// the next call on any EffectiveRoster (copy what must live longer).
struct EffectiveShift {
  const std::string& shift_id;
  v1::RosterChange::Status status;  // of the effective version
  const state::EventRef& ref;       // the effective version's event
  Millis start = 0;
  Millis end = 0;
};

// Decoded shift histories of recently queried officers, so that a query does not parse the
// officer's whole roster from the store each time. Owned by the engine, one per input partition;
// every change goes through EffectiveRoster, which keeps it in step with the store.
class RosterCache {
 public:
  using Shifts = std::map<std::string, state::ShiftHistory>;  // shift_id -> versions
  explicit RosterCache(size_t max_officers = 200000) : max_officers_(max_officers) {}
  Shifts* Find(const std::string& officer_id);
  Shifts& Insert(const std::string& officer_id, Shifts shifts);

 private:
  size_t max_officers_;
  std::unordered_map<std::string, Shifts> officers_;
};

class EffectiveRoster {
 public:
  EffectiveRoster(KeySpace space, RosterCache* cache) : space_(std::move(space)), cache_(cache) {}

  // Records one version; returns the time after which the shift may be forgotten.
  Millis Add(const v1::RosterChange& version, const state::EventRef& ref, const TimeSettings& time);
  // Forgets the shift if no version ends after `horizon`; returns false if it must be kept.
  bool ForgetIfEnded(const std::string& officer_id, const std::string& shift_id, Millis horizon);

  // Effective, non-cancelled shifts of an officer as of `as_of`, ordered by shift_id.
  std::vector<EffectiveShift> ShiftsAsOf(const std::string& officer_id, Millis as_of) const;
  // Those covering instant t ([start, end)).
  std::vector<EffectiveShift> Covering(const std::string& officer_id, Millis t, Millis as_of) const;
  // Those overlapping [begin, end) with positive length.
  std::vector<EffectiveShift> Overlapping(const std::string& officer_id, Millis begin, Millis end,
                                          Millis as_of) const;

  static std::string ShiftKey(const std::string& officer_id, const std::string& shift_id);

 private:
  // The officer's shift histories, from the cache or loaded into it.
  RosterCache::Shifts& Load(const std::string& officer_id) const;
  mutable KeySpace space_;
  RosterCache* cache_;
};

}  // namespace vigil
