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
    uint64_t k = 0;
    std::memcpy(&k, p, n);
    h = (h ^ (k * 0xff51afd7ed558ccdULL)) * 0xc4ceb9fe1a85ec53ULL;
  }
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ULL;
  h ^= h >> 32;
  return h;
}

}  // namespace vigil
