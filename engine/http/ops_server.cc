#include "http/ops_server.h"

#include "http/metrics.h"
#include "json_text.h"

namespace vigil::http {

std::string HealthJson(const Health::Snapshot& snapshot) {
  return "{\"state\":" + JsonQuote(HealthName(snapshot.state)) + ",\"since\":" +
         JsonQuote(FormatTime(snapshot.since)) + ",\"detail\":" + JsonQuote(snapshot.detail) + "}\n";
}

int LivenessHttpStatus(HealthState state) {
  return state == HealthState::kStopped || state == HealthState::kFailed ? 503 : 200;
}

int HealthHttpStatus(HealthState state) {
  return state == HealthState::kStarting || state == HealthState::kRunning ? 200 : 503;
}

Readiness ReadinessOf(const Health::Snapshot& health, const LiveMetrics& metrics) {
  if (health.state != HealthState::kRunning) {
    std::string reason = std::string("engine is ") + HealthName(health.state);
    if (!health.detail.empty()) reason += ": " + health.detail;
    return {false, reason};
  }
  // Partitions are assigned with their state loaded in the same step (the rebalance callback), so
  // a count above zero means both.
  if (metrics.refused_tasks > 0) {
    return {false, std::to_string(metrics.refused_tasks) + " assigned task(s) not processed: " +
                       metrics.refused_reason};
  }
  if (metrics.assigned_partitions == 0) return {false, "no input partitions assigned yet"};
  return {true, ""};
}

namespace {

using Type = MetricsText::Type;

// A dead letter's reason as a label: the kind before any detail ("invalid: no officer_id" ->
// "invalid"), so that a record's content never becomes a label value.
void DeadLetterFamilies(MetricsText& out, const LiveMetrics& live) {
  out.Family("vigil_dead_letters_total", Type::kCounter,
             "Records decided for the dead-letter topic, by reason.");
  out.Sample({{"reason", "invalid"}}, static_cast<double>(live.processor.invalid));
  out.Sample({{"reason", "too_late"}}, static_cast<double>(live.processor.too_late));
  // Counted by the live engine (a record off its key's partition never reaches the rules' core).
  out.Sample({{"reason", "wrong_partition"}}, static_cast<double>(live.wrong_partition));
}

void ProcessorFamilies(MetricsText& out, const Topics& topics, const LiveMetrics& live) {
  const ProcessorMetrics& m = live.processor;
  out.Family("vigil_events_in_total", Type::kCounter, "Events accepted by the rules, by input topic.");
  for (int s = 0; s < kStreamCount; ++s) {
    out.Sample({{"topic", topics.For(static_cast<Stream>(s))}}, static_cast<double>(m.events_in[s]));
  }
  out.Family("vigil_alerts_total", Type::kCounter, "Alerts decided, by rule.");
  for (const auto& [rule, count] : m.alerts_by_rule) out.Sample({{"rule", rule}}, static_cast<double>(count));
  DeadLetterFamilies(out, live);
  out.Counter("vigil_duplicate_events_total", "Events dropped because their id was seen before.",
              static_cast<double>(m.duplicates));
  out.Counter("vigil_late_events_accepted_total",
              "Events behind the watermark but within the allowed lateness, accepted.",
              static_cast<double>(m.late_accepted));
}

void KafkaFamilies(MetricsText& out, const LiveMetrics& m, Millis now) {
  out.Counter("vigil_records_consumed_total", "Input records consumed, valid or not.",
              static_cast<double>(m.records));
  out.Counter("vigil_alerts_published_total", "Alerts acknowledged by Kafka on the alert topic.",
              static_cast<double>(m.published_alerts));
  out.Family("vigil_consumer_lag_records", Type::kGauge,
             "Records on an assigned input partition not consumed yet (high watermark minus position).");
  for (const PartitionLag& lag : m.lag) {
    out.Sample({{"topic", lag.topic}, {"partition", std::to_string(lag.partition)}},
               static_cast<double>(lag.records));
  }
  out.Gauge("vigil_assigned_partitions", "Input partitions assigned to this instance.",
            static_cast<double>(m.assigned_partitions));
  out.Gauge("vigil_refused_tasks",
            "Tasks (partition numbers) assigned but not processed: their input topics no longer "
            "hold what their state needs.",
            static_cast<double>(m.refused_tasks));
  out.Family("vigil_watermark_lag_seconds", Type::kGauge,
             "Wall time minus the engine's event-time watermark (absent before any event).");
  if (m.watermark) out.Sample({}, static_cast<double>(now - *m.watermark) / 1000.0);
}

void CheckpointFamilies(MetricsText& out, const LiveMetrics& m) {
  out.Counter("vigil_checkpoints_total", "Checkpoints written (snapshots included).",
              static_cast<double>(m.checkpoints));
  out.Counter("vigil_snapshots_total", "Checkpoints that also wrote the rules' state and input offsets.",
              static_cast<double>(m.snapshots));
  out.Family("vigil_checkpoint_duration_seconds", Type::kHistogram,
             "Time processing paused for a checkpoint (building its batch, waiting for the previous one to be durable).");
  out.HistogramSamples({}, m.checkpoint_seconds);
  out.Family("vigil_snapshot_duration_seconds", Type::kHistogram,
             "Time processing paused for a snapshot (a checkpoint that also writes the rules' state).");
  out.HistogramSamples({}, m.snapshot_seconds);
  out.Gauge("vigil_state_memory_bytes", "Memory held by the rules' state, the hold and duplicate ids.",
            static_cast<double>(m.state_memory_bytes));
  out.Gauge("vigil_memory_budget_bytes", "The memory budget (--memory-budget-mb).",
            static_cast<double>(m.memory_budget_bytes));
}

void HealthFamilies(MetricsText& out, const Health::Snapshot& health, const LiveMetrics& m) {
  out.Family("vigil_health_state", Type::kGauge, "1 for the engine's current health state, 0 for the others.");
  for (HealthState state : kHealthStates) {
    out.Sample({{"state", HealthName(state)}}, state == health.state ? 1 : 0);
  }
  out.Gauge("vigil_ready", "1 when /readyz answers 200.", ReadinessOf(health, m).ready ? 1 : 0);
}

}  // namespace

Result<std::string> MetricsPage(const OpsEndpoints& endpoints, const Health::Snapshot& health,
                                const LiveMetrics& metrics, Millis now) {
  MetricsText out;
  ProcessorFamilies(out, endpoints.topics, metrics);
  KafkaFamilies(out, metrics, now);
  CheckpointFamilies(out, metrics);
  HealthFamilies(out, health, metrics);
  // The name every Prometheus client library uses, so that uptime queries work as for any process.
  out.Gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.",
            static_cast<double>(endpoints.process_started) / 1000.0);
  return out.Finish();
}

namespace {

Response Route(const OpsEndpoints& endpoints, const Request& request) {
  if (request.method != "GET") {
    Response refused = Response::Error(405, "only GET is served");
    refused.headers.emplace_back("Allow", "GET");
    return refused;
  }
  const Health::Snapshot health = endpoints.health->Get();
  if (request.path == "/healthz") return Response::Json(LivenessHttpStatus(health.state), HealthJson(health));
  if (request.path == "/health" && endpoints.legacy_health) {
    return Response::Json(HealthHttpStatus(health.state), HealthJson(health));
  }
  const LiveMetrics metrics = endpoints.probe->Get();
  if (request.path == "/readyz") {
    const Readiness readiness = ReadinessOf(health, metrics);
    return Response::Json(readiness.ready ? 200 : 503,
                          "{\"ready\":" + std::string(readiness.ready ? "true" : "false") +
                              ",\"reason\":" + JsonQuote(readiness.reason) + "}\n");
  }
  if (request.path == "/metrics") {
    Result<std::string> page = MetricsPage(endpoints, health, metrics, SystemClock().NowMillis());
    if (!page.ok()) return Response::Error(500, page.status().message());
    Response response;
    response.content_type = kMetricsContentType;
    response.body = std::move(*page);
    return response;
  }
  return Response::Error(404, std::string("not found: GET /healthz, /readyz or /metrics") +
                                  (endpoints.legacy_health ? " (or /health)" : ""));
}

}  // namespace

Result<std::unique_ptr<HttpServer>> StartOpsServer(const std::string& listen, OpsEndpoints endpoints) {
  if (!endpoints.health || !endpoints.probe) return Status::Error("ops server: no health or probe");
  Limits limits;
  limits.max_connections = 128;  // probes and a scraper; a crowd beyond this is evicted oldest first
  limits.max_body_bytes = 1024;  // GET only
  limits.idle_timeout_ms = 10000;
  limits.request_timeout_ms = 5000;
  limits.handler_threads = 2;    // every answer is a copy and some formatting: never blocks
  return HttpServer::Start(listen, limits, [endpoints](const Request& request, const Responder& responder) {
    responder.Reply(Route(endpoints, request));
  });
}

}  // namespace vigil::http
