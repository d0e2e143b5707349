// Moving Vigil records in and out of Kafka: publishing event files, publishing alerts and dead
// letters, reading a topic from one point to its end (or following it), and the audit trail.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "alert.pb.h"
#include "event.h"
#include "json_text.h"
#include "kafka/kafka.h"
#include "runtime/outputs.h"

namespace vigil {

struct Header {
  std::string name;
  std::string value;
};

// Queues one record, waiting while librdkafka's local queue is full. Errors only for records that
// can never be sent (e.g. too large). `opaque` comes back in the record's delivery report
// (rd_kafka_message_t::_private).
Status ProduceRecord(rd_kafka_t* producer, const std::string& topic, std::string_view key,
                     std::string_view value, const std::vector<Header>& headers = {},
                     void* opaque = nullptr);
// The same, with the record's timestamp set to `timestamp_ms` (milliseconds since the epoch; 0:
// the time of producing, as ProduceRecord does).
Status ProduceRecordAt(rd_kafka_t* producer, const std::string& topic, std::string_view key,
                       std::string_view value, int64_t timestamp_ms,
                       const std::vector<Header>& headers = {}, void* opaque = nullptr);

// A dead letter as a record for the dead-letter topic: original key and bytes, with headers
// vigil.reason and vigil.source (topic/partition/offset).
Status ProduceDeadLetter(rd_kafka_t* producer, const std::string& topic, const DeadLetter& letter,
                         void* opaque = nullptr);

struct ProduceReport {
  uint64_t lines = 0;
  uint64_t produced = 0;
  uint64_t skipped = 0;  // invalid lines, reported with their number
};
// `vigil produce`: publishes an NDJSON event file to the input topics as protobuf, keyed by
// officer, each record's timestamp its event's time (what `vigil replay --from/--to` looks up).
Result<ProduceReport> ProduceEventFile(const std::string& brokers, const std::string& path,
                                       const Topics& topics, bool progress);

// Publishes `alerts` to `topic` keyed by officer, as `vigil run` does, and waits until every one
// is acknowledged (at most timeout_ms in all).
Status PublishAlerts(const std::string& brokers, const std::string& topic,
                     const std::vector<v1::Alert>& alerts, int timeout_ms = 60000);

// The largest input record decoded as an event; a larger one is invalid ("oversized").
constexpr size_t kMaxInputRecordBytes = 64 * 1024;
// An input topic's record value as an event, with the contract's checks and the size limit.
Result<v1::Envelope> DecodeInputRecord(Stream stream, std::string_view value);

struct ReadOptions {
  bool from_beginning = true;  // else from the end as it is when reading starts
  // Where to start in these partitions (clamped to what the broker still has); the others start
  // as from_beginning says.
  std::map<int32_t, int64_t> start_offsets;
  bool follow = false;         // else stop at the end as it was when reading started
  const std::atomic<bool>* stop = nullptr;
  // fetch.wait.max.ms: how long a fetch waits for new records. librdkafka's default suits a real
  // broker; the mock cluster waits the whole time whenever a fetch finds nothing, so a follower
  // that must show records soon after they are produced (the demo's display) asks for less.
  int max_wait_ms = 500;
};
// Reads every partition of `topic`; calls on_record for each record in partition order.
Status ReadTopic(const std::string& brokers, const std::string& topic, const ReadOptions& options,
                 const std::function<void(const rd_kafka_message_t&)>& on_record);

// The last value of header `name` of a record, or "" when it has none.
std::string HeaderValue(const rd_kafka_message_t& record, const char* name);

// One record of a Vigil topic as an NDJSON line: alerts, events and reviews as proto3 JSON, dead
// letters with their headers and the original bytes.
std::string RecordAsJson(const Topics& topics, const std::string& topic, const rd_kafka_message_t& record);

// A producer that can wait for its records' delivery reports: for records that must be on Kafka
// before anything else happens (an audit record before the view it records, a review decision
// before its answer). Thread-safe: any number of threads may Send() at once.
class AckedProducer {
 public:
  struct Record {
    std::string topic;
    std::string key;
    std::string value;
  };
  struct Delivered {
    int32_t partition = -1;
    int64_t offset = -1;
  };
  // An idempotent acks=all producer with linger.ms=0 (these records are waited for one by one).
  static Result<std::unique_ptr<AckedProducer>> Open(const std::string& brokers);
  ~AckedProducer();
  // Produces every record and waits until each is acknowledged or failed, at most timeout_ms in
  // all. Ok only if all were acknowledged; their partitions and offsets, in order.
  Result<std::vector<Delivered>> Send(const std::vector<Record>& records, int timeout_ms = 10000);

 private:
  struct Pending;
  AckedProducer() = default;
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void*);
  KafkaHandle producer_;
};

// One consultation of alerts through a Vigil interface (Data Protection Act 2018 s.62: who, when,
// from where, why, which alerts or officer).
struct AuditEntry {
  std::string viewer;      // who: the user, or a dashboard token's NAME
  std::string from;        // the client's "ADDRESS:PORT", when remote
  std::string what;        // "stream", "alerts", "timeline", "recent", "review", ...
  std::string purpose;     // why, in the viewer's words (required for timelines)
  std::string officer_id;  // the officer whose timeline was asked for
  std::vector<std::string> alert_ids;
};

// Audit trail: every view of alerts through Vigil's own interfaces is recorded on the audit topic
// as one JSON record keyed by viewer: {"at","viewer","interface","from","what","purpose",
// "officerId","alertIds"} (empty members left out).
class AuditLog {
 public:
  // Records through `producer` (not owned); Viewed() does not wait for delivery: the caller
  // flushes the producer before it ends.
  AuditLog(rd_kafka_t* producer, std::string topic, std::string interface);
  // Records through `producer` and waits for each record's acknowledgement in Record().
  AuditLog(AckedProducer* producer, std::string topic, std::string interface);

  // Records that the current user was shown these alerts (nothing when there are none).
  void Viewed(const std::vector<std::string>& alert_ids);
  // Records these views and returns once all are acknowledged (with the borrowed rd_kafka_t*: once
  // the producer is flushed). An error means the views must not happen.
  Status Record(const std::vector<AuditEntry>& entries, int timeout_ms = 10000);
  Status Record(const AuditEntry& entry, int timeout_ms = 10000) {
    return Record(std::vector<AuditEntry>{entry}, timeout_ms);
  }

  // The record's JSON (at: `at`).
  std::string Json(const AuditEntry& entry, Millis at) const;
  static std::string CurrentUser();

 private:
  rd_kafka_t* producer_ = nullptr;
  AckedProducer* acked_ = nullptr;
  std::string topic_;
  std::string interface_;
};

}  // namespace vigil
