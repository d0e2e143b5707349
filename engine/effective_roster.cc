#include "effective_roster.h"

#include <algorithm>

namespace vigil {

std::string EffectiveRoster::ShiftKey(const std::string& officer_id, const std::string& shift_id) {
  std::string key = officer_id;
  key.push_back('\0');
  key += shift_id;
  return key;
}

RosterCache::Shifts* RosterCache::Find(const std::string& officer_id) {
  auto it = officers_.find(officer_id);
  return it == officers_.end() ? nullptr : &it->second;
}

RosterCache::Shifts& RosterCache::Insert(const std::string& officer_id, Shifts shifts) {
  if (officers_.size() >= max_officers_) officers_.clear();  // crude, but bounded and rare
  return officers_[officer_id] = std::move(shifts);
}

RosterCache::Shifts& EffectiveRoster::Load(const std::string& officer_id) const {
  if (RosterCache::Shifts* cached = cache_->Find(officer_id)) return *cached;
  RosterCache::Shifts shifts;
  std::string prefix = officer_id;
  prefix.push_back('\0');
  space_.ScanPrefix(prefix, [&](std::string_view key, std::string_view value) {
    state::ShiftHistory& history = shifts[std::string(key.substr(prefix.size()))];
    if (!history.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      throw FatalError("roster record cannot be parsed for officer " + officer_id);
    }
    return true;
  });
  return cache_->Insert(officer_id, std::move(shifts));
}

Millis EffectiveRoster::Add(const v1::RosterChange& version, const state::EventRef& ref,
                            const TimeSettings& time) {
  std::string key = ShiftKey(version.officer_id(), version.shift_id());
  state::ShiftHistory& history = Load(version.officer_id())[version.shift_id()];
  *history.add_versions() = version;
  *history.add_refs() = ref;
  // Written as bytes: the decoded history lives in the roster cache, a second decoded copy in the
  // store's object cache would only cost a copy and memory.
  space_.Put(key, history.SerializeAsString());
  Millis latest_end = 0;
  for (const auto& v : history.versions()) latest_end = std::max(latest_end, ToMillis(v.end()));
  return latest_end + time.roster_grace + time.MaxLateness();
}

bool EffectiveRoster::ForgetIfEnded(const std::string& officer_id, const std::string& shift_id,
                                    Millis horizon) {
  RosterCache::Shifts& shifts = Load(officer_id);
  auto it = shifts.find(shift_id);
  if (it == shifts.end()) return true;
  for (const auto& v : it->second.versions()) {
    if (ToMillis(v.end()) >= horizon) return false;
  }
  shifts.erase(it);
  space_.Delete(ShiftKey(officer_id, shift_id));
  return true;
}

namespace {

// Index of the effective version as of `as_of`, or -1.
int EffectiveIndex(const state::ShiftHistory& history, Millis as_of) {
  int best = -1;
  for (int i = 0; i < history.versions_size(); ++i) {
    const auto& v = history.versions(i);
    Millis changed = ToMillis(v.changed_at());
    if (changed > as_of) continue;
    if (best < 0) {
      best = i;
      continue;
    }
    const auto& b = history.versions(best);
    Millis best_changed = ToMillis(b.changed_at());
    if (changed > best_changed || (changed == best_changed && v.event_id() > b.event_id())) best = i;
  }
  return best;
}

}  // namespace

std::vector<EffectiveShift> EffectiveRoster::ShiftsAsOf(const std::string& officer_id,
                                                        Millis as_of) const {
  std::vector<EffectiveShift> shifts;
  for (const auto& [shift_id, history] : Load(officer_id)) {  // ordered by shift_id
    int i = EffectiveIndex(history, as_of);
    if (i >= 0 && history.versions(i).status() != v1::RosterChange::CANCELLED) {
      const auto& v = history.versions(i);
      shifts.push_back(EffectiveShift{v, history.refs(i), ToMillis(v.start()), ToMillis(v.end())});
    }
  }
  return shifts;
}

std::vector<EffectiveShift> EffectiveRoster::Covering(const std::string& officer_id, Millis t,
                                                      Millis as_of) const {
  return Overlapping(officer_id, t, t + 1, as_of);
}

std::vector<EffectiveShift> EffectiveRoster::Overlapping(const std::string& officer_id,
                                                         Millis begin, Millis end,
                                                         Millis as_of) const {
  std::vector<EffectiveShift> overlapping;
  for (const EffectiveShift& s : ShiftsAsOf(officer_id, as_of)) {
    if (s.start < end && begin < s.end) overlapping.push_back(s);
  }
  return overlapping;
}

}  // namespace vigil
