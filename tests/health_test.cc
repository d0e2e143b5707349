// The health state `vigil run` reports, and GET /health that serves it (engine/http/health_server.h).
#include <doctest/doctest.h>

#include "http/health_server.h"
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

TEST_CASE("health: GET /health answers 200 while running, 503 when Kafka is away, 404 elsewhere") {
  Health health;
  Result<std::unique_ptr<HealthServer>> server = HealthServer::Start("127.0.0.1:0", health);
  REQUIRE(server.ok());
  const std::string url = (*server)->url();
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
  CHECK(HttpGet(url.substr(0, url.rfind('/')) + "/alerts").status == 404);
}

TEST_CASE("health: --health-listen needs an IP address and a port") {
  Health health;
  for (const char* bad : {"8080", "localhost:8080", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:8x"}) {
    INFO(bad);
    Result<std::unique_ptr<HealthServer>> server = HealthServer::Start(bad, health);
    REQUIRE_FALSE(server.ok());
    CHECK(server.status().message().find("expected IP-ADDRESS:PORT") != std::string::npos);
  }
}

}  // namespace vigil::testing
