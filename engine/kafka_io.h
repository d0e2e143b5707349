// Moving Vigil records in and out of Kafka: publishing event files, publishing alerts and dead
// letters, reading a topic from one point to its end (or following it), and the audit trail.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "alert.pb.h"
#include "event.h"
#include "kafka.h"
#include "processor.h"

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

// A dead letter as a record for the dead-letter topic: original key and bytes, with headers
// vigil.reason and vigil.source (topic/partition/offset).
Status ProduceDeadLetter(rd_kafka_t* producer, const std::string& topic, const DeadLetter& letter,
                         void* opaque = nullptr);

struct ProduceReport {
  uint64_t lines = 0;
  uint64_t produced = 0;
  uint64_t skipped = 0;  // invalid lines, reported with their number
};
// `vigil produce`: publishes an NDJSON event file to the input topics as protobuf, keyed by officer.
Result<ProduceReport> ProduceEventFile(const std::string& brokers, const std::string& path,
                                       const Topics& topics, bool progress);

struct ReadOptions {
  bool from_beginning = true;  // else from the end as it is when reading starts
  // Where to start in these partitions (clamped to what the broker still has); the others start
  // as from_beginning says.
  std::map<int32_t, int64_t> start_offsets;
  bool follow = false;         // else stop at the end as it was when reading started
  const std::atomic<bool>* stop = nullptr;
};
// Reads every partition of `topic`; calls on_record for each record in partition order.
Status ReadTopic(const std::string& brokers, const std::string& topic, const ReadOptions& options,
                 const std::function<void(const rd_kafka_message_t&)>& on_record);

// The last value of header `name` of a record, or "" when it has none.
std::string HeaderValue(const rd_kafka_message_t& record, const char* name);

// One record of a Vigil topic as an NDJSON line: alerts and events as proto3 JSON, dead letters
// with their headers and the original bytes.
std::string RecordAsJson(const Topics& topics, const std::string& topic, const rd_kafka_message_t& record);

// Audit trail: every view of alerts through Vigil's own interfaces is recorded on the audit topic
// (who, when, through what, which alert ids).
class AuditLog {
 public:
  AuditLog(rd_kafka_t* producer, std::string topic, std::string interface);
  // Records that the current user was shown these alerts.
  void Viewed(const std::vector<std::string>& alert_ids);
  static std::string CurrentUser();

 private:
  rd_kafka_t* producer_;
  std::string topic_;
  std::string interface_;
};

}  // namespace vigil
