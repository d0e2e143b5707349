#include "rulekit/alert_builder.h"

#include <cstdio>

namespace vigil {
namespace {

uint64_t Mix(uint64_t x) {  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

uint64_t Fnv1a(const std::string& text, uint64_t basis) {
  uint64_t h = basis;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return Mix(h ^ text.size());
}

}  // namespace

std::string StableHash128(const std::string& text) {
  char out[33];
  std::snprintf(out, sizeof out, "%016llx%016llx",
                static_cast<unsigned long long>(Fnv1a(text, 0xcbf29ce484222325ULL)),
                static_cast<unsigned long long>(Fnv1a(text, 0x84222325cbf29ce4ULL)));
  return out;
}

}  // namespace vigil
