// Fixtures for the tests that run the live engine against librdkafka's mock cluster through
// faults (crash, broker, storage, stop): a synthetic force produced to the input topics with
// unusable records mixed in, the replay it must agree with, and what ended up on the output topics.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "alert.pb.h"
#include "event.h"
#include "rules.pb.h"

namespace vigil::testing {

// Rules that fire often on the synthetic force (about one alert per 25 events), so that most
// checkpoints carry alerts: an outbox to lose or to duplicate.
extern const char kBusyRules[];

struct ForceSlice {
  std::string events_path;                // every valid event of the force, for replay
  // topic/partition/offset of every unusable record on the access topic (earlier slices' too)
  std::set<std::string> garbage_sources;
  uint64_t records = 0;                   // records produced by this call, garbage included
};

// Generates a synthetic force of `officers` x `days` (deterministic), writes all of it to
// `dir`/events.ndjson, and produces its events [first, last) to the input topics at `brokers`,
// with a record that is not an event after every 2,000th.
ForceSlice ProduceForce(const std::string& brokers, const std::string& dir, int officers, int days,
                        uint64_t first = 0, uint64_t last = UINT64_MAX);

// `vigil replay` of an NDJSON file with `config` (RocksDB state in a temporary directory).
std::vector<v1::Alert> ReplayFile(const std::string& events, const v1::RulesConfig& config);

// Alert ids on the alert topic, and vigil.source headers on the dead-letter topic, sorted.
std::vector<std::string> PublishedAlertIds(const std::string& brokers);
std::vector<std::string> DeadLetterSources(const std::string& brokers);

// Checks that `published` holds each id of `expected` exactly once and nothing else, printing
// how many are missing or extra.
void CheckExactlyOnce(const std::vector<std::string>& published,
                      const std::vector<v1::Alert>& expected);

}  // namespace vigil::testing
