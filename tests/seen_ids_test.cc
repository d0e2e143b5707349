// SeenIds (engine/runtime/seen_ids.h) beyond the core's own tests: ids of every length (a length of
// 128 bytes or more takes a multi-byte prefix), buckets that outgrow their buffer many times, the
// two-step look-up (Hash, Prefetch, SeenOrAdd), a restart from the saved records, saved ids checked
// against the store (their bytes leave memory), and more hours than there are bucket numbers.
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
  // Saved: the ids' bytes are in the store only, and a duplicate is still recognised (read back).
  CHECK(seen.MemoryBytes() < kIds * 30);
  for (int i = 1; i < kIds; i += 7) CHECK(seen.SeenOrAdd(1, IdOf(i), kStart));
  CHECK_FALSE(seen.SeenOrAdd(1, IdOf(kIds), kStart));  // new: the fresh bytes again
  CHECK(seen.SeenOrAdd(1, IdOf(kIds), kStart));
  seen.Save(space);

  SeenIds loaded;
  loaded.Load(space);
  CHECK(loaded.size() == kIds + 2);
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

// 5,000 hours of ids (more than the 4,095 bucket numbers): every id is remembered until its hour
// expires, in a bucket of its own or (past the numbers) in the stream's bucket that never expires;
// expired hours give their numbers back, and the table does not grow with them.
TEST_CASE("SeenIds: more hours than bucket numbers, and expiry that frees them") {
  StateStore store(NewMemoryBackend());
  KeySpace space(store, "seen");
  SeenIds seen;
  constexpr int kHours = 5000;
  for (int h = 0; h < kHours; ++h) {
    CHECK_FALSE(seen.SeenOrAdd(1, "h" + std::to_string(h), kStart + h * kHour));
    CHECK_FALSE(seen.SeenOrAdd(1, "h" + std::to_string(h) + "b", kStart + h * kHour));
  }
  seen.Save(space);
  for (int h = 0; h < kHours; h += 13) CHECK(seen.SeenOrAdd(1, "h" + std::to_string(h), kStart));
  CHECK(seen.size() == 2 * kHours);
  // The first 4,000 hours expire: those of them in buckets of their own are forgotten.
  seen.Expire({kMinTime, kStart + 4000 * kHour, kMinTime}, space);
  CHECK(seen.size() < 2 * kHours);
  CHECK_FALSE(seen.SeenOrAdd(1, "h10", kStart + 10 * kHour));  // forgotten with its hour
  for (int h = 4000; h < kHours; h += 7) CHECK(seen.SeenOrAdd(1, "h" + std::to_string(h) + "b", kStart));
  // New hours get numbers again; a restart reads every bucket, the overflow ones included.
  for (int h = kHours; h < kHours + 100; ++h) CHECK_FALSE(seen.SeenOrAdd(1, "n" + std::to_string(h), kStart + h * kHour));
  seen.Save(space);
  SeenIds loaded;
  loaded.Load(space);
  CHECK(loaded.size() == seen.size());
  for (int h = 4000; h < kHours; h += 11) CHECK(loaded.SeenOrAdd(1, "h" + std::to_string(h), kStart));
  for (int h = kHours; h < kHours + 100; h += 9) CHECK(loaded.SeenOrAdd(1, "n" + std::to_string(h), kStart));
}

}  // namespace
}  // namespace vigil
