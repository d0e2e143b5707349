// Processor over several input partitions, and duplicate detection across PrepareCheckpoint().
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "harness.h"
#include "pipeline.h"
#include "processor.h"
#include "rules_config.h"

namespace vigil::testing {
namespace {

// This file tests the old core itself (deleted with it, issue 11).
PipelineOptions OldCore() {
  PipelineOptions options;
  options.core = CoreChoice::kOld;
  return options;
}

// Feeds JSON lines to a Processor as records of given (topic index, partition) sources.
struct Feeder {
  Pipeline pipeline = MakePipeline(DefaultRulesConfig(), NewMemoryBackend(), OldCore());
  Processor& proc = *pipeline.processor;
  int64_t offset = 0;
  std::vector<v1::Alert> alerts;

  void Feed(const std::string& line, SourcePartition source) {
    Result<v1::Envelope> event = ParseEventJson(line);
    REQUIRE_MESSAGE(event.ok(), line);
    state::EventRef ref = MakeRef(*event, "t", source.partition, offset++);
    proc.Ingest(*event, ref, source, static_cast<uint32_t>(source.partition), {OfficerId(*event), line, "x"});
    Advance();
  }
  void Advance() {
    proc.Advance();
    for (auto& a : proc.TakeAlerts()) alerts.push_back(a);
  }
};

const SourcePartition kRoster0{0, 0};
const SourcePartition kAccess0{1, 0};

}  // namespace

TEST_CASE("Processor: a partition without events holds every decision back until it is idle") {
  Feeder f;
  f.proc.watermarks().Track(kRoster0);
  f.proc.watermarks().Track(kAccess0);
  f.Feed(Roster("r1", "MP1", "S1", "REST_DAY", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z",
                "2026-02-25T10:00:00Z"),
         kRoster0);
  f.Feed(Access("a1", "MP1", "2026-03-01T10:00:00Z", "SEARCH"), kAccess0);
  f.Feed(Access("a2", "MP2", "2026-03-05T10:00:00Z", "LOGOUT"), kAccess0);
  // The roster partition's watermark is 2026-02-25 09:55: nothing about 1 March is decided yet.
  CHECK(f.alerts.empty());
  CHECK(f.proc.watermarks().Current() == ParseTime("2026-02-25T09:55:00Z").value());
  f.proc.watermarks().SetIdle(kRoster0);
  f.Advance();
  REQUIRE(f.alerts.size() == 1);
  CHECK(f.alerts[0].rule_id() == "off_duty_access");
  CHECK(f.proc.watermarks().Current() == ParseTime("2026-03-05T09:55:00Z").value());
}

TEST_CASE("Processor: a duplicate within allowed lateness is still recognised after PrepareCheckpoint") {
  Feeder f;
  f.proc.watermarks().Track(kAccess0);
  const std::string a1 = Access("a1", "MP1", "2026-03-01T10:00:00Z", "SEARCH", "P1");
  f.Feed(a1, kAccess0);
  // Watermark 2026-03-02 09:55: a1 (10:00 the day before) is still acceptable, 5 min from too late.
  f.Feed(Access("f1", "MP9", "2026-03-02T10:00:00Z", "LOGOUT"), kAccess0);
  f.proc.PrepareCheckpoint();
  f.Feed(a1, kAccess0);
  CHECK(f.proc.metrics().duplicates == 1);
  CHECK(f.proc.metrics().too_late == 0);
  // Once it would be too late, it is dead-lettered as such (and not counted a duplicate).
  f.Feed(Access("f2", "MP9", "2026-03-02T10:05:00.001Z", "LOGOUT"), kAccess0);
  f.proc.PrepareCheckpoint();
  f.Feed(a1, kAccess0);
  CHECK(f.proc.metrics().duplicates == 1);
  CHECK(f.proc.metrics().too_late == 1);
  auto letters = f.proc.TakeDeadLetters();
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].reason == "too_late");
}

}  // namespace vigil::testing

namespace vigil::testing {

TEST_CASE("Processor: after a restart, a partition's held events are delivered even if nothing new arrives") {
  TempDir dir("vigil-test-restart-");
  const SourcePartition access3{1, 3};
  {
    Pipeline pipeline = MakePipeline(DefaultRulesConfig(), OpenRocksBackend(dir.path(), RocksOptions{}), OldCore());
    Processor& proc = *pipeline.processor;
    proc.watermarks().Track(access3);
    int64_t offset = 0;
    // Three look-ups within out-of-orderness: all still held when the engine stops.
    for (const char* at : {"2026-03-01T08:00:00Z", "2026-03-01T08:01:00Z", "2026-03-01T08:02:00Z"}) {
      std::string line = Access(std::string("a") + at, "MP1", at, "SEARCH", "S1");
      Result<v1::Envelope> event = ParseEventJson(line);
      REQUIRE(event.ok());
      proc.Ingest(*event, MakeRef(*event, "vigil.access", 3, offset), access3, 3, {"MP1", line, "x"});
      ++offset;
    }
    proc.Advance();
    CHECK(proc.TakeAlerts().empty());
    proc.SaveProgress(access3, 3, offset);
    proc.PrepareCheckpoint();
    pipeline.store->Checkpoint(true);
  }
  Pipeline restarted = MakePipeline(DefaultRulesConfig(), OpenRocksBackend(dir.path(), RocksOptions{}), OldCore());
  Processor& proc = *restarted.processor;
  proc.watermarks().Track(access3);
  CHECK(proc.LoadProgress(access3, 3) == std::optional<int64_t>(3));
  proc.watermarks().SetIdle(access3);
  proc.Finish();
  std::vector<v1::Alert> alerts = proc.TakeAlerts();
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].rule_id() == "repeated_subject_lookup");
}

}  // namespace vigil::testing

namespace vigil::testing {
namespace {

// A pipeline on RocksDB fed as one input partition; it checkpoints (progress, seen ids, then one
// store batch) and can be restarted on its directory, resuming from its saved progress.
class DurableRun {
 public:
  DurableRun() { Open(); }

  void Feed(const std::string& line) {
    Result<v1::Envelope> event = ParseEventJson(line);
    REQUIRE_MESSAGE(event.ok(), line);
    proc().Ingest(*event, MakeRef(*event, "vigil.access", kSource.partition, offset_), kSource, kScope,
                  {OfficerId(*event), line, "x"});
    ++offset_;
    proc().Advance();
    for (auto& alert : proc().TakeAlerts()) alerts_.push_back(alert);
  }
  void Checkpoint() {
    proc().SaveProgress(kSource, kScope, offset_);
    proc().PrepareCheckpoint();
    pipeline_.store->Checkpoint(true);
  }
  // Stops, losing what was not checkpointed (the processor goes first: it unhooks itself from the
  // store), and starts again on the same directory.
  void Restart() {
    pipeline_.core.reset();
    pipeline_.store.reset();
    Open();
  }
  // Everything the store holds.
  std::map<std::string, std::string> Contents() {
    std::map<std::string, std::string> contents;
    pipeline_.store->Scan("", PrefixEnd(""), [&](std::string_view key, std::string_view value) {
      contents.emplace(key, value);
      return true;
    });
    return contents;
  }
  size_t KeysOf(std::string_view name) {
    size_t count = 0;
    KeySpace(*pipeline_.store, ScopePrefix(kScope, name)).ScanPrefix("", [&](std::string_view, std::string_view) {
      ++count;
      return true;
    });
    return count;
  }
  Processor& proc() { return *pipeline_.processor; }
  const std::vector<v1::Alert>& alerts() const { return alerts_; }

 private:
  static constexpr SourcePartition kSource{1, 2};
  static constexpr uint32_t kScope = 2;

  void Open() {
    pipeline_ = MakePipeline(DefaultRulesConfig(), OpenRocksBackend(dir_.path(), RocksOptions{8u << 20}), OldCore());
    proc().watermarks().Track(kSource);
    offset_ = proc().LoadProgress(kSource, kScope).value_or(0);
  }

  TempDir dir_{"vigil-test-restart-"};
  Pipeline pipeline_;
  int64_t offset_ = 0;
  std::vector<v1::Alert> alerts_;
};

}  // namespace

TEST_CASE("Processor: cleanup timers reloaded after a restart forget state as without the restart") {
  // Look-ups without a case reference (repeated_subject_lookup: 3 within 30 days; its state is
  // forgotten by a cleanup timer at the last look-up + 30 days + access lateness, on the hour).
  const std::vector<std::string> before_first_checkpoint = {
      Access("a1", "MP1", "2026-03-01T08:10:00Z", "SEARCH", "S1"),
      Access("a2", "MP1", "2026-03-01T08:20:00Z", "SEARCH", "S2"),  // same cleanup group as a1
      Access("a3", "MP2", "2026-03-02T09:00:00Z", "SEARCH", "S3"),
      Access("a4", "MP2", "2026-03-02T09:10:00Z", "SEARCH", "S3"),
      Access("a5", "MP2", "2026-03-02T09:20:00Z", "SEARCH", "S3"),  // alert
      // Cleanup group 2026-04-02 10:00 (with a4): its first record holds MP6/S6's timer ...
      Access("b1", "MP6", "2026-03-02T09:05:00Z", "SEARCH", "S6"),
  };
  const std::vector<std::string> before_restart = {
      // ... and a second record, written at the next checkpoint, MP5/S9's: both must be reloaded.
      Access("b2", "MP5", "2026-03-02T09:30:00Z", "SEARCH", "S9"),
      Access("a6", "MP1", "2026-03-03T10:00:00Z", "SEARCH", "S1"),
      Access("a7", "MP3", "2026-03-03T12:00:00Z", "LOGOUT"),
  };
  const std::vector<std::string> after_restart = {
      Access("a7", "MP3", "2026-03-03T12:00:00Z", "LOGOUT"),         // a duplicate
      Access("a8", "MP1", "2026-03-04T08:00:00Z", "SEARCH", "S1"),  // third of S1: alert
      Access("a9", "MP2", "2026-03-05T08:00:00Z", "SEARCH", "S4"),
      // Far enough later that every cleanup timer set so far is due.
      Access("a10", "MP4", "2026-05-01T00:00:00Z", "LOGOUT"),
  };
  auto run = [&](bool restart, DurableRun& r) {
    for (const auto& line : before_first_checkpoint) r.Feed(line);
    r.Checkpoint();
    for (const auto& line : before_restart) r.Feed(line);
    r.Checkpoint();
    if (restart) {
      r.Restart();
      // MP1/S1, MP1/S2, MP2/S3, MP6/S6, MP5/S9: reloaded
      CHECK(r.KeysOf("repeated_subject_lookup") == 5);
    }
    for (const auto& line : after_restart) r.Feed(line);
    r.Checkpoint();
  };
  DurableRun uninterrupted;
  run(false, uninterrupted);
  DurableRun restarted;
  run(true, restarted);

  // The seen ids were reloaded too.
  CHECK(restarted.proc().metrics().duplicates == 1);
  CHECK(uninterrupted.proc().metrics().duplicates == 1);
  CHECK(SortedIds(restarted.alerts()) == SortedIds(uninterrupted.alerts()));
  CHECK(AlertKeys(uninterrupted.alerts()) ==
        std::vector<std::string>{"repeated_subject_lookup MP1 S1 2026-03-04",
                                 "repeated_subject_lookup MP2 S3 2026-03-02"});
  // The timers set before the restart fired after it: the look-up state is forgotten.
  CHECK(restarted.KeysOf("repeated_subject_lookup") == uninterrupted.KeysOf("repeated_subject_lookup"));
  CHECK(restarted.KeysOf("repeated_subject_lookup") == 0);
  CHECK(restarted.Contents() == uninterrupted.Contents());
}

}  // namespace vigil::testing

namespace vigil::testing {

TEST_CASE("Processor: ids of one hour saved at two checkpoints are both remembered after a restart") {
  DurableRun run;
  run.Feed(Access("x1", "MP1", "2026-03-01T10:00:00Z", "LOGIN"));
  run.Checkpoint();
  run.Feed(Access("x2", "MP1", "2026-03-01T10:05:00Z", "LOGOUT"));  // the same hour's ids, later
  run.Checkpoint();
  run.Restart();
  run.Feed(Access("x1", "MP1", "2026-03-01T10:00:00Z", "LOGIN"));
  run.Feed(Access("x2", "MP1", "2026-03-01T10:05:00Z", "LOGOUT"));
  run.Feed(Access("x3", "MP1", "2026-03-01T10:06:00Z", "LOGOUT"));
  CHECK(run.proc().metrics().duplicates == 2);
  CHECK(run.proc().metrics().events_total() == 1);  // since the restart: x3 only
}

}  // namespace vigil::testing
