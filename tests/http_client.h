// A small HTTP/1.1 client for the dashboard's tests (Boost.Beast over Asio, loopback only): one
// request per connection, and a Server-Sent Events reader that takes events one at a time, so a
// test can read some, drop the connection and resume. Every wait has a limit; none sleeps.
// Header-only: tests/CMakeLists.txt builds the *_test.cc files and a fixed list of helpers.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vigil::testing {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResult {
  int status = 0;  // 0: no answer within the limit
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

// `method` of `target` ("/api/me?x=1") at `base_url` ("http://127.0.0.1:PORT").
HttpResult Http(const std::string& base_url, const std::string& method, const std::string& target,
                const HttpHeaders& headers = {}, const std::string& body = "",
                std::chrono::milliseconds limit = std::chrono::seconds(20));
HttpHeaders Bearer(const std::string& token);

struct SseEvent {
  std::string id;     // "" when the event has no id field
  std::string event;  // "" for the default ("message")
  std::string data;   // data lines joined by "\n"
};

class SseClient {
 public:
  // Connects and sends GET `target`; waits for the response's headers (status() 0 if none).
  SseClient(const std::string& base_url, const std::string& target, const HttpHeaders& headers = {},
            std::chrono::milliseconds limit = std::chrono::seconds(20));
  ~SseClient();
  int status() const;
  const std::string& body_text() const;  // what arrived so far (the error body of a refusal)
  // The next event, comments skipped; nothing when none arrives within `limit` or the stream ended.
  std::optional<SseEvent> Next(std::chrono::milliseconds limit = std::chrono::seconds(20));
  int comments() const;  // comment lines seen (heartbeats)
  bool closed() const;   // the server ended the stream
  // Waits up to `limit` for the server to end the stream; true if it did.
  bool WaitClosed(std::chrono::milliseconds limit);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// ---- implementation ----


namespace http_client_detail {

inline boost::asio::ip::tcp::endpoint EndpointOf(const std::string& base_url) {
  const std::string prefix = "http://";
  std::string host_port = base_url.substr(base_url.rfind(prefix, 0) == 0 ? prefix.size() : 0);
  host_port = host_port.substr(0, host_port.find('/'));
  size_t colon = host_port.rfind(':');
  return boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address(host_port.substr(0, colon)),
                       static_cast<unsigned short>(std::stoi(host_port.substr(colon + 1))));
}

// Runs `io` until its work is done or `limit` passed; true if the work is done.
inline bool RunFor(boost::asio::io_context& io, std::chrono::milliseconds limit) {
  io.restart();
  io.run_for(limit);
  return io.stopped();
}

template <class Fields>
std::map<std::string, std::string> HeadersOf(const Fields& fields) {
  std::map<std::string, std::string> out;
  for (const auto& field : fields) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out[name] = std::string(field.value());
  }
  return out;
}

}  // namespace http_client_detail
using namespace http_client_detail;

inline HttpHeaders Bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

inline HttpResult Http(const std::string& base_url, const std::string& method,
                       const std::string& target, const HttpHeaders& headers,
                       const std::string& body, std::chrono::milliseconds limit) {
  boost::asio::io_context io;
  boost::beast::tcp_stream stream(io);
  boost::beast::http::request<boost::beast::http::string_body> request(boost::beast::http::string_to_verb(method), target, 11);
  request.set(boost::beast::http::field::host, "localhost");
  for (const auto& [name, value] : headers) request.set(name, value);
  if (!body.empty()) {
    request.set(boost::beast::http::field::content_type, "application/json");
    request.body() = body;
  }
  request.prepare_payload();
  boost::beast::flat_buffer buffer;
  boost::beast::http::response_parser<boost::beast::http::string_body> parser;
  parser.body_limit(64 << 20);
  HttpResult result;
  boost::beast::error_code failed;
  stream.async_connect(EndpointOf(base_url), [&](boost::beast::error_code ec) {
    if (ec) return void(failed = ec);
    boost::beast::http::async_write(stream, request, [&](boost::beast::error_code ec, size_t) {
      if (ec) return void(failed = ec);
      boost::beast::http::async_read(stream, buffer, parser, [&](boost::beast::error_code ec, size_t) {
        if (ec) return void(failed = ec);
        result.status = static_cast<int>(parser.get().result_int());
        result.headers = HeadersOf(parser.get());
        result.body = parser.get().body();
      });
    });
  });
  if (!RunFor(io, limit)) result.status = 0;
  return result;
}

class SseClient::Impl {
 public:
  boost::asio::io_context io;
  boost::beast::tcp_stream stream{io};
  boost::beast::flat_buffer buffer;
  boost::beast::http::response_parser<boost::beast::http::buffer_body> parser;
  char chunk[16384];
  std::string text;  // body bytes not yet taken as events
  std::string body;  // every body byte (for refusals)
  bool reading = false;
  bool closed = false;
  int status = 0;
  int comments = 0;

  void StartRead() {
    reading = true;
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    boost::beast::http::async_read_some(stream, buffer, parser, [this](boost::beast::error_code ec, size_t) {
      reading = false;
      size_t got = sizeof chunk - parser.get().body().size;
      text.append(chunk, got);
      body.append(chunk, got);
      if (ec == boost::beast::http::error::need_buffer) ec = {};
      if (ec || parser.is_done()) closed = true;
    });
  }

  // One whole event from `text`, comments counted and skipped.
  std::optional<SseEvent> Take() {
    while (true) {
      size_t end = text.find("\n\n");
      if (end == std::string::npos) return std::nullopt;
      std::string block = text.substr(0, end);
      text.erase(0, end + 2);
      SseEvent event;
      bool any = false;
      size_t start = 0;
      while (start <= block.size()) {
        size_t nl = block.find('\n', start);
        std::string line = block.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
        start = nl == std::string::npos ? block.size() + 1 : nl + 1;
        if (line.empty()) continue;
        if (line[0] == ':') {
          ++comments;
          continue;
        }
        size_t colon = line.find(':');
        std::string field = line.substr(0, colon);
        std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.erase(0, 1);
        if (field == "id") event.id = value, any = true;
        if (field == "event") event.event = value, any = true;
        if (field == "data") event.data += (event.data.empty() ? "" : "\n") + value, any = true;
      }
      if (any && (!event.data.empty() || !event.id.empty())) return event;
    }
  }
};

inline SseClient::SseClient(const std::string& base_url, const std::string& target, const HttpHeaders& headers,
                     std::chrono::milliseconds limit)
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.parser.body_limit(uint64_t{1} << 50);  // boost::none is refused by Beast 1.74 (len > none)
  auto request = std::make_shared<boost::beast::http::request<boost::beast::http::empty_body>>(boost::beast::http::verb::get, target, 11);
  request->set(boost::beast::http::field::host, "localhost");
  request->set(boost::beast::http::field::accept, "text/event-stream");
  for (const auto& [name, value] : headers) request->set(name, value);
  s.stream.async_connect(EndpointOf(base_url), [&s, request](boost::beast::error_code ec) {
    if (ec) return void(s.closed = true);
    boost::beast::http::async_write(s.stream, *request, [&s, request](boost::beast::error_code ec, size_t) {
      if (ec) return void(s.closed = true);
      boost::beast::http::async_read_header(s.stream, s.buffer, s.parser, [&s](boost::beast::error_code ec, size_t) {
        if (ec) return void(s.closed = true);
        s.status = static_cast<int>(s.parser.get().result_int());
      });
    });
  });
  RunFor(s.io, limit);
}

inline SseClient::~SseClient() {
  boost::beast::error_code ignored;
  impl_->stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  impl_->stream.close();
  RunFor(impl_->io, std::chrono::milliseconds(1000));  // lets a pending read finish (aborted)
}

inline int SseClient::status() const { return impl_->status; }
inline const std::string& SseClient::body_text() const { return impl_->body; }
inline int SseClient::comments() const { return impl_->comments; }
inline bool SseClient::closed() const { return impl_->closed; }

inline std::optional<SseEvent> SseClient::Next(std::chrono::milliseconds limit) {
  Impl& s = *impl_;
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    if (auto event = s.Take()) return event;
    if (s.closed || s.status == 0) return std::nullopt;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    if (!s.reading) s.StartRead();
    RunFor(s.io, left);
  }
}

inline bool SseClient::WaitClosed(std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!impl_->closed) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    while (impl_->Take()) {}
    if (!impl_->reading) impl_->StartRead();
    RunFor(impl_->io, left);
  }
  return true;
}

}  // namespace vigil::testing
