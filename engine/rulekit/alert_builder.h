// What every alert shares, whichever rule builds it (BuildRuleAlert, engine/runtime/core.h): the
// cap on its evidence and the hash its alert_id is made of.
#pragma once

#include <string>

namespace vigil {

// An alert lists at most this many of its causing events.
constexpr int kMaxEvidence = 50;

// Lower-case hex of a 128-bit hash of `text` (not cryptographic). Alert ids and rules versions
// are such hashes: changing it changes every id, which the golden files (tests/golden/) catch.
std::string StableHash128(const std::string& text);

}  // namespace vigil
