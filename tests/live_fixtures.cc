#include "live_fixtures.h"

#include <doctest/doctest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include "harness.h"
#include "kafka/kafka_io.h"
#include "rules_config.h"
#include "synthetic_force.h"

namespace vigil::testing {

const char kBusyRules[] = R"({
  "accessVolumeSpike": {"minCount": 3, "sigmas": 0, "baselineDays": 7, "minHistoryDays": 1},
  "bradfordFactor": {"threshold": 1, "cooldownDays": 1}
})";

const char kShadowRules[] = R"({
  "accessVolumeSpike": {"minCount": 4, "sigmas": 0, "baselineDays": 7, "minHistoryDays": 1},
  "bradfordFactor": {"threshold": 2, "cooldownDays": 1}
})";

ForceSlice ProduceForce(const std::string& brokers, const std::string& dir, int officers, int days,
                        uint64_t first, uint64_t last) {
  SyntheticForceOptions options;
  options.officers = officers;
  options.days = days;
  SyntheticForce force(options);
  const Topics topics;
  ForceSlice slice{dir + "/events.ndjson", {}, 0};
  std::ofstream out(slice.events_path);
  Result<KafkaHandle> producer = MakeProducer(brokers);
  REQUIRE(producer.ok());
  uint64_t n = 0;
  bool all_sent = true;
  force.Generate([&](const v1::Envelope& event) {
    out << ToJsonLine(event) << "\n";
    uint64_t index = n++;
    if (index < first || index >= last) return;
    all_sent &= ProduceRecord(producer->get(), topics.For(StreamOf(event)), OfficerId(event),
                              EncodeEvent(event)).ok();
    ++slice.records;
    if (n % 2000 == 0) {
      all_sent &= ProduceRecord(producer->get(), topics.access, "MP100001",
                                "not an event " + std::to_string(n)).ok();
      ++slice.records;
    }
    rd_kafka_poll(producer->get(), 0);
  });
  REQUIRE(all_sent);
  REQUIRE(Flush(producer->get(), 120000).ok());
  // Where the garbage landed: read it back from the access topic.
  REQUIRE(ReadTopic(brokers, topics.access, ReadOptions{}, [&](const rd_kafka_message_t& m) {
            std::string_view value(static_cast<const char*>(m.payload), m.len);
            if (value.rfind("not an event", 0) == 0) {
              slice.garbage_sources.insert(topics.access + "/" + std::to_string(m.partition) + "/" +
                                           std::to_string(m.offset));
            }
          }).ok());
  return slice;
}

std::vector<v1::Alert> ReplayFile(const std::string& events, const v1::RulesConfig& config) {
  TempDir state("vigil-test-replay-");
  Pipeline pipeline = MakePipeline(config, OpenRocksBackend(state.path(), RocksOptions{}));
  std::vector<v1::Alert> alerts;
  std::ifstream in(events);
  ReplayStream(in, events, pipeline, [&](const v1::Alert& a) { alerts.push_back(a); },
               [](const DeadLetter&) {}, false);
  return alerts;
}

std::vector<std::string> PublishedAlertIds(const std::string& brokers, const std::string& topic) {
  std::vector<std::string> ids;
  REQUIRE(ReadTopic(brokers, topic, ReadOptions{}, [&](const rd_kafka_message_t& m) {
            v1::Alert alert;
            REQUIRE(alert.ParseFromArray(m.payload, static_cast<int>(m.len)));
            ids.push_back(alert.alert_id());
          }).ok());
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::string> DeadLetterSources(const std::string& brokers) {
  std::vector<std::string> sources;
  REQUIRE(ReadTopic(brokers, Topics{}.dlq, ReadOptions{}, [&](const rd_kafka_message_t& m) {
            sources.push_back(HeaderValue(m, "vigil.source"));
          }).ok());
  std::sort(sources.begin(), sources.end());
  return sources;
}

void CheckExactlyOnce(const std::vector<std::string>& published,
                      const std::vector<v1::Alert>& expected) {
  std::vector<std::string> expected_ids = SortedIds(expected);
  std::vector<std::string> missing, extra;
  std::set_difference(expected_ids.begin(), expected_ids.end(), published.begin(), published.end(),
                      std::back_inserter(missing));
  std::set_difference(published.begin(), published.end(), expected_ids.begin(), expected_ids.end(),
                      std::back_inserter(extra));
  // An extra id replay also gives was published twice; one it does not, decided on other input.
  std::vector<std::string> twice, unexpected;
  for (const std::string& id : extra) {
    (std::binary_search(expected_ids.begin(), expected_ids.end(), id) ? twice : unexpected).push_back(id);
  }
  CHECK_MESSAGE(missing.empty(), missing.size() << " alerts missing, e.g. " << (missing.empty() ? "" : missing[0]));
  CHECK_MESSAGE(twice.empty(), twice.size() << " alerts published more than once, e.g. "
                                            << (twice.empty() ? "" : twice[0]));
  CHECK_MESSAGE(unexpected.empty(), unexpected.size() << " alerts replay does not give, e.g. "
                                                      << (unexpected.empty() ? "" : unexpected[0]));
  CHECK(published.size() == expected_ids.size());
}

ForceOnKafka::ForceOnKafka(const std::string& name, int brokers)
    : dir(name),
      rules_path(dir.path() + "/rules.json"),
      shadow_rules_path(dir.path() + "/shadow-rules.json"),
      broker(brokers) {
  std::ofstream(rules_path) << kBusyRules;
  std::ofstream(shadow_rules_path) << kShadowRules;
  Result<v1::RulesConfig> loaded = ParseRulesConfig(kBusyRules);
  REQUIRE(loaded.ok());
  config = *loaded;
  Result<v1::RulesConfig> shadow = ParseRulesConfig(kShadowRules);
  REQUIRE(shadow.ok());
  shadow_config = *shadow;
  REQUIRE(broker.CreateVigilTopics(Topics{}, 3).ok());
  input = ProduceForce(broker.bootstrap(), dir.path(), 3000, 14);
}

void CheckPublishedExactlyOnce(const ForceOnKafka& setup) {
  CheckExactlyOnce(PublishedAlertIds(setup.brokers()), ReplayFile(setup.input.events_path, setup.config));
  CHECK(DeadLetterSources(setup.brokers()) ==
        std::vector<std::string>(setup.input.garbage_sources.begin(), setup.input.garbage_sources.end()));
}

void CheckShadowPublishedExactlyOnce(const ForceOnKafka& setup) {
  CheckExactlyOnce(PublishedAlertIds(setup.brokers(), Topics{}.alerts_shadow),
                   ReplayFile(setup.input.events_path, setup.shadow_config));
}

std::map<std::pair<int, int32_t>, int64_t> CommittedInputOffsets(const std::string& brokers,
                                                                 int partitions) {
  const Topics topics;
  Result<KafkaHandle> consumer = MakeConsumer(brokers, {{"group.id", "vigil"}});
  REQUIRE(consumer.ok());
  PartitionList list(rd_kafka_topic_partition_list_new(kStreamCount * partitions));
  for (int s = 0; s < kStreamCount; ++s) {
    for (int32_t p = 0; p < partitions; ++p) {
      rd_kafka_topic_partition_list_add(list.get(), topics.For(static_cast<Stream>(s)).c_str(), p);
    }
  }
  REQUIRE(rd_kafka_committed(consumer->get(), list.get(), 10000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  std::map<std::pair<int, int32_t>, int64_t> offsets;
  for (int i = 0; i < list->cnt; ++i) {
    const auto& tp = list->elems[i];
    int stream = tp.topic == topics.roster ? 0 : tp.topic == topics.access ? 1 : 2;
    offsets[{stream, tp.partition}] = tp.offset;
  }
  rd_kafka_consumer_close(consumer->get());
  return offsets;
}

uint64_t RecordsWithinLimit(const std::string& brokers, uint64_t limit, int partitions) {
  Result<KafkaHandle> producer = MakeProducer(brokers);
  REQUIRE(producer.ok());
  uint64_t records = 0;
  for (int s = 0; s < kStreamCount; ++s) {
    for (int32_t p = 0; p < partitions; ++p) {
      auto range = QueryOffsets(producer->get(), Topics{}.For(static_cast<Stream>(s)), p);
      REQUIRE(range.ok());
      REQUIRE(range->first == 0);  // nothing dropped: offsets count records
      records += std::min<uint64_t>(limit, static_cast<uint64_t>(range->second));
    }
  }
  return records;
}

HttpReply HttpGet(const std::string& url) {
  namespace http = boost::beast::http;
  using tcp = boost::asio::ip::tcp;
  const std::string prefix = "http://";
  REQUIRE(url.rfind(prefix, 0) == 0);
  size_t slash = url.find('/', prefix.size());
  std::string host_port = url.substr(prefix.size(), slash - prefix.size());
  size_t colon = host_port.rfind(':');
  boost::asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(boost::asio::ip::make_address(host_port.substr(0, colon)),
                               static_cast<unsigned short>(std::stoi(host_port.substr(colon + 1)))));
  http::request<http::empty_body> request(http::verb::get, url.substr(slash), 11);
  request.set(http::field::host, host_port);
  http::write(socket, request);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  return {static_cast<int>(response.result_int()), response.body()};
}

void WaitUntil(const std::function<bool()>& condition, const std::string& what) {
  auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (!condition()) {
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < limit, "gave up waiting for " << what);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<v1::Alert> ReplayLines(const std::vector<std::string>& lines, const v1::RulesConfig& config) {
  std::ostringstream text;
  for (const auto& line : lines) text << line << "\n";
  std::istringstream in(text.str());
  Pipeline pipeline = MakePipeline(config, NewMemoryBackend());
  std::vector<v1::Alert> alerts;
  ReplayStream(in, "events", pipeline, [&](const v1::Alert& a) { alerts.push_back(a); },
               [](const DeadLetter&) {}, false);
  return alerts;
}

LiveOptions BoundedRun(const std::string& brokers, const std::string& state_dir) {
  LiveOptions options;
  options.brokers = brokers;
  options.state_dir = state_dir;
  options.until_caught_up = true;
  options.progress = false;
  return options;
}

std::vector<std::string> FiveRuleScenario() {
  return {
      Roster("r1", "MP1", "MP1-0302", "REST_DAY", "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z",
             "2026-03-01T08:00:00Z"),
      Roster("r2", "MP2", "MP2-SICK", "SICK", "2026-03-01T00:00:00Z", "2026-03-04T00:00:00Z",
             "2026-03-01T09:00:00Z"),
      Access("a1", "MP1", "2026-03-01T10:00:00Z", "SEARCH", "S9"),
      Roster("r3", "MP2", "MP2-OT", "OVERTIME", "2026-03-02T18:00:00Z", "2026-03-02T22:00:00Z",
             "2026-03-01T11:00:00Z"),
      Access("a2", "MP3", "2026-03-01T12:00:00Z", "LOGIN", "", "", 51.5074, -0.1278),
      Access("a3", "MP3", "2026-03-01T12:10:00Z", "LOGIN", "", "", 53.4808, -2.2426),
      Access("a4", "MP1", "2026-03-02T10:00:00Z", "SEARCH", "S9"),
      Complaint("c1", "MP2", "C7", "USE_OF_FORCE", "2026-03-03T09:00:00Z", "CMP-1"),
      Access("a5", "MP1", "2026-03-04T10:00:00Z", "RECORD_VIEW", "S9"),
      Access("a6", "MP2", "2026-03-05T14:00:00Z", "SEARCH", "C7", "CASE-1"),
      Access("a7", "MP3", "2026-03-09T08:00:00Z", "LOGOUT", "", "", 51.5074, -0.1278),
  };
}

LiveOptions RunOptions(const std::string& brokers, const std::string& state_dir) {
  LiveOptions options;
  options.brokers = brokers;
  options.state_dir = state_dir;
  options.checkpoint_interval_ms = 100;
  return options;
}

LiveRun::LiveRun(LiveOptions options, const v1::RulesConfig& config) : options_(std::move(options)) {
  options_.health = &health_;
  options_.input_closed = &input_closed_;
  options_.records_consumed = &consumed_;
  options_.records_durable = &durable_;
  options_.stop = &stop_;
  thread_ = std::thread([this, config] {
    try {
      Result<LiveReport> report = RunLive(options_, config);
      error_ = report.ok() ? "" : report.status().message();
    } catch (const FatalError& e) {
      error_ = std::string("fatal: ") + e.what();
    }
  });
}

std::string LiveRun::Finish() {
  input_closed_ = true;
  if (thread_.joinable()) thread_.join();
  return error_;
}

}  // namespace vigil::testing
