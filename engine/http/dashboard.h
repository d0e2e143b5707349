// Dashboard: the server side of `vigil dashboard` (engine/http/DASHBOARD.md is its design and API).
// It reads every partition of vigil.alerts, vigil.reviews and vigil.audit by assignment from the
// beginning and follows them (nothing is committed; the index is rebuilt at every start), and
// serves the page, the API and the alert stream through HttpServer, with roles and the audit.
//
// Lifecycle: Start() returns once what the alert and review topics held at start is indexed (or
// after 60 s of trying, saying so), serving from then on; the destructor closes every stream and
// joins the threads. ReloadTokens() may be called from any thread (SIGHUP).
#pragma once

#include <memory>
#include <string>

#include "event.h"
#include "http_server.h"
#include "status.h"

namespace vigil {

struct DashboardOptions {
  std::string brokers;
  std::string listen = "127.0.0.1:8080";  // ADDRESS:PORT; port 0: any free port
  std::string tokens_path;
  std::string group = "vigil-dashboard";  // group.id, for Kafka tools; never joins a group
  Topics topics;
  http::Limits limits;
  int heartbeat_ms = 15000;               // SSE comment on an idle stream
};

class Dashboard {
 public:
  // Errors: the tokens file is unreadable or bad, a topic is missing or the brokers unreachable,
  // the address cannot be listened on.
  static Result<std::unique_ptr<Dashboard>> Start(const DashboardOptions& options);
  ~Dashboard();
  std::string url() const;  // http://ADDRESS:PORT
  // Re-reads the tokens file; on error keeps the old tokens and says why. Open streams whose
  // token is gone are closed.
  Status ReloadTokens();

  class Impl;

 private:
  explicit Dashboard(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
