// A durable ordered byte map: the storage under Vigil's state. Two implementations: RocksDB for
// real runs, and an in-memory map for unit tests of operators. Failures to read or write throw
// FatalError: the engine cannot go on without its state.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "state/kv_batch.h"

namespace rocksdb {
class Env;
}

namespace vigil {

class KvIterator {
 public:
  virtual ~KvIterator() = default;
  virtual void Seek(std::string_view key) = 0;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
};

class KvBackend {
 public:
  virtual ~KvBackend() = default;
  virtual std::optional<std::string> Get(std::string_view key) = 0;
  virtual std::unique_ptr<KvIterator> NewIterator() = 0;
  // Applies all of the batch's writes atomically, in order (of two writes of a key the later
  // wins); with sync, durable on return.
  virtual void Write(const KvBatch& batch, bool sync) = 0;
  // The same for a batch its caller is done with: a backend that would copy it (one writing it on
  // another thread) takes it over instead. `batch` is left empty.
  virtual void WriteOwned(KvBatch&& batch, bool sync) {
    Write(batch, sync);
    batch = KvBatch();
  }
  // The bytes of batches taken over by WriteOwned and not yet written.
  virtual size_t BytesInFlight() const { return 0; }
};

std::unique_ptr<KvBackend> NewMemoryBackend();

struct RocksOptions {
  size_t memory_budget_bytes = 256u << 20;  // block cache + write buffers
  // The environment RocksDB does its file I/O through; null for the default. Tests inject a
  // failing one (a full disk) here.
  rocksdb::Env* env = nullptr;
  // A batch of at least this many bytes with its keys in order (a snapshot, as BackgroundWriter
  // hands it over) is written as a table file and ingested, durable on return whatever `sync`
  // says; smaller ones go through RocksDB's log. 0: every batch in key order is ingested.
  size_t ingest_batch_bytes = 1u << 20;
};
// Opens (creating if needed) a RocksDB database in `dir`. Throws FatalError on failure.
std::unique_ptr<KvBackend> OpenRocksBackend(const std::string& dir, const RocksOptions& options);

}  // namespace vigil
