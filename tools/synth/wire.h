// A tiny protobuf encoder for the three input messages (schemas/events.proto), so that generation
// writes each event's wire bytes straight into its day's buffer instead of building a message and
// serializing it. The bytes are exactly those of SerializeToString (tests/synthetic_force_test.cc
// compares them on every event of a small force): fields in field-number order, proto3 defaults
// (empty strings, enum 0, doubles whose bits are all 0) left out, Timestamps always present as
// length-delimited submessages of their non-zero seconds and nanos.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "time/event_time.h"

namespace vigil::synth::wire {

inline void Varint(std::string& out, uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, n);
}

inline int VarintSize(uint64_t v) {
  int n = 1;
  while (v >= 0x80) v >>= 7, ++n;
  return n;
}

// Field tags below 16 are one byte.
inline void Tag(std::string& out, int field, int type) { out.push_back(static_cast<char>(field << 3 | type)); }

inline void String(std::string& out, int field, std::string_view s) {
  if (s.empty()) return;
  Tag(out, field, 2);
  Varint(out, s.size());
  out.append(s);
}

inline void Enum(std::string& out, int field, int v) {
  if (v == 0) return;
  Tag(out, field, 0);
  Varint(out, static_cast<uint64_t>(static_cast<int64_t>(v)));
}

inline void Double(std::string& out, int field, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  if (bits == 0) return;
  Tag(out, field, 1);
  char le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<char>(bits >> (8 * i));
  out.append(le, 8);
}

// A google.protobuf.Timestamp of `t` (as ToTimestamp makes it).
inline void Timestamp(std::string& out, int field, Millis t) {
  const int64_t seconds = t >= 0 ? t / 1000 : -((-t + 999) / 1000);
  const auto nanos = static_cast<int32_t>((t - seconds * 1000) * 1000000);
  const auto s = static_cast<uint64_t>(seconds);
  const auto n = static_cast<uint64_t>(static_cast<int64_t>(nanos));
  const int size = (seconds ? 1 + VarintSize(s) : 0) + (nanos ? 1 + VarintSize(n) : 0);
  Tag(out, field, 2);
  Varint(out, static_cast<uint64_t>(size));
  if (seconds) Tag(out, 1, 0), Varint(out, s);
  if (nanos) Tag(out, 2, 0), Varint(out, n);
}

}  // namespace vigil::synth::wire
