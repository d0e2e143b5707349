// `vigil run`, `produce`, `consume` and `dev-broker`: option parsing and reporting around
// LiveEngine, kafka_io and MockBroker.
#include <cctype>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include "cli.h"
#include "live/crash_points.h"
#include "commands.h"
#include "http/ops_server.h"
#include "json_text.h"
#include "kafka/kafka_io.h"
#include "live/live_engine.h"
#include "kafka/mock_broker.h"
#include "review.pb.h"
#include "reviews.h"
#include "rules_config.h"
#include "signals.h"

namespace vigil {

int RunCommand(int argc, char** argv) {
  const Millis started = SystemClock().NowMillis();  // process_start_time_seconds
  const std::vector<OptionSpec> specs = {
      {"brokers", "HOST:PORT", "Kafka bootstrap servers", ""},
      {"rules", "RULES.json", "rules file (see `vigil rules --defaults`); defaults if absent", ""},
      {"shadow-rules", "RULES.json", "also evaluate this second rule set on the same input, in the same pass and checkpoints; its alerts go to the shadow topic only, exactly once", ""},
      {"shadow-topic", "T", "where the shadow rules' alerts go (must exist)", "vigil.alerts.shadow"},
      {"state-dir", "DIR", "RocksDB state, offsets and outbox", "./vigil-state"},
      {"group", "ID", "consumer group", "vigil"},
      {"until-caught-up", "", "process what the input topics hold now, close every window, publish, exit 0", ""},
      {"start-from-retained", "", "a partition whose input topics no longer hold what its state here needs (from its saved offset, or from the beginning when there is none here: their retention deleted it) is processed from the oldest record they hold, with incomplete windows, instead of refused (by default it is not processed, the engine is not ready, and a bounded run exits 1)", ""},
      {"checkpoint-interval-ms", "MS", "how often decided alerts are made durable and published", "1000"},
      {"snapshot-interval-ms", "MS", "how often a checkpoint also writes the rules' state and input offsets (a crash re-reads the input since the last snapshot: keep at least this plus a restart's time of input on Kafka); 0 or at most --checkpoint-interval-ms: every checkpoint", "10000"},
      {"memory-budget-mb", "MB", "the engine's one memory budget: RocksDB's block cache and write buffers get a quarter (8-256 MiB), the core's records, held events and duplicate ids the rest (past it the coldest officers' records leave memory and are read back on use; with --shadow-rules that rest is halved between the rules and the shadow rules)", "256"},
      {"ingest-batch-kb", "KB", "a checkpoint that writes at least this much (a snapshot) is written as one RocksDB table file and ingested, instead of through RocksDB's log and memtable; 0: every checkpoint", "1024"},
      {"partitioner", "NAME", "how the producers of the input topics place a record by its key, the officer id: consistent_random (librdkafka's default: CRC-32 of the key; `vigil produce`, kcat, confluent-kafka) or murmur2_random (murmur2 of the key, the Java client's default); a valid record not on the partition its key hashes to (or without a key, on a topic of more than one partition) goes to vigil.dlq with reason wrong_partition and is not given to the rules", "consistent_random"},
      {"session-timeout-ms", "MS", "how long the group waits for a silent (crashed) member before moving its partitions (at least 2000)", "10000"},
      {"http", "ADDRESS:PORT", "serve GET /healthz (liveness: 200 unless stopped or failed), /readyz (200 once running with partitions assigned and their state loaded, else 503 with the reason) and /metrics (Prometheus text format) there, e.g. 0.0.0.0:8080", ""},
      {"health-listen", "ADDRESS:PORT", "deprecated, use --http: the same endpoints, plus the old GET /health (200 starting or running, 503 Kafka unreachable, stopping, stopped or failed)", ""},
      {"quiet", "", "no progress lines", ""},
  };
  const std::string usage = Usage(
      "vigil run --brokers HOST:PORT [--rules F] [--shadow-rules F [--shadow-topic T]] [--state-dir DIR]\n"
      "          [--group ID] [--until-caught-up] [--http ADDRESS:PORT] [--partitioner NAME]",
      "Consumes vigil.roster, vigil.access and vigil.complaints in a consumer group, runs the\n"
      "rules by event time with state in RocksDB, and publishes alerts to vigil.alerts and\n"
      "unusable records to vigil.dlq. Offsets are committed only after the state and alerts\n"
      "they cover are durable. SIGINT/SIGTERM: finish the batch, checkpoint, leave the group.\n"
      "The three input topics must have the same partition count (one officer's events meet\n"
      "in one partition number of each, by the key): at start and on every rebalance the\n"
      "engine checks it and, if they differ, exits 1 naming each topic and its count. A\n"
      "valid record that is not on the partition its key hashes to under --partitioner, or\n"
      "has no key on a topic of more than one partition, goes to vigil.dlq with reason\n"
      "wrong_partition (a record that is not a valid event is `invalid` wherever it is).\n"
      "A partition is processed from where its state here stands, or from the beginning of\n"
      "its input when there is none here; if the input topics no longer hold that (their\n"
      "retention deleted it), it is not processed: the engine says why, is not ready, and a\n"
      "bounded run exits 1. --start-from-retained processes it from the oldest record held.\n"
      "A shorter checkpoint interval publishes alerts sooner; a longer one syncs to disk less.\n"
      "The rules' state and the input offsets are written only every snapshot interval (and on\n"
      "stop and rebalance); after a crash the input since the last snapshot is read again and\n"
      "what the dead run already published is not published twice.\n"
      "With --shadow-rules, a second rule set runs beside the live one on every record, with\n"
      "its state in the same state directory and checkpoints, and publishes to the shadow topic\n"
      "(never to vigil.alerts); alert ids are those a replay with those rules gives. If the\n"
      "shadow rules fail, they stop for the run and the live rules go on; shadow state left\n"
      "behind by a run without them is dropped and they start at the live engine's positions.",
      specs);
  Args args;
  if (int code = ParseCommandLine("run", specs, usage, argc, argv, {"brokers"}, args); code >= 0) return code;
  Result<v1::RulesConfig> config = LoadRulesConfig(args.Get("rules"));
  if (!config.ok()) {
    std::cerr << "vigil run: " << config.status().message() << "\n";
    return 2;
  }
  if (args.Has("shadow-topic") && !args.Has("shadow-rules")) {
    std::cerr << "vigil run: --shadow-topic needs --shadow-rules\n";
    return 2;
  }
  std::optional<v1::RulesConfig> shadow_rules;
  if (args.Has("shadow-rules")) {
    Result<v1::RulesConfig> shadow = LoadRulesConfig(args.Get("shadow-rules"));
    if (!shadow.ok()) {
      std::cerr << "vigil run: --shadow-rules: " << shadow.status().message() << "\n";
      return 2;
    }
    shadow_rules = *shadow;
  }
  Result<long long> interval = args.GetInt("checkpoint-interval-ms", 10, 3600 * 1000);
  if (!interval.ok()) {
    std::cerr << "vigil run: " << interval.status().message() << "\n";
    return 2;
  }
  Result<long long> snapshot_interval = args.GetInt("snapshot-interval-ms", 0, 24 * 3600 * 1000);
  if (!snapshot_interval.ok()) {
    std::cerr << "vigil run: " << snapshot_interval.status().message() << "\n";
    return 2;
  }
  Result<long long> session_timeout = args.GetInt("session-timeout-ms", 2000, 3600 * 1000);
  if (!session_timeout.ok()) {
    std::cerr << "vigil run: " << session_timeout.status().message() << "\n";
    return 2;
  }
  Result<long long> budget = args.GetInt("memory-budget-mb", 16, 1 << 20);
  if (!budget.ok()) {
    std::cerr << "vigil run: " << budget.status().message() << "\n";
    return 2;
  }
  Result<long long> ingest_kb = args.GetInt("ingest-batch-kb", 0, 1 << 30);
  if (!ingest_kb.ok()) {
    std::cerr << "vigil run: " << ingest_kb.status().message() << "\n";
    return 2;
  }
  Result<Partitioner> partitioner = ParsePartitioner(args.Get("partitioner"));
  if (!partitioner.ok()) {
    std::cerr << "vigil run: --partitioner: " << partitioner.status().message() << "\n";
    return 2;
  }
  LiveOptions options;
  options.memory_budget_bytes = static_cast<size_t>(*budget) << 20;
  options.storage.ingest_batch_bytes = static_cast<size_t>(*ingest_kb) << 10;
  options.session_timeout_ms = static_cast<int>(*session_timeout);
  options.partitioner = *partitioner;
  options.brokers = args.Get("brokers");
  options.group = args.Get("group");
  options.state_dir = args.Get("state-dir");
  options.until_caught_up = args.Has("until-caught-up");
  options.start_from_retained = args.Has("start-from-retained");
  options.shadow_rules = shadow_rules;
  if (args.Has("shadow-topic")) options.topics.alerts_shadow = args.Get("shadow-topic");
  if (options.shadow_rules && options.topics.alerts_shadow == options.topics.alerts) {
    std::cerr << "vigil run: --shadow-topic must not be the live alert topic " << options.topics.alerts << "\n";
    return 2;
  }
  options.checkpoint_interval_ms = static_cast<int>(*interval);
  options.snapshot_interval_ms = static_cast<int>(*snapshot_interval);
  options.progress = !args.Has("quiet");
  options.stop = &StopRequested();
  options.read_limit = PauseAfterRecords();  // fault tests only
  Health health;
  options.health = &health;
  LiveProbe probe;
  options.probe = &probe;
  http::OpsEndpoints endpoints{&health, &probe, options.topics, started};
  std::vector<std::unique_ptr<http::HttpServer>> servers;  // after health and probe: stopped first
  for (const char* flag : {"http", "health-listen"}) {
    if (!args.Has(flag)) continue;
    endpoints.legacy_health = std::string(flag) == "health-listen";
    Result<std::unique_ptr<http::HttpServer>> server = http::StartOpsServer(args.Get(flag), endpoints);
    if (!server.ok()) {
      std::cerr << "vigil run: --" << flag << ": " << server.status().message() << "\n";
      return 2;
    }
    servers.push_back(std::move(server.value()));
    // The first line's form is what scripts (and tests/graceful_stop_test.cc) look for.
    if (!options.progress) continue;
    if (endpoints.legacy_health) {
      std::cerr << "run: health at " << servers.back()->url() << "/health (--health-listen is deprecated: use --http)\n";
    } else {
      std::cerr << "run: http at " << servers.back()->url() << " (/healthz, /readyz, /metrics)\n";
    }
  }
  Result<LiveReport> report = RunLive(options, *config);
  if (!report.ok()) {
    std::cerr << "vigil run: " << report.status().message() << "\n";
    return 1;
  }
  const auto& m = report->metrics;
  std::cerr << "run: " << report->records << " records, " << m.events_total() << " events used, "
            << m.invalid << " invalid, " << report->wrong_partition << " on the wrong partition, "
            << m.too_late << " too late, " << m.duplicates
            << " duplicates; " << report->published_alerts << " alerts published ("
            << report->recovered_already_published << " found already published after a crash)";
  if (options.shadow_rules) {
    std::cerr << "; shadow rules: " << report->shadow_metrics.alerts << " alerts, "
              << report->published_shadow_alerts << " published to " << options.topics.alerts_shadow;
    if (!report->shadow_failure.empty()) std::cerr << " (failed: " << report->shadow_failure << ")";
  }
  std::cerr << " in " << report->seconds << " s\n";
  return 0;
}

int ProduceCommand(int argc, char** argv) {
  const std::vector<OptionSpec> specs = {
      {"brokers", "HOST:PORT", "Kafka bootstrap servers", ""},
      {"input", "EVENTS.ndjson", "event file, one {\"roster\"|\"access\"|\"complaint\": {...}} a line", ""},
      {"quiet", "", "no progress lines", ""},
  };
  const std::string usage = Usage(
      "vigil produce --brokers HOST:PORT --input EVENTS.ndjson",
      "Publishes an event file to vigil.roster, vigil.access and vigil.complaints as protobuf,\n"
      "keyed by officer_id (librdkafka's default partitioner). Invalid lines are reported with\n"
      "their line number and skipped. Exits once every event is acknowledged.",
      specs);
  Args args;
  if (int code = ParseCommandLine("produce", specs, usage, argc, argv, {"brokers", "input"}, args); code >= 0) return code;
  Result<ProduceReport> report =
      ProduceEventFile(args.Get("brokers"), args.Get("input"), Topics{}, !args.Has("quiet"));
  if (!report.ok()) {
    std::cerr << "vigil produce: " << report.status().message() << "\n";
    return 1;
  }
  std::cerr << "produce: " << report->produced << " events published, " << report->skipped
            << " invalid lines skipped\n";
  return 0;
}

namespace {

// `vigil consume`'s filters: an alert (or a review) is printed, and audited, only if it matches
// every filter given.
struct ConsumeFilter {
  std::string rule;
  std::string officer;
  v1::Alert::Severity severity = v1::Alert::SEVERITY_UNSPECIFIED;  // unspecified: any
  bool any() const {
    return !rule.empty() || !officer.empty() || severity != v1::Alert::SEVERITY_UNSPECIFIED;
  }
  bool Matches(const v1::Alert& alert) const {
    return (rule.empty() || alert.rule_id() == rule) &&
           (officer.empty() || alert.officer_id() == officer) &&
           (severity == v1::Alert::SEVERITY_UNSPECIFIED || alert.severity() == severity);
  }
  bool Matches(const v1::Review& review) const {
    return (rule.empty() || review.rule_id() == rule) &&
           (officer.empty() || review.officer_id() == officer);
  }
};

// The label a final review outcome gives an alert (DASHBOARD.md, "Labels"); "" for a state that
// is not an outcome.
const char* LabelOf(v1::ReviewStep::State state) {
  switch (state) {
    case v1::ReviewStep::PRACTICE_REQUIRING_IMPROVEMENT:
    case v1::ReviewStep::REFERRED_FOR_MISCONDUCT_INVESTIGATION:
    case v1::ReviewStep::WELFARE_SUPPORT:
      return "true_positive";
    case v1::ReviewStep::NO_CASE_TO_ANSWER:
    case v1::ReviewStep::FALSE_POSITIVE:
      return "false_positive";
    case v1::ReviewStep::DUPLICATE:
      return "duplicate";
    default:
      return "";
  }
}

// The labels line of a review whose last step is an outcome, or "" when it has none yet.
std::string LabelLine(const v1::Review& review) {
  if (review.steps().empty()) return "";
  v1::ReviewStep::State outcome = review.steps().rbegin()->state();
  const char* label = LabelOf(outcome);
  if (!*label) return "";
  return "{\"alertId\":" + JsonQuote(review.alert_id()) + ",\"officerId\":" +
         JsonQuote(review.officer_id()) + ",\"ruleId\":" + JsonQuote(review.rule_id()) +
         ",\"outcome\":" + JsonQuote(http::StateName(outcome)) +
         ",\"label\":" + JsonQuote(label) + "}";
}

}  // namespace

int ConsumeCommand(int argc, char** argv) {
  const std::vector<OptionSpec> specs = {
      {"brokers", "HOST:PORT", "Kafka bootstrap servers", ""},
      {"topic", "T", "topic to read (vigil.alerts, vigil.reviews, vigil.dlq, an input topic, vigil.audit)", ""},
      {"from-beginning", "", "start at the oldest record (default: only records that arrive from now)", ""},
      {"output", "F", "write here instead of standard output", ""},
      {"follow", "", "keep reading new records until interrupted (default: stop at the end)", ""},
      {"rule", "R", "vigil.alerts, vigil.reviews: only this rule's alerts", ""},
      {"severity", "S", "vigil.alerts: only alerts of this severity (LOW, MEDIUM, HIGH)", ""},
      {"officer", "O", "vigil.alerts, vigil.reviews: only this officer's alerts", ""},
      {"labels", "", "vigil.reviews: one line per alert with a final outcome, {alertId, officerId, ruleId, outcome, label} (label true_positive, false_positive or duplicate), for tuning", ""},
  };
  const std::string usage = Usage(
      "vigil consume --brokers HOST:PORT --topic T [--from-beginning] [--output F] [--follow]\n"
      "       [--rule R] [--severity S] [--officer O] [--labels]",
      "Writes a Vigil topic as NDJSON: alerts, events and reviews in proto3 JSON, dead letters\n"
      "with their reason, source and original bytes (base64). Reading alerts or reviews is\n"
      "recorded on vigil.audit (who, when, which alert ids); with filters, only the alerts that\n"
      "match are written and recorded.",
      specs);
  Args args;
  if (int code = ParseCommandLine("consume", specs, usage, argc, argv, {"brokers", "topic"}, args); code >= 0) return code;
  const Topics topics;
  const std::string topic = args.Get("topic");
  const bool alerts_topic = topic == topics.alerts;
  const bool reviews_topic = topic == topics.reviews;
  ConsumeFilter filter;
  filter.rule = args.Get("rule");
  filter.officer = args.Get("officer");
  if (args.Has("severity")) {
    std::string name = args.Get("severity");
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!v1::Alert::Severity_Parse(name, &filter.severity) ||
        filter.severity == v1::Alert::SEVERITY_UNSPECIFIED) {
      std::cerr << "vigil consume: --severity: '" << args.Get("severity")
                << "' is not LOW, MEDIUM or HIGH\n" << usage;
      return 2;
    }
  }
  if ((args.Has("rule") || args.Has("officer")) && !alerts_topic && !reviews_topic) {
    std::cerr << "vigil consume: --rule and --officer apply to " << topics.alerts << " and "
              << topics.reviews << " only\n";
    return 2;
  }
  if (args.Has("severity") && !alerts_topic) {
    std::cerr << "vigil consume: --severity applies to " << topics.alerts << " only\n";
    return 2;
  }
  const bool labels = args.Has("labels");
  if (labels && !reviews_topic) {
    std::cerr << "vigil consume: --labels applies to " << topics.reviews << " only\n";
    return 2;
  }
  std::ofstream file;
  if (args.Has("output")) {
    file.open(args.Get("output"), std::ios::trunc);
    if (!file) {
      std::cerr << "vigil consume: cannot write " << args.Get("output") << "\n";
      return 2;
    }
  }
  std::ostream& out = args.Has("output") ? file : std::cout;
  Result<KafkaHandle> producer = MakeProducer(args.Get("brokers"));
  if (!producer.ok()) {
    std::cerr << "vigil consume: " << producer.status().message() << "\n";
    return 1;
  }
  AuditLog audit(producer->get(), topics.audit, "vigil consume");
  std::vector<std::string> viewed;
  std::set<std::string> labelled;  // alerts whose label is written (an outcome is final)
  ReadOptions options;
  options.from_beginning = args.Has("from-beginning");
  options.follow = args.Has("follow");
  options.stop = &StopRequested();
  uint64_t records = 0;
  uint64_t written = 0;
  Status read = ReadTopic(args.Get("brokers"), topic, options, [&](const rd_kafka_message_t& m) {
    ++records;
    std::string line;
    if (alerts_topic || reviews_topic) {
      // An alert's identity is shown: it is audited (before it is written), and filtered.
      std::string alert_id;
      bool decoded = false;
      if (alerts_topic) {
        v1::Alert alert;
        decoded = alert.ParseFromArray(m.payload, static_cast<int>(m.len));
        if (decoded && !filter.Matches(alert)) return;
        alert_id = alert.alert_id();
      } else {
        v1::Review review;
        decoded = m.payload != nullptr && review.ParseFromArray(m.payload, static_cast<int>(m.len));
        if (decoded && !filter.Matches(review)) return;
        alert_id = review.alert_id();
        if (labels) {
          if (!decoded || labelled.count(alert_id)) return;
          line = LabelLine(review);
          if (line.empty()) return;  // no outcome yet
          labelled.insert(alert_id);
        }
      }
      if (!decoded && (filter.any() || labels)) return;  // cannot match a filter
      if (decoded) viewed.push_back(alert_id);
      if (viewed.size() >= 100) audit.Viewed(std::exchange(viewed, {}));  // before they are shown
      if (options.follow && !viewed.empty()) audit.Viewed(std::exchange(viewed, {}));
    }
    if (line.empty()) line = RecordAsJson(topics, topic, m);
    ++written;
    out << line << "\n";
    if (options.follow) out.flush();
  });
  audit.Viewed(viewed);
  Status audited = Flush(producer->get(), 30000);
  out.flush();
  if (!read.ok()) {
    std::cerr << "vigil consume: " << read.message() << "\n";
    return 1;
  }
  if (!audited.ok()) {
    std::cerr << "vigil consume: the audit record was not acknowledged: " << audited.message() << "\n";
    return 1;
  }
  std::cerr << "consume: " << records << " records from " << topic;
  if (written != records) std::cerr << ", " << written << " written";
  std::cerr << "\n";
  return 0;
}

int DevBrokerCommand(int argc, char** argv) {
  const std::vector<OptionSpec> specs = {
      {"port", "P", "also listen on this fixed loopback port", "the mock cluster's own port"},
      {"partitions", "N", "partitions per Vigil topic", "4"},
      {"brokers", "N", "brokers in the mock cluster", "1"},
  };
  const std::string usage = Usage(
      "vigil dev-broker [--port P] [--partitions N]",
      "Runs librdkafka's mock cluster as a local Kafka endpoint with Vigil's topics created\n"
      "(vigil.roster, vigil.access, vigil.complaints, vigil.alerts, vigil.alerts.shadow,\n"
      "vigil.dlq, vigil.audit, vigil.reviews)\n"
      "until interrupted. For development and tests only: each partition keeps about 5 MiB and\n"
      "silently drops older data, and transactions are not isolated.",
      specs);
  Args args;
  if (int code = ParseCommandLine("dev-broker", specs, usage, argc, argv, {}, args); code >= 0) return code;
  Result<long long> port = args.Has("port") ? args.GetInt("port", 1, 65535) : Result<long long>(0LL);
  Result<long long> partitions = args.GetInt("partitions", 1, 256);
  Result<long long> brokers = args.GetInt("brokers", 1, 9);
  for (const auto* r : {&port, &partitions, &brokers}) {
    if (!r->ok()) {
      std::cerr << "vigil dev-broker: " << r->status().message() << "\n";
      return 2;
    }
  }
  const auto& stop = StopRequested();
  MockBroker broker(static_cast<int>(*brokers), static_cast<int>(*port));
  Status created = broker.CreateVigilTopics(Topics{}, static_cast<int>(*partitions));
  if (!created.ok()) {
    std::cerr << "vigil dev-broker: " << created.message() << "\n";
    return 1;
  }
  std::string address = *port > 0 ? "127.0.0.1:" + std::to_string(*port) : broker.bootstrap();
  std::cout << address << std::endl;  // first line: the address, for scripts
  std::cerr << "dev-broker: Kafka endpoint at " << address << " (mock cluster " << broker.bootstrap()
            << "), " << *partitions << " partitions per topic; Ctrl-C to stop\n";
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::cerr << "dev-broker: stopped\n";
  return 0;
}

}  // namespace vigil
