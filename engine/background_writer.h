// BackgroundWriter: a KvBackend decorator that writes each batch on a thread of its own.
//
// `vigil run` puts it under the state store so that a checkpoint's RocksDB inserts and sync run
// while the processing thread goes on (engine/CHECKPOINTS.md). Reads made while a batch is in
// flight see it, as if it were written. Single-threaded use from the engine's thread; the writer
// thread touches only the inner backend and the batch handed to it.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "kv_backend.h"

namespace vigil {

// The state store's backend in `vigil run`: each checkpoint's batch is written (and synced) by a
// thread of its own, so that the processing thread goes on while RocksDB inserts and syncs it.
// Write() copies the batch and returns; until Finish() has collected it, reads see it over the
// database (Get and iterators merge it in, its writes taking precedence), exactly as if it were
// written. At most one batch is in flight: Write() first waits for the previous one.
class BackgroundWriter : public KvBackend {
 public:
  explicit BackgroundWriter(std::unique_ptr<KvBackend> inner)
      : inner_(std::move(inner)), thread_([this] { Work(); }) {}
  // Waits for a batch still being written. Its failure, if any, is not reported here: an engine
  // that leaves without Finish() is already failing for another reason.
  ~BackgroundWriter() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  std::optional<std::string> Get(std::string_view key) override {
    if (const Entry* e = Find(key)) return e->deleted ? std::nullopt : std::optional<std::string>(Value(*e));
    return inner_->Get(key);
  }
  std::unique_ptr<KvIterator> NewIterator() override {
    auto inner = inner_->NewIterator();
    if (!in_flight_) return inner;
    return std::make_unique<MergedIterator>(*this, std::move(inner));
  }
  void Write(const std::vector<KvWrite>& writes, bool sync) override {
    Finish();
    Fill(writes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      sync_ = sync;
      has_work_ = true;
      done_.store(false, std::memory_order_relaxed);
    }
    in_flight_ = true;
    wake_.notify_all();
  }

  // The batch handed over last is written (or failed): Finish() will not wait.
  bool Done() const { return !in_flight_ || done_.load(std::memory_order_acquire); }
  // Waits until the batch handed over last is durable; throws FatalError if it could not be
  // written. Afterwards reads go to the database alone.
  void Finish() {
    if (!in_flight_) return;
    std::exception_ptr failure;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return !has_work_; });
      failure = std::exchange(failure_, nullptr);
    }
    in_flight_ = false;
    entries_.clear();
    if (failure) std::rethrow_exception(failure);
  }

 private:
  struct Entry {
    size_t key_at, key_size, value_at, value_size;
    bool deleted;
  };

  std::string_view Key(const Entry& e) const { return std::string_view(arena_).substr(e.key_at, e.key_size); }
  std::string_view Value(const Entry& e) const {
    return std::string_view(arena_).substr(e.value_at, e.value_size);
  }

  // Copies the writes (views into the caller's buffers, reused after Write returns), sorted by
  // key, the last write of a key winning, as in one batch.
  void Fill(const std::vector<KvWrite>& writes) {
    size_t bytes = 0;
    for (const auto& [key, value] : writes) bytes += key.size() + (value ? value->size() : 0);
    arena_.clear();
    arena_.reserve(bytes);
    entries_.clear();
    entries_.reserve(writes.size());
    for (const auto& [key, value] : writes) {
      Entry e{arena_.size(), key.size(), 0, 0, !value};
      arena_.append(key);
      if (value) {
        e.value_at = arena_.size();
        e.value_size = value->size();
        arena_.append(*value);
      }
      entries_.push_back(e);
    }
    auto by_key = [&](const Entry& a, const Entry& b) { return Key(a) < Key(b); };
    if (!std::is_sorted(entries_.begin(), entries_.end(), by_key)) {
      std::stable_sort(entries_.begin(), entries_.end(), by_key);
    }
    size_t kept = 0;  // of equal keys (adjacent, in write order) the last wins
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (i + 1 < entries_.size() && Key(entries_[i + 1]) == Key(entries_[i])) continue;
      entries_[kept++] = entries_[i];
    }
    entries_.resize(kept);
    writes_.clear();
    for (const Entry& e : entries_) {
      writes_.emplace_back(Key(e), e.deleted ? std::nullopt : std::optional<std::string_view>(Value(e)));
    }
  }

  // The in-flight write of `key`, if any.
  const Entry* Find(std::string_view key) const {
    if (!in_flight_) return nullptr;
    size_t at = Lower(key);
    return at < entries_.size() && Key(entries_[at]) == key ? &entries_[at] : nullptr;
  }
  size_t Lower(std::string_view key) const {
    return static_cast<size_t>(
        std::lower_bound(entries_.begin(), entries_.end(), key,
                         [&](const Entry& e, std::string_view k) { return Key(e) < k; }) -
        entries_.begin());
  }

  void Work() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return has_work_ || stopping_; });
      if (!has_work_) return;
      const bool sync = sync_;
      lock.unlock();
      std::exception_ptr failure;
      try {
        inner_->Write(writes_, sync);
      } catch (...) {
        failure = std::current_exception();  // rethrown by Finish() in the engine's thread
      }
      lock.lock();
      failure_ = failure;
      has_work_ = false;
      done_.store(true, std::memory_order_release);
      wake_.notify_all();
    }
  }

  // The database's keys merged with the in-flight batch, whose writes take precedence.
  class MergedIterator : public KvIterator {
   public:
    MergedIterator(const BackgroundWriter& writer, std::unique_ptr<KvIterator> inner)
        : w_(writer), inner_(std::move(inner)), at_(w_.entries_.size()) {}
    void Seek(std::string_view key) override {
      inner_->Seek(key);
      at_ = w_.Lower(key);
      Settle();
    }
    bool Valid() const override { return valid_; }
    void Next() override {
      if (from_batch_) {
        ++at_;
      } else {
        inner_->Next();
      }
      Settle();
    }
    std::string_view key() const override { return from_batch_ ? w_.Key(w_.entries_[at_]) : inner_->key(); }
    std::string_view value() const override {
      return from_batch_ ? w_.Value(w_.entries_[at_]) : inner_->value();
    }

   private:
    // Positions on the smaller key of the two sides, skipping the batch's deletions and the
    // database's values the batch overwrites.
    void Settle() {
      while (true) {
        const bool batch = at_ < w_.entries_.size();
        const bool db = inner_->Valid();
        if (!batch && !db) {
          valid_ = false;
          return;
        }
        if (batch && (!db || w_.Key(w_.entries_[at_]) <= inner_->key())) {
          if (db && w_.Key(w_.entries_[at_]) == inner_->key()) inner_->Next();
          if (w_.entries_[at_].deleted) {
            ++at_;
            continue;
          }
          from_batch_ = true;
        } else {
          from_batch_ = false;
        }
        valid_ = true;
        return;
      }
    }

    const BackgroundWriter& w_;
    std::unique_ptr<KvIterator> inner_;
    size_t at_;
    bool valid_ = false, from_batch_ = false;
  };

  std::unique_ptr<KvBackend> inner_;
  // The batch in flight; the engine's thread changes these only while none is (in Write/Finish).
  std::string arena_;
  std::vector<Entry> entries_;
  std::vector<KvWrite> writes_;
  bool in_flight_ = false;  // handed over and not yet collected by Finish()
  std::mutex mutex_;
  std::condition_variable wake_;
  bool has_work_ = false, stopping_ = false, sync_ = true;
  std::exception_ptr failure_;
  std::atomic<bool> done_{true};
  std::thread thread_;  // last: started once everything above is initialised
};

// Wraps `inner` in a BackgroundWriter; `writer` is set to it (the store owns it).
std::unique_ptr<KvBackend> InBackground(std::unique_ptr<KvBackend> inner, BackgroundWriter*& writer);

}  // namespace vigil
