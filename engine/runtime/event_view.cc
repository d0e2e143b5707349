// DecodeEventView: a hand-written reader of the three event messages' wire format, and a fallback.
//
// The fast path takes only the plain form protobuf itself writes, and only a valid event: one-byte
// tags of the schema's fields with their wire types, minimal varints, lengths within the record,
// ASCII strings, enum values the schema names, times and coordinates in range. For such input it
// reads exactly what protobuf reads: a repeated scalar or string field's last occurrence wins,
// and repeated occurrences of a Timestamp are merged (each of its fields' last occurrence wins,
// across all of them), as protobuf parses them into one message.
//
// Anything else (an unknown or mis-typed field, which DecodeEvent refuses; malformed or truncated
// bytes; a string with a byte >= 0x80, which protobuf checks is UTF-8; a missing or invalid field;
// a non-minimal varint; an empty record) goes to DecodeEvent, whose verdict and message are
// returned. The fast path so never decides a rejection: its errors read exactly as DecodeEvent's.
// Should DecodeEvent accept what the fast path did not take (a valid event in an unusual wire
// form), the view is filled from its message: the strings, each the contiguous bytes of its
// field's last occurrence, are found in `bytes` so that they view into it as the fast path's do.
#include "runtime/event_view.h"

#include <cmath>
#include <cstring>

namespace vigil {

bool EventView::IsSubjectLookup() const {
  return (action == v1::AccessEvent::SEARCH || action == v1::AccessEvent::RECORD_VIEW) &&
         !subject_id.empty();
}

namespace {

using Byte = uint8_t;

constexpr Byte Tag(int field, int wire_type) { return static_cast<Byte>(field << 3 | wire_type); }
constexpr int kVarint = 0, kFixed64 = 1, kLength = 2;

// google::protobuf::util::TimeUtil::kTimestampMinSeconds / kTimestampMaxSeconds (years 1-9999).
constexpr int64_t kMinSeconds = -62135596800;
constexpr int64_t kMaxSeconds = 253402300799;
constexpr uint64_t kMaxNanos = 999999999;

// A varint of at most `max_bytes` bytes in its minimal form (the last byte not 0), the 10th byte
// of a 64-bit one no more than 1 (no bits beyond 64). False for anything else, or too few bytes.
inline bool ReadVarint(const Byte*& p, const Byte* end, uint64_t* value, int max_bytes = 10) {
  if (p < end && *p < 0x80) {
    *value = *p++;
    return true;
  }
  uint64_t result = 0;
  for (int i = 0; i < max_bytes; ++i) {
    if (i >= end - p) return false;
    const uint64_t byte = p[i];
    result |= (byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      if (byte == 0 || (i == 9 && byte > 1)) return false;
      *value = result;
      p += i + 1;
      return true;
    }
  }
  return false;
}

// The bytes of a length-delimited field: its length (a size protobuf takes: at most 5 bytes),
// then that many bytes within the record.
inline bool ReadLength(const Byte*& p, const Byte* end, std::string_view* bytes) {
  uint64_t size;
  if (!ReadVarint(p, end, &size, 5) || size > static_cast<uint64_t>(end - p)) return false;
  *bytes = std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(size));
  p += size;
  return true;
}

// ORs every byte of `s` into `bits`: some byte is >= 0x80 if and only if a 0x80 bit ends up set
// in one of bits' bytes (the words may overlap; that changes nothing).
inline void OrBytes(std::string_view s, uint64_t* bits) {
  const char* p = s.data();
  size_t n = s.size();
  if (n >= 8) {
    uint64_t word;
    for (; n > 8; p += 8, n -= 8) {
      std::memcpy(&word, p, 8);
      *bits |= word;
    }
    std::memcpy(&word, p + n - 8, 8);
    *bits |= word;
  } else if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    *bits |= a | b;
  } else {
    for (size_t i = 0; i < n; ++i) *bits |= static_cast<Byte>(p[i]);
  }
}
constexpr uint64_t kHighBits = 0x8080808080808080ULL;

inline bool ReadString(const Byte*& p, const Byte* end, std::string_view* out, uint64_t* bits) {
  if (!ReadLength(p, end, out)) return false;
  OrBytes(*out, bits);
  return true;
}

// An enum value the schema names, other than 0 (its one-byte varint 1 to max).
inline bool ReadEnum(const Byte*& p, const Byte* end, int max, int32_t* out) {
  if (p >= end || *p == 0 || *p > max) return false;
  *out = *p++;
  return true;
}

inline bool ReadDouble(const Byte*& p, const Byte* end, double* out) {
  if (end - p < 8) return false;
  std::memcpy(out, p, 8);
  p += 8;
  return true;
}

// A google.protobuf.Timestamp as the wire gives it, merged over the field's occurrences.
struct Time {
  bool present = false;
  uint64_t seconds = 0, nanos = 0;  // the varints as read

  bool Read(const Byte*& p, const Byte* end) {
    std::string_view bytes;
    if (!ReadLength(p, end, &bytes)) return false;
    present = true;
    const Byte* q = reinterpret_cast<const Byte*>(bytes.data());
    const Byte* q_end = q + bytes.size();
    while (q < q_end) {
      const Byte tag = *q++;
      if (tag == Tag(1, kVarint)) {
        if (!ReadVarint(q, q_end, &seconds)) return false;
      } else if (tag == Tag(2, kVarint)) {
        if (!ReadVarint(q, q_end, &nanos)) return false;
      } else {
        return false;
      }
    }
    return true;
  }
  // Present, and valid as CheckTime (event.cc) requires, for nanos without a doubt: a varint
  // beyond int32 that protobuf would truncate into range is left to DecodeEvent.
  bool Valid() const {
    const int64_t s = static_cast<int64_t>(seconds);
    return present && s >= kMinSeconds && s <= kMaxSeconds && nanos <= kMaxNanos;
  }
  // As ToMillis (event_time.cc): the nanos truncated to milliseconds.
  Millis millis() const {
    return static_cast<int64_t>(seconds) * 1000 + static_cast<int64_t>(nanos) / 1000000;
  }
};

bool ParseRoster(const Byte* p, const Byte* end, EventView* v) {
  uint64_t bits = 0;
  Time start, stop, changed;
  while (p < end) {
    switch (*p++) {
      case Tag(1, kLength): if (!ReadString(p, end, &v->event_id, &bits)) return false; break;
      case Tag(2, kLength): if (!ReadString(p, end, &v->officer_id, &bits)) return false; break;
      case Tag(3, kLength): if (!ReadString(p, end, &v->unit, &bits)) return false; break;
      case Tag(4, kLength): if (!ReadString(p, end, &v->shift_id, &bits)) return false; break;
      case Tag(5, kVarint): if (!ReadEnum(p, end, v1::RosterChange::Status_MAX, &v->status)) return false; break;
      case Tag(6, kLength): if (!start.Read(p, end)) return false; break;
      case Tag(7, kLength): if (!stop.Read(p, end)) return false; break;
      case Tag(8, kLength): if (!changed.Read(p, end)) return false; break;
      default: return false;
    }
  }
  if ((bits & kHighBits) != 0 || v->event_id.empty() || v->officer_id.empty() ||
      v->shift_id.empty() || v->status == 0 || !start.Valid() || !stop.Valid() ||
      !changed.Valid()) {
    return false;
  }
  v->start = start.millis();
  v->end = stop.millis();
  v->time = changed.millis();
  return v->end > v->start;
}

bool ParseAccess(const Byte* p, const Byte* end, EventView* v) {
  uint64_t bits = 0;
  Time occurred;
  while (p < end) {
    switch (*p++) {
      case Tag(1, kLength): if (!ReadString(p, end, &v->event_id, &bits)) return false; break;
      case Tag(2, kLength): if (!ReadString(p, end, &v->officer_id, &bits)) return false; break;
      case Tag(3, kLength): if (!ReadString(p, end, &v->system, &bits)) return false; break;
      case Tag(4, kVarint): if (!ReadEnum(p, end, v1::AccessEvent::Action_MAX, &v->action)) return false; break;
      case Tag(5, kLength): if (!ReadString(p, end, &v->subject_id, &bits)) return false; break;
      case Tag(6, kLength): if (!ReadString(p, end, &v->case_ref, &bits)) return false; break;
      case Tag(7, kLength): if (!ReadString(p, end, &v->site_id, &bits)) return false; break;
      case Tag(8, kFixed64): if (!ReadDouble(p, end, &v->lat)) return false; break;
      case Tag(9, kFixed64): if (!ReadDouble(p, end, &v->lon)) return false; break;
      case Tag(10, kLength): if (!occurred.Read(p, end)) return false; break;
      default: return false;
    }
  }
  // NaN fails every comparison, so it is refused here as !isfinite refuses it in Validate.
  if ((bits & kHighBits) != 0 || v->event_id.empty() || v->officer_id.empty() ||
      v->action == 0 || !occurred.Valid() || !(v->lat >= -90 && v->lat <= 90) ||
      !(v->lon >= -180 && v->lon <= 180)) {
    return false;
  }
  if (v->lat == 0) v->lat = 0;  // -0 is 0, as DecodeEvent's Canonicalize makes it
  if (v->lon == 0) v->lon = 0;
  v->time = occurred.millis();
  return true;
}

bool ParseComplaint(const Byte* p, const Byte* end, EventView* v) {
  uint64_t bits = 0;
  Time received;
  while (p < end) {
    switch (*p++) {
      case Tag(1, kLength): if (!ReadString(p, end, &v->event_id, &bits)) return false; break;
      case Tag(2, kLength): if (!ReadString(p, end, &v->complaint_id, &bits)) return false; break;
      case Tag(3, kLength): if (!ReadString(p, end, &v->officer_id, &bits)) return false; break;
      case Tag(4, kLength): if (!ReadString(p, end, &v->complainant_id, &bits)) return false; break;
      case Tag(5, kVarint): if (!ReadEnum(p, end, v1::Complaint::Category_MAX, &v->category)) return false; break;
      case Tag(6, kLength): if (!received.Read(p, end)) return false; break;
      default: return false;
    }
  }
  if ((bits & kHighBits) != 0 || v->event_id.empty() || v->complaint_id.empty() ||
      v->officer_id.empty() || v->complainant_id.empty() || v->category == 0 ||
      !received.Valid()) {
    return false;
  }
  v->time = received.millis();
  return true;
}

// The decoded fields back to their defaults; where the view was read from stays.
void Clear(Stream stream, EventView* v) {
  const int32_t partition = v->partition;
  const int64_t offset = v->offset;
  *v = EventView{};
  v->stream = stream;
  v->partition = partition;
  v->offset = offset;
}

// `value`, the bytes of a string field's last occurrence, as a view into `bytes`.
bool ViewOf(const std::string& value, std::string_view bytes, std::string_view* out) {
  if (value.empty()) {
    *out = {};
    return true;
  }
  const size_t at = bytes.find(value);
  if (at == std::string_view::npos) return false;
  *out = bytes.substr(at, value.size());
  return true;
}

// The view of an event DecodeEvent accepted from `bytes`.
bool FromEnvelope(const v1::Envelope& event, std::string_view bytes, EventView* v) {
  bool found = true;
  auto view = [&](const std::string& value, std::string_view* out) {
    found = ViewOf(value, bytes, out) && found;
  };
  v->time = EventTime(event);
  switch (StreamOf(event)) {
    case Stream::kRoster: {
      const v1::RosterChange& r = event.roster();
      view(r.event_id(), &v->event_id);
      view(r.officer_id(), &v->officer_id);
      view(r.unit(), &v->unit);
      view(r.shift_id(), &v->shift_id);
      v->status = r.status();
      v->start = ToMillis(r.start());
      v->end = ToMillis(r.end());
      break;
    }
    case Stream::kAccess: {
      const v1::AccessEvent& a = event.access();
      view(a.event_id(), &v->event_id);
      view(a.officer_id(), &v->officer_id);
      view(a.system(), &v->system);
      v->action = a.action();
      view(a.subject_id(), &v->subject_id);
      view(a.case_ref(), &v->case_ref);
      view(a.site_id(), &v->site_id);
      v->lat = a.lat();
      v->lon = a.lon();
      break;
    }
    case Stream::kComplaint: {
      const v1::Complaint& c = event.complaint();
      view(c.event_id(), &v->event_id);
      view(c.complaint_id(), &v->complaint_id);
      view(c.officer_id(), &v->officer_id);
      view(c.complainant_id(), &v->complainant_id);
      v->category = c.category();
      break;
    }
  }
  return found;
}

Status DecodeSlowly(Stream stream, std::string_view bytes, EventView* out) {
  Clear(stream, out);
  Result<v1::Envelope> event = DecodeEvent(stream, bytes);
  if (!event.ok()) return event.status();
  if (!FromEnvelope(*event, bytes, out)) {
    // Cannot happen: protobuf takes each string from one contiguous run of the record's bytes.
    Clear(stream, out);
    return Status::Error("event decoded, but a string of it is not in the record's bytes");
  }
  return Status::Ok();
}

}  // namespace

Status DecodeEventView(Stream stream, std::string_view bytes, EventView* out) {
  Clear(stream, out);
  const Byte* p = reinterpret_cast<const Byte*>(bytes.data());
  const Byte* end = p + bytes.size();
  bool taken = false;
  switch (stream) {
    case Stream::kRoster: taken = ParseRoster(p, end, out); break;
    case Stream::kAccess: taken = ParseAccess(p, end, out); break;
    case Stream::kComplaint: taken = ParseComplaint(p, end, out); break;
  }
  if (taken) return Status::Ok();
  return DecodeSlowly(stream, bytes, out);
}

}  // namespace vigil
