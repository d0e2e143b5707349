// State stays bounded: after a long stream, nothing is left of an officer who went idle, in any
// rule's state, the roster or the timers, except the one record the contract needs for good
// (access_volume_spike: the day of the officer's first access).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "harness.h"

namespace vigil::testing {
namespace {

const Millis kDay0 = ParseTime("2026-01-05T00:00:00Z").value();
std::string At(int day, double hours) {
  return FormatTime(kDay0 + day * kDay + static_cast<Millis>(hours * kHour));
}

// Keys of the whole store that mention `officer`, printable; `bytes` adds up their values' sizes.
std::vector<std::string> KeysOf(StateStore& store, const std::string& officer, size_t* bytes = nullptr) {
  std::vector<std::string> keys;
  store.Scan(std::string(), std::string(8, '\xff'), [&](std::string_view key, std::string_view value) {
    if (key.find(officer) == std::string_view::npos) return true;
    if (bytes) *bytes += value.size();
    std::string printable;
    for (char c : key) printable += (c >= 32 && c < 127) ? c : '.';
    keys.push_back(printable);
    return true;
  });
  return keys;
}

}  // namespace

TEST_CASE("state: an idle officer's state is gone after a long stream") {
  Harness h;
  const std::string idle = "MPIDLE";
  // Ten active days touching every rule.
  for (int d = 0; d < 10; ++d) {
    const std::string n = std::to_string(d);
    h.Feed(Roster("ri" + n, idle, "I" + n, d % 3 ? "ON_DUTY" : "SICK", At(d, 8), At(d, 16), At(d - 1, 20)));
    h.Feed(Access("ai" + n + "a", idle, At(d, 9), "SEARCH", "P1", "", 51.5, -0.12));
    h.Feed(Access("ai" + n + "b", idle, At(d, 9.5), "RECORD_VIEW", "P1", "", 53.8, -1.55));
    h.Feed(Complaint("ci" + n, idle, "P1", d % 2 ? "SEXUAL_MISCONDUCT" : "INCIVILITY", At(d, 10)));
  }
  h.Feed(Roster("rio", idle, "IOT", "OVERTIME", At(3, 18), At(3, 22), At(2, 12)));
  // Then more than a year of another officer's activity.
  for (int d = 10; d < 480; ++d) {
    const std::string n = std::to_string(d);
    h.Feed(Roster("rb" + n, "MPBUSY", "B" + n, "ON_DUTY", At(d, 8), At(d, 16), At(d - 1, 20)));
    h.Feed(Access("ab" + n, "MPBUSY", At(d, 9), "SEARCH", "P2", "CASE-1", 51.5, -0.12));
  }
  CHECK(h.alerts().size() > 5);  // the idle officer did trigger rules
  h.Checkpoint();  // the new core writes officers' records at checkpoints only
  size_t bytes = 0;
  std::vector<std::string> left = KeysOf(h.store(), idle, &bytes);
  REQUIRE(left.size() == 1);
  // One record per officer: its roster, rule states and timers.
  CHECK(left[0].find("officer") != std::string::npos);
  CHECK(bytes < 64);  // the first access's day, and nothing else
  // The busy officer's state is bounded too: nothing of its first months is left.
  size_t busy_bytes = 0;
  for (const auto& key : KeysOf(h.store(), "MPBUSY", &busy_bytes)) CHECK(key.find("rb10") == std::string::npos);
  // 470 days of roster versions and accesses: a record that kept them would hold tens of KiB.
  CHECK(busy_bytes < 8192);
}

}  // namespace vigil::testing
