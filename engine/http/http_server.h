// HttpServer: a small HTTP/1.1 server on Boost.Beast for Vigil's own interfaces (the dashboard
// today; health and metrics can move onto it). It exists so that every interface gets the same
// defences against slow, oversized and malicious clients without repeating them:
//  - at most `max_connections` open connections. When all are open, a newcomer takes the place of
//    the connection that has waited longest for a request's header (idle between requests, or
//    with its header only part-sent), which is closed without an answer, so an idle or slowloris
//    crowd cannot keep a fresh client out. A connection whose request is being handled or
//    answered, or that holds an open stream, is never evicted; only when every place is such a
//    connection is the newcomer answered 503 (Retry-After: 1) at once and closed;
//  - header and body size limits (431 / 413), a malformed request is 400; each then closes;
//  - a request that is not whole within `request_timeout_ms` of its first byte, or a connection
//    silent for `idle_timeout_ms` (between keep-alive requests too), is closed without an answer;
//  - a streaming response (Server-Sent Events) whose client does not read is closed once
//    `max_stream_backlog_bytes` wait unsent, instead of growing without bound.
//
// Lifecycle: Start() binds and serves on its own I/O thread(s) until the server is destroyed; the
// destructor closes every connection and joins the threads. Handlers run on a separate pool of
// `handler_threads` threads, so a handler may block (for example, waiting for an audit record to be
// acknowledged by Kafka) without stalling other clients. A handler answers exactly once through its
// Responder, from any thread, either with Reply() or by opening a stream with StartStream().
// A handler that opens a stream should keep the EventStream and return: a handler thread held for a
// stream's life is one fewer for every other request. The destructor waits for running handlers
// to return (so it must not run on a handler thread); Responders and EventStreams may outlive the
// server, and then do nothing.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "status.h"

namespace vigil::http {

struct Limits {
  size_t max_connections = 256;
  size_t max_header_bytes = 8 * 1024;
  size_t max_body_bytes = 64 * 1024;
  int idle_timeout_ms = 15000;     // no byte of a request arrives for this long: closed
  int request_timeout_ms = 10000;  // a whole request (headers and body) must arrive within this
  size_t max_stream_backlog_bytes = 4 << 20;  // unsent bytes a stream may hold before it is closed
  int handler_threads = 4;
};

struct Request {
  std::string method;   // "GET", "POST", ...
  std::string target;   // as sent: "/api/alerts?officer=o-1"
  std::string path;     // decoded path without the query: "/api/alerts"
  std::map<std::string, std::string> query;    // decoded query parameters (last one wins)
  std::map<std::string, std::string> headers;  // names in lower case; repeats joined by ", "
  std::string body;
  std::string remote;   // the client's "ADDRESS:PORT"

  // The header's value, or "" when absent. `name` in lower case.
  const std::string& Header(const std::string& name) const;
  // The query parameter's value, or "" when absent.
  const std::string& Query(const std::string& name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra headers; they win over the server's defaults (X-Content-Type-Options: nosniff,
  // Cache-Control: no-store, Content-Security-Policy: default-src 'self'). Dropped: Content-Length,
  // Transfer-Encoding and Connection (the server frames the message), and any name or value with
  // CR or LF (it would forge headers of its own).
  std::vector<std::pair<std::string, std::string>> headers;

  static Response Json(int status, std::string body);
  // {"error": message} with that status.
  static Response Error(int status, const std::string& message);
};

// An open streaming response (text/event-stream). Thread-safe; Send() never blocks: it queues the
// bytes for the connection's I/O thread. Once the client is gone, or its backlog passed the limit,
// open() turns false and Send() does nothing. A write the client has not taken within
// max(idle_timeout_ms, request_timeout_ms) closes the stream too. The body is not chunked: it runs until the
// connection closes, which Close() does once the queued bytes are written.
class EventStream {
 public:
  virtual ~EventStream() = default;
  virtual void Send(std::string bytes) = 0;
  virtual bool open() const = 0;
  virtual void Close() = 0;
};

// How a handler answers. Copyable; the first Reply() or StartStream() counts, later ones are
// ignored. A Responder dropped without an answer replies 500.
class Responder {
 public:
  class Impl;
  explicit Responder(std::shared_ptr<Impl> impl);
  void Reply(Response response) const;
  // Sends the status line and headers of a stream (Content-Type: text/event-stream, no caching)
  // and returns the stream to write events to.
  std::shared_ptr<EventStream> StartStream(
      std::vector<std::pair<std::string, std::string>> headers = {}) const;

 private:
  std::shared_ptr<Impl> impl_;
};

using Handler = std::function<void(const Request&, const Responder&)>;

class HttpServer {
 public:
  // Listens on "ADDRESS:PORT" (an IP address; port 0: any free port). `handler` receives every
  // request that passed the limits.
  static Result<std::unique_ptr<HttpServer>> Start(const std::string& listen, Limits limits,
                                                   Handler handler);
  ~HttpServer();
  int port() const;
  std::string url() const;  // http://ADDRESS:PORT
  size_t open_connections() const;  // admitted ones, at most max_connections (evicted ones and
                                    // those being refused with 503 are not counted)

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::http
