// End-to-end throughput: the synthetic force through Kafka (librdkafka's mock cluster, in this
// process) with the live engine (`vigil run --until-caught-up`), side by side with a plain
// librdkafka consumer that reads the same topics and does nothing with the records.
//
//   build/bench/e2e_throughput --officers 45000 --days 7 [--partitions 32]
//
// Everything is produced before either reader starts (so producing is not measured and nothing is
// produced while consumed), with enough partitions that none reaches the mock cluster's ~5 MiB cap;
// the bench checks that no partition dropped anything. Each reader is timed from the moment it
// receives its first record to the moment it is done with the last one, which leaves out the
// consumer-group join (about 3 s on the mock cluster) for both in the same way. The plain consumer
// is done at its last record; the engine when RunLive returns (below).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
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

std::vector<const std::string*> InputTopics(const Topics& topics) {
  return {&topics.roster, &topics.access, &topics.complaints};
}

double Seconds(WallClock::time_point from, WallClock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Publishes every event, keyed by officer, as `vigil produce` does, and waits for all acks.
Status ProduceAll(const std::string& brokers, const Topics& topics, const bench::EventBuffer& events) {
  Result<KafkaHandle> producer =
      MakeProducer(brokers, {{"linger.ms", "20"}, {"batch.num.messages", "10000"}});
  if (!producer.ok()) return producer.status();
  Status status = Status::Ok();
  events.ForEach([&](Stream stream, std::string_view value) {
    if (!status.ok()) return;
    Result<v1::Envelope> event = DecodeEvent(stream, value);
    if (!event.ok()) {
      status = event.status();
      return;
    }
    status = ProduceRecord(producer->get(), topics.For(stream), OfficerId(*event), value);
    rd_kafka_poll(producer->get(), 0);
  });
  if (!status.ok()) return status;
  return Flush(producer->get(), 300000);
}

// The records the input topics hold, or an error if the mock cluster dropped any (a partition
// whose low watermark is above 0 lost its oldest records to the ~5 MiB cap).
Result<uint64_t> RecordsHeld(const std::string& brokers, const Topics& topics) {
  Result<KafkaHandle> client = MakeProducer(brokers);
  if (!client.ok()) return client.status();
  uint64_t held = 0;
  for (const std::string* topic : InputTopics(topics)) {
    Result<int> partitions = PartitionCount(client->get(), *topic);
    if (!partitions.ok()) return partitions.status();
    for (int p = 0; p < *partitions; ++p) {
      Result<std::pair<int64_t, int64_t>> offsets = QueryOffsets(client->get(), *topic, p);
      if (!offsets.ok()) return offsets.status();
      if (offsets->first > 0) {
        return Status::Error(*topic + "/" + std::to_string(p) + " dropped its first " +
                             std::to_string(offsets->first) +
                             " records (mock cluster cap): use more --partitions");
      }
      held += static_cast<uint64_t>(offsets->second);
    }
  }
  return held;
}

struct ReaderTiming {
  double join_seconds = 0;      // start to first record
  double consumed_seconds = 0;  // first record to last record received
  double done_seconds = 0;      // first record to done: every record processed (the measure)
};

// A plain consumer in its own group: subscribes to the input topics and reads `expected` records.
Result<ReaderTiming> PlainConsumer(const std::string& brokers, const Topics& topics, uint64_t expected) {
  const auto start = WallClock::now();
  Result<KafkaHandle> consumer = MakeConsumer(
      brokers, {{"group.id", "bench-plain-consumer"}, {"auto.offset.reset", "earliest"},
                {"enable.auto.commit", "false"}});
  if (!consumer.ok()) return consumer.status();
  PartitionList subscription(rd_kafka_topic_partition_list_new(3));
  for (const std::string* topic : InputTopics(topics)) {
    rd_kafka_topic_partition_list_add(subscription.get(), topic->c_str(), RD_KAFKA_PARTITION_UA);
  }
  if (rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer->get(), subscription.get())) {
    return Status::Error("cannot subscribe: " + KafkaError(err));
  }
  uint64_t read = 0;
  WallClock::time_point first, last;
  while (read < expected) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer->get(), 100);
    if (!m) continue;
    if (!m->err) {
      if (read++ == 0) first = WallClock::now();
      if (read == expected) last = WallClock::now();
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(consumer->get());
  return ReaderTiming{Seconds(start, first), Seconds(first, last), Seconds(first, last)};
}

// `vigil run --until-caught-up` on a fresh state directory; a watcher thread notes when the engine
// consumed its first and its last record. The engine is done when RunLive returns: every record
// processed, every window closed, the alerts published and the final checkpoint written.
Result<ReaderTiming> RunEngine(const std::string& brokers, uint64_t expected, LiveReport& report) {
  TempDir state("vigil-bench-e2e-");
  std::atomic<uint64_t> consumed{0};
  std::atomic<bool> done{false};
  LiveOptions live;
  live.brokers = brokers;
  live.group = "bench-vigil";
  live.state_dir = state.path();
  live.until_caught_up = true;
  live.progress = false;
  live.records_consumed = &consumed;
  const auto start = WallClock::now();
  WallClock::time_point first, last;
  std::thread watcher([&] {
    bool seen_first = false;
    while (!done) {
      const uint64_t n = consumed.load();
      if (!seen_first && n > 0) first = WallClock::now(), seen_first = true;
      if (n >= expected) {
        last = WallClock::now();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  Result<LiveReport> result = RunLive(live, DefaultRulesConfig());
  const auto end = WallClock::now();
  done = true;
  watcher.join();
  if (!result.ok()) return result.status();
  report = *result;
  if (report.records < expected) {
    return Status::Error("the engine read " + std::to_string(report.records) + " of " +
                         std::to_string(expected) + " records");
  }
  return ReaderTiming{Seconds(start, first), Seconds(first, last), Seconds(first, end)};
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<OptionSpec> specs = {
      {"officers", "N", "officers in the synthetic force", "45000"},
      {"days", "D", "days of history", "7"},
      {"seed", "S", "seed", "1"},
      {"access-per-shift", "X",
       "the generator's volume: mean access events per worked shift, the small volume by default "
       "(the in-process broker keeps only about 5 MiB a partition)", "1.5"},
      {"access-per-officer-day", "X",
       "the realistic volume instead: mean access events per officer per day (45: about 2 million a "
       "day for 45,000 officers); needs a small force or few days here", ""},
      {"partitions", "P", "partitions per topic on the mock cluster (each must stay under ~5 MiB)", "32"},
      {"results", "FILE", "append the figures to this Markdown file", VIGIL_SOURCE_DIR "/bench/RESULTS.md"},
  };
  const std::string usage = Usage(
      "e2e_throughput [options]",
      "End-to-end throughput through Kafka (in-process mock cluster): the live engine with\n"
      "--until-caught-up against a plain consumer reading the same records, and their ratio.",
      specs);
  const Args args = bench::ParseCommandLineOrExit("e2e_throughput", usage, specs, argc, argv);
  Result<long long> officers = args.GetInt("officers", 1, 10000000);
  Result<long long> days = args.GetInt("days", 1, 400);
  Result<long long> seed = args.GetInt("seed", 0, 1LL << 40);
  Result<long long> partitions = args.GetInt("partitions", 1, 1024);
  bench::ExitOnBadOption("e2e_throughput", {&officers, &days, &seed, &partitions});
  SyntheticForceOptions force;
  force.officers = *officers;
  force.days = static_cast<int>(*days);
  force.seed = static_cast<uint64_t>(*seed);
  bench::ReadVolume("e2e_throughput", args, 0, force);

  const bench::EventBuffer events = bench::EncodeForce(force);
  MockBroker broker;
  const Topics topics;
  Status created = broker.CreateVigilTopics(topics, static_cast<int>(*partitions));
  if (!created.ok()) {
    std::fprintf(stderr, "e2e_throughput: %s\n", created.message().c_str());
    return 1;
  }
  const auto produce_start = WallClock::now();
  Status produced = ProduceAll(broker.bootstrap(), topics, events);
  Result<uint64_t> held =
      produced.ok() ? RecordsHeld(broker.bootstrap(), topics) : Result<uint64_t>(produced);
  if (!held.ok() || *held != events.size()) {
    std::fprintf(stderr, "e2e_throughput: %s\n",
                 held.ok() ? "the topics do not hold every record produced" : held.status().message().c_str());
    return 1;
  }
  std::fprintf(stderr, "produced %zu records in %.1f s; reading them with a plain consumer\n",
               events.size(), Seconds(produce_start, WallClock::now()));

  Result<ReaderTiming> plain = PlainConsumer(broker.bootstrap(), topics, *held);
  if (!plain.ok()) {
    std::fprintf(stderr, "e2e_throughput: plain consumer: %s\n", plain.status().message().c_str());
    return 1;
  }
  std::fprintf(stderr, "plain consumer: %.0f records/s; now the engine\n", *held / plain->done_seconds);
  LiveReport report;
  Result<ReaderTiming> engine = RunEngine(broker.bootstrap(), *held, report);
  if (!engine.ok()) {
    std::fprintf(stderr, "e2e_throughput: engine: %s\n", engine.status().message().c_str());
    return 1;
  }
  const double plain_rate = *held / plain->done_seconds;
  const double engine_rate = *held / engine->done_seconds;
  char figures[640];
  std::snprintf(figures, sizeof figures,
                "%llu records, %d partitions per topic; plain consumer %.0f records/s (%.2f s, join "
                "%.1f s); engine **%.0f records/s** (%.2f s from first record to done, of which "
                "%.2f s to receive the last record; join %.1f s), %llu checkpoints, %llu alerts; "
                "**engine/plain %.1f%%**",
                static_cast<unsigned long long>(*held), static_cast<int>(*partitions), plain_rate,
                plain->done_seconds, plain->join_seconds, engine_rate, engine->done_seconds,
                engine->consumed_seconds, engine->join_seconds,
                static_cast<unsigned long long>(report.checkpoints),
                static_cast<unsigned long long>(report.published_alerts),
                100.0 * engine_rate / plain_rate);
  std::printf("officers=%lld days=%lld %s\n", *officers, *days, figures);
  bench::AppendResult(args.Get("results"), "End-to-end throughput",
                      bench::CommandLine("e2e_throughput", argc, argv), figures);
  return 0;
}
