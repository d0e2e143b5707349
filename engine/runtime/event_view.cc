// DecodeEventView: a hand-written reader of the three event messages' wire format, and a fallback.
//
// The fast path takes only the plain form protobuf itself writes, and only a valid event: one-byte
// tags of the schema's fields with their wire types, minimal varints, lengths within the record,
// UTF-8 strings, enum values the schema names, times and coordinates in range. For such input it
// reads exactly what protobuf reads: a repeated scalar or string field's last occurrence wins,
// and repeated occurrences of a Timestamp are merged (each of its fields' last occurrence wins,
// across all of them), as protobuf parses them into one message.
//
// Anything else (an unknown or mis-typed field, which DecodeEvent refuses; malformed or truncated
// bytes; a string that is not UTF-8, which protobuf refuses; a missing or invalid field;
// a non-minimal varint; an empty record) goes to DecodeEvent, whose verdict and message are
// returned. The fast path so never decides a rejection: its errors read exactly as DecodeEvent's.
// Should DecodeEvent accept what the fast path did not take (a valid event in an unusual wire
// form), the view is filled from its message: the strings, each the contiguous bytes of its
// field's last occurrence, are found in `bytes` so that they view into it as the fast path's do.
#include "runtime/event_view.h"

#include <cmath>
#include <cstring>
#include <type_traits>

namespace vigil {

bool EventView::IsSubjectLookup() const {
  return (action == v1::AccessEvent::SEARCH || action == v1::AccessEvent::RECORD_VIEW) &&
         !subject_id.empty();
}

namespace {

using Byte = uint8_t;

// The readers of one field, inlined into each message's parser (GCC would call most of them).
#define VIGIL_INLINE inline __attribute__((always_inline))

constexpr Byte Tag(int field, int wire_type) { return static_cast<Byte>(field << 3 | wire_type); }
constexpr int kVarint = 0, kFixed64 = 1, kLength = 2;

// google::protobuf::util::TimeUtil::kTimestampMinSeconds / kTimestampMaxSeconds (years 1-9999).
constexpr int64_t kMinSeconds = -62135596800;
constexpr int64_t kMaxSeconds = 253402300799;
constexpr uint64_t kMaxNanos = 999999999;

constexpr uint64_t kHighBits = 0x8080808080808080ULL;

// ORs every byte of [p, end) into `bits`: some byte is >= 0x80 if and only if a 0x80 bit ends up
// set in one of bits' bytes (the words read may overlap; that changes nothing).
VIGIL_INLINE void OrBytes(const Byte* p, const Byte* end, uint64_t* bits) {
  auto word = [](const Byte* at) {
    uint64_t w;
    std::memcpy(&w, at, 8);
    return w;
  };
  size_t n = static_cast<size_t>(end - p);
  if (n >= 32) {
    for (; n > 32; p += 32, n -= 32) *bits |= word(p) | word(p + 8) | word(p + 16) | word(p + 24);
    end = p + n;  // the last 32 bytes, some of them seen already
    *bits |= word(end - 32) | word(end - 24) | word(end - 16) | word(end - 8);
  } else if (n >= 16) {
    *bits |= word(p) | word(p + 8) | word(end - 16) | word(end - 8);
  } else if (n >= 8) {
    *bits |= word(p) | word(end - 8);
  } else if (n >= 4) {
    uint32_t c, d;
    std::memcpy(&c, p, 4);
    std::memcpy(&d, end - 4, 4);
    *bits |= c | d;
  } else if (n > 0) {
    *bits |= p[0] | p[n / 2] | p[n - 1];
  }
}

// Whether [p, end) is UTF-8 as protobuf requires of a string (well-formed: no overlong forms, no
// surrogates, nothing beyond U+10FFFF; Unicode's table 3-7).
bool ValidUtf8(const Byte* p, const Byte* end) {
  while (p < end) {
    const Byte b = *p;
    if (b < 0x80) {
      ++p;
      continue;
    }
    int more;
    Byte low = 0x80, high = 0xbf;  // the range of the byte after the first
    if (b >= 0xc2 && b <= 0xdf) {
      more = 1;
    } else if (b >= 0xe0 && b <= 0xef) {
      more = 2;
      if (b == 0xe0) low = 0xa0;
      if (b == 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      more = 3;
      if (b == 0xf0) low = 0x90;
      if (b == 0xf4) high = 0x8f;
    } else {
      return false;
    }
    if (end - p <= more || p[1] < low || p[1] > high) return false;
    for (int i = 2; i <= more; ++i) {
      if (p[i] < 0x80 || p[i] > 0xbf) return false;
    }
    p += more + 1;
  }
  return true;
}

// Where a parse is in one record, and whether the record's strings are UTF-8 so far (protobuf
// checks that they are). Strings are checked in spans of the record rather than one by one: a
// span holds only strings and the tags, one-byte lengths and one-byte enum values between them,
// all below 0x80; so a span is ASCII if and only if its strings are, which is one OR of its words,
// and otherwise UTF-8 if and only if its strings are (an ASCII byte neither continues a sequence
// nor is one's continuation). A field whose wire bytes may be >= 0x80 (a double, a time, a
// string's length of more than one byte) ends the span before it.
struct Cursor {
  const Byte* p;
  const Byte* const begin;
  const Byte* const end;
  const Byte* span;  // the start of the span not yet checked
  bool utf8 = true;

  Cursor(const Byte* data, size_t size) : p(data), begin(data), end(data + size), span(data) {}
  // The span ends at `to`; the next starts at `next`.
  VIGIL_INLINE void Skip(const Byte* to, const Byte* next) {
    if (to != span) Check(span, to);
    span = next;
  }
  VIGIL_INLINE bool Utf8() {
    Check(span, end);
    return utf8;
  }
  VIGIL_INLINE void Check(const Byte* from, const Byte* to) {
    uint64_t bits = 0;
    OrBytes(from, to, &bits);
    if ((bits & kHighBits) != 0 && !ValidUtf8(from, to)) utf8 = false;
  }
};

struct Varint {
  const Byte* next;  // nullptr: not one
  uint64_t value;
};
Varint ReadLongVarint(const Byte* p, const Byte* end, int max_bytes) {
  const ptrdiff_t available = end - p;
  const int limit = available < max_bytes ? static_cast<int>(available) : max_bytes;
  uint64_t result = 0;
  for (int i = 0; i < limit; ++i) {
    const uint64_t byte = p[i];
    result |= (byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      if (byte == 0 || (i == 9 && byte > 1)) break;
      return {p + i + 1, result};
    }
  }
  return {nullptr, 0};
}
VIGIL_INLINE bool ReadLongVarint(const Byte*& p, const Byte* end, uint64_t* value, int max_bytes) {
  const Varint varint = ReadLongVarint(p, end, max_bytes);
  if (varint.next == nullptr) return false;
  p = varint.next;
  *value = varint.value;
  return true;
}

// A varint as ReadLongVarint reads it, ending before `end`; those of 2 to 8 bytes from one
// 64-bit word (loaded from p, or near the record's end from end - 8 and shifted).
VIGIL_INLINE bool ReadVarint(const Byte*& p, const Byte* begin, const Byte* end, uint64_t* value) {
  if (p < end && *p < 0x80) {
    *value = *p++;
    return true;
  }
  const ptrdiff_t available = end - p;
  uint64_t word;
  if (available >= 8) {
    std::memcpy(&word, p, 8);
  } else if (end - begin >= 8 && available > 0) {
    std::memcpy(&word, end - 8, 8);  // little-endian: p's byte to the bottom, zeros above
    word >>= 8 * (8 - available);
  } else {
    return ReadLongVarint(p, end, value, 10);
  }
  const uint64_t stops = ~word & kHighBits;  // the bytes without a continuation bit
  if (stops == 0) return ReadLongVarint(p, end, value, 10);
  const int last_bit = __builtin_ctzll(stops);  // 8 * (bytes - 1) + 7
  const int bytes = (last_bit >> 3) + 1;
  if (bytes > available) return false;  // a zero shifted in, beyond the end
  uint64_t x = word & ((uint64_t{2} << last_bit) - 1) & 0x7f7f7f7f7f7f7f7fULL;
  if ((x >> (last_bit - 7)) == 0) return false;  // its last byte 0: not minimal
  x = ((x & 0x7f007f007f007f00ULL) >> 1) | (x & 0x007f007f007f007fULL);
  x = ((x & 0x3fff00003fff0000ULL) >> 2) | (x & 0x00003fff00003fffULL);
  x = ((x & 0x0fffffff00000000ULL) >> 4) | (x & 0x000000000fffffffULL);
  *value = x;
  p += bytes;
  return true;
}

// The length of a length-delimited field (a size protobuf takes: at most 5 bytes), within the
// record.
VIGIL_INLINE bool ReadSize(Cursor& c, uint64_t* size) {
  if (c.p < c.end && *c.p < 0x80) {
    *size = *c.p++;
  } else if (!ReadLongVarint(c.p, c.end, size, 5)) {
    return false;
  }
  return *size <= static_cast<uint64_t>(c.end - c.p);
}

// A string field (its tag the byte before c.p), as a view of its bytes.
VIGIL_INLINE bool ReadString(Cursor& c, std::string_view* out) {
  uint64_t size;
  if (c.p < c.end && *c.p < 0x80) {
    size = *c.p++;
    if (size > static_cast<uint64_t>(c.end - c.p)) return false;
  } else {
    const Byte* tag = c.p - 1;
    if (!ReadSize(c, &size)) return false;
    c.Skip(tag, c.p);  // the length's bytes are >= 0x80; the string starts a span
  }
  *out = std::string_view(reinterpret_cast<const char*>(c.p), static_cast<size_t>(size));
  c.p += size;
  return true;
}

// An enum value the schema names, other than 0 (its one-byte varint 1 to max).
VIGIL_INLINE bool ReadEnum(Cursor& c, int max, int32_t* out) {
  if (c.p >= c.end || *c.p == 0 || *c.p > max) return false;
  *out = *c.p++;
  return true;
}

VIGIL_INLINE bool ReadDouble(Cursor& c, double* out) {
  if (c.end - c.p < 8) return false;
  std::memcpy(out, c.p, 8);
  c.Skip(c.p - 1, c.p + 8);
  c.p += 8;
  return true;
}

// A google.protobuf.Timestamp as the wire gives it, merged over the field's occurrences.
struct Time {
  bool present = false;
  uint64_t seconds = 0, nanos = 0;  // the varints as read

  VIGIL_INLINE bool Read(Cursor& c) {
    const Byte* field = c.p - 1;
    uint64_t size;
    if (!ReadSize(c, &size)) return false;
    const Byte* q = c.p;
    const Byte* q_end = c.p + size;
    c.p = q_end;
    c.Skip(field, q_end);
    present = true;
    // In field order first, then any (protobuf takes the last of each).
    if (q < q_end && *q == Tag(1, kVarint)) {
      ++q;
      if (!ReadVarint(q, c.begin, q_end, &seconds)) return false;
    }
    if (q < q_end && *q == Tag(2, kVarint)) {
      ++q;
      if (!ReadVarint(q, c.begin, q_end, &nanos)) return false;
    }
    while (q < q_end) {
      const Byte tag = *q++;
      if (tag == Tag(1, kVarint)) {
        if (!ReadVarint(q, c.begin, q_end, &seconds)) return false;
      } else if (tag == Tag(2, kVarint)) {
        if (!ReadVarint(q, c.begin, q_end, &nanos)) return false;
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

// The record's fields: first in field order, as protobuf writes them, each then a test of its
// expected tag; then any others, in any order and repeated (each read as it comes: the last
// occurrence wins). `Message::Field(tag, c)` reads one field whose tag has been read, false for a
// tag of no field of the message or a field it cannot take; `Message::Absent(tag)` gives the
// field its default where the in-order pass does not find it (so that no view field is written
// twice; the other messages' fields are cleared beforehand).
template <typename Message>
VIGIL_INLINE bool Expect(Message& m, Cursor& c, Byte tag) {
  if (c.p < c.end && *c.p == tag) {
    ++c.p;
    return m.Field(tag, c);
  }
  m.Absent(tag);
  return true;
}
template <typename Message, typename... Tags>
VIGIL_INLINE bool ReadFields(Message& m, Cursor& c, Tags... in_order) {
  if (!(Expect(m, c, in_order) && ...)) return false;
  while (c.p < c.end) {
    const Byte tag = *c.p++;
    if (!m.Field(tag, c)) return false;
  }
  return true;
}

struct RosterMessage {
  EventView* v;
  Time start, end, changed_at;

  VIGIL_INLINE bool Field(Byte tag, Cursor& c) {
    switch (tag) {
      case Tag(1, kLength): return ReadString(c, &v->event_id);
      case Tag(2, kLength): return ReadString(c, &v->officer_id);
      case Tag(3, kLength): return ReadString(c, &v->unit);
      case Tag(4, kLength): return ReadString(c, &v->shift_id);
      case Tag(5, kVarint): return ReadEnum(c, v1::RosterChange::Status_MAX, &v->status);
      case Tag(6, kLength): return start.Read(c);
      case Tag(7, kLength): return end.Read(c);
      case Tag(8, kLength): return changed_at.Read(c);
      default: return false;
    }
  }
  VIGIL_INLINE void Absent(Byte tag) {
    switch (tag) {
      case Tag(1, kLength): v->event_id = {}; break;
      case Tag(2, kLength): v->officer_id = {}; break;
      case Tag(3, kLength): v->unit = {}; break;
      case Tag(4, kLength): v->shift_id = {}; break;
      case Tag(5, kVarint): v->status = 0; break;
      default: break;  // the times' defaults are Time's
    }
  }
  // The fields of the other messages.
  static void ClearOthers(EventView* v) {
    v->system = {};
    v->subject_id = {};
    v->case_ref = {};
    v->site_id = {};
    v->complaint_id = {};
    v->complainant_id = {};
    v->action = 0;
    v->category = 0;
    v->lat = 0;
    v->lon = 0;
  }
};

struct AccessMessage {
  EventView* v;
  Time occurred_at;

  VIGIL_INLINE bool Field(Byte tag, Cursor& c) {
    switch (tag) {
      case Tag(1, kLength): return ReadString(c, &v->event_id);
      case Tag(2, kLength): return ReadString(c, &v->officer_id);
      case Tag(3, kLength): return ReadString(c, &v->system);
      case Tag(4, kVarint): return ReadEnum(c, v1::AccessEvent::Action_MAX, &v->action);
      case Tag(5, kLength): return ReadString(c, &v->subject_id);
      case Tag(6, kLength): return ReadString(c, &v->case_ref);
      case Tag(7, kLength): return ReadString(c, &v->site_id);
      case Tag(8, kFixed64): return ReadDouble(c, &v->lat);
      case Tag(9, kFixed64): return ReadDouble(c, &v->lon);
      case Tag(10, kLength): return occurred_at.Read(c);
      default: return false;
    }
  }
  VIGIL_INLINE void Absent(Byte tag) {
    switch (tag) {
      case Tag(1, kLength): v->event_id = {}; break;
      case Tag(2, kLength): v->officer_id = {}; break;
      case Tag(3, kLength): v->system = {}; break;
      case Tag(4, kVarint): v->action = 0; break;
      case Tag(5, kLength): v->subject_id = {}; break;
      case Tag(6, kLength): v->case_ref = {}; break;
      case Tag(7, kLength): v->site_id = {}; break;
      case Tag(8, kFixed64): v->lat = 0; break;
      case Tag(9, kFixed64): v->lon = 0; break;
      default: break;
    }
  }
  static void ClearOthers(EventView* v) {
    v->unit = {};
    v->shift_id = {};
    v->complaint_id = {};
    v->complainant_id = {};
    v->status = 0;
    v->category = 0;
    v->start = 0;
    v->end = 0;
  }
};

struct ComplaintMessage {
  EventView* v;
  Time received_at;

  VIGIL_INLINE bool Field(Byte tag, Cursor& c) {
    switch (tag) {
      case Tag(1, kLength): return ReadString(c, &v->event_id);
      case Tag(2, kLength): return ReadString(c, &v->complaint_id);
      case Tag(3, kLength): return ReadString(c, &v->officer_id);
      case Tag(4, kLength): return ReadString(c, &v->complainant_id);
      case Tag(5, kVarint): return ReadEnum(c, v1::Complaint::Category_MAX, &v->category);
      case Tag(6, kLength): return received_at.Read(c);
      default: return false;
    }
  }
  VIGIL_INLINE void Absent(Byte tag) {
    switch (tag) {
      case Tag(1, kLength): v->event_id = {}; break;
      case Tag(2, kLength): v->complaint_id = {}; break;
      case Tag(3, kLength): v->officer_id = {}; break;
      case Tag(4, kLength): v->complainant_id = {}; break;
      case Tag(5, kVarint): v->category = 0; break;
      default: break;
    }
  }
  static void ClearOthers(EventView* v) {
    v->unit = {};
    v->shift_id = {};
    v->system = {};
    v->subject_id = {};
    v->case_ref = {};
    v->site_id = {};
    v->status = 0;
    v->action = 0;
    v->start = 0;
    v->end = 0;
    v->lat = 0;
    v->lon = 0;
  }
};

// Each Parse* reads a record in the form the fast path takes, into `v`, and says whether it was
// one, valid as Validate requires. Every field of the view but stream, partition and offset is
// written (left unspecified when it was not one: DecodeSlowly then clears it).
VIGIL_INLINE bool ParseRoster(const Byte* data, size_t size, EventView* v) {
  RosterMessage::ClearOthers(v);
  Cursor c(data, size);
  RosterMessage m{v, {}, {}, {}};
  if (!ReadFields(m, c, Tag(1, kLength), Tag(2, kLength), Tag(3, kLength), Tag(4, kLength),
                  Tag(5, kVarint), Tag(6, kLength), Tag(7, kLength), Tag(8, kLength)) ||
      !c.Utf8() || v->event_id.empty() || v->officer_id.empty() || v->shift_id.empty() ||
      v->status == 0 || !m.start.Valid() || !m.end.Valid() || !m.changed_at.Valid()) {
    return false;
  }
  v->start = m.start.millis();
  v->end = m.end.millis();
  v->time = m.changed_at.millis();
  return v->end > v->start;
}

VIGIL_INLINE bool ParseAccess(const Byte* data, size_t size, EventView* v) {
  AccessMessage::ClearOthers(v);
  Cursor c(data, size);
  AccessMessage m{v, {}};
  // NaN fails every comparison, so it is refused here as !isfinite refuses it in Validate.
  if (!ReadFields(m, c, Tag(1, kLength), Tag(2, kLength), Tag(3, kLength), Tag(4, kVarint),
                  Tag(5, kLength), Tag(6, kLength), Tag(7, kLength), Tag(8, kFixed64),
                  Tag(9, kFixed64), Tag(10, kLength)) ||
      !c.Utf8() || v->event_id.empty() || v->officer_id.empty() || v->action == 0 ||
      !m.occurred_at.Valid() || !(v->lat >= -90 && v->lat <= 90) ||
      !(v->lon >= -180 && v->lon <= 180)) {
    return false;
  }
  if (v->lat == 0) v->lat = 0;  // -0 is 0, as DecodeEvent's Canonicalize makes it
  if (v->lon == 0) v->lon = 0;
  v->time = m.occurred_at.millis();
  return true;
}

VIGIL_INLINE bool ParseComplaint(const Byte* data, size_t size, EventView* v) {
  ComplaintMessage::ClearOthers(v);
  Cursor c(data, size);
  ComplaintMessage m{v, {}};
  if (!ReadFields(m, c, Tag(1, kLength), Tag(2, kLength), Tag(3, kLength), Tag(4, kLength),
                  Tag(5, kVarint), Tag(6, kLength)) ||
      !c.Utf8() || v->event_id.empty() || v->complaint_id.empty() || v->officer_id.empty() ||
      v->complainant_id.empty() || v->category == 0 || !m.received_at.Valid()) {
    return false;
  }
  v->time = m.received_at.millis();
  return true;
}

// The decoded fields back to their defaults; where the view was read from stays.
VIGIL_INLINE void Clear(Stream stream, EventView* v) {
  // All bits 0 is each field's default but partition's and offset's, which stay (a view is plain
  // data: zeroing it is the cheapest way, some 15 stores).
  static_assert(std::is_trivially_copyable_v<EventView>);
  const int32_t partition = v->partition;
  const int64_t offset = v->offset;
  std::memset(static_cast<void*>(v), 0, sizeof *v);
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

__attribute__((noinline)) Status DecodeSlowly(Stream stream, std::string_view bytes,
                                              EventView* out) {
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
  out->stream = stream;
  const Byte* data = reinterpret_cast<const Byte*>(bytes.data());
  bool taken = false;
  switch (stream) {
    case Stream::kRoster: taken = ParseRoster(data, bytes.size(), out); break;
    case Stream::kAccess: taken = ParseAccess(data, bytes.size(), out); break;
    case Stream::kComplaint: taken = ParseComplaint(data, bytes.size(), out); break;
  }
  if (!taken) {
    Status slowly = DecodeSlowly(stream, bytes, out);
    if (!slowly.ok()) return slowly;
  }
  out->source = bytes;
  return Status::Ok();
}

}  // namespace vigil
