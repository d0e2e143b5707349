// A seeded random corpus for the decoder fuzz test (decoders_fuzz.cc): random bytes, random
// protobuf wire messages, random events, and mutations of valid encodings and of JSON text.
// Everything is drawn from one Random, so a seed reproduces the whole corpus.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "events.pb.h"

namespace vigil::fuzz {

class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  // Uniform in [0, n); n > 0.
  size_t Below(size_t n) { return static_cast<size_t>(engine_() % n); }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(engine_) < p; }
  uint64_t Bits() { return engine_(); }
  std::string Bytes(size_t n);
  // A length that is usually small and sometimes large (up to `max`).
  size_t Length(size_t max);
  template <typename T>
  const T& Pick(const std::vector<T>& items) { return items[Below(items.size())]; }

 private:
  std::mt19937_64 engine_;
};

// An event of a random kind with random fields: mostly valid, but any field may be empty, out of
// range or of an unknown enum value.
v1::Envelope RandomEvent(Random& random);

// Bytes in protobuf wire format with random field numbers, wire types and values, nested up to
// `depth` levels (lengths are sometimes wrong).
std::string RandomWireMessage(Random& random, int depth);

// One to four random changes to binary data: bit flips, interesting bytes, varint and length
// tweaks, insertions, deletions, truncation, duplication, splices with `other`.
std::string MutateBytes(Random& random, std::string bytes, const std::string& other);

// Random changes to JSON text: the byte changes above plus replacing a value or a key with a
// token of `dictionary` (extreme numbers, bad times, enum names, field names, nesting).
std::string MutateJson(Random& random, std::string text, const std::string& other,
                       const std::vector<std::string>& dictionary);

// JSON tokens that tend to reach the corners of a proto3 JSON parser and of range checks.
std::vector<std::string> JsonDictionary();

// The JSON text with one to three of its numeric values replaced by other small numbers, in
// range or not: mutants that still parse, to reach the range checks.
std::string RetuneNumbers(Random& random, std::string text);

// Text that is not JSON: random printable and structural characters, and deep nesting.
std::string RandomText(Random& random);

}  // namespace vigil::fuzz
