// Health: what `vigil run` says about itself, readable from any thread (the progress log, a test,
// an operator's probe). The engine sets it; nothing else does.
#pragma once

#include <mutex>
#include <string>

#include "time/event_time.h"

namespace vigil {

enum class HealthState {
  kStarting,          // opening state, publishing a crash's outbox, joining the group
  kRunning,           // consuming and publishing
  kKafkaUnreachable,  // brokers gone: waiting, nothing consumed or acknowledged, nothing lost
  kStopping,          // last checkpoint, leaving the group
  kStopped,
  kFailed,            // stopped on an error it cannot recover from (e.g. storage)
};

// Every state, in the order above (the metrics page shows each as a gauge).
inline constexpr HealthState kHealthStates[] = {
    HealthState::kStarting, HealthState::kRunning, HealthState::kKafkaUnreachable,
    HealthState::kStopping, HealthState::kStopped,  HealthState::kFailed};

const char* HealthName(HealthState state);

class Health {
 public:
  struct Snapshot {
    HealthState state = HealthState::kStarting;
    std::string detail;  // why, for anything but running
    Millis since = 0;    // wall time of the last change
  };

  explicit Health(const Clock& clock = SystemClock()) : clock_(clock) {}
  // Returns true if the state changed.
  bool Set(HealthState state, std::string detail = "");
  Snapshot Get() const;
  HealthState state() const { return Get().state; }
  // "kafka_unreachable since 2026-11-23T16:00:00Z: 1/1 brokers are down"
  std::string Describe() const;

 private:
  const Clock& clock_;
  mutable std::mutex mutex_;
  Snapshot snapshot_;
};

}  // namespace vigil
