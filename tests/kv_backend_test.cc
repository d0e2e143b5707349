// The RocksDB backend (engine/state/kv_backend.cc): small batches go through RocksDB's log; a batch
// of at least RocksOptions::ingest_batch_bytes with its keys in order (a snapshot) is written as a
// table file and ingested. Either way a batch is atomic, later batches win over earlier ones, and
// what was written survives a reopen.
#include <doctest/doctest.h>

#include <rocksdb/env.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fillable_file_system.h"
#include "pipeline.h"
#include "state/kv_backend.h"
#include "status.h"

namespace vigil::testing {
namespace {

constexpr size_t kIngestBytes = 4096;

std::vector<std::string> Contents(KvBackend& backend) {
  std::vector<std::string> out;
  auto it = backend.NewIterator();
  for (it->Seek(""); it->Valid(); it->Next()) {
    out.push_back(std::string(it->key()) + "=" + std::string(it->value()).substr(0, 8));
  }
  return out;
}

// Bytes in the files of `dir` whose names end with `suffix` (".sst": tables; ".log": the log).
uintmax_t BytesIn(const std::string& dir, const std::string& suffix) {
  uintmax_t bytes = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      bytes += entry.file_size();
    }
  }
  return bytes;
}

std::unique_ptr<KvBackend> Open(const TempDir& dir, rocksdb::Env* env = nullptr) {
  RocksOptions options;
  options.memory_budget_bytes = 8u << 20;
  options.env = env;
  options.ingest_batch_bytes = kIngestBytes;
  return OpenRocksBackend(dir.path(), options);
}

}  // namespace

TEST_CASE("RocksDB backend: a large batch in key order is ingested as a table, not logged, and wins over earlier writes") {
  TempDir dir("vigil-kv-backend-");
  const std::string big(2 * kIngestBytes, 'x');
  {
    std::unique_ptr<KvBackend> backend = Open(dir);
    backend->Write({{"c", "3"}, {"a", "1"}, {"b", "2"}}, /*sync=*/false);  // small: the log
    CHECK(BytesIn(dir.path(), ".sst") == 0);
    const uintmax_t log_before = BytesIn(dir.path(), ".log");

    // In key order and large: overwrites a key still in the memtable, deletes another, adds two.
    backend->Write({{"a", big}, {"b", std::nullopt}, {"d", "4"}, {"e", big}}, /*sync=*/true);
    CHECK(BytesIn(dir.path(), ".sst") > 2 * big.size());
    CHECK(BytesIn(dir.path(), ".log") < log_before + big.size());  // the values never went through it
    CHECK(Contents(*backend) == std::vector<std::string>{"a=xxxxxxxx", "c=3", "d=4", "e=xxxxxxxx"});
    CHECK(backend->Get("a")->size() == big.size());
    CHECK_FALSE(backend->Get("b").has_value());

    backend->Write({{"e", std::nullopt}, {"f", "6"}}, /*sync=*/true);  // the log again, after it
    CHECK(Contents(*backend) == std::vector<std::string>{"a=xxxxxxxx", "c=3", "d=4", "f=6"});
  }
  std::unique_ptr<KvBackend> reopened = Open(dir);
  CHECK(Contents(*reopened) == std::vector<std::string>{"a=xxxxxxxx", "c=3", "d=4", "f=6"});
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/vigil-ingest.sst"));  // moved in, not copied
}

TEST_CASE("RocksDB backend: a large batch out of key order goes through the log, the last write of a key winning") {
  TempDir dir("vigil-kv-backend-");
  const std::string big(2 * kIngestBytes, 'y');
  {
    std::unique_ptr<KvBackend> backend = Open(dir);
    backend->Write({{"b", big}, {"a", "1"}, {"b", "2"}}, /*sync=*/true);
    CHECK(BytesIn(dir.path(), ".sst") == 0);
    CHECK(BytesIn(dir.path(), ".log") > big.size());
    CHECK(Contents(*backend) == std::vector<std::string>{"a=1", "b=2"});
  }
  std::unique_ptr<KvBackend> reopened = Open(dir);
  CHECK(Contents(*reopened) == std::vector<std::string>{"a=1", "b=2"});
}

TEST_CASE("RocksDB backend: a table that cannot be written (a full disk) fails the write and leaves the database as it was") {
  TempDir dir("vigil-kv-backend-");
  auto disk = std::make_shared<FillableFileSystem>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(disk);
  const std::string big(2 * kIngestBytes, 'z');
  {
    std::unique_ptr<KvBackend> backend = Open(dir, env.get());
    backend->Write({{"a", "1"}, {"b", "2"}}, /*sync=*/true);
    disk->SetFull(true);
    CHECK_THROWS_WITH_AS(backend->Write({{"a", big}, {"b", std::nullopt}, {"c", big}}, true),
                         doctest::Contains("state store write failed"), FatalError);
    disk->SetFull(false);
    CHECK(Contents(*backend) == std::vector<std::string>{"a=1", "b=2"});
  }
  std::unique_ptr<KvBackend> reopened = Open(dir, env.get());
  CHECK(Contents(*reopened) == std::vector<std::string>{"a=1", "b=2"});
  // The next large batch, with space again, replaces the table file the failed one left behind.
  reopened->Write({{"a", big}, {"c", big}}, true);
  CHECK(Contents(*reopened) == std::vector<std::string>{"a=zzzzzzzz", "b=2", "c=zzzzzzzz"});
}

// RocksDB moves an ingested table in by linking it under its table number, then removing the name
// it was written under; a run killed between the two leaves both names on the database's table.
TEST_CASE("RocksDB backend: a table file name a killed run left behind is not written through, so the table it names survives") {
  TempDir dir("vigil-kv-backend-");
  const std::string first(2 * kIngestBytes, 'p'), second(2 * kIngestBytes, 'q');
  {
    std::unique_ptr<KvBackend> backend = Open(dir);
    backend->Write({{"a", first}, {"b", first}}, /*sync=*/true);
  }
  std::string table;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    if (entry.path().extension() == ".sst") table = entry.path().string();
  }
  REQUIRE_FALSE(table.empty());
  std::filesystem::create_hard_link(table, dir.path() + "/vigil-ingest.sst");  // the kill's leftover
  {
    std::unique_ptr<KvBackend> backend = Open(dir);
    backend->Write({{"c", second}, {"d", second}}, /*sync=*/true);
    CHECK(Contents(*backend) ==
          std::vector<std::string>{"a=pppppppp", "b=pppppppp", "c=qqqqqqqq", "d=qqqqqqqq"});
  }
  std::unique_ptr<KvBackend> reopened = Open(dir);
  CHECK(Contents(*reopened) == std::vector<std::string>{"a=pppppppp", "b=pppppppp", "c=qqqqqqqq", "d=qqqqqqqq"});
  CHECK(reopened->Get("a")->size() == first.size());
}

}  // namespace vigil::testing
