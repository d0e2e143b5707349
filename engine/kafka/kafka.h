// Thin RAII helpers over librdkafka's C API: configuration, producer and consumer handles, and the
// few metadata queries Vigil needs. Failures are Status values with librdkafka's own message.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "status.h"

namespace vigil {

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const;
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

struct TopicPartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, TopicPartitionListDeleter>;

using KafkaSettings = std::map<std::string, std::string>;

// A producer: idempotent (no duplicates from retries), acks=all.
Result<KafkaHandle> MakeProducer(const std::string& brokers, const KafkaSettings& extra = {});
// A consumer; `settings` must hold group.id when it subscribes.
Result<KafkaHandle> MakeConsumer(const std::string& brokers, const KafkaSettings& settings);
// Creates a handle with `settings` and a rd_kafka_conf_t prepared by `prepare` (callbacks).
Result<KafkaHandle> MakeHandle(rd_kafka_type_t type, const KafkaSettings& settings,
                               void (*prepare)(rd_kafka_conf_t*, void*) = nullptr,
                               void* opaque = nullptr);

// Number of partitions of `topic`, or an error if it does not exist.
Result<int> PartitionCount(rd_kafka_t* rk, const std::string& topic, int timeout_ms = 10000);
// The broker's low and high watermark offsets of one partition.
Result<std::pair<int64_t, int64_t>> QueryOffsets(rd_kafka_t* rk, const std::string& topic,
                                                 int32_t partition, int timeout_ms = 10000);
// Waits until every message produced by `rk` is delivered (or failed), at most timeout_ms.
Status Flush(rd_kafka_t* rk, int timeout_ms);

std::string KafkaError(rd_kafka_resp_err_t err);

}  // namespace vigil
