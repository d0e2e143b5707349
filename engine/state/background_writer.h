// BackgroundWriter: a KvBackend decorator that writes each batch on a thread of its own.
//
// `vigil run` puts it under the state store so that a checkpoint's RocksDB inserts and sync run
// while the processing thread goes on (engine/live/CHECKPOINTS.md). WriteOwned() takes the batch
// over (Write() copies it) and returns; until Finish() has collected it, reads see it over the
// inner backend (Get and iterators merge it in, its writes taking precedence), exactly as if it
// were written. At most one batch is in flight: a write first waits for the previous one, and
// Finish() frees it. Called from one thread (the engine's); the writer thread touches only the
// inner backend and the batch handed to it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "state/kv_backend.h"

namespace vigil {

class BackgroundWriter : public KvBackend {
 public:
  explicit BackgroundWriter(std::unique_ptr<KvBackend> inner);
  // Waits for a batch still being written. Its failure, if any, is not reported here: an engine
  // that leaves without Finish() is already failing for another reason.
  ~BackgroundWriter() override;

  std::optional<std::string> Get(std::string_view key) override;
  std::unique_ptr<KvIterator> NewIterator() override;
  void Write(const KvBatch& batch, bool sync) override;
  void WriteOwned(KvBatch&& batch, bool sync) override;
  size_t BytesInFlight() const override { return in_flight_ ? batch_.MemoryBytes() : 0; }

  // The batch handed over last is written (or failed): Finish() will not wait.
  bool Done() const { return !in_flight_ || done_.load(std::memory_order_acquire); }
  // Waits until the batch handed over last is durable; throws FatalError if it could not be
  // written. Afterwards reads go to the inner backend alone.
  void Finish();

 private:
  class MergedIterator;

  // The index in batch_ of the in-flight write of `key`, if any.
  std::optional<size_t> Find(std::string_view key) const;
  void Work();  // the writer thread

  std::unique_ptr<KvBackend> inner_;
  // The batch in flight, in key order; the engine's thread changes it only while none is (in
  // WriteOwned/Finish).
  KvBatch batch_;
  bool in_flight_ = false;  // handed over and not yet collected by Finish()
  std::mutex mutex_;
  std::condition_variable wake_;
  bool has_work_ = false, stopping_ = false, sync_ = true;
  std::exception_ptr failure_;
  std::atomic<bool> done_{true};
  std::thread thread_;  // last: started once everything above is initialised
};

// Wraps `inner` in a BackgroundWriter; `writer` is set to it (the caller's store owns it).
std::unique_ptr<KvBackend> InBackground(std::unique_ptr<KvBackend> inner,
                                         BackgroundWriter*& writer);

}  // namespace vigil
