#include "alert_builder.h"

#include <algorithm>
#include <cstdio>

namespace vigil {
namespace {

uint64_t Mix(uint64_t x) {  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

uint64_t Fnv1a(const std::string& text, uint64_t basis) {
  uint64_t h = basis;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return Mix(h ^ text.size());
}

}  // namespace

std::string StableHash128(const std::string& text) {
  char out[33];
  std::snprintf(out, sizeof out, "%016llx%016llx",
                static_cast<unsigned long long>(Fnv1a(text, 0xcbf29ce484222325ULL)),
                static_cast<unsigned long long>(Fnv1a(text, 0x84222325cbf29ce4ULL)));
  return out;
}

void SetCounted(AlertSpec& spec, const std::vector<state::EventRef>& counted) {
  spec.window_start = counted.front().time_ms();
  spec.window_end = counted.back().time_ms();
  spec.evidence = counted;
  spec.score = static_cast<double>(counted.size());
}

v1::Alert BuildAlert(const AlertSpec& spec) {
  std::vector<std::string> ids;
  ids.reserve(spec.evidence.size());
  for (const auto& e : spec.evidence) ids.push_back(e.event_id());
  std::sort(ids.begin(), ids.end());
  std::string identity = spec.rule_id + '\n' + spec.officer_id + '\n' + spec.subject_id;
  for (const auto& id : ids) identity += '\n' + id;

  v1::Alert alert;
  alert.set_alert_id(StableHash128(identity));
  alert.set_rule_id(spec.rule_id);
  alert.set_officer_id(spec.officer_id);
  alert.set_subject_id(spec.subject_id);
  alert.set_severity(spec.severity);
  alert.set_kind(spec.kind);
  *alert.mutable_window_start() = ToTimestamp(spec.window_start);
  *alert.mutable_window_end() = ToTimestamp(spec.window_end);
  alert.set_summary(spec.summary);
  alert.set_score(spec.score);
  int n = std::min<int>(kMaxEvidence, static_cast<int>(spec.evidence.size()));
  for (int i = 0; i < n; ++i) {
    const auto& ref = spec.evidence[i];
    auto* e = alert.add_evidence();
    e->set_event_id(ref.event_id());
    e->set_topic(ref.topic());
    if (ref.partition() >= 0) e->set_partition(ref.partition());
    if (ref.offset() >= 0) e->set_offset(ref.offset());
  }
  return alert;
}

}  // namespace vigil
