// HealthServer: `vigil run --health-listen ADDRESS:PORT` answers GET /health over HTTP with the
// engine's Health as JSON: 200 while starting or running, 503 when Kafka is unreachable, while
// stopping and once stopped or failed, so that a load balancer or an orchestrator's probe can act
// on it. It serves nothing else (no alert, no personal data), on one thread of its own.
#pragma once

#include <memory>
#include <string>

#include "live/health.h"
#include "status.h"

namespace vigil {

class HealthServer {
 public:
  // Listens on `listen` = "ADDRESS:PORT" (an IP address; port 0: any free port) and serves until
  // destroyed.
  static Result<std::unique_ptr<HealthServer>> Start(const std::string& listen, const Health& health);
  ~HealthServer();
  int port() const;
  std::string url() const;  // http://ADDRESS:PORT/health

  class Impl;

 private:
  explicit HealthServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The body of GET /health, and its HTTP status.
std::string HealthJson(const Health::Snapshot& snapshot);
int HealthHttpStatus(HealthState state);

}  // namespace vigil
