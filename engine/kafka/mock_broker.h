// MockBroker: librdkafka's built-in mock cluster as a local Kafka endpoint (`vigil dev-broker`,
// `vigil demo`, tests). It speaks the Kafka protocol on loopback ports, so any client (kcat, the
// other vigil commands) can use it. Limits measured on it (shared/TOOLCHAIN.md): each partition
// keeps only about 5 MiB and silently drops the oldest data; transactions are not isolated.
//
// The mock cluster picks its own port. With a fixed `port`, MockBroker also listens there and
// forwards each connection to the mock broker, so a stable bootstrap address can be given out.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>  // after rdkafka.h

#include <memory>
#include <string>
#include <vector>

#include "event.h"
#include "kafka/kafka.h"

namespace vigil {

class TcpForwarder;

class MockBroker {
 public:
  // Starts the cluster (and the forwarder when port > 0). Throws FatalError if it cannot.
  MockBroker(int brokers = 1, int port = 0);
  ~MockBroker();

  // What clients should use as bootstrap.servers.
  std::string bootstrap() const;
  rd_kafka_mock_cluster_t* cluster() const { return cluster_; }

  Status CreateTopic(const std::string& topic, int partitions);
  // Creates Vigil's input, alert, shadow alert, dead-letter, audit and review topics.
  Status CreateVigilTopics(const Topics& topics, int partitions);

 private:
  KafkaHandle handle_;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::unique_ptr<TcpForwarder> forwarder_;
};

}  // namespace vigil
