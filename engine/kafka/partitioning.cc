#include "kafka/partitioning.h"

namespace vigil {

Result<Partitioner> ParsePartitioner(std::string_view name) {
  if (name == "consistent_random") return Partitioner::kConsistentRandom;
  if (name == "murmur2_random") return Partitioner::kMurmur2Random;
  return Status::Error("unknown partitioner '" + std::string(name) +
                       "': consistent_random (librdkafka's default) or murmur2_random (Java's)");
}

const char* PartitionerName(Partitioner partitioner) {
  return partitioner == Partitioner::kMurmur2Random ? "murmur2_random" : "consistent_random";
}

// With a key, the *_random partitioners are their deterministic halves (rdkafka_msg.c):
// consistent_random is consistent (CRC-32 of the key, modulo the count) and murmur2_random is
// murmur2 (Java's murmur2 of the key, its sign bit cleared, modulo the count); the random half
// only places records without a key.
int32_t KeyPartition(Partitioner partitioner, const rd_kafka_topic_t* topic, std::string_view key,
                     int32_t partition_count) {
  if (partitioner == Partitioner::kMurmur2Random) {
    return rd_kafka_msg_partitioner_murmur2(topic, key.data(), key.size(), partition_count, nullptr,
                                            nullptr);
  }
  return rd_kafka_msg_partitioner_consistent(topic, key.data(), key.size(), partition_count, nullptr,
                                             nullptr);
}

Status CheckCoPartitioned(const std::vector<TopicPartitionCount>& topics) {
  bool same = true;
  std::string counts;
  for (const TopicPartitionCount& t : topics) {
    same = same && t.partitions == topics.front().partitions;
    if (!counts.empty()) counts += ", ";
    counts += t.topic + " has " + std::to_string(t.partitions);
  }
  if (same) return Status::Ok();
  return Status::Error("the input topics' partition counts differ (" + counts +
                       " partitions): Vigil relies on co-partitioning by officer id (one officer's "
                       "events on one partition number of every input topic) and will not process "
                       "them; give every input topic the same partition count");
}

}  // namespace vigil
