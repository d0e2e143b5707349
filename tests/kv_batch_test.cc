// KvBatch (engine/state/kv_batch.h): writes keep their bytes however the batch grows; sorting
// leaves what applying the writes in order would; a moved batch leaves its source empty.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "state/kv_batch.h"

namespace vigil::testing {
namespace {

std::vector<std::string> Listing(const KvBatch& batch) {
  std::vector<std::string> out;
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto value = batch.value(i);
    out.push_back(std::string(batch.key(i)) + (value ? "=" + std::string(*value) : " deleted"));
  }
  return out;
}

}  // namespace

TEST_CASE("KvBatch: prefix and key join into one key; deletes have no value") {
  KvBatch batch;
  batch.Put("scope/", "officer-1", "state");
  batch.Delete("scope/", "officer-2");
  batch.Put("", "", "");  // an empty key and value are writes too
  CHECK(batch.size() == 3);
  CHECK(Listing(batch) == std::vector<std::string>{"scope/officer-1=state", "scope/officer-2 deleted", "="});
  CHECK(batch.bytes() == 15 + 5 + 15);
}

TEST_CASE("KvBatch: earlier writes keep their bytes while the batch grows past its blocks") {
  KvBatch batch;
  const std::string big(3u << 20, 'v');  // larger than the first block: a block of its own
  for (int i = 0; i < 20000; ++i) {
    batch.Put("k", std::to_string(i), i % 1000 == 0 ? big : std::to_string(i * 7));
  }
  REQUIRE(batch.size() == 20000);
  for (size_t i = 0; i < batch.size(); ++i) {
    const std::string expected = i % 1000 == 0 ? big : std::to_string(i * 7);
    if (batch.key(i) != "k" + std::to_string(i) || batch.value(i) != expected) {
      FAIL("write " << i << " changed");
    }
  }
  CHECK(batch.MemoryBytes() >= 20 * big.size());
}

TEST_CASE("KvBatch: SortByKey orders the keys and keeps the last write of each") {
  KvBatch batch{{"c", "3"}, {"a", "1"}, {"b", "2"}, {"a", std::nullopt}, {"c", "30"}, {"a", "10"}};
  CHECK_FALSE(batch.InKeyOrder());
  batch.SortByKey();
  CHECK(batch.InKeyOrder());
  CHECK(Listing(batch) == std::vector<std::string>{"a=10", "b=2", "c=30"});
  CHECK(batch.bytes() == 3 + 2 + 3);
  CHECK(batch.LowerBound("b") == 1);
  CHECK(batch.LowerBound("bb") == 2);
  CHECK(batch.LowerBound("d") == 3);

  KvBatch deleted_last{{"x", "1"}, {"x", std::nullopt}};
  deleted_last.SortByKey();
  CHECK(Listing(deleted_last) == std::vector<std::string>{"x deleted"});
}

TEST_CASE("KvBatch: Append copies another batch behind a prefix; a move empties the source") {
  KvBatch shadow{{"a", "1"}, {"b", std::nullopt}};
  KvBatch lead{{"z", "26"}};
  lead.Append(shadow, "shadow/");
  CHECK(Listing(lead) == std::vector<std::string>{"z=26", "shadow/a=1", "shadow/b deleted"});

  KvBatch taken = std::move(lead);
  CHECK(taken.size() == 3);
  CHECK(lead.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  CHECK(lead.bytes() == 0);
  lead.Put("again", "1");  // and usable
  CHECK(Listing(lead) == std::vector<std::string>{"again=1"});
  CHECK(Listing(taken) == std::vector<std::string>{"z=26", "shadow/a=1", "shadow/b deleted"});
}

TEST_CASE("KvBatch: clear forgets every write and gives a large batch's memory back") {
  KvBatch batch;
  batch.Put("k", std::string(1u << 20, 'x'));
  CHECK(batch.MemoryBytes() > (1u << 20));
  batch.clear();
  CHECK(batch.empty());
  CHECK(batch.bytes() == 0);
  CHECK(batch.MemoryBytes() < (64u << 10));
  batch.Put("k", "v");
  CHECK(Listing(batch) == std::vector<std::string>{"k=v"});
}

}  // namespace vigil::testing
