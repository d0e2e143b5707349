// IdHash: a fast 64-bit hash of a short byte string (event and officer ids), 8 bytes per step.
// Not cryptographic and not stable across versions: for in-memory tables only, never persisted.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace vigil {

inline uint64_t IdHash(std::string_view id, uint64_t seed = 0) {
  const char* p = id.data();
  size_t n = id.size();
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ seed ^ n;
  while (n >= 8) {
    uint64_t k;
    std::memcpy(&k, p, 8);
    h = (h ^ (k * 0xff51afd7ed558ccdULL)) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    // The last 1 to 7 bytes without a call to memcpy: the 8 bytes that end the id when it has as
    // many (overlapping bytes already hashed), else two overlapping loads that cover them all. With
    // the length in the seed, distinct ids of one length give distinct words.
    uint64_t k;
    if (id.size() >= 8) {
      std::memcpy(&k, p + n - 8, 8);
    } else if (n >= 4) {
      uint32_t lo, hi;
      std::memcpy(&lo, p, 4);
      std::memcpy(&hi, p + n - 4, 4);
      k = uint64_t{lo} | uint64_t{hi} << 32;
    } else {
      const auto* b = reinterpret_cast<const unsigned char*>(p);
      k = uint64_t{b[0]} | uint64_t{b[n / 2]} << 8 | uint64_t{b[n - 1]} << 16;
    }
    h = (h ^ (k * 0xff51afd7ed558ccdULL)) * 0xc4ceb9fe1a85ec53ULL;
  }
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ULL;
  h ^= h >> 32;
  return h;
}

}  // namespace vigil
