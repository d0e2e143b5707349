// Alert latency at a steady input rate: the live engine (`vigil run`, checkpointing every
// --checkpoint-interval-ms) consumes from the in-process mock cluster while a producer paces the
// synthetic force at --rate events/s and a reader follows vigil.alerts.
//
//   build/bench/latency [--rate 10000] [--checkpoint-interval-ms 1000] [--officers 20000 --forces 10]
//
// What is measured, for each alert read: the wall time at which the reader received it minus the
// wall time at which the *enabling* event was produced. Rules decide in event time: an alert can
// only be decided once the engine watermark (highest event time seen, minus max_out_of_orderness,
// minimum over busy partitions) passes the rule's decision instant T: the last evidence event's
// time, or later for rules that wait for the roster grace or a day's close (DecisionInstant below).
// The enabling event is the first event produced whose time exceeds T + max_out_of_orderness, or
// the last-produced evidence event if that came later. No engine watermark can pass T before that
// event is read, so the latency measured is never shorter than the engine's own. The latency from
// the last evidence event, which also includes the event-time wait, is reported beside it.
//
// The force is --forces independent synthetic forces (different seeds, ids prefixed "F<k>-"),
// merged in event-time order: each plants the same fixed set of patterns, so this gives enough
// alerts for a percentile at the same total volume.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bench_util.h"
#include "cli.h"
#include "kafka/kafka.h"
#include "kafka/kafka_io.h"
#include "live/live_engine.h"
#include "kafka/mock_broker.h"
#include "pipeline.h"
#include "rules_config.h"

using namespace vigil;
using WallClock = std::chrono::steady_clock;

namespace {

struct PacedEvent {
  Millis time;
  Stream stream;
  std::string officer, event_id, value;
};

// Makes force k's identifiers distinct from every other force's.
void Prefix(v1::Envelope& e, const std::string& prefix) {
  if (e.has_roster()) {
    auto& r = *e.mutable_roster();
    r.set_event_id(prefix + r.event_id());
    r.set_officer_id(prefix + r.officer_id());
    r.set_shift_id(prefix + r.shift_id());
  } else if (e.has_access()) {
    auto& a = *e.mutable_access();
    a.set_event_id(prefix + a.event_id());
    a.set_officer_id(prefix + a.officer_id());
    if (!a.subject_id().empty()) a.set_subject_id(prefix + a.subject_id());
  } else if (e.has_complaint()) {
    auto& c = *e.mutable_complaint();
    c.set_event_id(prefix + c.event_id());
    c.set_officer_id(prefix + c.officer_id());
    c.set_complaint_id(prefix + c.complaint_id());
    c.set_complainant_id(prefix + c.complainant_id());
  }
}

// `forces` independent forces merged by event time (each keeps its own order, late events included).
std::vector<PacedEvent> MergedForces(const SyntheticForceOptions& options, int forces, size_t& planted) {
  std::vector<std::vector<PacedEvent>> each(forces);
  planted = 0;
  for (int k = 0; k < forces; ++k) {
    SyntheticForceOptions o = options;
    o.seed = options.seed + k;
    SyntheticForce force(o);
    for (const auto& p : force.plan()) planted += p.near_miss || p.benign ? 0 : 1;
    const std::string prefix = "F" + std::to_string(k) + "-";
    force.Generate([&](const v1::Envelope& generated) {
      v1::Envelope e = generated;
      Prefix(e, prefix);
      each[k].push_back({EventTime(e), StreamOf(e), OfficerId(e), EventId(e), EncodeEvent(e)});
    });
  }
  using Head = std::pair<Millis, int>;  // (time of the next event, force)
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
  std::vector<size_t> next(forces, 0);
  for (int k = 0; k < forces; ++k) {
    if (!each[k].empty()) heads.push({each[k][0].time, k});
  }
  std::vector<PacedEvent> merged;
  while (!heads.empty()) {
    const int k = heads.top().second;
    heads.pop();
    merged.push_back(std::move(each[k][next[k]++]));
    if (next[k] < each[k].size()) heads.push({each[k][next[k]].time, k});
  }
  return merged;
}

// The event time from which the rule can decide the alert (contract, "Rules"; operators/):
// roster-reading rules wait for the roster grace, access_volume_spike for its day's close,
// bradford_factor for day d's 12:00 + grace; the others decide at their last event.
Millis DecisionInstant(const v1::Alert& alert, const TimeSettings& time) {
  const Millis start = ToMillis(alert.window_start()), end = ToMillis(alert.window_end());
  const std::string& rule = alert.rule_id();
  if (rule == "off_duty_access" || rule == "overtime_overlap") return end + time.roster_grace;
  if (rule == "bradford_factor") return start + 12 * kHour + time.roster_grace;
  return end;  // access_volume_spike: window_end is the day's close
}

// What the producer records: when each event was produced, in production order.
struct ProductionLog {
  std::vector<PacedEvent> events;
  std::vector<WallClock::time_point> produced_at;  // filled by the producer, index = event
  std::vector<Millis> max_time_so_far;         // highest event time among events [0, i]
  std::unordered_map<std::string, size_t> index_of;  // event id -> index
};

struct AlertRead {
  v1::Alert alert;
  WallClock::time_point read_at;
};

// Follows the alert topic from its beginning until `stop`, noting when each alert arrived.
Status FollowAlerts(const std::string& brokers, const std::string& topic, const std::atomic<bool>& stop,
                    std::vector<AlertRead>& out, std::mutex& mutex) {
  Result<KafkaHandle> consumer = MakeConsumer(
      brokers, {{"group.id", "bench-latency-reader"}, {"fetch.wait.max.ms", "5"},
                {"enable.auto.commit", "false"}});
  if (!consumer.ok()) return consumer.status();
  Result<int> partitions = PartitionCount(consumer->get(), topic);
  if (!partitions.ok()) return partitions.status();
  PartitionList assignment(rd_kafka_topic_partition_list_new(*partitions));
  for (int p = 0; p < *partitions; ++p) {
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(consumer->get(), assignment.get());
  while (!stop) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer->get(), 50);
    if (!m) continue;
    const auto now = WallClock::now();
    v1::Alert alert;
    if (!m->err && alert.ParseFromArray(m->payload, static_cast<int>(m->len))) {
      std::lock_guard<std::mutex> lock(mutex);
      out.push_back({std::move(alert), now});
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(consumer->get());
  return Status::Ok();
}

struct PacingReport {
  double seconds = 0;
  // Produced but not yet consumed by the engine, sampled every 1000 events.
  std::vector<double> backlog;
};

// Produces every event at `rate` events/s from the moment the engine has read the first one.
Result<PacingReport> ProducePaced(const std::string& brokers, const Topics& topics, double rate,
                          ProductionLog& log, const std::atomic<uint64_t>& consumed,
                          const std::atomic<bool>& engine_done) {
  Result<KafkaHandle> producer = MakeProducer(brokers, {{"linger.ms", "5"}});
  if (!producer.ok()) return producer.status();
  PacingReport report;
  WallClock::time_point start;
  for (size_t i = 0; i < log.events.size(); ++i) {
    const PacedEvent& e = log.events[i];
    if (i == 1) {  // the engine has joined its group and is reading: pacing starts now
      while (consumed.load() == 0 && !engine_done) rd_kafka_poll(producer->get(), 10);
      start = WallClock::now();
    }
    if (i > 0) {
      const auto due = start + std::chrono::duration_cast<WallClock::duration>(
                                   std::chrono::duration<double>((i - 1) / rate));
      if (WallClock::now() < due) std::this_thread::sleep_until(due);
    }
    log.produced_at[i] = WallClock::now();
    Status sent = ProduceRecord(producer->get(), topics.For(e.stream), e.officer, e.value);
    if (!sent.ok()) return sent;
    rd_kafka_poll(producer->get(), 0);
    if (i % 1000 == 0) report.backlog.push_back(static_cast<double>(i + 1 - consumed.load()));
  }
  report.seconds = std::chrono::duration<double>(WallClock::now() - start).count();
  if (Status flushed = Flush(producer->get(), 60000); !flushed.ok()) return flushed;
  return report;
}

struct Latencies {
  std::vector<double> from_enabling_ms, from_last_evidence_ms;
  int unmatched = 0;  // alerts naming no produced event (should not happen)
};

// With `verbose`, one line per alert on stderr.
Latencies Measure(const std::vector<AlertRead>& alerts, const ProductionLog& log,
                  const TimeSettings& time, bool verbose) {
  Latencies out;
  for (const AlertRead& read : alerts) {
    Millis decision = DecisionInstant(read.alert, time);
    size_t last_evidence = 0;
    bool any = false;
    for (const auto& evidence : read.alert.evidence()) {
      auto at = log.index_of.find(evidence.event_id());
      if (at == log.index_of.end()) continue;
      any = true;
      last_evidence = std::max(last_evidence, at->second);
      decision = std::max(decision, log.events[at->second].time);
    }
    if (!any) {
      ++out.unmatched;
      continue;
    }
    // The first event after which a watermark can pass `decision`.
    const size_t first_past = static_cast<size_t>(
        std::upper_bound(log.max_time_so_far.begin(), log.max_time_so_far.end(),
                         decision + time.max_out_of_orderness) -
        log.max_time_so_far.begin());
    const size_t enabling = std::max(first_past, last_evidence);
    if (enabling >= log.events.size()) {
      ++out.unmatched;
      continue;
    }
    auto ms = [&](size_t i) {
      return std::chrono::duration<double, std::milli>(read.read_at - log.produced_at[i]).count();
    };
    out.from_enabling_ms.push_back(ms(enabling));
    out.from_last_evidence_ms.push_back(ms(last_evidence));
    if (verbose) {
      std::fprintf(stderr, "%-28s decides at %s, enabling event #%zu: %.0f ms (last evidence #%zu: %.0f ms)\n",
                   read.alert.rule_id().c_str(), FormatTime(decision).c_str(), enabling, ms(enabling),
                   last_evidence, ms(last_evidence));
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<OptionSpec> specs = {
      {"officers", "N", "officers in all, split evenly over the forces", "20000"},
      {"forces", "K", "independent synthetic forces merged (each plants the same patterns)", "10"},
      {"days", "D", "days of history", "21"},
      {"seed", "S", "seed of the first force (force k has seed S + k)", "1"},
      {"access-per-shift", "X",
       "the generator's volume: mean access events per worked shift, the small volume by default "
       "(the in-process broker keeps only about 5 MiB a partition)", "1.5"},
      {"access-per-officer-day", "X",
       "the realistic volume instead: mean access events per officer per day (45: about 2 million a "
       "day for 45,000 officers); needs a small force or few days here", ""},
      {"rate", "EVENTS/S", "steady production rate", "10000"},
      {"checkpoint-interval-ms", "MS", "engine checkpoint (and alert publication) interval", "1000"},
      {"partitions", "P", "partitions per topic on the mock cluster", "16"},
      {"verbose", "", "print each alert's latency and the engine's backlog over time", ""},
      {"results", "FILE", "append the figures to this Markdown file", VIGIL_SOURCE_DIR "/bench/RESULTS.md"},
  };
  const std::string usage = Usage(
      "latency [options]",
      "Alert latency at a steady input rate through Kafka (in-process mock cluster) and the live\n"
      "engine: p50/p99/max from producing the event that let a rule decide to reading the alert.",
      specs);
  const Args args = bench::ParseCommandLineOrExit("latency", usage, specs, argc, argv);
  Result<long long> officers = args.GetInt("officers", 1, 10000000);
  Result<long long> forces = args.GetInt("forces", 1, 1000);
  Result<long long> days = args.GetInt("days", 1, 400);
  Result<long long> seed = args.GetInt("seed", 0, 1LL << 40);
  Result<long long> rate = args.GetInt("rate", 1, 10000000);
  Result<long long> interval = args.GetInt("checkpoint-interval-ms", 10, 60000);
  Result<long long> partitions = args.GetInt("partitions", 1, 1024);
  bench::ExitOnBadOption("latency", {&officers, &forces, &days, &seed, &rate, &interval, &partitions});
  SyntheticForceOptions force;
  force.officers = std::max(1LL, *officers / *forces);
  force.days = static_cast<int>(*days);
  force.seed = static_cast<uint64_t>(*seed);
  bench::ReadVolume("latency", args, 0, force);

  ProductionLog log;
  size_t planted = 0;
  log.events = MergedForces(force, static_cast<int>(*forces), planted);
  if (log.events.size() < 2) {
    std::fprintf(stderr, "latency: the force has fewer than 2 events\n");
    return 2;
  }
  log.produced_at.resize(log.events.size());
  Millis max_time = kMinTime;
  for (size_t i = 0; i < log.events.size(); ++i) {
    max_time = std::max(max_time, log.events[i].time);
    log.max_time_so_far.push_back(max_time);
    log.index_of.emplace(log.events[i].event_id, i);
  }
  std::fprintf(stderr, "%zu events from %lld forces, %zu patterns planted; %.0f s at %lld events/s\n",
               log.events.size(), *forces, planted, log.events.size() / double(*rate), *rate);

  MockBroker broker;
  const Topics topics;
  if (Status created = broker.CreateVigilTopics(topics, static_cast<int>(*partitions)); !created.ok()) {
    std::fprintf(stderr, "latency: %s\n", created.message().c_str());
    return 1;
  }
  const v1::RulesConfig config = DefaultRulesConfig();
  TempDir state("vigil-bench-latency-");
  std::atomic<bool> stop_engine{false}, engine_done{false}, stop_reader{false};
  std::atomic<uint64_t> consumed{0};
  LiveOptions live;
  live.brokers = broker.bootstrap();
  live.group = "bench-latency";
  live.state_dir = state.path();
  live.checkpoint_interval_ms = static_cast<int>(*interval);
  live.progress = false;
  live.stop = &stop_engine;
  live.records_consumed = &consumed;
  Result<LiveReport> report = Status::Error("the engine did not run");
  std::thread engine([&] {
    try {
      report = RunLive(live, config);
    } catch (const FatalError& e) {
      report = Status::Error(e.what());
    }
    engine_done = true;
  });
  std::vector<AlertRead> alerts;
  std::mutex alerts_mutex;
  Status reading = Status::Ok();
  std::thread reader([&] {
    reading = FollowAlerts(broker.bootstrap(), topics.alerts, stop_reader, alerts, alerts_mutex);
  });

  Result<PacingReport> pacing =
      ProducePaced(broker.bootstrap(), topics, static_cast<double>(*rate), log, consumed, engine_done);
  // Whatever became decidable is published within a checkpoint interval or two.
  if (pacing.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(2 * *interval + 2000));
  stop_engine = true;
  engine.join();
  stop_reader = true;
  reader.join();
  if (!pacing.ok()) {
    std::fprintf(stderr, "latency: producing: %s\n", pacing.status().message().c_str());
    return 1;
  }
  if (!reading.ok()) {
    std::fprintf(stderr, "latency: reading alerts: %s\n", reading.message().c_str());
    return 1;
  }
  if (!report.ok()) {
    std::fprintf(stderr, "latency: the engine failed: %s\n", report.status().message().c_str());
    return 1;
  }

  const bool verbose = args.Has("verbose");
  Latencies latencies = Measure(alerts, log, TimeSettings::From(config), verbose);
  if (verbose) {
    for (size_t i = 0; i < pacing->backlog.size(); i += 10) {
      std::fprintf(stderr, "backlog at event %zu: %.0f\n", i * 1000, pacing->backlog[i]);
    }
  }
  auto& enabling = latencies.from_enabling_ms;
  auto& evidence = latencies.from_last_evidence_ms;
  char figures[1024];
  std::snprintf(figures, sizeof figures,
                "%zu events at %.0f events/s (asked %lld; engine backlog p50 %.0f, max %.0f events), "
                "checkpoint interval %lld ms; %zu alerts (%d unmatched); from enabling event: **p50 %.0f ms, "
                "p99 %.0f ms, max %.0f ms**; from last evidence event: p50 %.0f ms, p99 %.0f ms, "
                "max %.0f ms; %llu snapshots held processing %.0f ms at most (%.0f ms in all); waits for a batch to be durable %.0f ms at most",
                log.events.size(), (log.events.size() - 1) / pacing->seconds, *rate,
                bench::Percentile(pacing->backlog, 50), bench::Percentile(pacing->backlog, 100),
                *interval, enabling.size(),
                latencies.unmatched, bench::Percentile(enabling, 50), bench::Percentile(enabling, 99),
                bench::Percentile(enabling, 100), bench::Percentile(evidence, 50),
                bench::Percentile(evidence, 99), bench::Percentile(evidence, 100),
                static_cast<unsigned long long>(report->snapshots), report->snapshot_hold_max_seconds * 1e3,
                report->snapshot_hold_seconds * 1e3, report->write_wait_max_seconds * 1e3);
  std::printf("%s\n", figures);
  bench::AppendResult(args.Get("results"), "Latency", bench::CommandLine("latency", argc, argv),
                      figures);
  return 0;
}
