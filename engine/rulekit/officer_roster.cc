// OfficerRoster: one officer's effective roster (contract, "Effective roster"), the in-memory
// successor of EffectiveRoster (engine/effective_roster.h) with the same answers.
#include "rulekit/officer_roster.h"

#include <algorithm>

#include "events.pb.h"
#include "runtime/core.h"  // RefOf
#include "state/byte_codec.h"

namespace vigil {

bool OfficerRoster::VersionBefore(const Version& a, const Version& b) {
  if (a.shift_id != b.shift_id) return a.shift_id < b.shift_id;
  if (a.ref.time != b.ref.time) return a.ref.time < b.ref.time;
  return a.ref.event_id < b.ref.event_id;
}

void OfficerRoster::Add(const EventView& event) {
  Version version;
  version.shift_id.Assign(event.shift_id);
  version.ref = RefOf(event);
  version.status = event.status;
  version.start = event.start;
  version.end = event.end;
  // Kept sorted on insert, so that queries read each shift's effective version in one pass.
  status_bits_ |= StatusBit(version.status);
  id_heap_bytes_ += rulekit::HeapBytes(version.shift_id) + rulekit::HeapBytes(version.ref.event_id);
  auto at = std::upper_bound(versions_.begin(), versions_.end(), version, VersionBefore);
  versions_.insert(at, std::move(version));
}

void OfficerRoster::Recount() {
  status_bits_ = 0;
  id_heap_bytes_ = 0;
  for (const Version& v : versions_) {
    status_bits_ |= StatusBit(v.status);
    id_heap_bytes_ += rulekit::HeapBytes(v.shift_id) + rulekit::HeapBytes(v.ref.event_id);
  }
}

void OfficerRoster::ForgetEnded(Millis horizon) {
  auto keep_from = versions_.begin();
  auto out = versions_.begin();
  while (keep_from != versions_.end()) {
    auto run_end = keep_from;
    bool keep = false;
    for (; run_end != versions_.end() && run_end->shift_id == keep_from->shift_id; ++run_end) {
      keep = keep || run_end->end >= horizon;
    }
    if (keep) out = std::move(keep_from, run_end, out);
    keep_from = run_end;
  }
  if (out == versions_.end()) return;  // nothing forgotten
  versions_.erase(out, versions_.end());
  Recount();
}

bool OfficerRoster::MayCover(Millis t, uint32_t bits) const {
  if (!MayHold(bits)) return false;
  for (const Version& v : versions_) {
    if ((StatusBit(v.status) & bits) != 0 && v.start <= t && t < v.end) return true;
  }
  return false;
}

Millis OfficerRoster::LatestEnd() const {
  Millis latest = 0;
  for (const Version& v : versions_) latest = std::max(latest, v.end);
  return latest;
}

template <typename F>
void OfficerRoster::ForEachEffective(Millis as_of, F&& f) const {
  const Version* effective = nullptr;
  for (size_t i = 0; i < versions_.size(); ++i) {
    const Version& v = versions_[i];
    if (v.ref.time <= as_of) effective = &v;  // later in the run: greater (changed_at, event_id)
    const bool run_ends = i + 1 == versions_.size() || versions_[i + 1].shift_id != v.shift_id;
    if (!run_ends) continue;
    if (effective) f(*effective);
    effective = nullptr;
  }
}

EffectiveShiftView OfficerRoster::View(const Version& v) {
  return EffectiveShiftView{v.shift_id.view(), v.status, &v.ref, v.start, v.end};
}

void OfficerRoster::ShiftsAsOf(Millis as_of, std::vector<EffectiveShiftView>* out) const {
  out->clear();
  ForEachEffective(as_of, [&](const Version& v) {
    if (v.status != v1::RosterChange::CANCELLED) out->push_back(View(v));
  });
}

void OfficerRoster::Covering(Millis t, Millis as_of, std::vector<EffectiveShiftView>* out) const {
  Overlapping(t, t + 1, as_of, out);
}

void OfficerRoster::Overlapping(Millis begin, Millis end, Millis as_of,
                                std::vector<EffectiveShiftView>* out) const {
  out->clear();
  ForEachEffective(as_of, [&](const Version& v) {
    if (v.status == v1::RosterChange::CANCELLED) return;
    if (v.start < end && begin < v.end) out->push_back(View(v));
  });
}

// Format: count of versions, then each as shift_id, ref (time as a delta from the previous
// version's), status, start (from changed_at) and length.
void OfficerRoster::Encode(std::string& out) const {
  ByteWriter w(out);
  w.U64(versions_.size());
  Millis previous = 0;
  for (const Version& v : versions_) {
    w.Bytes(v.shift_id.view());
    w.WriteRef(v.ref, previous);
    w.I64(v.status);
    w.I64(v.start - v.ref.time);
    w.I64(v.end - v.start);
    previous = v.ref.time;
  }
}

bool OfficerRoster::Decode(std::string_view bytes) {
  versions_.clear();
  ByteReader r(bytes);
  uint64_t count;
  if (!r.U64(&count) || count > bytes.size()) return false;
  versions_.resize(count);
  Millis previous = 0;
  bool ok = true;
  for (size_t i = 0; ok && i < count; ++i) {
    Version& v = versions_[i];
    std::string_view shift_id;
    int64_t start, length;
    ok = r.Bytes(&shift_id) && r.ReadRef(&v.ref, previous) && r.I32(&v.status) &&
         r.I64(&start) && r.I64(&length);
    v.shift_id.Assign(shift_id);
    v.start = v.ref.time + start;
    v.end = v.start + length;
    previous = v.ref.time;
    ok = ok && (i == 0 || !VersionBefore(v, versions_[i - 1]));  // queries rely on the order
  }
  if (!ok || !r.done()) versions_.clear();
  Recount();
  return ok && r.done();
}

size_t OfficerRoster::MemoryBytes() const {
  return versions_.capacity() * sizeof(Version) + id_heap_bytes_;
}

namespace rulekit {

bool ShiftMarks::Has(std::string_view shift_id) const {
  return std::any_of(marks_.begin(), marks_.end(),
                     [&](const Mark& m) { return m.shift_id.view() == shift_id; });
}

void ShiftMarks::Add(std::string_view shift_id, Millis forget_at) {
  marks_.push_back(Mark{IdString(shift_id), forget_at});
  id_heap_bytes_ += HeapBytes(marks_.back().shift_id);
}

bool ShiftMarks::AnyDue(Millis at) const {
  return std::any_of(marks_.begin(), marks_.end(), [&](const Mark& m) { return m.forget_at <= at; });
}

void ShiftMarks::ForgetDue(Millis at) {
  marks_.erase(std::remove_if(marks_.begin(), marks_.end(),
                              [&](const Mark& m) { return m.forget_at <= at; }),
               marks_.end());
  id_heap_bytes_ = 0;
  for (const Mark& m : marks_) id_heap_bytes_ += HeapBytes(m.shift_id);
}

void ShiftMarks::Encode(ByteWriter& w) const {
  w.U64(marks_.size());
  for (const Mark& m : marks_) {
    w.Bytes(m.shift_id.view());
    w.I64(m.forget_at);
  }
}

bool ShiftMarks::Decode(ByteReader& r) {
  marks_.clear();
  id_heap_bytes_ = 0;
  uint64_t n;
  if (!r.U64(&n) || n > r.rest().size()) return false;
  marks_.resize(n);
  for (Mark& m : marks_) {
    std::string_view id;
    if (!r.Bytes(&id) || !r.I64(&m.forget_at)) return false;
    m.shift_id.Assign(id);
    id_heap_bytes_ += HeapBytes(m.shift_id);
  }
  return true;
}

size_t ShiftMarks::MemoryBytes() const { return marks_.capacity() * sizeof(Mark) + id_heap_bytes_; }

}  // namespace rulekit

}  // namespace vigil
