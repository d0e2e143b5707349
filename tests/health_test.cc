// The health state `vigil run` reports, and GET /healthz, /readyz and the old /health that serve it
// (engine/http/ops_server.h).
#include <doctest/doctest.h>

#include "http/ops_server.h"
#include "live_fixtures.h"

namespace vigil::testing {
namespace {

class FixedClock final : public Clock {
 public:
  Millis NowMillis() const override { return now; }
  Millis now = 0;
};

}  // namespace

TEST_CASE("health: a state change records when it happened; a new detail alone does not") {
  FixedClock clock;
  clock.now = ParseTime("2026-11-23T10:00:00Z").value();
  Health health(clock);
  CHECK(health.Set(HealthState::kRunning));
  clock.now += kMinute;
  CHECK(health.Set(HealthState::kKafkaUnreachable, "1/1 brokers are down"));
  clock.now += kMinute;
  CHECK_FALSE(health.Set(HealthState::kKafkaUnreachable, "still down"));
  CHECK(health.Describe() == "kafka_unreachable since 2026-11-23T10:01:00Z: still down");
}

namespace {

// An ops server on a free loopback port for `health` and `probe`.
std::unique_ptr<http::HttpServer> StartOps(const Health& health, const LiveProbe& probe, bool legacy) {
  http::OpsEndpoints endpoints;
  endpoints.health = &health;
  endpoints.probe = &probe;
  endpoints.legacy_health = legacy;
  Result<std::unique_ptr<http::HttpServer>> server = http::StartOpsServer("127.0.0.1:0", endpoints);
  REQUIRE(server.ok());
  return std::move(server.value());
}

}  // namespace

TEST_CASE("health: the old GET /health answers 200 while running, 503 when Kafka is away, 404 elsewhere") {
  Health health;
  LiveProbe probe;
  auto server = StartOps(health, probe, /*legacy=*/true);
  const std::string url = server->url() + "/health";
  CHECK(url.rfind("http://127.0.0.1:", 0) == 0);

  health.Set(HealthState::kRunning);
  HttpReply reply = HttpGet(url);
  CHECK(reply.status == 200);
  CHECK(reply.body.find("\"state\":\"running\"") != std::string::npos);

  health.Set(HealthState::kKafkaUnreachable, "1/1 brokers are down: \"quoted\"");
  reply = HttpGet(url);
  CHECK(reply.status == 503);
  CHECK(reply.body.find("\"state\":\"kafka_unreachable\"") != std::string::npos);
  CHECK(reply.body.find("\"detail\":\"1/1 brokers are down: \\\"quoted\\\"\"") != std::string::npos);

  health.Set(HealthState::kFailed, "state store write failed");
  CHECK(HttpGet(url).status == 503);
  CHECK(HttpGet(server->url() + "/alerts").status == 404);
}

TEST_CASE("health: /healthz is liveness (503 only once stopped or failed); /health is --health-listen's only") {
  Health health;
  LiveProbe probe;
  auto server = StartOps(health, probe, /*legacy=*/false);
  CHECK(HttpGet(server->url() + "/health").status == 404);
  for (HealthState state : kHealthStates) {
    INFO(HealthName(state));
    health.Set(state, "why");
    HttpReply reply = HttpGet(server->url() + "/healthz");
    const bool dead = state == HealthState::kStopped || state == HealthState::kFailed;
    CHECK(reply.status == (dead ? 503 : 200));
    CHECK(reply.body.find(std::string("\"state\":\"") + HealthName(state) + "\"") != std::string::npos);
  }
}

TEST_CASE("health: /readyz is 200 only while running with partitions assigned, else 503 with the reason") {
  Health health;
  LiveProbe probe;
  auto server = StartOps(health, probe, /*legacy=*/false);
  const std::string url = server->url() + "/readyz";
  HttpReply reply = HttpGet(url);
  CHECK(reply.status == 503);
  CHECK(reply.body.find("\"reason\":\"engine is starting\"") != std::string::npos);

  health.Set(HealthState::kRunning);
  reply = HttpGet(url);
  CHECK(reply.status == 503);
  CHECK(reply.body.find("no input partitions assigned yet") != std::string::npos);

  LiveMetrics metrics;
  metrics.assigned_partitions = 3;
  probe.Publish(metrics);
  reply = HttpGet(url);
  CHECK(reply.status == 200);
  CHECK(reply.body == "{\"ready\":true,\"reason\":\"\"}\n");

  health.Set(HealthState::kKafkaUnreachable, "1/1 brokers are down");
  reply = HttpGet(url);
  CHECK(reply.status == 503);
  CHECK(reply.body.find("engine is kafka_unreachable: 1/1 brokers are down") != std::string::npos);
}

TEST_CASE("health: --http and --health-listen need an IP address and a port") {
  Health health;
  LiveProbe probe;
  for (const char* bad : {"8080", "localhost:8080", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:8x"}) {
    INFO(bad);
    Result<std::unique_ptr<http::HttpServer>> server =
        http::StartOpsServer(bad, http::OpsEndpoints{&health, &probe});
    REQUIRE_FALSE(server.ok());
    CHECK(server.status().message().find("expected IP-ADDRESS:PORT") != std::string::npos);
  }
}

}  // namespace vigil::testing
