#include "kafka/mock_broker.h"

#include <array>
#include <thread>

#include <boost/asio.hpp>

namespace vigil {

namespace asio = boost::asio;
using asio::ip::tcp;

// Accepts connections on a fixed loopback port and pipes each to the mock broker's own port.
class TcpForwarder {
 public:
  TcpForwarder(int listen_port, const std::string& target)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                     static_cast<unsigned short>(listen_port))) {
    auto colon = target.rfind(':');
    target_ = tcp::endpoint(asio::ip::make_address(target.substr(0, colon) == "localhost"
                                                       ? "127.0.0.1"
                                                       : target.substr(0, colon)),
                            static_cast<unsigned short>(std::stoi(target.substr(colon + 1))));
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TcpForwarder() {
    io_.stop();
    thread_.join();
  }

 private:
  struct Link : std::enable_shared_from_this<Link> {
    explicit Link(asio::io_context& io) : client(io), server(io) {}
    tcp::socket client;
    tcp::socket server;
    std::array<char, 65536> up{};
    std::array<char, 65536> down{};

    void Start() {
      Pump(client, server, up);
      Pump(server, client, down);
    }
    void Pump(tcp::socket& from, tcp::socket& to, std::array<char, 65536>& buffer) {
      auto self = shared_from_this();
      from.async_read_some(asio::buffer(buffer), [self, &from, &to, &buffer](auto error, size_t n) {
        if (error) return self->Close();
        asio::async_write(to, asio::buffer(buffer.data(), n), [self, &from, &to, &buffer](auto write_error, size_t) {
          if (write_error) return self->Close();
          self->Pump(from, to, buffer);
        });
      });
    }
    void Close() {
      boost::system::error_code ignored;  // closing an already closed socket is fine
      client.close(ignored);
      server.close(ignored);
    }
  };

  void Accept() {
    auto link = std::make_shared<Link>(io_);
    acceptor_.async_accept(link->client, [this, link](auto error) {
      if (error) return;
      link->server.async_connect(target_, [link](auto connect_error) {
        if (connect_error) return link->Close();
        link->Start();
      });
      Accept();
    });
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  tcp::endpoint target_;
  std::thread thread_;
};

MockBroker::MockBroker(int brokers, int port) {
  Result<KafkaHandle> handle = MakeHandle(RD_KAFKA_PRODUCER, {{"log_level", "3"}});
  if (!handle.ok()) throw FatalError(handle.status().message());
  handle_ = std::move(handle.value());
  cluster_ = rd_kafka_mock_cluster_new(handle_.get(), brokers);
  if (!cluster_) throw FatalError("cannot start librdkafka's mock cluster");
  if (port > 0) {
    std::string first = rd_kafka_mock_cluster_bootstraps(cluster_);
    first = first.substr(0, first.find(','));
    try {
      forwarder_ = std::make_unique<TcpForwarder>(port, first);
    } catch (const boost::system::system_error& e) {
      rd_kafka_mock_cluster_destroy(cluster_);
      throw FatalError("cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + e.what());
    }
  }
}

MockBroker::~MockBroker() {
  forwarder_.reset();
  rd_kafka_mock_cluster_destroy(cluster_);
}

std::string MockBroker::bootstrap() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }

Status MockBroker::CreateTopic(const std::string& topic, int partitions) {
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1);
  if (err) return Status::Error("cannot create topic " + topic + ": " + KafkaError(err));
  return Status::Ok();
}

// The mock cluster serves such requests on its own thread, which librdkafka 2.0.2 does not always
// wake for them: a request may wait for the thread's next 1 s poll tick. Made one after the other,
// the eight topics took 0-4 s; made together, every request is served in the same tick.
Status MockBroker::CreateVigilTopics(const Topics& topics, int partitions) {
  const std::vector<const std::string*> names = {&topics.roster, &topics.access, &topics.complaints,
                                                 &topics.alerts, &topics.alerts_shadow, &topics.dlq,
                                                 &topics.audit, &topics.reviews};
  std::vector<Status> created(names.size());
  std::vector<std::thread> requests;
  for (size_t i = 0; i < names.size(); ++i) {
    requests.emplace_back([&, i] { created[i] = CreateTopic(*names[i], partitions); });
  }
  for (std::thread& request : requests) request.join();
  for (const Status& s : created) {
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace vigil
