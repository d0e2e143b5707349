// SeenIds (engine/runtime/seen_ids.h) beyond the core's own tests: ids of every length (a length of
// 128 bytes or more takes a multi-byte prefix), buckets that outgrow their buffer many times, the
// two-step look-up (Hash, Prefetch, SeenOrAdd) and a restart from the saved records.
#include <doctest/doctest.h>

#include <string>

#include "time/event_time.h"
#include "state/kv_backend.h"
#include "runtime/seen_ids.h"
#include "state/state_store.h"

namespace vigil {
namespace {

constexpr Millis kStart = 1700000000000;

// Distinct ids of lengths 1 to 300, each made of its number.
std::string IdOf(int i) {
  const std::string digits = std::to_string(i) + ":";
  std::string id;
  while (id.size() < static_cast<size_t>(1 + i % 300)) id += digits;
  id.resize(1 + i % 300);
  return id + std::to_string(i);
}

TEST_CASE("SeenIds: ids of any length are told apart, and survive a restart") {
  StateStore store(NewMemoryBackend());
  KeySpace space(store, "seen");
  SeenIds seen;
  constexpr int kIds = 3000;  // about 450 KB in one bucket: its buffer grows many times
  for (int i = 0; i < kIds; ++i) CHECK_FALSE(seen.SeenOrAdd(1, IdOf(i), kStart));
  for (int i = 0; i < kIds; i += 5) CHECK(seen.SeenOrAdd(1, IdOf(i), kStart + kMinute));
  CHECK_FALSE(seen.SeenOrAdd(2, IdOf(7), kStart));  // another stream: another id
  CHECK(seen.size() == kIds + 1);
  CHECK(seen.MemoryBytes() > kIds * 150);
  seen.Save(space);

  SeenIds loaded;
  loaded.Load(space);
  CHECK(loaded.size() == kIds + 1);
  for (int i = 0; i < kIds; i += 3) CHECK(loaded.SeenOrAdd(1, IdOf(i), kStart));
  CHECK(loaded.SeenOrAdd(2, IdOf(7), kStart));
  CHECK_FALSE(loaded.SeenOrAdd(2, IdOf(8), kStart));
}

TEST_CASE("SeenIds: the two-step look-up is the one-step one") {
  SeenIds seen;
  const std::string id(200, 'x');
  const uint64_t h = seen.Hash(0, id);
  CHECK(h == SeenIds::DefaultHash(0, id));
  seen.Prefetch(h);
  CHECK_FALSE(seen.SeenOrAdd(0, id, kStart, h));
  CHECK(seen.SeenOrAdd(0, id, kStart));
  CHECK_FALSE(seen.SeenOrAdd(0, id.substr(1), kStart));
}

}  // namespace
}  // namespace vigil
