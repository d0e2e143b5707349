// `vigil run`, `produce`, `consume` and `dev-broker`: option parsing and reporting around
// LiveEngine, kafka_io and MockBroker.
#include <fstream>
#include <iostream>
#include <thread>

#include "cli.h"
#include "crash_points.h"
#include "commands.h"
#include "health_server.h"
#include "kafka_io.h"
#include "live_engine.h"
#include "mock_broker.h"
#include "rules_config.h"
#include "signals.h"

namespace vigil {

int RunCommand(int argc, char** argv) {
  const std::vector<OptionSpec> specs = {
      {"brokers", "HOST:PORT", "Kafka bootstrap servers", ""},
      {"rules", "RULES.json", "rules file (see `vigil rules --defaults`); defaults if absent", ""},
      {"state-dir", "DIR", "RocksDB state, offsets and outbox", "./vigil-state"},
      {"group", "ID", "consumer group", "vigil"},
      {"until-caught-up", "", "process what the input topics hold now, close every window, publish, exit 0", ""},
      {"checkpoint-interval-ms", "MS", "how often state, offsets and alerts are made durable and published", "1000"},
      {"memory-budget-mb", "MB", "RocksDB block cache and write buffers together", "256"},
      {"session-timeout-ms", "MS", "how long the group waits for a silent (crashed) member before moving its partitions (at least 2000)", "10000"},
      {"health-listen", "ADDRESS:PORT", "serve GET /health (JSON; 200 running, 503 Kafka unreachable, stopping or failed) there, e.g. 0.0.0.0:8080", ""},
      {"quiet", "", "no progress lines", ""},
  };
  const std::string usage = Usage(
      "vigil run --brokers HOST:PORT [--rules F] [--state-dir DIR] [--group ID] [--until-caught-up]",
      "Consumes vigil.roster, vigil.access and vigil.complaints in a consumer group, runs the\n"
      "rules by event time with state in RocksDB, and publishes alerts to vigil.alerts and\n"
      "unusable records to vigil.dlq. Offsets are committed only after the state and alerts\n"
      "they cover are durable. SIGINT/SIGTERM: finish the batch, checkpoint, leave the group.\n"
      "A shorter checkpoint interval publishes alerts sooner; a longer one syncs to disk less.",
      specs);
  Args args;
  if (int code = ParseCommandLine("run", specs, usage, argc, argv, {"brokers"}, args); code >= 0) return code;
  Result<v1::RulesConfig> config = LoadRulesConfig(args.Get("rules"));
  if (!config.ok()) {
    std::cerr << "vigil run: " << config.status().message() << "\n";
    return 2;
  }
  Result<long long> interval = args.GetInt("checkpoint-interval-ms", 10, 3600 * 1000);
  if (!interval.ok()) {
    std::cerr << "vigil run: " << interval.status().message() << "\n";
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
  LiveOptions options;
  options.storage.memory_budget_bytes = static_cast<size_t>(*budget) << 20;
  options.session_timeout_ms = static_cast<int>(*session_timeout);
  options.brokers = args.Get("brokers");
  options.group = args.Get("group");
  options.state_dir = args.Get("state-dir");
  options.until_caught_up = args.Has("until-caught-up");
  options.checkpoint_interval_ms = static_cast<int>(*interval);
  options.progress = !args.Has("quiet");
  options.stop = &StopRequested();
  options.read_limit = PauseAfterRecords();  // fault tests only
  Health health;
  options.health = &health;
  std::unique_ptr<HealthServer> health_server;
  if (args.Has("health-listen")) {
    Result<std::unique_ptr<HealthServer>> server = HealthServer::Start(args.Get("health-listen"), health);
    if (!server.ok()) {
      std::cerr << "vigil run: --health-listen: " << server.status().message() << "\n";
      return 2;
    }
    health_server = std::move(server.value());
    if (options.progress) std::cerr << "run: health at " << health_server->url() << "\n";
  }
  Result<LiveReport> report = RunLive(options, *config);
  if (!report.ok()) {
    std::cerr << "vigil run: " << report.status().message() << "\n";
    return 1;
  }
  const auto& m = report->metrics;
  std::cerr << "run: " << report->records << " records, " << m.events_total() << " events used, "
            << m.invalid << " invalid, " << m.too_late << " too late, " << m.duplicates
            << " duplicates; " << report->published_alerts << " alerts published ("
            << report->recovered_already_published << " found already published after a crash) in "
            << report->seconds << " s\n";
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

int ConsumeCommand(int argc, char** argv) {
  const std::vector<OptionSpec> specs = {
      {"brokers", "HOST:PORT", "Kafka bootstrap servers", ""},
      {"topic", "T", "topic to read (vigil.alerts, vigil.dlq, an input topic, vigil.audit)", ""},
      {"from-beginning", "", "start at the oldest record (default: only records that arrive from now)", ""},
      {"output", "F", "write here instead of standard output", ""},
      {"follow", "", "keep reading new records until interrupted (default: stop at the end)", ""},
  };
  const std::string usage = Usage(
      "vigil consume --brokers HOST:PORT --topic T [--from-beginning] [--output F] [--follow]",
      "Writes a Vigil topic as NDJSON: alerts and events in proto3 JSON, dead letters with their\n"
      "reason, source and original bytes (base64). Reading alerts is recorded on vigil.audit\n"
      "(who, when, which alert ids).",
      specs);
  Args args;
  if (int code = ParseCommandLine("consume", specs, usage, argc, argv, {"brokers", "topic"}, args); code >= 0) return code;
  std::ofstream file;
  if (args.Has("output")) {
    file.open(args.Get("output"), std::ios::trunc);
    if (!file) {
      std::cerr << "vigil consume: cannot write " << args.Get("output") << "\n";
      return 2;
    }
  }
  std::ostream& out = args.Has("output") ? file : std::cout;
  const Topics topics;
  const std::string topic = args.Get("topic");
  Result<KafkaHandle> producer = MakeProducer(args.Get("brokers"));
  if (!producer.ok()) {
    std::cerr << "vigil consume: " << producer.status().message() << "\n";
    return 1;
  }
  AuditLog audit(producer->get(), topics.audit, "vigil consume");
  std::vector<std::string> viewed;
  ReadOptions options;
  options.from_beginning = args.Has("from-beginning");
  options.follow = args.Has("follow");
  options.stop = &StopRequested();
  uint64_t records = 0;
  Status read = ReadTopic(args.Get("brokers"), topic, options, [&](const rd_kafka_message_t& m) {
    ++records;
    if (topic == topics.alerts) {
      v1::Alert alert;
      if (alert.ParseFromArray(m.payload, static_cast<int>(m.len))) viewed.push_back(alert.alert_id());
      if (viewed.size() >= 100) audit.Viewed(std::exchange(viewed, {}));  // before they are shown
    }
    out << RecordAsJson(topics, topic, m) << "\n";
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
  std::cerr << "consume: " << records << " records from " << topic << "\n";
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
      "(vigil.roster, vigil.access, vigil.complaints, vigil.alerts, vigil.dlq, vigil.audit)\n"
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
