#include "state/background_writer.h"

#include <utility>

namespace vigil {

// The inner backend's keys merged with the in-flight batch, whose writes take precedence.
class BackgroundWriter::MergedIterator : public KvIterator {
 public:
  MergedIterator(const BackgroundWriter& writer, std::unique_ptr<KvIterator> inner)
      : batch_(writer.batch_), inner_(std::move(inner)), at_(batch_.size()) {}
  void Seek(std::string_view key) override {
    inner_->Seek(key);
    at_ = batch_.LowerBound(key);
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
  std::string_view key() const override { return from_batch_ ? batch_.key(at_) : inner_->key(); }
  std::string_view value() const override {
    return from_batch_ ? *batch_.value(at_) : inner_->value();
  }

 private:
  // Positions on the smaller key of the two sides, skipping the batch's deletions and the inner
  // backend's values the batch overwrites.
  void Settle() {
    while (true) {
      const bool batch = at_ < batch_.size();
      const bool db = inner_->Valid();
      if (!batch && !db) {
        valid_ = false;
        return;
      }
      if (batch && (!db || batch_.key(at_) <= inner_->key())) {
        if (db && batch_.key(at_) == inner_->key()) inner_->Next();
        if (!batch_.value(at_)) {  // deleted
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

  const KvBatch& batch_;
  std::unique_ptr<KvIterator> inner_;
  size_t at_;
  bool valid_ = false, from_batch_ = false;
};

BackgroundWriter::BackgroundWriter(std::unique_ptr<KvBackend> inner)
    : inner_(std::move(inner)), thread_([this] { Work(); }) {}

BackgroundWriter::~BackgroundWriter() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::optional<std::string> BackgroundWriter::Get(std::string_view key) {
  if (const std::optional<size_t> at = Find(key)) {
    const std::optional<std::string_view> value = batch_.value(*at);
    return value ? std::optional<std::string>(*value) : std::nullopt;
  }
  return inner_->Get(key);
}

std::unique_ptr<KvIterator> BackgroundWriter::NewIterator() {
  auto inner = inner_->NewIterator();
  if (!in_flight_) return inner;
  return std::make_unique<MergedIterator>(*this, std::move(inner));
}

void BackgroundWriter::Write(const KvBatch& batch, bool sync) {
  KvBatch copy;
  copy.Append(batch);
  WriteOwned(std::move(copy), sync);
}

void BackgroundWriter::WriteOwned(KvBatch&& batch, bool sync) {
  Finish();
  batch_ = std::move(batch);
  batch_.SortByKey();  // for reads while it is written, and as RocksDB writes it fastest
  {
    std::lock_guard<std::mutex> lock(mutex_);
    sync_ = sync;
    has_work_ = true;
    done_.store(false, std::memory_order_relaxed);
  }
  in_flight_ = true;
  wake_.notify_all();
}

void BackgroundWriter::Finish() {
  if (!in_flight_) return;
  std::exception_ptr failure;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [&] { return !has_work_; });
    failure = std::exchange(failure_, nullptr);
  }
  in_flight_ = false;
  batch_ = KvBatch();  // its memory goes back now, not when the next batch comes
  if (failure) std::rethrow_exception(failure);
}

std::optional<size_t> BackgroundWriter::Find(std::string_view key) const {
  if (!in_flight_) return std::nullopt;
  const size_t at = batch_.LowerBound(key);
  if (at < batch_.size() && batch_.key(at) == key) return at;
  return std::nullopt;
}

void BackgroundWriter::Work() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return has_work_ || stopping_; });
    if (!has_work_) return;
    const bool sync = sync_;
    lock.unlock();
    std::exception_ptr failure;
    try {
      inner_->Write(batch_, sync);
    } catch (...) {
      failure = std::current_exception();  // Finish() rethrows it in the engine's thread
    }
    lock.lock();
    failure_ = failure;
    has_work_ = false;
    done_.store(true, std::memory_order_release);
    wake_.notify_all();
  }
}

std::unique_ptr<KvBackend> InBackground(std::unique_ptr<KvBackend> inner,
                                         BackgroundWriter*& writer) {
  auto background = std::make_unique<BackgroundWriter>(std::move(inner));
  writer = background.get();
  return background;
}

}  // namespace vigil
