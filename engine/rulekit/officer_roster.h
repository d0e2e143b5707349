// OfficerRoster: one officer's effective roster as the contract defines it, for the new core.
//
// For each shift_id the effective version as of instant T is the version with the greatest
// changed_at (ties: greater event_id) among those with changed_at <= T; the shift is absent if that
// version is CANCELLED (or if no version existed by T). Queries name T explicitly, so answers do
// not depend on the order in which versions arrived. The core keeps one per officer inside the
// officer's record and feeds it every roster event before any rule sees that event; rules only
// read it. Versions are forgotten once no decision can ask about them (ForgetEnded).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "event_time.h"
#include "rulekit/ref.h"
#include "runtime/event_view.h"

namespace vigil {

// One effective shift. The views stay valid until the roster is next changed.
struct EffectiveShiftView {
  std::string_view shift_id;
  int32_t status = 0;  // v1::RosterChange::Status of the effective version
  const Ref* ref = nullptr;  // the effective version's event
  Millis start = 0;
  Millis end = 0;
};

class OfficerRoster {
 public:
  // Records one version (a roster event of this officer).
  void Add(const EventView& version);
  // Forgets every shift none of whose versions ends after `horizon`.
  void ForgetEnded(Millis horizon);
  bool empty() const { return shifts_.empty(); }

  // Effective, non-cancelled shifts as of `as_of`, ordered by shift_id.
  void ShiftsAsOf(Millis as_of, std::vector<EffectiveShiftView>* out) const;
  // Those covering instant t ([start, end)).
  void Covering(Millis t, Millis as_of, std::vector<EffectiveShiftView>* out) const;
  // Those overlapping [begin, end) with positive length.
  void Overlapping(Millis begin, Millis end, Millis as_of,
                   std::vector<EffectiveShiftView>* out) const;

  void Encode(std::string& out) const;
  bool Decode(std::string_view bytes);
  size_t MemoryBytes() const;

 private:
  struct Version {
    Ref ref;  // ref.time is changed_at; its event_id orders versions with equal changed_at
    int32_t status = 0;
    Millis start = 0, end = 0;
  };
  struct Shift {
    IdString shift_id;
    std::vector<Version> versions;  // in the order added
  };
  const Version* EffectiveVersion(const Shift& shift, Millis as_of) const;
  std::vector<Shift> shifts_;  // ordered by shift_id
};

}  // namespace vigil
