// Co-partitioning (../shared/CONTRACT.md, "Topics"): the input topics have one partition count, and
// each record is on the partition its key (the officer id) hashes to under the producers'
// partitioner, so that one officer's events meet in one partition number on every topic, and so
// in one state scope of the live engine. The checks here use librdkafka's own partitioner
// functions, so the hash is exactly the one Kafka clients use.
//
// Stateless and thread-safe.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "status.h"

namespace vigil {

// The partitioner the input topics' producers use, by librdkafka's names for its `partitioner`
// setting. Both place a keyed record by a hash of its key; they differ in the hash.
enum class Partitioner {
  kConsistentRandom,  // librdkafka's default (`vigil produce`, kcat, confluent-kafka): CRC-32
  kMurmur2Random,     // the Java client's default, Kafka Streams': murmur2
};

// "consistent_random" or "murmur2_random"; anything else is an error naming both.
Result<Partitioner> ParsePartitioner(std::string_view name);
const char* PartitionerName(Partitioner partitioner);

// The partition `partitioner` gives a record with key `key` (not empty) on a topic of
// `partition_count` (> 0) partitions. `topic` is the topic's handle (a consumed record's rkt):
// librdkafka's hashing partitioners do not read it (rdkafka_msg.c), but they are given a valid
// one all the same.
int32_t KeyPartition(Partitioner partitioner, const rd_kafka_topic_t* topic, std::string_view key,
                     int32_t partition_count);

struct TopicPartitionCount {
  std::string topic;
  int partitions = 0;
};
// Ok when every topic has the same partition count; otherwise an error naming each topic and its
// count, for an engine that must refuse to run on them.
Status CheckCoPartitioned(const std::vector<TopicPartitionCount>& topics);

}  // namespace vigil
