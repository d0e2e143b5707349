#include "live/health.h"

namespace vigil {

const char* HealthName(HealthState state) {
  switch (state) {
    case HealthState::kStarting: return "starting";
    case HealthState::kRunning: return "running";
    case HealthState::kKafkaUnreachable: return "kafka_unreachable";
    case HealthState::kStopping: return "stopping";
    case HealthState::kStopped: return "stopped";
    case HealthState::kFailed: return "failed";
  }
  return "unknown";
}

bool Health::Set(HealthState state, std::string detail) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (snapshot_.state == state && snapshot_.detail == detail) return false;
  bool changed = snapshot_.state != state;
  snapshot_.detail = std::move(detail);
  if (changed) {
    snapshot_.state = state;
    snapshot_.since = clock_.NowMillis();
  }
  return changed;
}

Health::Snapshot Health::Get() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return snapshot_;
}

std::string Health::Describe() const {
  Snapshot s = Get();
  std::string text = std::string(HealthName(s.state)) + " since " + FormatTime(s.since);
  if (!s.detail.empty()) text += ": " + s.detail;
  return text;
}

}  // namespace vigil
