// Fixtures for the tests that run the live engine against librdkafka's mock cluster through
// faults (crash, broker, storage, stop): a synthetic force produced to the input topics with
// unusable records mixed in, the replay it must agree with, and what ended up on the output topics.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "alert.pb.h"
#include "event.h"
#include "live/health.h"
#include "live/live_engine.h"
#include "kafka/mock_broker.h"
#include "pipeline.h"
#include "rules.pb.h"

namespace vigil::testing {

// Rules that fire often on the synthetic force (about one alert per 25 events), so that most
// checkpoints carry alerts: an outbox to lose or to duplicate.
extern const char kBusyRules[];
// kBusyRules with two thresholds raised (access volume spike, Bradford factor): both sets fire
// often, but not the same alerts. The fault tests' runs carry them as --shadow-rules.
extern const char kShadowRules[];

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
// The same of event lines in memory (state in memory).
std::vector<v1::Alert> ReplayLines(const std::vector<std::string>& lines, const v1::RulesConfig& config);

// Alert ids on the alert topic (or `topic`), and vigil.source headers on the dead-letter topic,
// sorted.
std::vector<std::string> PublishedAlertIds(const std::string& brokers,
                                           const std::string& topic = Topics{}.alerts);
std::vector<std::string> DeadLetterSources(const std::string& brokers);

// Checks that `published` holds each id of `expected` exactly once and nothing else, printing
// how many are missing or extra.
void CheckExactlyOnce(const std::vector<std::string>& published,
                      const std::vector<v1::Alert>& expected);

// The start of every fault test: a mock cluster (`brokers` brokers, 3 partitions a topic) holding
// a synthetic force of 3,000 officers over 14 days (about 75,000 records, garbage included), the
// busy rules, and a temporary directory for files and state.
struct ForceOnKafka {
  explicit ForceOnKafka(const std::string& name, int brokers = 1);
  TempDir dir;
  std::string rules_path;  // kBusyRules as a file, for `vigil run --rules`
  v1::RulesConfig config;
  std::string shadow_rules_path;  // kShadowRules as a file, for `vigil run --shadow-rules`
  v1::RulesConfig shadow_config;
  MockBroker broker;
  ForceSlice input;
  std::string brokers() const { return broker.bootstrap(); }
  std::string state_dir() const { return dir.path() + "/state"; }
};

// The end of every fault test: the alert topic holds exactly replay's alerts, each once, and the
// dead-letter topic each unusable record once.
void CheckPublishedExactlyOnce(const ForceOnKafka& setup);
// For runs with --shadow-rules: the shadow topic holds exactly a replay's alerts under the shadow
// rules, each once.
void CheckShadowPublishedExactlyOnce(const ForceOnKafka& setup);

// The offsets the group "vigil" has committed on each input partition ((stream, partition) ->
// offset; negative where nothing is committed), for topics of `partitions` partitions.
std::map<std::pair<int, int32_t>, int64_t> CommittedInputOffsets(const std::string& brokers,
                                                                 int partitions);

// How many records a run limited to `limit` records a partition (LiveOptions::read_limit) reads
// from a fresh start: the sum over the input partitions of min(limit, the partition's records).
uint64_t RecordsWithinLimit(const std::string& brokers, uint64_t limit, int partitions);

// GET of an http://HOST:PORT/PATH URL: the status code and the body.
struct HttpReply {
  int status = 0;
  std::string body;
};
HttpReply HttpGet(const std::string& url);

// Waits for a condition another thread makes true; the limit only guards against a hang.
void WaitUntil(const std::function<bool()>& condition, const std::string& what);

// std::cerr captured while alive (the engine's progress and health lines).
class CerrCapture {
 public:
  CerrCapture() : old_(std::cerr.rdbuf(text_.rdbuf())) {}
  ~CerrCapture() { std::cerr.rdbuf(old_); }
  std::string text() const { return text_.str(); }

 private:
  std::stringstream text_;
  std::streambuf* old_;
};

// Options of a `vigil run` for these tests: a checkpoint every 100 ms.
LiveOptions RunOptions(const std::string& brokers, const std::string& state_dir);
// Options for a `vigil run --until-caught-up` on `brokers` with state in `state_dir`, without
// progress lines.
LiveOptions BoundedRun(const std::string& brokers, const std::string& state_dir);

// Officers MP1..MP3 between 2026-03-01 and 2026-03-09: an off-duty search, a subject looked up
// three times without a case, a complainant looked up by the officer complained about, a journey
// too fast to be real, and overtime worked while sick: five different rules fire.
std::vector<std::string> FiveRuleScenario();

// `vigil run` on a thread, until the input is closed and processed (or it fails). The run's
// options.stop is its own (Stop()).
class LiveRun {
 public:
  LiveRun(LiveOptions options, const v1::RulesConfig& config);
  // Stops the run (as SIGTERM would) if it still works: a test that failed part way, or a run
  // with a read limit, which would never finish by itself.
  ~LiveRun() {
    Stop();
    Finish();
  }
  // Lets the run finish what the topics hold now, and waits for it; returns its error, if any.
  std::string Finish();
  // Asks the run to stop as SIGTERM would: finish the batch, checkpoint, leave the group.
  void Stop() { stop_ = true; }
  uint64_t consumed() const { return consumed_.load(); }
  // Records covered by the last checkpoint made durable (0 until the first).
  uint64_t durable() const { return durable_.load(); }
  HealthState health() const { return health_.state(); }

 private:
  LiveOptions options_;
  Health health_;
  std::atomic<bool> input_closed_{false};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> consumed_{0};
  std::atomic<uint64_t> durable_{0};
  std::string error_;
  std::thread thread_;
};

}  // namespace vigil::testing
