#include "state/shared_batch.h"

#include <algorithm>

#include "status.h"

namespace vigil {

class SharedBatch::LeadBackend final : public KvBackend {
 public:
  LeadBackend(std::unique_ptr<KvBackend> inner, SharedBatch& batch)
      : inner_(std::move(inner)), batch_(batch) {}
  std::optional<std::string> Get(std::string_view key) override { return inner_->Get(key); }
  std::unique_ptr<KvIterator> NewIterator() override { return inner_->NewIterator(); }
  void Write(const std::vector<KvWrite>& writes, bool sync) override { batch_.WriteJoined(writes, sync); }

 private:
  std::unique_ptr<KvBackend> inner_;
  SharedBatch& batch_;
};

class SharedBatch::FollowerBackend final : public KvBackend {
 public:
  explicit FollowerBackend(SharedBatch& batch) : batch_(batch) {}

  std::optional<std::string> Get(std::string_view key) override {
    CheckNothingStaged();
    return batch_.shared_->Get(Full(key));
  }
  std::unique_ptr<KvIterator> NewIterator() override {
    CheckNothingStaged();
    return std::make_unique<Iterator>(batch_.shared_->NewIterator(), batch_.prefix_);
  }
  void Write(const std::vector<KvWrite>& writes, bool) override {
    Staged& staged = batch_.staged_;
    for (const auto& [key, value] : writes) {
      staged.keys.push_back(Full(key));
      staged.values.emplace_back(value ? *value : std::string_view());
      staged.deleted.push_back(!value);
    }
  }

 private:
  // Only the prefix's keys, without the prefix.
  class Iterator final : public KvIterator {
   public:
    Iterator(std::unique_ptr<KvIterator> inner, const std::string& prefix)
        : inner_(std::move(inner)), prefix_(prefix) {}
    void Seek(std::string_view key) override { inner_->Seek(prefix_ + std::string(key)); }
    bool Valid() const override {
      return inner_->Valid() && inner_->key().substr(0, prefix_.size()) == prefix_;
    }
    void Next() override { inner_->Next(); }
    std::string_view key() const override { return inner_->key().substr(prefix_.size()); }
    std::string_view value() const override { return inner_->value(); }

   private:
    std::unique_ptr<KvIterator> inner_;
    const std::string& prefix_;
  };

  std::string Full(std::string_view key) const { return batch_.prefix_ + std::string(key); }
  // A read between the follower's checkpoint and the lead's would miss the staged writes.
  void CheckNothingStaged() const {
    if (!batch_.staged_.empty()) throw FatalError("shadow state read before its checkpoint was written");
  }
  SharedBatch& batch_;
};

SharedBatch::SharedBatch(std::unique_ptr<KvBackend> shared, std::string follower_prefix)
    : owned_(std::move(shared)), shared_(owned_.get()), prefix_(std::move(follower_prefix)) {}

std::unique_ptr<KvBackend> SharedBatch::Lead() {
  return std::make_unique<LeadBackend>(std::move(owned_), *this);
}

std::unique_ptr<KvBackend> SharedBatch::Follower() { return std::make_unique<FollowerBackend>(*this); }

void SharedBatch::Staged::clear() {
  keys.clear();
  values.clear();
  deleted.clear();
}

void SharedBatch::WriteJoined(const std::vector<KvWrite>& lead, bool sync) {
  if (staged_.empty()) return shared_->Write(lead, sync);
  std::vector<KvWrite> joined = lead;
  for (size_t i = 0; i < staged_.keys.size(); ++i) {
    joined.emplace_back(staged_.keys[i], staged_.deleted[i] ? std::nullopt
                                                            : std::optional<std::string_view>(staged_.values[i]));
  }
  // As StateStore sorts its batch (RocksDB inserts in key order fastest). The follower's keys all
  // carry its prefix, which no lead key has, so the order within each store's writes is kept.
  std::stable_sort(joined.begin(), joined.end(),
                   [](const KvWrite& a, const KvWrite& b) { return a.first < b.first; });
  shared_->Write(joined, sync);
  staged_.clear();
}

void SharedBatch::WriteStaged(bool sync) {
  if (!staged_.empty()) WriteJoined({}, sync);
}

}  // namespace vigil
