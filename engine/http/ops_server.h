// The operations endpoints of `vigil run --http ADDRESS:PORT`, served by HttpServer
// (engine/http/http_server.h) and so under its limits: bounded connections (an idle or half-sent
// crowd is evicted oldest first to let a probe in), header and body sizes, timeouts.
//   GET /healthz  liveness: 200 unless the engine has stopped or failed (a Kafka outage is waited
//                 out, so a restart would not help), with the Health as JSON;
//   GET /readyz   readiness: 200 once the engine runs with input partitions assigned and their
//                 state loaded, 503 otherwise, with the reason as JSON;
//   GET /metrics  the engine's counters in the Prometheus text format (engine/http/metrics.h).
// With `legacy_health` (the deprecated `--health-listen`) also GET /health as before: 200 while
// starting or running, 503 otherwise. Nothing served names an officer, an event or any person.
//
// Handlers read the Health and the LiveProbe's last snapshot only: a scrape never waits on the
// engine's thread, nor the engine on a scrape. `health` and `probe` must outlive the server.
#pragma once

#include <memory>
#include <string>

#include "event.h"
#include "http/http_server.h"
#include "live/health.h"
#include "live/live_probe.h"
#include "status.h"
#include "time/event_time.h"

namespace vigil::http {

struct OpsEndpoints {
  const Health* health = nullptr;
  const LiveProbe* probe = nullptr;
  Topics topics;                // names of the input topics, for the per-topic counters
  Millis process_started = 0;   // wall time the process started (process_start_time_seconds)
  bool legacy_health = false;   // also serve GET /health (--health-listen)
};

Result<std::unique_ptr<HttpServer>> StartOpsServer(const std::string& listen, OpsEndpoints endpoints);

// The body of /healthz and /health: {"state", "since", "detail"}.
std::string HealthJson(const Health::Snapshot& snapshot);
int LivenessHttpStatus(HealthState state);  // /healthz
int HealthHttpStatus(HealthState state);    // the old /health

struct Readiness {
  bool ready = false;
  std::string reason;  // why not, for an operator; empty when ready
};
Readiness ReadinessOf(const Health::Snapshot& health, const LiveMetrics& metrics);

// The /metrics page, or why it could not be written (a bug: a bad metric name).
Result<std::string> MetricsPage(const OpsEndpoints& endpoints, const Health::Snapshot& health,
                                const LiveMetrics& metrics, Millis now);

}  // namespace vigil::http
