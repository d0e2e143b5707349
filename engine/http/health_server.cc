#include "http/health_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <thread>

#include "json_text.h"

namespace vigil {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

std::string HealthJson(const Health::Snapshot& snapshot) {
  return "{\"state\":" + JsonQuote(HealthName(snapshot.state)) + ",\"since\":" +
         JsonQuote(FormatTime(snapshot.since)) + ",\"detail\":" + JsonQuote(snapshot.detail) + "}\n";
}

int HealthHttpStatus(HealthState state) {
  return state == HealthState::kStarting || state == HealthState::kRunning ? 200 : 503;
}

class HealthServer::Impl {
 public:
  Impl(const Health& health, tcp::endpoint endpoint) : health_(health), acceptor_(io_, endpoint) {
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Impl() {
    io_.stop();
    thread_.join();
  }
  int port() const { return acceptor_.local_endpoint().port(); }
  std::string url() const {
    tcp::endpoint local = acceptor_.local_endpoint();
    std::string host = local.address().to_string();
    if (local.address().is_v6()) host = "[" + host + "]";
    return "http://" + host + ":" + std::to_string(local.port()) + "/health";
  }

 private:
  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code error, tcp::socket socket) {
      if (!error) Serve(std::move(socket));
      Accept();
    });
  }
  // One request per connection, answered at once: a probe, not a web server.
  void Serve(tcp::socket socket) {
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> request;
    boost::system::error_code error;
    http::read(socket, buffer, request, error);
    if (error) return;
    http::response<http::string_body> response;
    response.version(request.version());
    response.keep_alive(false);
    response.set(http::field::content_type, "application/json");
    if (request.method() == http::verb::get && request.target() == "/health") {
      Health::Snapshot snapshot = health_.Get();
      response.result(HealthHttpStatus(snapshot.state));
      response.body() = HealthJson(snapshot);
    } else {
      response.result(http::status::not_found);
      response.body() = "{\"error\":\"only GET /health is served\"}\n";
    }
    response.prepare_payload();
    http::write(socket, response, error);
    socket.shutdown(tcp::socket::shutdown_both, error);
  }

  const Health& health_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

Result<std::unique_ptr<HealthServer>> HealthServer::Start(const std::string& listen,
                                                          const Health& health) {
  size_t colon = listen.rfind(':');
  boost::system::error_code error;
  asio::ip::address ip = asio::ip::make_address(listen.substr(0, colon), error);
  int port = -1;
  if (colon != std::string::npos && colon + 1 < listen.size() &&
      listen.find_first_not_of("0123456789", colon + 1) == std::string::npos && listen.size() - colon <= 6) {
    port = std::stoi(listen.substr(colon + 1));
  }
  if (error || port < 0 || port > 65535) {
    return Status::Error("expected IP-ADDRESS:PORT (e.g. 0.0.0.0:8080), got '" + listen + "'");
  }
  try {
    return std::unique_ptr<HealthServer>(new HealthServer(
        std::make_unique<Impl>(health, tcp::endpoint(ip, static_cast<unsigned short>(port)))));
  } catch (const boost::system::system_error& e) {
    return Status::Error("cannot listen on " + listen + ": " + e.code().message());
  }
}

HealthServer::HealthServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HealthServer::~HealthServer() = default;
int HealthServer::port() const { return impl_->port(); }
std::string HealthServer::url() const { return impl_->url(); }

}  // namespace vigil
