// BackgroundWriter (engine/state/background_writer.h): a batch handed over is written on another thread;
// until it is collected, reads see it over the inner backend; a failed write is reported by
// Finish() in the caller's thread.
#include <doctest/doctest.h>

#include <future>
#include <string>
#include <vector>

#include "state/background_writer.h"
#include "status.h"

namespace vigil::testing {
namespace {

// The inner backend: an in-memory map whose Write waits until the test opens the gate (so the
// batch stays in flight as long as the test needs), and fails on demand.
class GatedBackend final : public KvBackend {
 public:
  GatedBackend() : inner_(NewMemoryBackend()), gate_(opened_.get_future().share()) {}
  void Open() { opened_.set_value(); }
  void FailWrites() { fail_ = true; }
  KvBackend& inner() { return *inner_; }

  std::optional<std::string> Get(std::string_view key) override { return inner_->Get(key); }
  std::unique_ptr<KvIterator> NewIterator() override { return inner_->NewIterator(); }
  void Write(const KvBatch& writes, bool sync) override {
    if (!primed_) {  // the first write (the test's set-up) goes straight through
      primed_ = true;
      inner_->Write(writes, sync);
      return;
    }
    gate_.wait();
    if (fail_) throw FatalError("state store write failed: IO error: No space left on device");
    inner_->Write(writes, sync);
  }

 private:
  std::unique_ptr<KvBackend> inner_;
  std::promise<void> opened_;
  std::shared_future<void> gate_;
  bool primed_ = false;
  bool fail_ = false;
};

std::vector<std::string> Contents(KvBackend& backend) {
  std::vector<std::string> out;
  auto it = backend.NewIterator();
  for (it->Seek(""); it->Valid(); it->Next()) {
    out.push_back(std::string(it->key()) + "=" + std::string(it->value()));
  }
  return out;
}

}  // namespace

TEST_CASE("BackgroundWriter: reads see the batch in flight; Finish makes it the database's") {
  auto gated = std::make_unique<GatedBackend>();
  GatedBackend& inner = *gated;
  BackgroundWriter* writer = nullptr;
  std::unique_ptr<KvBackend> backend = InBackground(std::move(gated), writer);
  backend->Write({{"a", "1"}, {"c", "3"}, {"d", "4"}}, true);  // written at once (set-up)
  writer->Finish();

  // Unsorted, a key written twice (the later wins), a delete, a new key.
  backend->Write({{"b", "2"}, {"a", "9"}, {"c", std::nullopt}, {"a", "10"}}, true);
  CHECK_FALSE(writer->Done());  // the gate holds it
  CHECK(backend->Get("a") == std::optional<std::string>("10"));
  CHECK(backend->Get("b") == std::optional<std::string>("2"));
  CHECK_FALSE(backend->Get("c").has_value());
  CHECK(backend->Get("d") == std::optional<std::string>("4"));
  CHECK_FALSE(backend->Get("e").has_value());
  CHECK(Contents(*backend) == std::vector<std::string>{"a=10", "b=2", "d=4"});
  CHECK(Contents(inner.inner()) == std::vector<std::string>{"a=1", "c=3", "d=4"});  // not yet

  inner.Open();
  writer->Finish();
  CHECK(writer->Done());
  CHECK(Contents(inner.inner()) == std::vector<std::string>{"a=10", "b=2", "d=4"});
  CHECK(Contents(*backend) == std::vector<std::string>{"a=10", "b=2", "d=4"});
}

TEST_CASE("BackgroundWriter: a batch handed over is taken, not copied, and counted until collected") {
  auto gated = std::make_unique<GatedBackend>();
  GatedBackend& inner = *gated;
  BackgroundWriter* writer = nullptr;
  std::unique_ptr<KvBackend> backend = InBackground(std::move(gated), writer);
  backend->Write({{"set-up", "1"}}, true);
  writer->Finish();
  CHECK(backend->BytesInFlight() == 0);

  KvBatch snapshot;
  const std::string big(4u << 20, 's');
  snapshot.Put("officer/", "b", big);
  snapshot.Put("officer/", "a", "small");
  backend->WriteOwned(std::move(snapshot), true);
  CHECK(snapshot.empty());  // NOLINT(bugprone-use-after-move): taken over
  CHECK(backend->BytesInFlight() >= big.size());
  CHECK(backend->Get("officer/b") == std::optional<std::string>(big));  // served from the batch
  CHECK(Contents(*backend).size() == 3);

  inner.Open();
  writer->Finish();
  CHECK(backend->BytesInFlight() == 0);  // freed once written
  CHECK(inner.inner().Get("officer/a") == std::optional<std::string>("small"));
  CHECK(inner.inner().Get("officer/b") == std::optional<std::string>(big));
}

TEST_CASE("BackgroundWriter: a failed write is thrown by Finish, in the caller's thread") {
  auto gated = std::make_unique<GatedBackend>();
  GatedBackend& inner = *gated;
  BackgroundWriter* writer = nullptr;
  std::unique_ptr<KvBackend> backend = InBackground(std::move(gated), writer);
  backend->Write({{"a", "1"}}, true);
  writer->Finish();
  inner.FailWrites();
  backend->Write({{"a", "2"}}, true);
  inner.Open();
  CHECK_THROWS_WITH_AS(writer->Finish(), doctest::Contains("No space left on device"), FatalError);
  CHECK(backend->Get("a") == std::optional<std::string>("1"));  // the failed batch is gone
}

}  // namespace vigil::testing
