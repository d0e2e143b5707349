// Bad input through the live engine (issue 4): a valid scenario is produced to the mock cluster
// with one record of each kind of bad input between its events. Each bad record must reach the
// dead-letter topic once, byte for byte, with a reason naming what is wrong and its source
// position; the run must count them and go on, and the valid events must give exactly the alerts
// a replay of the valid events alone gives.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "harness.h"
#include "kafka/kafka_io.h"
#include "live/live_engine.h"
#include "kafka/mock_broker.h"
#include "live_fixtures.h"
#include "rules_config.h"

namespace vigil::testing {
namespace {

constexpr size_t kOversizedBytes = 80 * 1024;  // over the engine's 64 KiB, under message.max.bytes

// A record that is not a valid event, and what its dead letter's reason must mention.
struct BadRecord {
  std::string kind;
  Stream stream;
  std::string key;
  std::string value;
  std::string reason_mentions;
};

// A record exactly as it was read from, or is expected on, a topic.
struct Record {
  std::string key;
  std::string value;
  std::string reason;  // header vigil.reason (dead letters only)
  std::string source;  // header vigil.source (dead letters only)
  std::string position;  // topic/partition/offset it was read at
};

v1::Envelope ValidEventOrFail(const std::string& line) {
  Result<v1::Envelope> event = ParseEventJson(line);
  REQUIRE_MESSAGE(event.ok(), (event.ok() ? "" : event.status().message()));
  return *event;
}

// A valid access event of MP1 at 2026-03-02T11:00Z, for the bad kinds that change one thing in it.
v1::Envelope AccessTemplate() {
  return ValidEventOrFail(Access("bad-a", "MP1", "2026-03-02T11:00:00Z", "SEARCH", "S1"));
}

std::string AppendVarintField(std::string bytes, int field, uint64_t value) {
  bytes.push_back(static_cast<char>(field << 3));  // wire type 0 (varint); fields below 16
  do {
    uint8_t low = value & 0x7f;
    value >>= 7;
    bytes.push_back(static_cast<char>(value ? (low | 0x80) : low));
  } while (value);
  return bytes;
}

std::vector<BadRecord> BadRecords() {
  std::vector<BadRecord> bad;
  std::mt19937 random(20260301);
  std::string noise(200, '\0');
  // Field number 0 is never valid, so the bytes cannot happen to parse whatever follows.
  noise[0] = '\x07';
  for (size_t i = 1; i < noise.size(); ++i) noise[i] = static_cast<char>(random());
  bad.push_back({"random bytes", Stream::kAccess, "MP1", noise, "not a valid protobuf"});

  std::string roster = EncodeEvent(ValidEventOrFail(
      Roster("bad-r", "MP1", "MP1-X", "ON_DUTY", "2026-03-05T08:00:00Z", "2026-03-05T16:00:00Z",
             "2026-03-02T08:00:00Z")));
  // Cut inside the last field (changed_at, a length-delimited timestamp).
  bad.push_back({"truncated protobuf", Stream::kRoster, "MP1", roster.substr(0, roster.size() - 3),
                 "not a valid protobuf"});

  v1::Envelope no_officer = AccessTemplate();
  no_officer.mutable_access()->clear_officer_id();
  bad.push_back({"empty officer_id", Stream::kAccess, "", EncodeEvent(no_officer), "officerId"});

  v1::Envelope backwards = ValidEventOrFail(
      Roster("bad-r2", "MP2", "MP2-X", "ON_DUTY", "2026-03-05T08:00:00Z", "2026-03-05T16:00:00Z",
             "2026-03-02T08:00:00Z"));
  std::swap(*backwards.mutable_roster()->mutable_start(), *backwards.mutable_roster()->mutable_end());
  bad.push_back({"roster end before start", Stream::kRoster, "MP2", EncodeEvent(backwards),
                 "'end'"});

  v1::Envelope far_north = AccessTemplate();
  far_north.mutable_access()->set_lat(123);
  bad.push_back({"latitude 123", Stream::kAccess, "MP1", EncodeEvent(far_north), "'lat'"});

  // action = 99, as a producer with a newer or wrong schema would write it. Protobuf keeps the
  // last value of a repeated scalar field, so appending it overrides SEARCH.
  bad.push_back({"unknown enum value", Stream::kAccess, "MP1",
                 AppendVarintField(EncodeEvent(AccessTemplate()), 4, 99), "'action'"});

  // A RosterChange's fields 1-6 read as a valid Complaint (unit as officer_id, status as category,
  // start as received_at); only its fields 7 and 8 give it away.
  bad.push_back({"roster change on the complaints topic", Stream::kComplaint, "MP3",
                 EncodeEvent(ValidEventOrFail(Roster("bad-r3", "MP3", "MP3-X", "ON_DUTY",
                                                     "2026-03-06T08:00:00Z", "2026-03-06T16:00:00Z",
                                                     "2026-03-02T09:00:00Z"))),
                 "unknown field"});

  v1::Envelope not_utf8 = AccessTemplate();
  not_utf8.mutable_access()->set_subject_id("S\xff" "1");  // proto3 strings must be UTF-8
  bad.push_back({"string not UTF-8", Stream::kAccess, "MP1", EncodeEvent(not_utf8),
                 "not a valid protobuf"});

  v1::Envelope far_future = AccessTemplate();
  far_future.mutable_access()->mutable_occurred_at()->set_seconds(int64_t{1} << 62);
  bad.push_back({"time out of range", Stream::kAccess, "MP1", EncodeEvent(far_future),
                 "'occurredAt'"});

  v1::Envelope huge = AccessTemplate();
  huge.mutable_access()->set_case_ref(std::string(kOversizedBytes, 'x'));
  bad.push_back({"oversized", Stream::kAccess, "MP1", EncodeEvent(huge), "oversized"});

  bad.push_back({"empty value", Stream::kComplaint, "MP3", "", "empty"});
  return bad;
}

std::string HeaderOf(const rd_kafka_message_t& m, const char* name) {
  rd_kafka_headers_t* headers = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_message_headers(&m, &headers) || !headers ||
      rd_kafka_header_get_last(headers, name, &value, &size)) {
    return "<no " + std::string(name) + " header>";
  }
  return std::string(static_cast<const char*>(value), size);
}

std::vector<Record> ReadRecords(const std::string& brokers, const std::string& topic) {
  std::vector<Record> records;
  REQUIRE(ReadTopic(brokers, topic, ReadOptions{}, [&](const rd_kafka_message_t& m) {
            Record r;
            if (m.key) r.key.assign(static_cast<const char*>(m.key), m.key_len);
            if (m.payload) r.value.assign(static_cast<const char*>(m.payload), m.len);
            r.reason = HeaderOf(m, "vigil.reason");
            r.source = HeaderOf(m, "vigil.source");
            r.position = topic + "/" + std::to_string(m.partition) + "/" + std::to_string(m.offset);
            records.push_back(std::move(r));
          }).ok());
  return records;
}

// Where each record value landed on the input topics (values of the bad records are unique).
std::map<std::string, std::string> PositionsByValue(const std::string& brokers, const Topics& topics) {
  std::map<std::string, std::string> positions;
  for (const std::string* topic : {&topics.roster, &topics.access, &topics.complaints}) {
    for (Record& r : ReadRecords(brokers, *topic)) positions[r.value] = r.position;
  }
  return positions;
}

}  // namespace

TEST_CASE("bad input: every kind of bad record goes to the dead-letter topic once and the run goes on") {
  const Topics topics;
  const v1::RulesConfig config = DefaultRulesConfig();
  const std::vector<std::string> valid = FiveRuleScenario();
  const std::vector<BadRecord> bad = BadRecords();

  MockBroker broker;
  REQUIRE(broker.CreateVigilTopics(topics, 2).ok());
  Result<KafkaHandle> producer = MakeProducer(broker.bootstrap());
  REQUIRE(producer.ok());
  // Valid and bad records alternate: the engine must carry on after each bad one.
  for (size_t i = 0; i < std::max(valid.size(), bad.size()); ++i) {
    if (i < valid.size()) {
      v1::Envelope event = ValidEventOrFail(valid[i]);
      REQUIRE(ProduceRecord(producer->get(), topics.For(StreamOf(event)), OfficerId(event),
                            EncodeEvent(event)).ok());
    }
    if (i < bad.size()) {
      REQUIRE(ProduceRecord(producer->get(), topics.For(bad[i].stream), bad[i].key,
                            bad[i].value).ok());
    }
  }
  REQUIRE(Flush(producer->get(), 10000).ok());
  const std::map<std::string, std::string> positions = PositionsByValue(broker.bootstrap(), topics);

  TempDir state("vigil-test-bad-input-");
  LiveOptions options;
  options.brokers = broker.bootstrap();
  options.state_dir = state.path();
  options.until_caught_up = true;
  options.progress = false;
  Result<LiveReport> report = RunLive(options, config);
  REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.status().message()));

  CHECK(report->records == valid.size() + bad.size());
  CHECK(report->metrics.invalid == bad.size());
  CHECK(report->metrics.too_late == 0);

  std::vector<Record> letters = ReadRecords(broker.bootstrap(), topics.dlq);
  CHECK(letters.size() == bad.size());
  for (const BadRecord& b : bad) {
    CAPTURE(b.kind);
    int found = 0;
    for (const Record& letter : letters) {
      if (letter.value != b.value) continue;
      ++found;
      CAPTURE(letter.reason);
      CHECK(letter.key == b.key);
      CHECK(letter.reason.rfind("invalid: ", 0) == 0);
      CHECK(letter.reason.find(b.reason_mentions) != std::string::npos);
      REQUIRE(positions.count(b.value) == 1);
      CHECK(letter.source == positions.at(b.value));
    }
    CHECK(found == 1);
  }

  std::vector<v1::Alert> replayed = ReplayLines(valid, config);
  std::set<std::string> rules;
  for (const auto& alert : replayed) rules.insert(alert.rule_id());
  CHECK(rules.size() == 5);  // the scenario is worth comparing
  std::vector<Record> published = ReadRecords(broker.bootstrap(), topics.alerts);
  std::vector<v1::Alert> alerts;
  for (const Record& r : published) {
    v1::Alert alert;
    REQUIRE(alert.ParseFromString(r.value));
    alerts.push_back(alert);
  }
  CHECK(SortedIds(alerts) == SortedIds(replayed));
}

}  // namespace vigil::testing

namespace vigil::testing {

TEST_CASE("DecodeEvent: what the fuzz test found stays fixed") {
  v1::Envelope access = ValidEventOrFail(Access("a1", "MP1", "2026-03-02T11:00:00Z", "SEARCH", "S1", "", 51.5, -0.1));

  SUBCASE("a field the schema does not know, inside the event's time") {
    std::string bytes = EncodeEvent(access);
    // occurred_at (field 10) again, holding field 7: protobuf merges it into the time.
    bytes += std::string("\x52\x03\x3a\x01S", 5);
    Result<v1::Envelope> decoded = DecodeEvent(Stream::kAccess, bytes);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.status().message().find("unknown field number 7 in google.protobuf.Timestamp") !=
          std::string::npos);
  }
  SUBCASE("-0 degrees reads as 0 from Kafka and from a file") {
    v1::Envelope negative_zero = access;
    negative_zero.mutable_access()->set_lat(-0.0);
    Result<v1::Envelope> decoded = DecodeEvent(Stream::kAccess, EncodeEvent(negative_zero));
    REQUIRE(decoded.ok());
    CHECK_FALSE(std::signbit(decoded->access().lat()));
    Result<v1::Envelope> parsed = ParseEventJson(
        R"({"access":{"eventId":"a1","officerId":"MP1","action":"LOGIN","lat":-0.0,"lon":1,"occurredAt":"2026-03-02T11:00:00Z"}})");
    REQUIRE(parsed.ok());
    CHECK_FALSE(std::signbit(parsed->access().lat()));
  }
}

}  // namespace vigil::testing
