// Front coding: a run of refs (or texts) written each after the one before it, so that what an
// officer's consecutive events share costs nearly nothing. An officer's event ids differ in their
// last digits, and its times, offsets and partitions in small steps: an id is written as the
// length of the prefix it shares with the previous id plus the rest, length-prefixed, and a time,
// offset and partition as zigzag varint deltas. Used by the rules whose state is a long run of an
// officer's events (complainant_lookup's look-ups, impossible_travel's points).
//
// Not a public format: the bytes are those of the rules' states (engine/state/byte_codec.h).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "rulekit/codec.h"
#include "rulekit/ref.h"
#include "state/byte_codec.h"

namespace vigil::rulekit {

// The length of the longest common prefix of a and b, 8 bytes at a time (ids are tens of bytes
// and mostly share all but the last few). Inline: it runs for every look-up and point appended.
inline size_t SharedPrefix(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) return i + static_cast<size_t>(__builtin_ctzll(x ^ y) / 8);  // little-endian
  }
  if (i == n) return n;
  if (n >= 8) {  // the last 8 bytes, overlapping those compared: no byte loop
    uint64_t x, y;
    std::memcpy(&x, a.data() + n - 8, 8);
    std::memcpy(&y, b.data() + n - 8, 8);
    return x == y ? n : n - 8 + static_cast<size_t>(__builtin_ctzll(x ^ y) / 8);
  }
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

// The most bytes TextBase::Put writes for `text`.
inline size_t MaxFrontCodedBytes(std::string_view text) { return 2 * kMaxVarint + text.size(); }

// One text field of a front-coded run: the value written last (empty before the first), the base
// of the next.
struct TextBase {
  IdString last;

  // Writes `text` after `last` (the length of their shared prefix, then the rest as bytes), and
  // keeps it as the base of the next. Always inline: it runs for every look-up and point.
  __attribute__((always_inline)) char* Put(char* p, std::string_view text) {
    const size_t shared = SharedPrefix(last, text);
    p = PutU64(p, shared);
    p = PutBytes(p, text.substr(shared));
    if (shared != text.size() || shared != last.size()) last.Assign(text);
    return p;
  }
};

// Reads what TextBase::Put wrote after `*text`, replacing `*text` with it.
bool ReadFrontCoded(ByteReader& in, std::string* text);

// The ref written last in a run (zero before the first, or as the run's owner sets it): the base
// of the next one. Partition is kept as int64 so that its delta is that of the written form.
struct RefBase {
  TextBase event_id;
  Millis time = 0;
  int64_t offset = 0;
  int64_t partition = 0;

  // The most bytes Put writes for an event id of `id_size` bytes.
  static size_t MaxPutBytes(size_t id_size) { return 5 * kMaxVarint + id_size; }
  // Writes a ref (its id front-coded, the rest as zigzag deltas) after this base, and becomes it.
  char* Put(char* p, std::string_view id, Millis t, int64_t off, int64_t part) {
    p = event_id.Put(p, id);
    p = PutI64(p, t - time);
    p = PutI64(p, off - offset);
    p = PutI64(p, part - partition);
    time = t;
    offset = off;
    partition = part;
    return p;
  }
};

// Reads a run that RefBase::Put wrote, from the same starting base: Next() reads one ref and
// leaves it in the public fields (event_id reused between calls: no allocation for short ids).
class RefBaseReader {
 public:
  RefBaseReader() = default;
  explicit RefBaseReader(Millis time) : time(time) {}
  // False on truncated or malformed bytes (nothing is then known of the fields).
  bool Next(ByteReader& in) {
    int64_t dt, doffset, dpartition;
    if (!ReadFrontCoded(in, &event_id) || !in.I64(&dt) || !in.I64(&doffset) ||
        !in.I64(&dpartition)) {
      return false;
    }
    time += dt;
    offset += doffset;
    partition += dpartition;
    return true;
  }
  // The last ref read, as the base of the next one written.
  RefBase base() const { return {{IdString(event_id)}, time, offset, partition}; }

  std::string event_id;
  Millis time = 0;
  int64_t offset = 0;
  int64_t partition = 0;
};

}  // namespace vigil::rulekit
