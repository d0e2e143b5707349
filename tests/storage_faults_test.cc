// Storage faults (issue 4): the disk under RocksDB fills up while `vigil run` works. The engine must
// stop with a clear message, without committing any offset past the last durable checkpoint, and
// once there is space again a restart must publish every alert exactly once.
#include <doctest/doctest.h>

#include <rocksdb/env.h>

#include <algorithm>
#include <atomic>
#include <memory>

#include "fillable_file_system.h"
#include "harness.h"
#include "kafka/kafka.h"
#include "live_fixtures.h"
#include "kafka/mock_broker.h"
#include "pipeline.h"
#include "rules_config.h"

namespace vigil::testing {
namespace {

// The offsets the group has committed for every input partition, and the ones in the state
// store's progress records (what the engine resumes from).
struct Offsets {
  std::map<std::pair<int, int32_t>, int64_t> committed, durable;
};

Offsets ReadOffsets(const std::string& brokers, const std::string& state_dir,
                    const v1::RulesConfig& config, int partitions) {
  Offsets offsets;
  offsets.committed = CommittedInputOffsets(brokers, partitions);
  Pipeline pipeline = MakePipeline(config, OpenRocksBackend(state_dir, RocksOptions{}));
  for (const auto& [partition, committed] : offsets.committed) {
    std::optional<int64_t> saved = pipeline.core->LoadProgress(
        {partition.first, partition.second}, static_cast<uint32_t>(partition.second));
    offsets.durable[partition] = saved ? *saved : -1;
  }
  return offsets;
}

}  // namespace

TEST_CASE("storage faults: a full disk stops the engine before any offset passes it; nothing lost after") {
  ForceOnKafka setup("vigil-storage-faults-");
  const ForceSlice& input = setup.input;
  const std::string state_dir = setup.state_dir();

  auto disk = std::make_shared<FillableFileSystem>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(disk);
  // The run reads about a third of the input and no more (at most 3,000 records a partition,
  // however fast it is), the disk fills once a checkpoint covering all of that is durable, and the
  // next checkpoint's write fails.
  const uint64_t limit = 3000;
  const uint64_t read = RecordsWithinLimit(setup.brokers(), limit, 3);
  REQUIRE(read < input.records);
  {
    LiveOptions options = RunOptions(setup.brokers(), state_dir);
    options.storage.env = env.get();
    options.progress = false;
    options.read_limit = limit;
    LiveRun run(options, setup.config);
    WaitUntil([&] { return run.durable() == read; }, "a durable checkpoint of all it may read");
    disk->SetFull(true);
    WaitUntil([&] { return run.health() == HealthState::kFailed; }, "the engine to stop");
    std::string error = run.Finish();
    CHECK(error.find("state store write failed") != std::string::npos);
    CHECK(error.find("No space") != std::string::npos);
  }
  disk->SetFull(false);

  // No committed offset is past what the state store holds: the group never claims more. The
  // state store holds the checkpoint made before the disk filled, every record of it.
  Offsets offsets = ReadOffsets(setup.brokers(), state_dir, setup.config, 3);
  int partitions_with_progress = 0;
  int64_t durable_records = 0;
  for (const auto& [partition, durable] : offsets.durable) {
    INFO("stream " << partition.first << " partition " << partition.second);
    CHECK(offsets.committed[partition] <= durable);
    partitions_with_progress += durable > 0;
    durable_records += std::max<int64_t>(durable, 0);
  }
  CHECK(partitions_with_progress > 0);
  CHECK(durable_records == static_cast<int64_t>(read));

  // Space is back: a restart on the same state publishes every alert exactly once.
  LiveOptions options = RunOptions(setup.brokers(), state_dir);
  options.until_caught_up = true;
  options.progress = false;
  Result<LiveReport> report = RunLive(options, setup.config);
  REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.status().message()));
  CheckPublishedExactlyOnce(setup);
}

}  // namespace vigil::testing
