// Processor over several input partitions, and duplicate detection across PrepareCheckpoint().
#include <doctest/doctest.h>

#include <string>

#include "harness.h"
#include "pipeline.h"
#include "processor.h"
#include "rules_config.h"

namespace vigil::testing {
namespace {

// Feeds JSON lines to a Processor as records of given (topic index, partition) sources.
struct Feeder {
  Pipeline pipeline = MakePipeline(DefaultRulesConfig(), NewMemoryBackend());
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
    Pipeline pipeline = MakePipeline(DefaultRulesConfig(), OpenRocksBackend(dir.path(), RocksOptions{}));
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
  Pipeline restarted = MakePipeline(DefaultRulesConfig(), OpenRocksBackend(dir.path(), RocksOptions{}));
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
