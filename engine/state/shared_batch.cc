#include "state/shared_batch.h"

#include "status.h"

namespace vigil {

class SharedBatch::LeadBackend final : public KvBackend {
 public:
  LeadBackend(std::unique_ptr<KvBackend> inner, SharedBatch& batch)
      : inner_(std::move(inner)), batch_(batch) {}
  std::optional<std::string> Get(std::string_view key) override { return inner_->Get(key); }
  std::unique_ptr<KvIterator> NewIterator() override { return inner_->NewIterator(); }
  void Write(const KvBatch& writes, bool sync) override {
    KvBatch lead;
    lead.Append(writes);
    batch_.WriteJoined(std::move(lead), sync);
  }
  void WriteOwned(KvBatch&& writes, bool sync) override { batch_.WriteJoined(std::move(writes), sync); }
  size_t BytesInFlight() const override { return inner_->BytesInFlight(); }

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
  void Write(const KvBatch& writes, bool) override { batch_.staged_.Append(writes, batch_.prefix_); }

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

void SharedBatch::WriteJoined(KvBatch&& lead, bool sync) {
  if (!staged_.empty()) {
    lead.Append(staged_);
    staged_.clear();
    // As StateStore sorts its batch. The follower's keys all carry its prefix, which no lead key
    // has, so each store's writes keep their order.
    lead.SortByKey();
  }
  shared_->WriteOwned(std::move(lead), sync);
}

void SharedBatch::WriteStaged(bool sync) {
  if (!staged_.empty()) WriteJoined(KvBatch(), sync);
}

}  // namespace vigil
