// StateStore: the write-back cache over a KvBackend, on the in-memory backend and on RocksDB.
#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kv_backend.h"
#include "pipeline.h"
#include "state_store.h"

namespace vigil {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs ScanAll(StateStore& store, std::string_view begin = "", std::string_view end = "\xff") {
  Pairs out;
  store.Scan(begin, end, [&](std::string_view k, std::string_view v) {
    out.emplace_back(std::string(k), std::string(v));
    return true;
  });
  return out;
}

// Runs `body` over a fresh store on each backend (RocksDB in a temporary directory).
void ForEachBackend(const std::function<void(StateStore&)>& body) {
  SUBCASE("memory backend") {
    StateStore store(NewMemoryBackend());
    body(store);
  }
  SUBCASE("RocksDB backend") {
    TempDir dir("vigil-state-test-");
    StateStore store(OpenRocksBackend(dir.path(), RocksOptions{8u << 20}));
    body(store);
  }
}

}  // namespace

TEST_CASE("StateStore: reads see unflushed writes and deletes") {
  ForEachBackend([](StateStore& store) {
    CHECK_FALSE(store.Get("k").has_value());
    store.Put("k", "v1");
    CHECK(store.Get("k") == std::optional<std::string>("v1"));
    CHECK(store.pending_writes() == 1);
    store.Checkpoint(false);
    CHECK(store.pending_writes() == 0);
    CHECK(store.Get("k") == std::optional<std::string>("v1"));
    store.Put("k", "v2");
    CHECK(store.Get("k") == std::optional<std::string>("v2"));
    store.Delete("k");
    CHECK_FALSE(store.Get("k").has_value());
    store.Checkpoint(true);
    CHECK_FALSE(store.Get("k").has_value());
    // Values are bytes: embedded NULs survive.
    const std::string binary("a\0b\xff", 4);
    store.Put(binary, binary);
    store.Checkpoint(false);
    CHECK(store.Get(binary) == std::optional<std::string>(binary));
  });
}

TEST_CASE("StateStore: Scan merges unflushed writes and deletes with the backend in key order") {
  ForEachBackend([](StateStore& store) {
    store.Put("a", "1");
    store.Put("c", "3");
    store.Put("e", "5");
    store.Put("g", "7");
    store.Checkpoint(false);
    // Unflushed: insert before, between and after backend keys; delete one; overwrite one.
    store.Put("0", "zero");
    store.Put("b", "2");
    store.Delete("c");
    store.Put("e", "five");
    store.Put("h", "8");
    store.Delete("x");  // deleting a key that never existed
    const Pairs expected = {{"0", "zero"}, {"a", "1"}, {"b", "2"}, {"e", "five"}, {"g", "7"}, {"h", "8"}};
    CHECK(ScanAll(store) == expected);
    // [begin, end): begin inclusive, end exclusive, on both sources.
    CHECK(ScanAll(store, "b", "g") == Pairs{{"b", "2"}, {"e", "five"}});
    CHECK(ScanAll(store, "c", "e") == Pairs{});
    CHECK(ScanAll(store, "a", "b") == Pairs{{"a", "1"}});
    // The callback stops the scan.
    Pairs first_two;
    store.Scan("", "\xff", [&](std::string_view k, std::string_view v) {
      first_two.emplace_back(std::string(k), std::string(v));
      return first_two.size() < 2;
    });
    CHECK(first_two == Pairs{{"0", "zero"}, {"a", "1"}});
    // After a checkpoint the backend alone gives the same answer.
    store.Checkpoint(false);
    CHECK(store.pending_writes() == 0);
    CHECK(ScanAll(store) == expected);
  });
}

TEST_CASE("StateStore: a delete of a flushed key hides it until re-put") {
  ForEachBackend([](StateStore& store) {
    store.Put("k1", "a");
    store.Put("k2", "b");
    store.Checkpoint(false);
    store.Delete("k1");
    store.Delete("k2");
    CHECK(ScanAll(store).empty());
    store.Put("k2", "c");
    CHECK(ScanAll(store) == Pairs{{"k2", "c"}});
  });
}

TEST_CASE("StateStore on RocksDB: Checkpoint makes writes durable, and only checkpointed writes") {
  TempDir dir("vigil-state-test-");
  {
    StateStore store(OpenRocksBackend(dir.path(), RocksOptions{8u << 20}));
    store.Put("kept", "1");
    store.Put("gone", "x");
    store.Checkpoint(true);
    store.Delete("gone");
    store.Put("later", "2");
    store.Checkpoint(true);
    store.Put("unflushed", "3");  // never checkpointed
  }  // closes the database
  StateStore reopened(OpenRocksBackend(dir.path(), RocksOptions{8u << 20}));
  CHECK(reopened.Get("kept") == std::optional<std::string>("1"));
  CHECK(reopened.Get("later") == std::optional<std::string>("2"));
  CHECK_FALSE(reopened.Get("gone").has_value());
  CHECK_FALSE(reopened.Get("unflushed").has_value());
  CHECK(ScanAll(reopened) == Pairs{{"kept", "1"}, {"later", "2"}});
}

TEST_CASE("StateStore: PutNew of a key deleted before the checkpoint never reaches the backend") {
  ForEachBackend([](StateStore& store) {
    store.PutNew("fresh", "1");
    CHECK(store.Get("fresh") == std::optional<std::string>("1"));
    store.Delete("fresh");
    CHECK(store.pending_writes() == 0);
    CHECK_FALSE(store.Get("fresh").has_value());
    // A PutNew after a pending delete of a flushed key must not resurrect it when deleted again.
    store.Put("old", "x");
    store.Checkpoint(false);
    store.Delete("old");
    store.PutNew("old", "y");
    CHECK(store.Get("old") == std::optional<std::string>("y"));
    store.Delete("old");
    CHECK_FALSE(store.Get("old").has_value());
    store.Checkpoint(false);
    CHECK_FALSE(store.Get("old").has_value());
    CHECK(ScanAll(store).empty());
    // PutNew, checkpoint, then delete: the delete reaches the backend.
    store.PutNew("n", "1");
    store.Checkpoint(false);
    store.Delete("n");
    store.Checkpoint(false);
    CHECK_FALSE(store.Get("n").has_value());
  });
}

TEST_CASE("KeySpace: a prefix-scoped view") {
  StateStore store(NewMemoryBackend());
  KeySpace a(store, std::string("A\0", 2));
  KeySpace b(store, std::string("B\0", 2));
  a.Put("x1", "1");
  a.Put("x2", "2");
  a.Put("y1", "3");
  b.Put("x1", "other");
  store.Checkpoint(false);
  a.Put("x0", "0");
  CHECK(a.Get("x1") == std::optional<std::string>("1"));
  CHECK(b.Get("x1") == std::optional<std::string>("other"));
  CHECK_FALSE(b.Get("x2").has_value());
  std::vector<std::string> keys;
  a.ScanPrefix("x", [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  });
  CHECK(keys == std::vector<std::string>{"x0", "x1", "x2"});
  keys.clear();
  a.ScanPrefix("", [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  });
  CHECK(keys == std::vector<std::string>{"x0", "x1", "x2", "y1"});
}

TEST_CASE("Key encodings sort like the numbers they encode") {
  const std::vector<int64_t> values = {kMinTime, -86400000, -1, 0, 1, 255, 256, 1772352000000, kMaxTime};
  std::string previous;
  for (size_t i = 0; i < values.size(); ++i) {
    std::string encoded;
    AppendI64(encoded, values[i]);
    CHECK(encoded.size() == 8);
    CHECK(ReadI64(encoded) == values[i]);
    if (i > 0) CHECK(previous < encoded);
    previous = encoded;
  }
  std::string u;
  AppendU32(u, 0x01020304);
  CHECK(ReadU32(u) == 0x01020304u);
  CHECK(PrefixEnd("ab") == "ac");
  CHECK(PrefixEnd(std::string("a\xff", 2)) == "b");
  CHECK(PrefixEnd("ab") > std::string("ab\xff\xff"));
}

}  // namespace vigil
