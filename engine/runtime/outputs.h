// What the core hands out besides alerts: the records it could not use and its counters. Shared by
// the core, the live engine, the replays and the sinks that write them.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "event.h"  // kStreamCount

namespace vigil {

// A record that could not be used, for the dead-letter topic.
struct DeadLetter {
  std::string key;     // the original record key
  std::string value;   // the original bytes
  std::string reason;  // "too_late", or "invalid: <what is wrong>"
  std::string source;  // "topic/partition/offset" (or "file:line")
};

struct ProcessorMetrics {
  std::array<uint64_t, kStreamCount> events_in{};  // accepted, by stream
  uint64_t duplicates = 0;
  uint64_t too_late = 0;
  uint64_t late_accepted = 0;  // behind the watermark but within allowed lateness
  uint64_t invalid = 0;
  uint64_t alerts = 0;
  std::map<std::string, uint64_t> alerts_by_rule;
  uint64_t events_total() const { return events_in[0] + events_in[1] + events_in[2]; }
};

}  // namespace vigil
