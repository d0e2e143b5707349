#include "state/kv_backend.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>
#include <rocksdb/write_buffer_manager.h>

#include <filesystem>
#include <system_error>

#include "status.h"

namespace vigil {
namespace {

class MemoryIterator final : public KvIterator {
 public:
  explicit MemoryIterator(const std::map<std::string, std::string, std::less<>>& map) : map_(map) {
    it_ = map_.end();
  }
  void Seek(std::string_view key) override { it_ = map_.lower_bound(key); }
  bool Valid() const override { return it_ != map_.end(); }
  void Next() override { ++it_; }
  std::string_view key() const override { return it_->first; }
  std::string_view value() const override { return it_->second; }

 private:
  const std::map<std::string, std::string, std::less<>>& map_;
  std::map<std::string, std::string, std::less<>>::const_iterator it_;
};

class MemoryBackend final : public KvBackend {
 public:
  std::optional<std::string> Get(std::string_view key) override {
    auto it = map_.find(key);
    if (it == map_.end()) return std::nullopt;
    return it->second;
  }
  std::unique_ptr<KvIterator> NewIterator() override {
    return std::make_unique<MemoryIterator>(map_);
  }
  void Write(const KvBatch& batch, bool /*sync*/) override {
    for (size_t i = 0; i < batch.size(); ++i) {
      const std::string_view key = batch.key(i);
      const std::optional<std::string_view> value = batch.value(i);
      if (value) {
        map_.insert_or_assign(std::string(key), std::string(*value));
      } else if (auto it = map_.find(key); it != map_.end()) {
        map_.erase(it);
      }
    }
  }

 private:
  std::map<std::string, std::string, std::less<>> map_;
};

rocksdb::Slice AsSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

class RocksIterator final : public KvIterator {
 public:
  explicit RocksIterator(rocksdb::Iterator* it) : it_(it) {}
  void Seek(std::string_view key) override {
    it_->Seek(AsSlice(key));
    Check();
  }
  bool Valid() const override { return it_->Valid(); }
  void Next() override {
    it_->Next();
    Check();
  }
  std::string_view key() const override { return it_->key().ToStringView(); }
  std::string_view value() const override { return it_->value().ToStringView(); }

 private:
  void Check() {
    if (!it_->Valid() && !it_->status().ok()) {
      throw FatalError("state store read failed: " + it_->status().ToString());
    }
  }
  std::unique_ptr<rocksdb::Iterator> it_;
};

class RocksBackend final : public KvBackend {
 public:
  RocksBackend(std::unique_ptr<rocksdb::DB> db, rocksdb::Options options, std::string dir,
               size_t ingest_bytes)
      : db_(std::move(db)),
        options_(std::move(options)),
        ingest_path_(dir + "/" + kIngestFile),
        ingest_bytes_(ingest_bytes) {}

  // The table file a large batch is written to before RocksDB takes it in (Ingest).
  static constexpr const char* kIngestFile = "vigil-ingest.sst";

  std::optional<std::string> Get(std::string_view key) override {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), AsSlice(key), &value);
    if (s.IsNotFound()) return std::nullopt;
    if (!s.ok()) throw FatalError("state store read failed: " + s.ToString());
    return value;
  }
  std::unique_ptr<KvIterator> NewIterator() override {
    return std::make_unique<RocksIterator>(db_->NewIterator(rocksdb::ReadOptions()));
  }
  void Write(const KvBatch& batch, bool sync) override {
    if (batch.empty()) return;
    // A table file needs strictly increasing keys (as SortByKey leaves them).
    if (batch.bytes() >= ingest_bytes_ && batch.InKeyOrder()) return Ingest(batch);
    WriteThroughLog(batch, sync);
  }

 private:
  void WriteThroughLog(const KvBatch& writes, bool sync) {
    batch_.Clear();  // reused: its buffer keeps its capacity between checkpoints
    for (size_t i = 0; i < writes.size(); ++i) {
      const std::string_view key = writes.key(i);
      const std::optional<std::string_view> value = writes.value(i);
      if (value) {
        batch_.Put(AsSlice(key), AsSlice(*value));
      } else {
        batch_.Delete(AsSlice(key));
      }
    }
    rocksdb::WriteOptions options;
    options.sync = sync;
    Check(db_->Write(options, &batch_));
    log_unsynced_ = !sync;
  }

  // A large batch (a snapshot) is written once, as a table file that RocksDB then takes in
  // atomically (durable on return: it syncs the file, the directory and its manifest), instead of
  // into the log, the memtable and later a flush: the log's checksums alone (crc32c, computed in
  // software by Debian's portable build) cost more than encoding the state.
  void Ingest(const KvBatch& writes) {
    // Batches written through the log before without a sync are made durable first, so that a
    // crash keeps a prefix of the batches, as with the log alone.
    if (log_unsynced_) Check(db_->SyncWAL());
    log_unsynced_ = false;
    RemoveLeftIngestFile();
    rocksdb::SstFileWriter file(rocksdb::EnvOptions(options_), options_);
    Check(file.Open(ingest_path_));
    for (size_t i = 0; i < writes.size(); ++i) {
      const std::string_view key = writes.key(i);
      const std::optional<std::string_view> value = writes.value(i);
      Check(value ? file.Put(AsSlice(key), AsSlice(*value)) : file.Delete(AsSlice(key)));
    }
    Check(file.Finish());
    rocksdb::IngestExternalFileOptions ingest;
    ingest.move_files = true;  // linked into the database, not copied
    Check(db_->IngestExternalFile({ingest_path_}, ingest));
  }

  // The name a stopped run left: never written through, only unlinked. RocksDB moves a table in
  // by linking it under a table number and then removing this name; a run killed between the two
  // leaves both names on one file, the database's table. Opening it for writing would truncate
  // that table in place (a later open then finds garbage where its footer was).
  void RemoveLeftIngestFile() {
    std::error_code error;
    std::filesystem::remove(ingest_path_, error);
    if (error) throw FatalError("state store write failed: cannot remove " + ingest_path_ + ": " + error.message());
  }

  static void Check(const rocksdb::Status& s) {
    if (!s.ok()) throw FatalError("state store write failed: " + s.ToString());
  }

  std::unique_ptr<rocksdb::DB> db_;
  const rocksdb::Options options_;
  const std::string ingest_path_;
  const size_t ingest_bytes_;
  rocksdb::WriteBatch batch_;
  bool log_unsynced_ = false;  // a batch went into the log without a sync since the last sync
};

}  // namespace

std::unique_ptr<KvBackend> NewMemoryBackend() { return std::make_unique<MemoryBackend>(); }

std::unique_ptr<KvBackend> OpenRocksBackend(const std::string& dir, const RocksOptions& options) {
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  if (options.env) db_options.env = options.env;
  // One budget for block cache and write buffers: memtables are charged to the cache.
  auto cache = rocksdb::NewLRUCache(options.memory_budget_bytes);
  db_options.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(
      options.memory_budget_bytes / 2, cache);
  // Most operator reads are of keys that do not exist yet (a new officer-subject pair...): bloom
  // filters in the memtables and the tables answer those without a search.
  db_options.memtable_whole_key_filtering = true;
  db_options.memtable_prefix_bloom_size_ratio = 0.05;
  db_options.write_buffer_size = 64u << 20;
  db_options.max_background_jobs = 2;
  // Snapshots are small, short-lived and rewritten often: compressing them cost more processing
  // (snappy, in the flushes) than the disk they save. Tables written compressed stay readable.
  db_options.compression = rocksdb::kNoCompression;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.cache_index_and_filter_blocks = true;  // charged to the one memory budget
  db_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, &db);
  if (!s.ok()) throw FatalError("cannot open state store at " + dir + ": " + s.ToString());
  return std::make_unique<RocksBackend>(std::unique_ptr<rocksdb::DB>(db), db_options, dir,
                                        options.ingest_batch_bytes);
}

}  // namespace vigil
