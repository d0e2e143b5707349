// StateStore: the write-back cache over a KvBackend, on the in-memory backend and on RocksDB.
#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "state/kv_backend.h"
#include "pipeline.h"
#include "state.pb.h"
#include "state/state_store.h"
#include "status.h"

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

// A decoded type that is not a protobuf message: StateCodec uses its own Encode/Decode.
struct Counter {
  int64_t n = 0;
  void Encode(std::string& out) const {
    out.clear();
    AppendI64(out, n);
  }
  static bool Decode(std::string_view bytes, Counter* out) {
    if (bytes.size() != 8) return false;
    out->n = ReadI64(bytes);
    return true;
  }
};

std::string CounterBytes(int64_t n) {
  std::string out;
  Counter{n}.Encode(out);
  return out;
}

std::optional<int64_t> CounterOf(StateStore& store, std::string_view key) {
  const Counter* found = store.Find<Counter>(key);
  return found ? std::optional<int64_t>(found->n) : std::nullopt;
}

state::PartitionProgress Progress(int64_t next_offset) {
  state::PartitionProgress progress;
  progress.set_next_offset(next_offset);
  return progress;
}

std::unique_ptr<KvBackend> OpenRocks(const TempDir& dir) {
  return OpenRocksBackend(dir.path(), RocksOptions{8u << 20});
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

TEST_CASE("StateStore: the typed API round-trips and its reads see unflushed writes") {
  ForEachBackend([](StateStore& store) {
    CHECK(store.Find<state::PartitionProgress>("p") == nullptr);
    store.Mutable<state::PartitionProgress>("p").set_next_offset(5);
    REQUIRE(store.Find<state::PartitionProgress>("p") != nullptr);
    CHECK(store.Find<state::PartitionProgress>("p")->next_offset() == 5);
    // A raw read of a typed write gets the encoded value.
    CHECK(store.Get("p") == std::optional<std::string>(Progress(5).SerializeAsString()));
    store.Checkpoint(false);
    CHECK(store.Find<state::PartitionProgress>("p")->next_offset() == 5);
    // Mutable changes the current value; Overwrite starts from a default one.
    store.Mutable<state::PartitionProgress>("p").set_has_events(true);
    CHECK(store.Find<state::PartitionProgress>("p")->next_offset() == 5);
    CHECK(store.Find<state::PartitionProgress>("p")->has_events());
    store.Overwrite<state::PartitionProgress>("p").set_max_event_time_ms(9);
    CHECK(store.Find<state::PartitionProgress>("p")->next_offset() == 0);
    CHECK_FALSE(store.Find<state::PartitionProgress>("p")->has_events());
    CHECK(store.Find<state::PartitionProgress>("p")->max_event_time_ms() == 9);
    // Take returns the value and deletes the key, for typed and raw reads alike.
    std::optional<state::PartitionProgress> taken = store.Take<state::PartitionProgress>("p");
    REQUIRE(taken.has_value());
    CHECK(taken->max_event_time_ms() == 9);
    CHECK(store.Find<state::PartitionProgress>("p") == nullptr);
    CHECK_FALSE(store.Get("p").has_value());
    CHECK_FALSE(store.Take<state::PartitionProgress>("p").has_value());
    store.Checkpoint(false);
    CHECK(store.Find<state::PartitionProgress>("p") == nullptr);
    CHECK_FALSE(store.Get("p").has_value());

    // A type with its own codec; a typed read of an unflushed raw write decodes it.
    store.Put("c", CounterBytes(7));
    CHECK(CounterOf(store, "c") == 7);
    store.Mutable<Counter>("c").n += 1;
    CHECK(store.Get("c") == std::optional<std::string>(CounterBytes(8)));
    // The slot read after the raw write is the truth at the checkpoint.
    store.Checkpoint(false);
    CHECK(store.Get("c") == std::optional<std::string>(CounterBytes(8)));
    CHECK(CounterOf(store, "c") == 8);
    // A raw write replaces a decoded value.
    store.Put("c", CounterBytes(20));
    CHECK(CounterOf(store, "c") == 20);
    store.Delete("c");
    CHECK(CounterOf(store, "c") == std::nullopt);
    store.Mutable<Counter>("c").n = 3;  // absent: starts from a default value
    CHECK(CounterOf(store, "c") == 3);
    store.Checkpoint(false);
    CHECK(store.Get("c") == std::optional<std::string>(CounterBytes(3)));
  });
}

TEST_CASE("StateStore: a key read as two types, or that cannot be decoded, is a fatal error") {
  StateStore store(NewMemoryBackend());
  store.Mutable<Counter>("c").n = 1;
  CHECK_THROWS_AS(store.Find<state::PartitionProgress>("c"), FatalError);
  store.Put("bad", "not eight bytes");
  CHECK_THROWS_AS(store.Find<Counter>("bad"), FatalError);
}

TEST_CASE("StateStore: Scan sees values changed through the typed API before the checkpoint") {
  ForEachBackend([](StateStore& store) {
    store.Put("a", CounterBytes(1));
    store.Put("c", CounterBytes(3));
    store.Put("e", CounterBytes(5));
    store.Checkpoint(false);
    store.Mutable<Counter>("a").n += 10;       // changed in place
    store.Overwrite<Counter>("b", true).n = 2;  // new
    store.Take<Counter>("c");                  // deleted
    store.Mutable<Counter>("z").n = 26;        // outside the scanned range
    CHECK(ScanAll(store, "a", "f") == Pairs{{"a", CounterBytes(11)}, {"b", CounterBytes(2)},
                                           {"e", CounterBytes(5)}});
    // Changed again after a scan: the next scan and the checkpoint see the new value.
    store.Mutable<Counter>("b").n = 22;
    store.Mutable<Counter>("e").n = 55;
    const Pairs expected = {{"a", CounterBytes(11)}, {"b", CounterBytes(22)},
                            {"e", CounterBytes(55)}, {"z", CounterBytes(26)}};
    CHECK(ScanAll(store) == expected);
    store.Checkpoint(false);
    CHECK(store.pending_writes() == 0);
    CHECK(ScanAll(store) == expected);
    CHECK(CounterOf(store, "b") == 22);
    CHECK(CounterOf(store, "c") == std::nullopt);
  });
}

TEST_CASE("StateStore on RocksDB: typed writes are durable only after Checkpoint") {
  TempDir dir("vigil-state-test-");
  {
    StateStore store(OpenRocks(dir));
    store.Mutable<Counter>("counter").n = 4;
    store.Overwrite<state::PartitionProgress>("progress") = Progress(12);
  }  // no checkpoint
  {
    StateStore reopened(OpenRocks(dir));
    CHECK(reopened.Find<Counter>("counter") == nullptr);
    CHECK(reopened.Find<state::PartitionProgress>("progress") == nullptr);
    CHECK(ScanAll(reopened).empty());
    reopened.Mutable<Counter>("counter").n = 4;
    reopened.Overwrite<state::PartitionProgress>("progress") = Progress(12);
    reopened.Overwrite<Counter>("gone").n = 1;
    reopened.Checkpoint(true);
    reopened.Take<Counter>("gone");
    reopened.Mutable<Counter>("counter").n += 1;
    reopened.Checkpoint(true);
    reopened.Mutable<Counter>("counter").n = 100;  // not checkpointed
  }
  StateStore again(OpenRocks(dir));
  CHECK(CounterOf(again, "counter") == 5);
  REQUIRE(again.Find<state::PartitionProgress>("progress") != nullptr);
  CHECK(again.Find<state::PartitionProgress>("progress")->next_offset() == 12);
  CHECK(CounterOf(again, "gone") == std::nullopt);
  CHECK(ScanAll(again) == Pairs{{"counter", CounterBytes(5)},
                                {"progress", Progress(12).SerializeAsString()}});
}

TEST_CASE("StateStore: a new key overwritten then deleted before the checkpoint writes nothing") {
  ForEachBackend([](StateStore& store) {
    store.Put("old", "x");
    store.Checkpoint(false);
    const uint64_t written = store.keys_written();
    store.Overwrite<Counter>("fresh", /*is_new=*/true).n = 1;
    store.Mutable<Counter>("fresh").n += 1;
    CHECK(CounterOf(store, "fresh") == 2);
    store.Delete("fresh");
    store.Overwrite<Counter>("taken", /*is_new=*/true).n = 1;
    CHECK(store.Take<Counter>("taken")->n == 1);
    CHECK(store.pending_writes() == 0);
    store.Checkpoint(false);
    CHECK(store.keys_written() == written);
    CHECK(CounterOf(store, "fresh") == std::nullopt);
    CHECK(CounterOf(store, "taken") == std::nullopt);
    // A key that is not new: its delete must reach the backend even if overwritten first.
    store.Overwrite<Counter>("old").n = 2;
    store.Delete("old");
    store.Checkpoint(false);
    CHECK(store.keys_written() == written + 1);
    CHECK_FALSE(store.Get("old").has_value());
    // New after a pending delete of a stored key: the delete still reaches the backend.
    store.Put("stored", "x");
    store.Checkpoint(false);
    store.Delete("stored");
    store.Overwrite<Counter>("stored", /*is_new=*/true).n = 3;
    store.Delete("stored");
    store.Checkpoint(false);
    CHECK_FALSE(store.Get("stored").has_value());
    CHECK(ScanAll(store).empty());
  });
}

TEST_CASE("StateStore: with few decoded objects kept, answers stay the same across checkpoints") {
  TempDir dir("vigil-state-test-");
  std::map<std::string, int64_t> expected;
  auto check_all = [&](StateStore& store) {
    for (int k = 0; k < 8; ++k) {
      const std::string key = "k" + std::to_string(k);
      auto it = expected.find(key);
      std::optional<int64_t> want;
      if (it != expected.end()) want = it->second;
      CHECK_MESSAGE(CounterOf(store, key) == want, key);
    }
  };
  {
    StateStore store(OpenRocks(dir), /*max_objects=*/2);
    for (int round = 0; round < 6; ++round) {
      // Each round touches a different set of keys: most objects are evicted between rounds.
      for (int k = round % 3; k < 8; k += 2) {
        const std::string key = "k" + std::to_string(k);
        if ((k + round) % 5 == 0) {
          store.Take<Counter>(key);
          expected.erase(key);
        } else {
          store.Mutable<Counter>(key).n += k + 1;
          expected[key] += k + 1;
        }
      }
      check_all(store);
      store.Checkpoint(false);
      CHECK(store.objects() <= 2);
      check_all(store);  // reads everything again: many objects until the next checkpoint
      store.Checkpoint(false);
      CHECK(store.objects() <= 2);
    }
    Pairs scanned = ScanAll(store);
    CHECK(scanned.size() == expected.size());
  }
  StateStore reopened(OpenRocks(dir), 2);
  check_all(reopened);
}

TEST_CASE("StateStore: the before-checkpoint hook's writes join the batch and win over earlier writes") {
  TempDir dir("vigil-state-test-");
  {
    StateStore store(OpenRocks(dir));
    store.Put("raw", "from the store");
    store.Put("doomed", "from the store");
    store.Mutable<Counter>("typed").n = 1;
    store.Put("own", "kept");
    int calls = 0;
    store.SetBeforeCheckpoint([&](KvBatch& writes) {
      ++calls;
      writes.Put("r", "aw", "from the hook");  // prefix + key: "raw"
      writes.Put("", "typed", CounterBytes(2));
      writes.Delete("doo", "med");
      writes.Put("h", "ook-only", "h");
    });
    const uint64_t written = store.keys_written();
    store.Checkpoint(true);
    CHECK(calls == 1);
    // raw, typed and doomed written by both: the hook's write wins; own and hook-only.
    CHECK(store.keys_written() == written + 5);
    CHECK(store.Get("raw") == std::optional<std::string>("from the hook"));
    CHECK_FALSE(store.Get("doomed").has_value());
    CHECK(store.Get("hook-only") == std::optional<std::string>("h"));
    // Each checkpoint asks the hook again, with an empty batch of its own.
    store.SetBeforeCheckpoint([&](KvBatch& writes) {
      ++calls;
      CHECK(writes.size() == 0);
      writes.Put("", "second", "2");
    });
    store.Checkpoint(true);
    CHECK(calls == 2);
    store.SetBeforeCheckpoint(nullptr);
  }
  StateStore reopened(OpenRocks(dir));
  CHECK(reopened.Get("raw") == std::optional<std::string>("from the hook"));
  CHECK(CounterOf(reopened, "typed") == 2);
  CHECK_FALSE(reopened.Get("doomed").has_value());
  CHECK(reopened.Get("own") == std::optional<std::string>("kept"));
  CHECK(reopened.Get("hook-only") == std::optional<std::string>("h"));
  CHECK(reopened.Get("second") == std::optional<std::string>("2"));
}

}  // namespace vigil

namespace vigil::testing {

TEST_CASE("CheckedStateFormat: a new state directory is marked; state of another format is refused") {
  TempDir dir("vigil-format-test-");
  // New: marked with this version's format, and accepted again on reopening.
  CheckedStateFormat(OpenRocksBackend(dir.path(), RocksOptions{}), dir.path());
  CHECK_NOTHROW(CheckedStateFormat(OpenRocksBackend(dir.path(), RocksOptions{}), dir.path()));

  // State written with no marker (before markers existed): refused, naming the directory.
  TempDir old("vigil-format-test-");
  OpenRocksBackend(old.path(), RocksOptions{})->Write({{"some-state", "x"}}, true);
  CHECK_THROWS_WITH_AS(CheckedStateFormat(OpenRocksBackend(old.path(), RocksOptions{}), old.path()),
                       doctest::Contains("was written by another version of Vigil (state format "
                                         "before 3"),
                       FatalError);
  // Another format's marker: refused too.
  TempDir other("vigil-format-test-");
  OpenRocksBackend(other.path(), RocksOptions{})
      ->Write({{std::string(4, '\xff') + "state-format", "9"}}, true);
  CHECK_THROWS_WITH_AS(
      CheckedStateFormat(OpenRocksBackend(other.path(), RocksOptions{}), other.path()),
      doctest::Contains("(state format 9, this version reads 5)"), FatalError);
  // Format 4, of the core before its state was packed (impossible_travel's points would be
  // misread): refused too.
  TempDir unpacked("vigil-format-test-");
  OpenRocksBackend(unpacked.path(), RocksOptions{})
      ->Write({{std::string(4, '\xff') + "state-format", "4"}}, true);
  CHECK_THROWS_WITH_AS(
      CheckedStateFormat(OpenRocksBackend(unpacked.path(), RocksOptions{}), unpacked.path()),
      doctest::Contains("(state format 4, this version reads 5)"), FatalError);
  // Format 3, the old core's: refused, naming the directory and what to do.
  TempDir old_core("vigil-format-test-");
  OpenRocksBackend(old_core.path(), RocksOptions{})
      ->Write({{std::string(4, '\xff') + "state-format", "3"}}, true);
  const std::string refused = "the state in " + old_core.path() + " was written by another " +
                              "version of Vigil (state format 3, of Vigil with its old core, this " +
                              "version reads 5); resume it with that version, or start this one " +
                              "on an empty --state-dir";
  CHECK_THROWS_WITH_AS(
      CheckedStateFormat(OpenRocksBackend(old_core.path(), RocksOptions{}), old_core.path()),
      doctest::Contains(refused.c_str()), FatalError);
}

}  // namespace vigil::testing
