#include "core_runs.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <iterator>
#include <map>

#include "harness.h"
#include "registry.h"
#include "state/byte_codec.h"

namespace vigil::testing {

namespace fs = std::filesystem;

size_t CheckRecordsRoundTrip(StateStore& store, const v1::RulesConfig& config, int partitions,
                             size_t fed) {
  const auto rules = BuildRules(config);
  size_t checked = 0;
  for (int p = 0; p < partitions; ++p) {
    KeySpace(store, ScopePrefix(static_cast<uint32_t>(p), "officer"))
        .ScanPrefix("", [&](std::string_view officer, std::string_view value) {
          INFO("after " << fed << " events, scope " << p << ", officer " << std::string(officer));
          ByteReader r(value);
          uint64_t format, n;
          std::string_view roster_bytes;
          REQUIRE(r.U64(&format));
          REQUIRE(r.Bytes(&roster_bytes));
          if (!roster_bytes.empty()) {
            OfficerRoster roster;
            REQUIRE(roster.Decode(roster_bytes));
            std::string again;
            roster.Encode(again);
            CHECK_MESSAGE(again == roster_bytes, "the roster does not re-encode the same");
          }
          auto skip_timers = [&] {
            uint64_t timers;
            REQUIRE(r.U64(&timers));
            for (uint64_t i = 0; i < timers; ++i) {
              int64_t at;
              bool cleanup;
              uint64_t tag;
              REQUIRE((r.I64(&at) && r.Bool(&cleanup) && r.U64(&tag)));
            }
          };
          skip_timers();
          REQUIRE(r.U64(&n));
          for (uint64_t i = 0; i < n; ++i) {
            std::string_view rule_id, bytes;
            bool has_state;
            REQUIRE((r.Bytes(&rule_id) && r.Bool(&has_state)));
            if (has_state) {
              REQUIRE(r.Bytes(&bytes));
              const Rule* rule = nullptr;
              for (const auto& candidate : rules) {
                if (candidate->info().rule_id == rule_id) rule = candidate.get();
              }
              REQUIRE(rule);
              INFO("rule " << std::string(rule_id));
              std::unique_ptr<RuleState> state = rule->NewState();
              REQUIRE(state->Decode(bytes));
              CHECK(!state->empty());
              std::string again;
              state->Encode(again);
              CHECK_MESSAGE(again == bytes, "the state does not re-encode the same");
              ++checked;
            }
            skip_timers();
          }
          CHECK(r.done());
          return true;
        });
  }
  return checked;
}


void FeedAll(Runner& runner, const std::vector<v1::Envelope>& events, const RunSpec& spec) {
  if (spec.fetch_batch == 0 || spec.partitions == 1) {
    for (const auto& event : events) runner.Feed(event);
    return;
  }
  std::map<std::pair<int, int>, std::vector<const v1::Envelope*>> queues;
  for (const auto& event : events) {
    const SourcePartition source = runner.SourceOf(event);
    queues[{source.source, source.partition}].push_back(&event);
  }
  std::map<std::pair<int, int>, size_t> next;
  bool any = true;
  while (any) {
    any = false;
    for (auto& [key, queue] : queues) {
      size_t& at = next[key];
      if (at >= queue.size()) continue;
      any = true;
      for (size_t n = 0; n < spec.fetch_batch && at < queue.size(); ++n) runner.Feed(*queue[at++]);
      if (at == queue.size()) runner.SetIdle({key.first, key.second});
    }
  }
}

Outputs RunEvents(const std::vector<v1::Envelope>& events, const v1::RulesConfig& config,
                  const RunSpec& spec) {
  Runner runner(config, spec);
  FeedAll(runner, events, spec);
  return runner.Finish();
}

std::vector<v1::Envelope> ParseLines(const std::vector<std::string>& lines) {
  std::vector<v1::Envelope> events;
  for (const auto& line : lines) {
    Result<v1::Envelope> event = ParseEventJson(line);
    if (event.ok()) events.push_back(std::move(*event));
  }
  return events;
}

std::vector<v1::Envelope> Synthetic(SyntheticForceOptions options) {
  std::vector<v1::Envelope> events;
  SyntheticForce(options).Generate([&](const v1::Envelope& e) { events.push_back(e); });
  return events;
}

v1::RulesConfig ConfigFrom(const fs::path& rules) {
  if (rules.empty()) return DefaultRulesConfig();
  Result<v1::RulesConfig> config = ParseRulesConfig(ReadFile(rules.string()));
  REQUIRE_MESSAGE(config.ok(), rules.string());
  return *config;
}

std::string Missing(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> only;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only));
  std::string text;
  for (size_t i = 0; i < only.size() && i < 10; ++i) text += "\n  " + only[i].substr(0, 1000);
  return std::to_string(only.size()) + text;
}

}  // namespace vigil::testing
