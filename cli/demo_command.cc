// `vigil demo`: everything on one machine with no set-up. An embedded Kafka broker (librdkafka's
// mock cluster), a synthetic force streamed into it, the live engine consuming it with RocksDB
// state, and the alerts read back from vigil.alerts and printed as they arrive; then a table of
// what was planted, found and unexpected per rule, and how many alerts were planted patterns and
// how many benign behaviour (by the labels of their officer and rule, as a reviewer would judge). A dashboard (engine/http/DASHBOARD.md) runs
// beside it on the same broker, with a demo token that has every role, so the page fills as the
// run goes; --keep-open keeps broker and dashboard up after the table until Ctrl-C.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "cli.h"
#include "commands.h"
#include "dashboard.h"
#include "kafka/kafka_io.h"
#include "live/live_engine.h"
#include "kafka/mock_broker.h"
#include "pipeline.h"
#include "rules_config.h"
#include "signals.h"
#include "synthetic_force.h"

namespace vigil {
namespace {

// How far production may run ahead of consumption. The mock broker keeps only about 5 MiB per
// partition and silently drops older data; this keeps every partition well under that.
constexpr uint64_t kMaxRecordsAhead = 300000;

// How long the display's fetch of vigil.alerts waits when there is nothing new (librdkafka's
// default is 500 ms): the mock cluster always waits that long then, so it is how late an alert may
// be shown, and how long the demo's end waits for its last alerts.
constexpr int kDisplayFetchWaitMs = 20;

std::string Thousands(uint64_t n) {
  std::string digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(i, ",");
  return digits;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Where the demo's wall time went, phase after phase, for the line under "finished in": a run
// that feels slow says which part was slow (and a change to the demo can be measured by it).
class Phases {
 public:
  Phases() : start_(std::chrono::steady_clock::now()), last_(start_) {}
  double SinceStart() const { return Seconds(start_); }
  void End(const std::string& what) {
    const auto now = std::chrono::steady_clock::now();
    ended_.emplace_back(what, std::chrono::duration<double>(now - last_).count());
    last_ = now;
  }
  std::string Describe() const {
    std::string out;
    char seconds[32];
    for (const auto& [what, took] : ended_) {
      std::snprintf(seconds, sizeof seconds, " %.1f s", took);
      out += (out.empty() ? "" : ", ") + what + seconds;
    }
    return out;
  }

 private:
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
  std::vector<std::pair<std::string, double>> ended_;
};

void PrintTable(const std::vector<RuleTally>& tallies, const ProcessorMetrics& metrics) {
  std::printf("\n  %-30s %8s %8s %8s %10s %8s %8s %15s %14s\n", "rule", "alerts", "planted", "found",
              "missed", "unexpected", "benign", "planted alerts", "benign alerts");
  RuleTally all;
  auto row = [&](const char* rule, uint64_t alerts, const RuleTally& t) {
    std::printf("  %-30s %8llu %8d %8d %10d %8d %8d %15d %14d\n", rule, static_cast<unsigned long long>(alerts),
                t.planted, t.found, t.missed, t.unexpected, t.benign, t.on_planted, t.on_benign);
  };
  for (const auto& t : tallies) {
    auto alerts = metrics.alerts_by_rule.find(t.rule_id);
    row(t.rule_id.c_str(), alerts == metrics.alerts_by_rule.end() ? 0 : alerts->second, t);
    for (int RuleTally::*field : {&RuleTally::planted, &RuleTally::found, &RuleTally::missed, &RuleTally::unexpected,
                                  &RuleTally::benign, &RuleTally::on_planted, &RuleTally::on_benign}) {
      all.*field += t.*field;
    }
  }
  row("all rules", metrics.alerts, all);
  const int judged = all.on_planted + all.on_benign;
  if (judged > 0) {
    std::printf("\n  of the alerts on labelled cases, %d were planted patterns and %d benign behaviour: "
                "precision %.2f\n",
                all.on_planted, all.on_benign, static_cast<double>(all.on_planted) / judged);
  }
}

// A random token for the demo's dashboard: 32 hex digits from the system's random source.
std::string RandomToken() {
  std::random_device random;
  std::string token;
  const char* hex = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) token.push_back(hex[random() % 16]);
  return token;
}

// The demo's dashboard on `listen` with a tokens file in `dir` holding one token with every role.
// When `fallback` and `listen` is taken, any free port instead.
Result<std::unique_ptr<Dashboard>> StartDemoDashboard(const std::string& brokers, const Topics& topics,
                                                      std::string listen, bool fallback,
                                                      const std::string& dir, const std::string& token) {
  const std::string tokens_path = dir + "/tokens";
  {
    std::ofstream tokens(tokens_path, std::ios::trunc);
    tokens << "# vigil demo: one token with every role\n"
           << token << " demo misconduct,welfare,reviewer,auditor\n";
    if (!tokens) return Status::Error("cannot write " + tokens_path);
  }
  DashboardOptions options;
  options.brokers = brokers;
  options.listen = listen;
  options.tokens_path = tokens_path;
  options.group = "vigil-demo-dashboard";
  options.topics = topics;
  Result<std::unique_ptr<Dashboard>> dashboard = Dashboard::Start(options);
  if (dashboard.ok() || !fallback) return dashboard;
  std::cerr << "demo: the dashboard cannot listen on " << listen << " ("
            << dashboard.status().message() << "); using a free port\n";
  options.listen = listen.substr(0, listen.rfind(':')) + ":0";
  return Dashboard::Start(options);
}

}  // namespace

int DemoCommand(int argc, char** argv) {
  const std::vector<OptionSpec> specs = {
      {"officers", "N", "officers and staff in the synthetic force", "45000"},
      {"days", "D", "days of rosters, system use and complaints (16 is the fewest in which every rule has a planted pattern)", "16"},
      {"seed", "S", "random seed of the synthetic force", "1"},
      {"benign-rate", "X",
       "benign behaviour the rules catch (rest-day log-ins, lookups for reasons the case reference "
       "does not show, sickness with a known cause, ...): X times about 22 cases (fewer if the force "
       "is too small or too short for some); 0 for none",
       "1.0"},
      {"access-per-shift", "X",
       "volume: mean access events per worked shift, the small volume that keeps the demo short "
       "(about a third of shifts with one session)",
       "1.5"},
      {"access-per-officer-day", "X",
       "the realistic volume instead: mean access events per officer per day (45: about 2 million a "
       "day for 45,000 officers; the embedded broker then needs a smaller force or fewer days)",
       ""},
      {"partitions", "P", "partitions per topic on the embedded broker", "16"},
      {"rules", "RULES.json", "rules file; defaults if absent", ""},
      {"no-alerts", "", "do not print each alert as it arrives, only the final table", ""},
      {"checkpoint-interval-ms", "MS", "how often the engine checkpoints and publishes (as vigil run)", "1000"},
      {"dashboard", "ADDRESS:PORT", "serve the dashboard there (if the default is taken: any free port)", "127.0.0.1:8080"},
      {"no-dashboard", "", "run without the dashboard", ""},
      {"keep-open", "", "after the run, keep the broker and the dashboard up until Ctrl-C", ""},
  };
  const std::string usage = Usage(
      "vigil demo [--officers N] [--days D] [--seed S] [--benign-rate X] [--dashboard ADDRESS:PORT]\n"
      "           [--keep-open]",
      "Starts an embedded Kafka broker, streams a synthetic force with misconduct and welfare\n"
      "patterns planted at known places (and near misses that must not fire) through the live\n"
      "engine (Kafka in, RocksDB state, Kafka out), prints alerts as they are published, and ends\n"
      "with the seconds each phase took and a table: events processed, events/s, alerts, and\n"
      "planted vs found per rule. The force also behaves like a real one: benign cases (a\n"
      "rest-day log-in to check the roster, sickness with a known cause, ...) alert too, and the\n"
      "table says how many alerts were planted patterns and how many benign, and the precision\n"
      "that gives.\n"
      "A dashboard serves the live page meanwhile: its address and a demo token (every role)\n"
      "are printed first. Alert views are recorded on the embedded broker's vigil.audit topic.",
      specs);
  Args args;
  if (int code = ParseCommandLine("demo", specs, usage, argc, argv, {}, args); code >= 0) return code;
  if (args.Has("no-dashboard") && (args.Has("dashboard") || args.Has("keep-open"))) {
    std::cerr << "vigil demo: --no-dashboard goes with neither --dashboard nor --keep-open\n";
    return 2;
  }
  Result<long long> officers = args.GetInt("officers", 1, 2000000);
  Result<long long> days = args.GetInt("days", 1, 400);
  Result<long long> seed = args.GetInt("seed", 0, 1LL << 62);
  Result<long long> partitions = args.GetInt("partitions", 1, 128);
  Result<long long> interval = args.GetInt("checkpoint-interval-ms", 10, 60000);
  for (const auto* r : {&officers, &days, &seed, &partitions, &interval}) {
    if (!r->ok()) {
      std::cerr << "vigil demo: " << r->status().message() << "\n";
      return 2;
    }
  }
  Result<double> benign_rate = args.GetDouble("benign-rate", 0, 100);
  if (!benign_rate.ok()) {
    std::cerr << "vigil demo: " << benign_rate.status().message() << "\n";
    return 2;
  }
  if (args.Has("access-per-shift") && args.Has("access-per-officer-day")) {
    std::cerr << "vigil demo: give --access-per-shift or --access-per-officer-day, not both\n";
    return 2;
  }
  Result<double> access_per_shift = args.GetDouble("access-per-shift", 0.001, 1000);
  Result<double> access_per_officer_day =
      args.Has("access-per-officer-day") ? args.GetDouble("access-per-officer-day", 0, 100000) : Result<double>(0.0);
  for (const auto* r : {&access_per_shift, &access_per_officer_day}) {
    if (!r->ok()) {
      std::cerr << "vigil demo: " << r->status().message() << "\n";
      return 2;
    }
  }
  Result<v1::RulesConfig> config = LoadRulesConfig(args.Get("rules"));
  if (!config.ok()) {
    std::cerr << "vigil demo: " << config.status().message() << "\n";
    return 2;
  }
  const bool show_alerts = !args.Has("no-alerts");
  const auto& interrupted = StopRequested();
  Phases phases;

  MockBroker broker;
  const Topics topics;
  Status created = broker.CreateVigilTopics(topics, static_cast<int>(*partitions));
  if (!created.ok()) {
    std::cerr << "vigil demo: " << created.message() << "\n";
    return 1;
  }
  TempDir dashboard_dir("vigil-demo-dashboard-");
  std::unique_ptr<Dashboard> dashboard;
  const std::string token = RandomToken();
  if (!args.Has("no-dashboard")) {
    Result<std::unique_ptr<Dashboard>> started = StartDemoDashboard(
        broker.bootstrap(), topics, args.Get("dashboard"), !args.Has("dashboard"),
        dashboard_dir.path(), token);
    if (!started.ok()) {
      std::cerr << "vigil demo: the dashboard: " << started.status().message() << "\n";
      return args.Has("dashboard") ? 2 : 1;
    }
    dashboard = std::move(started.value());
  }

  // The engine: the same code as `vigil run`, on a temporary state directory. Started first: the
  // mock cluster holds a new group's first join for 3 s whatever the clients' settings (as
  // group.initial.rebalance.delay.ms would), and nothing else should wait behind that.
  TempDir state("vigil-demo-");
  std::atomic<bool> input_closed{false};
  std::atomic<uint64_t> consumed{0};
  std::atomic<bool> engine_done{false};
  LiveOptions live;
  live.brokers = broker.bootstrap();
  live.state_dir = state.path();
  live.group = "vigil-demo";
  live.checkpoint_interval_ms = static_cast<int>(*interval);
  live.progress = std::getenv("VIGIL_DEMO_DEBUG") != nullptr;
  live.stop = &interrupted;
  live.input_closed = &input_closed;
  live.records_consumed = &consumed;
  Result<LiveReport> report = Status::Error("the engine did not run");
  std::thread engine([&] {
    try {
      report = RunLive(live, *config);
    } catch (const FatalError& e) {
      report = Status::Error(e.what());
    }
    engine_done = true;
  });

  SyntheticForceOptions force_options;
  force_options.officers = *officers;
  force_options.days = static_cast<int>(*days);
  force_options.seed = static_cast<uint64_t>(*seed);
  force_options.benign_rate = *benign_rate;
  force_options.access_per_shift = *access_per_shift;
  if (args.Has("access-per-officer-day")) force_options = RealisticVolume(force_options, *access_per_officer_day);
  SyntheticForce force(force_options);
  int near_misses = 0, benign = 0;
  for (const auto& p : force.plan()) {
    if (p.benign) ++benign;
    else if (p.near_miss) ++near_misses;
  }
  std::printf("Vigil demo: %s officers and staff, %lld days, %zu patterns planted (%d of them near "
              "misses that must not fire)\nembedded Kafka broker at %s\n",
              Thousands(*officers).c_str(), *days, force.plan().size() - benign, near_misses,
              broker.bootstrap().c_str());
  std::printf("benign behaviour the rules will catch: %d cases (--benign-rate %g)\n", benign, *benign_rate);
  if (dashboard) {
    std::printf("dashboard at %s  (token: %s, roles misconduct, welfare, reviewer, auditor)\n",
                dashboard->url().c_str(), token.c_str());
  }
  std::printf("\n");
  std::fflush(stdout);
  phases.End("setting up");

  // The display: alerts read back from vigil.alerts as they are published, each view audited.
  Result<KafkaHandle> audit_producer = MakeProducer(broker.bootstrap());
  if (!audit_producer.ok()) throw FatalError(audit_producer.status().message());
  AuditLog audit(audit_producer->get(), topics.audit, "vigil demo");
  std::vector<v1::Alert> shown;
  std::mutex shown_mutex;
  std::atomic<bool> display_stop{false};
  std::thread display([&] {
    ReadOptions read;
    read.from_beginning = true;
    read.follow = true;
    read.stop = &display_stop;
    read.max_wait_ms = kDisplayFetchWaitMs;
    Status status = ReadTopic(broker.bootstrap(), topics.alerts, read, [&](const rd_kafka_message_t& m) {
      v1::Alert alert;
      if (!alert.ParseFromArray(m.payload, static_cast<int>(m.len))) return;
      audit.Viewed({alert.alert_id()});
      if (show_alerts) {
        std::printf("ALERT %-6s %-27s %s\n", v1::Alert::Severity_Name(alert.severity()).c_str(),
                    alert.rule_id().c_str(), alert.summary().c_str());
        std::fflush(stdout);
      }
      std::lock_guard<std::mutex> lock(shown_mutex);
      shown.push_back(std::move(alert));
    });
    if (!status.ok()) std::cerr << "demo: reading alerts: " << status.message() << "\n";
  });

  // The force, produced while the engine consumes.
  Result<KafkaHandle> producer = MakeProducer(broker.bootstrap(), {{"linger.ms", "20"}});
  if (!producer.ok()) throw FatalError(producer.status().message());
  uint64_t produced = 0;
  double first_record_at = -1;  // when the engine had joined its group and read a record
  auto note_first_record = [&] {
    if (first_record_at < 0 && consumed.load() > 0) first_record_at = phases.SinceStart();
  };
  auto last_progress = std::chrono::steady_clock::now();
  ForceStats stats = force.Generate(
      [&](const v1::Envelope& event) {
        Status sent = ProduceRecord(producer->get(), topics.For(StreamOf(event)), OfficerId(event),
                                    EncodeEvent(event));
        if (!sent.ok()) throw FatalError(sent.message());
        // Only the client's error events to serve (no delivery reports are asked for): polling
        // for each of a million records cost more than the produce call.
        if (++produced % 1024 == 0) rd_kafka_poll(producer->get(), 0);
        while (produced > consumed.load() + kMaxRecordsAhead && !engine_done && !interrupted) {
          rd_kafka_poll(producer->get(), 10);
        }
        note_first_record();
      },
      [&](int day, int total_days, const ForceStats&) {
        if (Seconds(last_progress) < 2 && day < total_days) return;
        last_progress = std::chrono::steady_clock::now();
        std::fprintf(stderr, "demo: day %d/%d generated, %s events produced, %s consumed (%.0f s)\n",
                     day, total_days, Thousands(produced).c_str(), Thousands(consumed.load()).c_str(),
                     phases.SinceStart());
      });
  Status flushed = Flush(producer->get(), 120000);
  if (!flushed.ok()) std::cerr << "demo: " << flushed.message() << "\n";
  input_closed = true;
  phases.End("producing");
  while (consumed.load() < produced && !engine_done && !interrupted) {
    note_first_record();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  note_first_record();
  phases.End("processing the rest");
  engine.join();
  phases.End("stopping the engine (last windows, checkpoint, state closed)");
  if (!report.ok()) {
    display_stop = true;
    display.join();
    std::cerr << "vigil demo: the engine failed: " << report.status().message() << "\n";
    return 1;
  }
  // Let the display catch up with everything the engine published.
  const auto wait_from = std::chrono::steady_clock::now();
  while (Seconds(wait_from) < 20) {
    {
      std::lock_guard<std::mutex> lock(shown_mutex);
      if (shown.size() >= report->published_alerts) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  display_stop = true;
  display.join();
  Flush(audit_producer->get(), 10000);
  phases.End("reading the last alerts back");

  const auto& m = report->metrics;
  std::printf("\nVigil demo finished in %.1f s%s\n", phases.SinceStart(), interrupted ? " (interrupted)" : "");
  std::printf("  time              %s", phases.Describe().c_str());
  if (first_record_at >= 0) {
    std::printf("; the engine's first record at %.1f s (after joining its consumer group)", first_record_at);
  }
  std::printf("\n");
  std::printf("  events produced   %s (roster %s, access %s, complaints %s)\n",
              Thousands(stats.total()).c_str(), Thousands(stats.roster).c_str(),
              Thousands(stats.access).c_str(), Thousands(stats.complaints).c_str());
  std::printf("  events processed  %s, %s events/s through Kafka, the rules and RocksDB\n",
              Thousands(m.events_total()).c_str(),
              Thousands(static_cast<uint64_t>(m.events_total() / std::max(report->seconds, 1e-3))).c_str());
  std::printf("  late but used %s, too late %s, duplicates %s, invalid %s\n",
              Thousands(m.late_accepted).c_str(), Thousands(m.too_late).c_str(),
              Thousands(m.duplicates).c_str(), Thousands(m.invalid).c_str());
  std::printf("  alerts published  %s, shown %zu\n", Thousands(report->published_alerts).c_str(),
              shown.size());
  PrintTable(MatchAlerts(force.plan(), shown), m);
  if (args.Has("keep-open") && !interrupted) {
    std::printf("\nkeeping the broker (%s) and the dashboard (%s) up; Ctrl-C to stop\n",
                broker.bootstrap().c_str(), dashboard->url().c_str());
    std::fflush(stdout);
    while (!interrupted) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return 0;
}

}  // namespace vigil
