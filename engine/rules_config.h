// The rules file: proto3 JSON of vigil.v1.RulesConfig (schemas/rules.proto). Loading fills every
// absent field with its contract default and checks every value's range, so the rest of Vigil reads
// a complete configuration and never a missing field.
#pragma once

#include <string>

#include "event.h"
#include "rules.pb.h"
#include "status.h"
#include "time/event_time.h"

namespace vigil {

// Parses and validates a rules file's text; errors name the field and what was expected.
Result<v1::RulesConfig> ParseRulesConfig(const std::string& json);
// Reads a rules file; an empty path gives the defaults.
Result<v1::RulesConfig> LoadRulesConfig(const std::string& path);
// Every field at its default.
v1::RulesConfig DefaultRulesConfig();

// The rule set's version: 12 hex digits of a stable hash of `config` as loaded (every default
// filled in, descriptions left out, complaint categories as a sorted set), so a file that spells
// a default out and one that omits it have the same version, and any change to what the rules do
// gives another. Every alert carries it (Alert.rules_version).
std::string RulesVersion(const v1::RulesConfig& config);

// The time settings of a complete RulesConfig, in milliseconds.
struct TimeSettings {
  Millis max_out_of_orderness;
  Millis roster_grace;
  Millis roster_lateness;
  Millis access_lateness;
  Millis complaint_lateness;

  static TimeSettings From(const v1::RulesConfig& config);
  Millis LatenessFor(Stream stream) const;
  Millis MaxLateness() const;
};

}  // namespace vigil
