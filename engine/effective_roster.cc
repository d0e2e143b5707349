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
  state::ShiftVersion& added = *history.add_versions();
  *added.mutable_ref() = ref;
  added.set_changed_at_ms(ToMillis(version.changed_at()));
  added.set_status(version.status());
  added.set_start_ms(ToMillis(version.start()));
  added.set_end_ms(ToMillis(version.end()));
  // Written as bytes: the decoded history lives in the roster cache, a second decoded copy in the
  // store's object cache would only cost a copy and memory.
  space_.Put(key, history.SerializeAsString());
  Millis latest_end = 0;
  for (const auto& v : history.versions()) latest_end = std::max(latest_end, v.end_ms());
  return latest_end + time.roster_grace + time.MaxLateness();
}

bool EffectiveRoster::ForgetIfEnded(const std::string& officer_id, const std::string& shift_id,
                                    Millis horizon) {
  RosterCache::Shifts& shifts = Load(officer_id);
  auto it = shifts.find(shift_id);
  if (it == shifts.end()) return true;
  for (const auto& v : it->second.versions()) {
    if (v.end_ms() >= horizon) return false;
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
    const Millis changed = v.changed_at_ms();
    if (changed > as_of) continue;
    if (best < 0) {
      best = i;
      continue;
    }
    const auto& b = history.versions(best);
    const Millis best_changed = b.changed_at_ms();
    const bool later = changed > best_changed ||
                       (changed == best_changed && v.ref().event_id() > b.ref().event_id());
    if (later) best = i;
  }
  return best;
}

}  // namespace

std::vector<EffectiveShift> EffectiveRoster::ShiftsAsOf(const std::string& officer_id,
                                                        Millis as_of) const {
  std::vector<EffectiveShift> shifts;
  for (const auto& [shift_id, history] : Load(officer_id)) {  // ordered by shift_id
    const int i = EffectiveIndex(history, as_of);
    if (i < 0) continue;
    const auto& v = history.versions(i);
    const auto status = static_cast<v1::RosterChange::Status>(v.status());
    if (status == v1::RosterChange::CANCELLED) continue;
    shifts.push_back(EffectiveShift{shift_id, status, v.ref(), v.start_ms(), v.end_ms()});
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
