#include "kafka/kafka.h"

namespace vigil {

void KafkaDeleter::operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }

std::string KafkaError(rd_kafka_resp_err_t err) {
  return std::string(rd_kafka_err2name(err)) + " (" + rd_kafka_err2str(err) + ")";
}

Result<KafkaHandle> MakeHandle(rd_kafka_type_t type, const KafkaSettings& settings,
                               void (*prepare)(rd_kafka_conf_t*, void*), void* opaque) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  for (const auto& [name, value] : settings) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::Error("Kafka setting " + name + "=" + value + ": " + error);
    }
  }
  if (prepare) prepare(conf, opaque);
  if (opaque) rd_kafka_conf_set_opaque(conf, opaque);
  rd_kafka_t* rk = rd_kafka_new(type, conf, error, sizeof error);  // takes conf on success
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return Status::Error(std::string("cannot create Kafka client: ") + error);
  }
  return KafkaHandle(rk);
}

Result<KafkaHandle> MakeProducer(const std::string& brokers, const KafkaSettings& extra) {
  KafkaSettings settings = {{"bootstrap.servers", brokers},
                            {"enable.idempotence", "true"},
                            {"acks", "all"},
                            {"linger.ms", "5"},
                            {"message.max.bytes", "1000000"}};
  for (const auto& [k, v] : extra) settings[k] = v;
  return MakeHandle(RD_KAFKA_PRODUCER, settings);
}

Result<KafkaHandle> MakeConsumer(const std::string& brokers, const KafkaSettings& extra) {
  KafkaSettings settings = {{"bootstrap.servers", brokers},
                            {"enable.auto.commit", "false"},
                            {"enable.auto.offset.store", "false"},
                            {"auto.offset.reset", "earliest"},
                            {"enable.partition.eof", "true"}};
  for (const auto& [k, v] : extra) settings[k] = v;
  return MakeHandle(RD_KAFKA_CONSUMER, settings);
}

Result<int> PartitionCount(rd_kafka_t* rk, const std::string& topic, int timeout_ms) {
  rd_kafka_topic_t* handle = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, handle, &metadata, timeout_ms);
  rd_kafka_topic_destroy(handle);
  if (err) return Status::Error("metadata for topic " + topic + ": " + KafkaError(err));
  Result<int> count = Status::Error("topic " + topic + " does not exist");
  if (metadata->topic_cnt == 1 && metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
      metadata->topics[0].partition_cnt > 0) {
    count = metadata->topics[0].partition_cnt;
  } else if (metadata->topic_cnt == 1 && metadata->topics[0].err) {
    count = Status::Error("topic " + topic + ": " + KafkaError(metadata->topics[0].err));
  }
  rd_kafka_metadata_destroy(metadata);
  return count;
}

Result<std::pair<int64_t, int64_t>> QueryOffsets(rd_kafka_t* rk, const std::string& topic,
                                                 int32_t partition, int timeout_ms) {
  int64_t low = 0;
  int64_t high = 0;
  rd_kafka_resp_err_t err =
      rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &low, &high, timeout_ms);
  if (err) {
    return Status::Error("offsets of " + topic + "/" + std::to_string(partition) + ": " +
                         KafkaError(err));
  }
  return std::make_pair(low, high);
}

Status Flush(rd_kafka_t* rk, int timeout_ms) {
  rd_kafka_resp_err_t err = rd_kafka_flush(rk, timeout_ms);
  if (err) {
    return Status::Error("delivery not confirmed within " + std::to_string(timeout_ms) + " ms (" +
                         std::to_string(rd_kafka_outq_len(rk)) + " messages waiting): " +
                         KafkaError(err));
  }
  return Status::Ok();
}

}  // namespace vigil
