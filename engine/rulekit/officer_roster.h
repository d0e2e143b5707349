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

#include "time/event_time.h"
#include "rulekit/ref.h"
#include "runtime/event_view.h"
#include "state/byte_codec.h"

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
  // Records one version (a roster event of this officer: shift_id, status, start, end, and time as
  // changed_at). Allocates only for a shift or event id longer than IdString::kInline, or when the
  // officer holds more versions than ever before.
  void Add(const EventView& version);
  // Forgets every shift none of whose versions ends at or after `horizon` (as the old
  // EffectiveRoster::ForgetIfEnded, over all shifts at once).
  void ForgetEnded(Millis horizon);
  bool empty() const { return versions_.empty(); }
  // The StatusBit of a status.
  static constexpr uint32_t StatusBit(int32_t status) {
    return status >= 0 && status < 31 ? 1u << status : 1u << 31;
  }
  // Whether some version held (effective or not, as of any instant) has a status among `bits`
  // (StatusBit()s or-ed): when not, no query can return a shift with such a status. O(1).
  bool MayHold(uint32_t bits) const { return (status_bits_ & bits) != 0; }
  // Whether some version held with a status among `bits` covers instant t ([start, end)): when
  // not, no Covering(t, as_of) returns a shift with such a status, whatever as_of. A scan of the
  // versions, without Covering()'s effective-version work.
  bool MayCover(Millis t, uint32_t bits) const;
  // The latest end of any version held (0 if none): after it plus roster_grace plus the largest
  // allowed lateness no decision can ask about any shift held now.
  Millis LatestEnd() const;

  // Effective, non-cancelled shifts as of `as_of`, ordered by shift_id. Each query clears `out`
  // first, so a caller reuses one vector's capacity.
  void ShiftsAsOf(Millis as_of, std::vector<EffectiveShiftView>* out) const;
  // Those covering instant t ([start, end)).
  void Covering(Millis t, Millis as_of, std::vector<EffectiveShiftView>* out) const;
  // Those overlapping [begin, end) with positive length.
  void Overlapping(Millis begin, Millis end, Millis as_of,
                   std::vector<EffectiveShiftView>* out) const;

  void Encode(std::string& out) const;
  // Replaces the roster with the one `bytes` encode; false (and empty) if they are damaged.
  bool Decode(std::string_view bytes);
  size_t MemoryBytes() const;

 private:
  struct Version {
    IdString shift_id;
    Ref ref;  // ref.time is changed_at; its event_id orders versions with equal changed_at
    int32_t status = 0;
    Millis start = 0, end = 0;
  };
  // One flat vector rather than a vector per shift: an officer has a handful of shifts of one or
  // two versions each, and a flat vector keeps its capacity when shifts are forgotten.
  static bool VersionBefore(const Version& a, const Version& b);
  static EffectiveShiftView View(const Version& v);
  // Calls f(effective version) for each shift with a version effective as of `as_of`.
  template <typename F>
  void ForEachEffective(Millis as_of, F&& f) const;
  // Sorted by (shift_id, changed_at, event_id): a shift's versions are contiguous and its
  // effective version as of T is the last of them with changed_at <= T.
  std::vector<Version> versions_;
  uint32_t status_bits_ = 0;  // StatusBit of every version's status, or-ed
  size_t id_heap_bytes_ = 0;  // heap bytes of the long ids in versions_ (MemoryBytes in O(1))
  void Recount();             // status_bits_ and id_heap_bytes_ from versions_
};

namespace rulekit {

// Shifts a roster rule has already acted on (alerted about, decided), each kept until the instant
// after which no decision can ask about it. Small: a handful per officer at any time.
class ShiftMarks {
 public:
  bool Has(std::string_view shift_id) const;
  void Add(std::string_view shift_id, Millis forget_at);
  // Whether ForgetDue(at) would forget anything (a rule leaves its state unchanged otherwise).
  bool AnyDue(Millis at) const;
  // Forgets every mark whose forget_at <= at.
  void ForgetDue(Millis at);
  bool empty() const { return marks_.empty(); }

  void Encode(ByteWriter& w) const;
  bool Decode(ByteReader& r);
  size_t MemoryBytes() const;

 private:
  struct Mark {
    IdString shift_id;
    Millis forget_at = 0;
  };
  std::vector<Mark> marks_;  // in the order added
  size_t id_heap_bytes_ = 0;  // heap bytes of the long ids in marks_
};

// Heap bytes an IdString holds beyond its own size (for MemoryBytes).
inline size_t HeapBytes(const IdString& id) { return id.size() > IdString::kInline ? id.size() : 0; }

}  // namespace rulekit
}  // namespace vigil
