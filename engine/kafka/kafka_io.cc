#include "kafka/kafka_io.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "json_text.h"
#include "review.pb.h"

namespace vigil {

Status ProduceRecord(rd_kafka_t* producer, const std::string& topic, std::string_view key,
                     std::string_view value, const std::vector<Header>& headers, void* opaque) {
  return ProduceRecordAt(producer, topic, key, value, 0, headers, opaque);
}

Status ProduceRecordAt(rd_kafka_t* producer, const std::string& topic, std::string_view key,
                       std::string_view value, int64_t timestamp_ms,
                       const std::vector<Header>& headers, void* opaque) {
  while (true) {
    rd_kafka_headers_t* hdrs = nullptr;
    if (!headers.empty()) {
      hdrs = rd_kafka_headers_new(headers.size());
      for (const auto& h : headers) {
        rd_kafka_header_add(hdrs, h.name.data(), h.name.size(), h.value.data(), h.value.size());
      }
    }
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer, RD_KAFKA_V_TOPIC(topic.c_str()),
        RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(timestamp_ms),
        RD_KAFKA_V_HEADERS(hdrs),
        RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (!err) return Status::Ok();  // the headers now belong to the message
    if (hdrs) rd_kafka_headers_destroy(hdrs);
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return Status::Error("cannot produce to " + topic + ": " + KafkaError(err));
    }
    rd_kafka_poll(producer, 50);  // serve delivery reports until there is room
  }
}

Status ProduceDeadLetter(rd_kafka_t* producer, const std::string& topic, const DeadLetter& letter,
                         void* opaque) {
  return ProduceRecord(producer, topic, letter.key, letter.value,
                       {{"vigil.reason", letter.reason}, {"vigil.source", letter.source}}, opaque);
}

namespace {

struct DeliveryCounter {
  std::atomic<uint64_t> failed{0};
  std::string first_error;
};

void CountDeliveries(rd_kafka_conf_t* conf, void*) {
  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* counter = static_cast<DeliveryCounter*>(opaque);
    if (m->err && counter->failed++ == 0) counter->first_error = KafkaError(m->err);
  });
}

}  // namespace

Result<ProduceReport> ProduceEventFile(const std::string& brokers, const std::string& path,
                                       const Topics& topics, bool progress) {
  std::ifstream in(path);
  if (!in) return Status::Error("cannot read input file " + path);
  DeliveryCounter deliveries;
  Result<KafkaHandle> producer = MakeHandle(
      RD_KAFKA_PRODUCER,
      {{"bootstrap.servers", brokers}, {"enable.idempotence", "true"}, {"acks", "all"},
       {"linger.ms", "20"}, {"batch.num.messages", "10000"}},
      CountDeliveries, &deliveries);
  if (!producer.ok()) return producer.status();
  for (const std::string* topic : {&topics.roster, &topics.access, &topics.complaints}) {
    Result<int> partitions = PartitionCount(producer->get(), *topic);
    if (!partitions.ok()) return Status::Error(partitions.status().message() + " at " + brokers);
  }
  ProduceReport report;
  std::string line;
  auto last_progress = std::chrono::steady_clock::now();
  while (std::getline(in, line)) {
    ++report.lines;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Result<v1::Envelope> event = ParseEventJson(line);
    if (!event.ok()) {
      ++report.skipped;
      std::cerr << path << ":" << report.lines << ": skipped: " << event.status().message() << "\n";
      continue;
    }
    // The event time as the record's timestamp: a replay of a time range finds its start by it
    // (at least 1 ms: 0 would mean the time of producing).
    Status sent = ProduceRecordAt(producer->get(), topics.For(StreamOf(*event)), OfficerId(*event),
                                  EncodeEvent(*event), std::max<Millis>(EventTime(*event), 1));
    if (!sent.ok()) return sent;
    ++report.produced;
    rd_kafka_poll(producer->get(), 0);
    if (progress && report.produced % 100000 == 0 &&
        std::chrono::steady_clock::now() - last_progress > std::chrono::seconds(2)) {
      std::cerr << "produce: " << report.produced << " events queued\n";
      last_progress = std::chrono::steady_clock::now();
    }
  }
  Status flushed = Flush(producer->get(), 60000);
  if (!flushed.ok()) return flushed;
  if (deliveries.failed > 0) {
    return Status::Error(std::to_string(deliveries.failed.load()) + " events were not delivered; first error: " +
                         deliveries.first_error);
  }
  return report;
}

Status PublishAlerts(const std::string& brokers, const std::string& topic,
                     const std::vector<v1::Alert>& alerts, int timeout_ms) {
  DeliveryCounter deliveries;
  Result<KafkaHandle> producer = MakeHandle(
      RD_KAFKA_PRODUCER,
      {{"bootstrap.servers", brokers}, {"enable.idempotence", "true"}, {"acks", "all"},
       {"linger.ms", "20"}},
      CountDeliveries, &deliveries);
  if (!producer.ok()) return producer.status();
  Result<int> partitions = PartitionCount(producer->get(), topic);
  if (!partitions.ok()) return Status::Error(partitions.status().message() + " at " + brokers);
  for (const auto& alert : alerts) {
    Status sent = ProduceRecord(producer->get(), topic, alert.officer_id(), alert.SerializeAsString());
    if (!sent.ok()) return sent;
    rd_kafka_poll(producer->get(), 0);
  }
  Status flushed = Flush(producer->get(), timeout_ms);
  if (!flushed.ok()) return flushed;
  if (deliveries.failed > 0) {
    return Status::Error(std::to_string(deliveries.failed.load()) + " alerts were not delivered to " +
                         topic + "; first error: " + deliveries.first_error);
  }
  return Status::Ok();
}

Result<v1::Envelope> DecodeInputRecord(Stream stream, std::string_view value) {
  if (value.size() > kMaxInputRecordBytes) {
    return Status::Error("oversized: " + std::to_string(value.size()) + " bytes");
  }
  return DecodeEvent(stream, value);
}

Status ReadTopic(const std::string& brokers, const std::string& topic, const ReadOptions& options,
                 const std::function<void(const rd_kafka_message_t&)>& on_record) {
  Result<KafkaHandle> consumer = MakeConsumer(
      brokers, {{"group.id", "vigil-reader"}, {"fetch.wait.max.ms", std::to_string(options.max_wait_ms)}});
  if (!consumer.ok()) return consumer.status();
  rd_kafka_t* rk = consumer->get();
  Result<int> partitions = PartitionCount(rk, topic);
  if (!partitions.ok()) return partitions.status();

  PartitionList assignment(rd_kafka_topic_partition_list_new(*partitions));
  std::map<int32_t, int64_t> end;  // partition -> offset to read up to (exclusive)
  for (int32_t p = 0; p < *partitions; ++p) {
    Result<std::pair<int64_t, int64_t>> offsets = QueryOffsets(rk, topic, p);
    if (!offsets.ok()) return offsets.status();
    int64_t start = options.from_beginning ? offsets->first : offsets->second;
    if (auto given = options.start_offsets.find(p); given != options.start_offsets.end()) {
      start = std::clamp(given->second, offsets->first, offsets->second);
    }
    if (!options.follow && start >= offsets->second) continue;  // nothing to read here
    end[p] = offsets->second;
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = start;
  }
  if (end.empty()) return Status::Ok();
  rd_kafka_resp_err_t err = rd_kafka_assign(rk, assignment.get());
  if (err) return Status::Error("cannot read " + topic + ": " + KafkaError(err));

  std::map<int32_t, bool> done;
  while (!(options.stop && options.stop->load())) {
    if (!options.follow && done.size() == end.size()) break;
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 200);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (m->offset >= end[m->partition]) done[m->partition] = true;
    } else if (m->err) {
      std::cerr << "consume: " << topic << ": " << rd_kafka_message_errstr(m) << " (retrying)\n";
    } else {
      on_record(*m);
      if (m->offset + 1 >= end[m->partition]) done[m->partition] = true;
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  return Status::Ok();
}

namespace {

std::string Base64(std::string_view bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(n >> s) & 63]);
  }
  if (i < bytes.size()) {
    uint32_t n = uint8_t(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= uint8_t(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

}  // namespace

std::string HeaderValue(const rd_kafka_message_t& record, const char* name) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&record, &headers) || !headers) return "";
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, name, &value, &size)) return "";
  return std::string(static_cast<const char*>(value), size);
}

std::string RecordAsJson(const Topics& topics, const std::string& topic,
                         const rd_kafka_message_t& record) {
  std::string_view value(static_cast<const char*>(record.payload), record.len);
  std::string_view key(record.key ? static_cast<const char*>(record.key) : "", record.key_len);
  std::string position = "\"topic\":" + JsonQuote(topic) + ",\"partition\":" +
                         std::to_string(record.partition) + ",\"offset\":" +
                         std::to_string(record.offset);
  if (topic == topics.alerts) {
    v1::Alert alert;
    if (alert.ParseFromArray(value.data(), static_cast<int>(value.size()))) return ToJsonLine(alert);
  } else if (topic == topics.roster || topic == topics.access || topic == topics.complaints) {
    Stream stream = topic == topics.roster ? Stream::kRoster
                    : topic == topics.access ? Stream::kAccess : Stream::kComplaint;
    Result<v1::Envelope> event = DecodeEvent(stream, value);
    if (event.ok()) return ToJsonLine(*event);
  } else if (topic == topics.reviews) {
    v1::Review review;
    if (review.ParseFromArray(value.data(), static_cast<int>(value.size()))) return ToJsonLine(review);
  } else if (topic == topics.audit) {
    return std::string(value);
  }
  // Dead letters, and anything that does not decode as its topic says: show it as it is.
  return "{" + position + ",\"key\":" + JsonQuote(key) + ",\"reason\":" +
         JsonQuote(HeaderValue(record, "vigil.reason")) + ",\"source\":" +
         JsonQuote(HeaderValue(record, "vigil.source")) + ",\"valueBase64\":" + JsonQuote(Base64(value)) + "}";
}

Result<std::unique_ptr<AckedProducer>> AckedProducer::Open(const std::string& brokers) {
  std::unique_ptr<AckedProducer> producer(new AckedProducer());
  Result<KafkaHandle> handle = MakeHandle(
      RD_KAFKA_PRODUCER,
      {{"bootstrap.servers", brokers}, {"enable.idempotence", "true"}, {"acks", "all"},
       {"linger.ms", "0"}, {"message.timeout.ms", "15000"}},
      [](rd_kafka_conf_t* conf, void*) { rd_kafka_conf_set_dr_msg_cb(conf, &AckedProducer::OnDelivery); });
  if (!handle.ok()) return handle.status();
  producer->producer_ = std::move(handle.value());
  return producer;
}

// What Send() waits for; shared with the delivery reports, which may come after Send() gave up.
struct AckedProducer::Pending {
  std::mutex mutex;
  size_t outstanding = 0;
  std::vector<Delivered> delivered;
  std::string first_error;
};

namespace {
struct DeliverySlot {  // one record's opaque: deleted by its delivery report
  std::shared_ptr<void> pending;
  size_t index;
};
}  // namespace

void AckedProducer::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  auto* slot = static_cast<DeliverySlot*>(message->_private);
  if (!slot) return;
  auto* pending = static_cast<Pending*>(slot->pending.get());
  {
    std::lock_guard<std::mutex> lock(pending->mutex);
    if (message->err) {
      if (pending->first_error.empty()) pending->first_error = KafkaError(message->err);
    } else {
      pending->delivered[slot->index] = {message->partition, message->offset};
    }
    --pending->outstanding;
  }
  delete slot;
}

Result<std::vector<AckedProducer::Delivered>> AckedProducer::Send(const std::vector<Record>& records,
                                                                  int timeout_ms) {
  auto pending = std::make_shared<Pending>();
  pending->delivered.resize(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    auto* slot = new DeliverySlot{pending, i};
    {
      std::lock_guard<std::mutex> lock(pending->mutex);
      ++pending->outstanding;
    }
    const Record& r = records[i];
    Status queued = ProduceRecord(producer_.get(), r.topic, r.key, r.value, {}, slot);
    if (!queued.ok()) {
      std::lock_guard<std::mutex> lock(pending->mutex);
      --pending->outstanding;
      delete slot;
      return queued;  // records queued before it are still reported, to `pending`
    }
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    {
      std::lock_guard<std::mutex> lock(pending->mutex);
      if (pending->outstanding == 0) {
        if (!pending->first_error.empty()) {
          return Status::Error("not acknowledged: " + pending->first_error);
        }
        return pending->delivered;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Error("not acknowledged within " + std::to_string(timeout_ms) + " ms");
    }
    rd_kafka_poll(producer_.get(), 10);  // serves every thread's delivery reports
  }
}

AckedProducer::~AckedProducer() {
  if (!producer_) return;
  rd_kafka_flush(producer_.get(), 5000);
  rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(producer_.get(), 0);  // purged records' reports free their slots
}

AuditLog::AuditLog(rd_kafka_t* producer, std::string topic, std::string interface)
    : producer_(producer), topic_(std::move(topic)), interface_(std::move(interface)) {}

AuditLog::AuditLog(AckedProducer* producer, std::string topic, std::string interface)
    : acked_(producer), topic_(std::move(topic)), interface_(std::move(interface)) {}

std::string AuditLog::CurrentUser() {
  if (const char* user = std::getenv("USER")) return user;
  if (const char* user = getlogin()) return user;
  return "uid:" + std::to_string(getuid());
}

std::string AuditLog::Json(const AuditEntry& entry, Millis at) const {
  std::string out = "{\"at\":" + JsonQuote(FormatTime(at)) + ",\"viewer\":" + JsonQuote(entry.viewer) +
                    ",\"interface\":" + JsonQuote(interface_);
  auto member = [&out](const char* name, const std::string& value) {
    if (!value.empty()) out += std::string(",\"") + name + "\":" + JsonQuote(value);
  };
  member("from", entry.from);
  member("what", entry.what);
  member("purpose", entry.purpose);
  member("officerId", entry.officer_id);
  std::string ids;
  for (const auto& id : entry.alert_ids) ids += (ids.empty() ? "" : ",") + JsonQuote(id);
  return out + ",\"alertIds\":[" + ids + "]}";
}

void AuditLog::Viewed(const std::vector<std::string>& alert_ids) {
  if (alert_ids.empty()) return;
  AuditEntry entry;
  entry.viewer = CurrentUser();
  entry.alert_ids = alert_ids;
  Status sent = acked_ ? Record(entry)
                       : ProduceRecord(producer_, topic_, entry.viewer, Json(entry, SystemClock().NowMillis()));
  if (!sent.ok()) throw FatalError("cannot write the audit record: " + sent.message());
}

Status AuditLog::Record(const std::vector<AuditEntry>& entries, int timeout_ms) {
  std::vector<AckedProducer::Record> records;
  Millis now = SystemClock().NowMillis();
  for (const AuditEntry& entry : entries) records.push_back({topic_, entry.viewer, Json(entry, now)});
  if (records.empty()) return Status::Ok();
  Status status;
  if (acked_) {
    Result<std::vector<AckedProducer::Delivered>> sent = acked_->Send(records, timeout_ms);
    if (!sent.ok()) status = sent.status();
  } else {
    for (const auto& r : records) {
      status = ProduceRecord(producer_, r.topic, r.key, r.value);
      if (!status.ok()) break;
    }
    if (status.ok()) status = Flush(producer_, timeout_ms);
  }
  if (!status.ok()) return Status::Error("the audit record was not written: " + status.message());
  return Status::Ok();
}

}  // namespace vigil
