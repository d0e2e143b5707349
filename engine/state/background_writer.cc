#include "state/background_writer.h"

#include <algorithm>
#include <utility>

namespace vigil {

// The inner backend's keys merged with the in-flight batch, whose writes take precedence.
class BackgroundWriter::MergedIterator : public KvIterator {
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
  std::string_view key() const override {
    return from_batch_ ? w_.Key(w_.entries_[at_]) : inner_->key();
  }
  std::string_view value() const override {
    return from_batch_ ? w_.Value(w_.entries_[at_]) : inner_->value();
  }

 private:
  // Positions on the smaller key of the two sides, skipping the batch's deletions and the inner
  // backend's values the batch overwrites.
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
  if (const Entry* e = Find(key)) {
    return e->deleted ? std::nullopt : std::optional<std::string>(Value(*e));
  }
  return inner_->Get(key);
}

std::unique_ptr<KvIterator> BackgroundWriter::NewIterator() {
  auto inner = inner_->NewIterator();
  if (!in_flight_) return inner;
  return std::make_unique<MergedIterator>(*this, std::move(inner));
}

void BackgroundWriter::Write(const std::vector<KvWrite>& writes, bool sync) {
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

void BackgroundWriter::Finish() {
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

std::string_view BackgroundWriter::Key(const Entry& e) const {
  return std::string_view(arena_).substr(e.key_at, e.key_size);
}

std::string_view BackgroundWriter::Value(const Entry& e) const {
  return std::string_view(arena_).substr(e.value_at, e.value_size);
}

void BackgroundWriter::Fill(const std::vector<KvWrite>& writes) {
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
    writes_.emplace_back(Key(e),
                         e.deleted ? std::nullopt : std::optional<std::string_view>(Value(e)));
  }
}

const BackgroundWriter::Entry* BackgroundWriter::Find(std::string_view key) const {
  if (!in_flight_) return nullptr;
  const size_t at = Lower(key);
  return at < entries_.size() && Key(entries_[at]) == key ? &entries_[at] : nullptr;
}

size_t BackgroundWriter::Lower(std::string_view key) const {
  return static_cast<size_t>(
      std::lower_bound(entries_.begin(), entries_.end(), key,
                       [&](const Entry& e, std::string_view k) { return Key(e) < k; }) -
      entries_.begin());
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
      inner_->Write(writes_, sync);
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
