#include "http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <list>
#include <mutex>
#include <optional>
#include <sstream>
#include <string_view>
#include <thread>
#include <unordered_set>

#include "json_text.h"

namespace vigil::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// ---------------------------------------------------------------------------------------------
// Request and Response

namespace {

const std::string& ValueOr(const std::map<std::string, std::string>& map, const std::string& key) {
  static const std::string kEmpty;
  auto found = map.find(key);
  return found == map.end() ? kEmpty : found->second;
}

}  // namespace

const std::string& Request::Header(const std::string& name) const { return ValueOr(headers, name); }
const std::string& Request::Query(const std::string& name) const { return ValueOr(query, name); }

Response Response::Json(int status, std::string body) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

Response Response::Error(int status, const std::string& message) {
  return Json(status, "{\"error\":" + JsonQuote(message) + "}");
}

namespace {

// ---------------------------------------------------------------------------------------------
// Decoding the request line

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `text` with %XX sequences decoded (and '+' as a space in a query); nullopt when a '%' is not
// followed by two hex digits, which only a broken or hostile client sends.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c != '%') {
      out.push_back(c);
    } else {
      int high = i + 2 < text.size() ? HexDigit(text[i + 1]) : -1;
      int low = i + 2 < text.size() ? HexDigit(text[i + 2]) : -1;
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    }
  }
  return out;
}

Status ParseQuery(std::string_view query, std::map<std::string, std::string>& out) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::optional<std::string> name = PercentDecode(pair.substr(0, eq), true);
    std::optional<std::string> value =
        PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!name || !value) return Status::Error("bad percent-encoding in the query");
    out[*name] = *value;
  }
  return Status::Ok();
}

std::string Lower(beast::string_view text) {
  std::string out(text.data(), text.size());
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string EndpointText(const tcp::endpoint& endpoint) {
  std::string host = endpoint.address().to_string();
  if (endpoint.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(endpoint.port());
}

using BeastRequest = bhttp::request<bhttp::string_body>;

Result<Request> ToRequest(BeastRequest& message, const std::string& remote) {
  Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  std::string_view target = request.target;
  size_t question = target.find('?');
  std::string_view raw_path = target.substr(0, question);
  if (raw_path.empty() || raw_path[0] != '/') {
    return Status::Error("the request target must be a path");
  }
  std::optional<std::string> path = PercentDecode(raw_path, false);
  // A NUL in a path is never meant and trips every C API the path may reach.
  if (!path || path->find('\0') != std::string::npos) {
    return Status::Error("bad percent-encoding in the path");
  }
  request.path = std::move(*path);
  if (question != std::string_view::npos) {
    Status parsed = ParseQuery(target.substr(question + 1), request.query);
    if (!parsed.ok()) return parsed;
  }
  for (const auto& field : message) {
    auto [it, inserted] =
        request.headers.emplace(Lower(field.name_string()), std::string(field.value()));
    if (!inserted) it->second += ", " + std::string(field.value());  // repeated: one list
  }
  request.body = std::move(message.body());
  request.remote = remote;
  return request;
}

// ---------------------------------------------------------------------------------------------
// Building responses

// A header the handler may set: not one that frames the message (the server owns those), and no
// CR or LF that would let a value smuggle in headers of its own.
bool HandlerMaySet(const std::string& name, const std::string& value) {
  static const char* const kFraming[] = {"content-length", "transfer-encoding", "connection"};
  std::string lower = Lower(name);
  for (const char* framing : kFraming) {
    if (lower == framing) return false;
  }
  return !name.empty() && name.find_first_of(":\r\n \t") == std::string::npos &&
         value.find_first_of("\r\n") == std::string::npos;
}

void SetDefault(bhttp::fields& fields, beast::string_view name, beast::string_view value) {
  if (fields.find(name) == fields.end()) fields.set(name, value);
}

// The handler's headers first, so that they win over the defaults set after them.
void SetHeaders(bhttp::fields& fields, const HeaderList& headers) {
  for (const auto& [name, value] : headers) {
    if (HandlerMaySet(name, value)) fields.set(name, value);
  }
  SetDefault(fields, "X-Content-Type-Options", "nosniff");
  SetDefault(fields, "Content-Security-Policy", "default-src 'self'");
}

bhttp::response<bhttp::string_body> ToMessage(Response response, unsigned version, bool keep_alive,
                                              bool head) {
  // A 1xx is never a final answer; 204 and 304 carry no body (Beast throws on one).
  int status = response.status >= 200 && response.status <= 599 ? response.status : 500;
  bool bodyless = status == 204 || status == 304;
  bhttp::response<bhttp::string_body> message;
  message.version(version);
  message.result(status);
  if (!response.content_type.empty())
    message.set(bhttp::field::content_type, response.content_type);
  SetHeaders(message, response.headers);
  SetDefault(message, "Cache-Control", "no-store");
  message.keep_alive(keep_alive);
  if (bodyless) return message;
  message.body() = std::move(response.body);
  message.prepare_payload();
  if (head) message.body().clear();  // Content-Length stays that of the body a GET would get
  return message;
}

std::string StreamHead(const HeaderList& headers) {
  bhttp::response<bhttp::empty_body> message(bhttp::status::ok, 11);
  SetHeaders(message, headers);
  SetDefault(message, "Content-Type", "text/event-stream");
  SetDefault(message, "Cache-Control", "no-cache");
  SetDefault(message, "X-Accel-Buffering", "no");  // nginx and the like: pass each event on now
  // No Content-Length and no chunking: the body runs until the connection closes.
  message.set(bhttp::field::connection, "keep-alive");
  std::ostringstream text;
  text << message.base();
  return text.str();
}

std::string BusyReply() {
  Response busy = Response::Error(503, "too many connections, try again");
  busy.headers.emplace_back("Retry-After", "1");
  std::ostringstream text;
  text << ToMessage(std::move(busy), 11, false, false);
  return text.str();
}

// ---------------------------------------------------------------------------------------------
// What connections share

// Shared by the server and every Responder and EventStream, which may outlive it: once `closed`
// is set (under `mu`), nothing more is posted to the I/O threads, whose io_context is about to go.
struct Gate {
  std::mutex mu;
  std::atomic<bool> closed{false};
};

class Connection;
class Rejection;

// A connection's place in Core::waiting (while it may be evicted), and whether it was evicted.
// Guarded by Core::mu: Admit reads it on the acceptor's thread, the connection on its strand.
struct Place {
  std::optional<std::list<std::shared_ptr<Connection>>::iterator> waiting;
  bool evicted = false;
};

// What every connection reaches: the limits, the handler and its pool, the registries. Connections
// live exactly as long as they are registered here (or in a pending operation being destroyed).
//
// Admission: while fewer than max_connections are registered, a newcomer is admitted. When full,
// the connection that has waited longest for a request's header (idle between requests, or with
// its header only part-sent) is evicted to make room: an idle crowd cannot keep a fresh client
// out, since a crowd of N only holds the newest N places and loses the oldest to each arrival.
// Connections whose request is complete (handled, answered or streaming) are never evicted; only
// when every place is such a connection is the newcomer answered 503.
struct Core {
  Core(Limits limits_in, Handler handler_in)
      : limits(limits_in),
        handler(std::move(handler_in)),
        pool(static_cast<size_t>(limits.handler_threads)),
        busy_reply(BusyReply()) {}

  Millis Idle() const { return Millis(limits.idle_timeout_ms); }
  Millis WriteTimeout() const {
    return Millis(std::max(limits.idle_timeout_ms, limits.request_timeout_ms));
  }
  void Admit(tcp::socket socket);
  // A connection starts waiting for a request's header, and may be evicted from now on.
  void Waiting(const std::shared_ptr<Connection>& connection);
  // A connection's request is complete (or being refused): it may not be evicted any more. False
  // when it was evicted first; it is closing and must not go on.
  bool Working(const std::shared_ptr<Connection>& connection);
  void Forget(const std::shared_ptr<Connection>& connection);
  void Forget(const std::shared_ptr<Rejection>& rejection);
  size_t Count();
  void DropAll();

  const Limits limits;
  const Handler handler;
  const std::shared_ptr<Gate> gate = std::make_shared<Gate>();
  asio::thread_pool pool;
  const std::string busy_reply;
  std::mutex mu;
  std::unordered_set<std::shared_ptr<Connection>> connections;
  std::list<std::shared_ptr<Connection>> waiting;     // evictable ones, longest waiting first
  std::list<std::shared_ptr<Rejection>> rejections;  // oldest first

 private:
  // These three under mu.
  bool EvictLongestWaiting();
  void Reject(tcp::socket socket);
  void StopWaiting(Place& place);
};

// Runs fn(connection) on the connection's strand, unless the server is shutting down or the
// connection is gone. False when it will not run.
template <typename Fn>
bool PostTo(Gate& gate, const std::weak_ptr<Connection>& weak, Fn fn);

// ---------------------------------------------------------------------------------------------
// Stream: the EventStream a handler writes to. Its bytes wait here until the connection's strand
// takes them; `backlog_` counts them until they are written to the socket.

class Stream final : public EventStream {
 public:
  Stream(std::shared_ptr<Gate> gate, std::weak_ptr<Connection> connection, size_t limit,
         std::string head)
      : gate_(std::move(gate)), connection_(std::move(connection)), limit_(limit) {
    backlog_ = head.size();
    queued_.push_back(std::move(head));
  }

  void Send(std::string bytes) override;
  bool open() const override { return open_ && !gate_->closed; }
  void Close() override;

  // For the connection's strand.
  std::vector<std::string> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    flush_posted_ = false;
    return std::exchange(queued_, {});
  }
  void Written(size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    backlog_ -= std::min(backlog_, bytes);
  }
  void MarkClosed() { open_ = false; }

 private:
  const std::shared_ptr<Gate> gate_;
  const std::weak_ptr<Connection> connection_;
  const size_t limit_;
  std::mutex mu_;
  std::vector<std::string> queued_;
  size_t backlog_ = 0;
  bool flush_posted_ = false;
  std::atomic<bool> open_{true};
};

// ---------------------------------------------------------------------------------------------
// Connection: one admitted client. Every member function runs on the connection's strand.
//
// Reading: raw reads fed to a request_parser, so that each read has its own deadline: the idle
// timeout, cut short by the request timeout once the request's first byte arrived (slowloris).
// Then the request goes to the handler pool and nothing is read until it is answered. A stream
// keeps one read pending, only to notice the client leaving. From ReadRequest until its header is
// whole a connection is waiting, and a newcomer may evict it (Core); after that it never is.

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Core& core, tcp::socket socket, std::string remote)
      : core_(core), stream_(std::move(socket)), remote_(std::move(remote)) {}

  Place place;  // guarded by Core::mu

  asio::any_io_executor executor() { return stream_.get_executor(); }
  void Start() { ReadRequest(); }
  void Answer(Response response);
  void AttachStream(std::shared_ptr<Stream> stream);
  void FlushStream();
  void EndStream(bool flush);
  void Close();

 private:
  void ReadRequest();
  void ReadMore();
  void OnRead(beast::error_code error, size_t bytes);
  void Parse();
  bool NeedsContinue() const;
  void SendContinue();
  void Refuse(beast::error_code error);
  void Dispatch();
  void Write(Response response);
  void OnStreamWritten(beast::error_code error, size_t bytes);
  void Linger();
  void Discard();

  Core& core_;
  beast::tcp_stream stream_;
  const std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  SteadyClock::time_point deadline_;
  bool request_started_ = false;
  bool continue_sent_ = false;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool head_ = false;
  std::shared_ptr<Stream> event_stream_;
  std::vector<std::string> in_flight_;
  bool writing_ = false;
  bool ending_ = false;
  bool closed_ = false;
  std::array<char, 1024> discard_{};
};

void Connection::ReadRequest() {
  core_.Waiting(shared_from_this());
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(core_.limits.max_header_bytes));
  parser_->body_limit(core_.limits.max_body_bytes);
  parser_->eager(true);
  request_started_ = false;
  continue_sent_ = false;
  if (buffer_.size() > 0) {  // a pipelined request already arrived with the previous one
    request_started_ = true;
    deadline_ = SteadyClock::now() + Millis(core_.limits.request_timeout_ms);
    Parse();
  } else {
    ReadMore();
  }
}

void Connection::ReadMore() {
  auto timeout = std::chrono::duration_cast<Millis>(core_.Idle());
  if (request_started_) {
    auto left = std::chrono::duration_cast<Millis>(deadline_ - SteadyClock::now());
    timeout = std::max(Millis(1), std::min(timeout, left));
  }
  stream_.expires_after(timeout);
  stream_.async_read_some(buffer_.prepare(16 * 1024),
                          [self = shared_from_this()](beast::error_code error, size_t bytes) {
                            self->OnRead(error, bytes);
                          });
}

void Connection::OnRead(beast::error_code error, size_t bytes) {
  // Timeout (tcp_stream has closed the socket already), end of stream or reset: nothing to say.
  if (error) return Close();
  buffer_.commit(bytes);
  if (!request_started_) {
    request_started_ = true;
    deadline_ = SteadyClock::now() + Millis(core_.limits.request_timeout_ms);
  }
  Parse();
}

void Connection::Parse() {
  while (!parser_->is_done() && buffer_.size() > 0) {
    beast::error_code error;
    size_t used = parser_->put(buffer_.data(), error);
    buffer_.consume(used);
    if (error == bhttp::error::need_more) break;
    if (error) return Refuse(error);
    if (used == 0) break;
  }
  // Once the header is whole the request is this connection's work, not a wait: no eviction.
  if (parser_->is_header_done() && !core_.Working(shared_from_this())) return Close();
  if (parser_->is_done()) return Dispatch();
  if (NeedsContinue()) return SendContinue();
  ReadMore();
}

// curl sends "Expect: 100-continue" before a large body and waits a second for the go-ahead.
bool Connection::NeedsContinue() const {
  if (continue_sent_ || !parser_->is_header_done()) return false;
  const auto& header = parser_->get();
  return header.version() == 11 && beast::iequals(header[bhttp::field::expect], "100-continue");
}

void Connection::SendContinue() {
  static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
  continue_sent_ = true;
  stream_.expires_after(core_.WriteTimeout());
  asio::async_write(stream_, asio::buffer(kContinue, sizeof kContinue - 1),
                    [self = shared_from_this()](beast::error_code error, size_t) {
                      if (error) return self->Close();
                      self->ReadMore();
                    });
}

void Connection::Refuse(beast::error_code error) {
  keep_alive_ = false;
  version_ = 11;
  head_ = false;  // left from an earlier HEAD on this connection, it would drop the error's body
  if (error == bhttp::error::header_limit || error == bhttp::error::buffer_overflow) {
    return Write(Response::Error(431, "request header fields too large"));
  }
  if (error == bhttp::error::body_limit)
    return Write(Response::Error(413, "request body too large"));
  Write(Response::Error(400, "malformed request: " + error.message()));
}

void Connection::Answer(Response response) {
  if (closed_) return;
  Write(std::move(response));
}

void Connection::Write(Response response) {
  if (!core_.Working(shared_from_this())) return Close();  // a refusal (431, 400) mid-header
  auto message = std::make_shared<bhttp::response<bhttp::string_body>>(
      ToMessage(std::move(response), version_, keep_alive_, head_));
  stream_.expires_after(core_.WriteTimeout());
  bhttp::async_write(stream_, *message,
                     [self = shared_from_this(), message](beast::error_code error, size_t) {
                       if (error) return self->Close();
                       if (!message->keep_alive()) return self->Linger();
                       self->ReadRequest();
                     });
}

// Closing at once with unread request bytes makes the kernel send a reset, which can destroy the
// answer before the client reads it: send FIN, then read until the client closes (or a second).
void Connection::Linger() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.expires_after(std::min(core_.Idle(), Millis(1000)));
  Discard();
}

void Connection::Discard() {
  stream_.async_read_some(asio::buffer(discard_),
                          [self = shared_from_this()](beast::error_code error, size_t) {
                            if (error) return self->Close();
                            self->Discard();
                          });
}

void Connection::AttachStream(std::shared_ptr<Stream> stream) {
  if (closed_) return stream->MarkClosed();
  event_stream_ = std::move(stream);
  stream_.expires_never();
  Discard();  // completes with an error when the client goes: that closes the stream
  FlushStream();
}

void Connection::FlushStream() {
  if (closed_ || !event_stream_ || writing_) return;
  in_flight_ = event_stream_->Take();
  if (in_flight_.empty()) {
    if (ending_) Close();  // nothing unread to reset: close() sends what is queued, then FIN
    return;
  }
  std::vector<asio::const_buffer> buffers;
  for (const std::string& bytes : in_flight_) buffers.push_back(asio::buffer(bytes));
  writing_ = true;
  // Only the write's timer is set (the pending read's is not touched): a client that has not taken
  // the write in this long is not reading.
  stream_.expires_after(core_.WriteTimeout());
  asio::async_write(stream_, buffers,
                    [self = shared_from_this()](beast::error_code error, size_t bytes) {
                      self->OnStreamWritten(error, bytes);
                    });
}

void Connection::OnStreamWritten(beast::error_code error, size_t bytes) {
  writing_ = false;
  in_flight_.clear();
  event_stream_->Written(bytes);
  if (error) return Close();
  FlushStream();
}

void Connection::EndStream(bool flush) {
  if (closed_ || !event_stream_) return;
  if (!flush) return Close();
  ending_ = true;
  FlushStream();
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  if (event_stream_) event_stream_->MarkClosed();
  stream_.close();
  core_.Forget(shared_from_this());
}

template <typename Fn>
bool PostTo(Gate& gate, const std::weak_ptr<Connection>& weak, Fn fn) {
  std::lock_guard<std::mutex> lock(gate.mu);
  if (gate.closed) return false;
  std::shared_ptr<Connection> connection = weak.lock();
  if (!connection) return false;
  asio::post(connection->executor(),
             [connection, fn = std::move(fn)]() mutable { fn(*connection); });
  return true;
}

void Stream::Send(std::string bytes) {
  bool flush = false;
  bool abort = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!open_) return;
    backlog_ += bytes.size();
    if (backlog_ > limit_) {
      open_ = false;
      queued_.clear();
      abort = true;
    } else {
      queued_.push_back(std::move(bytes));
      flush = !std::exchange(flush_posted_, true);
    }
  }
  bool posted = true;
  if (abort) posted = PostTo(*gate_, connection_, [](Connection& c) { c.EndStream(false); });
  if (flush) posted = PostTo(*gate_, connection_, [](Connection& c) { c.FlushStream(); });
  if (!posted) open_ = false;
}

void Stream::Close() {
  if (!open_.exchange(false)) return;
  PostTo(*gate_, connection_, [](Connection& c) { c.EndStream(true); });
}

// ---------------------------------------------------------------------------------------------
// Rejection: a newcomer that found every place held by a connection at work (none to evict). It
// gets the canned 503, then FIN, then a short linger for the client to close (see
// Connection::Linger). At most max_connections of them linger; the oldest is cut short for a new
// one, so rejections never pile up.

class Rejection : public std::enable_shared_from_this<Rejection> {
 public:
  Rejection(Core& core, tcp::socket socket) : core_(core), stream_(std::move(socket)) {}

  asio::any_io_executor executor() { return stream_.get_executor(); }

  void Start() {
    stream_.expires_after(Millis(1000));
    asio::async_write(stream_, asio::buffer(core_.busy_reply),
                      [self = shared_from_this()](beast::error_code error, size_t) {
                        if (error) return self->Close();
                        beast::error_code ignored;
                        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                        self->stream_.expires_after(Millis(500));
                        self->Discard();
                      });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    stream_.close();
    core_.Forget(shared_from_this());
  }

 private:
  void Discard() {
    stream_.async_read_some(asio::buffer(discard_),
                            [self = shared_from_this()](beast::error_code error, size_t) {
                              if (error) return self->Close();
                              self->Discard();
                            });
  }

  Core& core_;
  beast::tcp_stream stream_;
  std::array<char, 512> discard_{};
  bool closed_ = false;
};

// ---------------------------------------------------------------------------------------------
// Core

void Core::Admit(tcp::socket socket) {
  beast::error_code error;
  tcp::endpoint remote = socket.remote_endpoint(error);
  if (error) return;  // already gone
  socket.set_option(tcp::no_delay(true), error);
  std::lock_guard<std::mutex> lock(mu);
  if (connections.size() >= limits.max_connections && !EvictLongestWaiting()) {
    return Reject(std::move(socket));
  }
  auto connection = std::make_shared<Connection>(*this, std::move(socket), EndpointText(remote));
  connections.insert(connection);
  // Waiting from now, not from when its strand first runs: a burst of arrivals must find the
  // earlier ones of the burst evictable, or it would be refused while they have sent nothing.
  connection->place.waiting = waiting.insert(waiting.end(), connection);
  asio::post(connection->executor(), [connection] { connection->Start(); });
}

// The victim leaves the registry at once, so that the places never exceed max_connections; its
// socket is closed on its own strand, where everything else it does runs. `evicted` stops it
// there should its header complete before the close runs (see Working).
bool Core::EvictLongestWaiting() {
  if (waiting.empty()) return false;
  std::shared_ptr<Connection> victim = std::move(waiting.front());
  waiting.pop_front();
  victim->place.waiting.reset();
  victim->place.evicted = true;
  connections.erase(victim);
  asio::post(victim->executor(), [victim] { victim->Close(); });
  return true;
}

void Core::Reject(tcp::socket socket) {
  if (rejections.size() >= std::max<size_t>(limits.max_connections, 1)) {
    std::shared_ptr<Rejection> oldest = rejections.front();
    rejections.pop_front();
    asio::post(oldest->executor(), [oldest] { oldest->Close(); });
  }
  auto rejection = std::make_shared<Rejection>(*this, std::move(socket));
  rejections.push_back(rejection);
  asio::post(rejection->executor(), [rejection] { rejection->Start(); });
}

void Core::Waiting(const std::shared_ptr<Connection>& connection) {
  std::lock_guard<std::mutex> lock(mu);
  Place& place = connection->place;
  if (place.evicted || place.waiting) return;  // evicted: its close is on the way
  place.waiting = waiting.insert(waiting.end(), connection);
}

bool Core::Working(const std::shared_ptr<Connection>& connection) {
  std::lock_guard<std::mutex> lock(mu);
  StopWaiting(connection->place);
  return !connection->place.evicted;
}

void Core::Forget(const std::shared_ptr<Connection>& connection) {
  std::lock_guard<std::mutex> lock(mu);
  StopWaiting(connection->place);
  connections.erase(connection);
}

void Core::StopWaiting(Place& place) {
  if (place.waiting) waiting.erase(*std::exchange(place.waiting, std::nullopt));
}

void Core::Forget(const std::shared_ptr<Rejection>& rejection) {
  std::lock_guard<std::mutex> lock(mu);
  rejections.remove(rejection);
}

size_t Core::Count() {
  std::lock_guard<std::mutex> lock(mu);
  return connections.size();
}

// Destroys every connection's socket (the I/O threads are stopped, their io_context still alive).
void Core::DropAll() {
  std::unordered_set<std::shared_ptr<Connection>> connections_gone;
  std::list<std::shared_ptr<Connection>> waiting_gone;
  std::list<std::shared_ptr<Rejection>> rejections_gone;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& connection : waiting) connection->place.waiting.reset();
    connections_gone.swap(connections);
    waiting_gone.swap(waiting);
    rejections_gone.swap(rejections);
  }
}

Result<tcp::endpoint> ParseListen(const std::string& listen) {
  const std::string usage = "expected IP-ADDRESS:PORT (e.g. 127.0.0.1:8080), got '" + listen + "'";
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size() || listen.size() - colon > 6 ||
      listen.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
    return Status::Error(usage);
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  beast::error_code error;
  asio::ip::address address = asio::ip::make_address(host, error);
  int port = std::stoi(listen.substr(colon + 1));
  if (error || port > 65535) return Status::Error(usage);
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

Status CheckLimits(const Limits& limits) {
  if (limits.max_connections < 1 || limits.handler_threads < 1 || limits.idle_timeout_ms < 1 ||
      limits.request_timeout_ms < 1 || limits.max_header_bytes < 1 ||
      limits.max_header_bytes > UINT32_MAX) {
    return Status::Error(
        "http server limits: connections, handler threads, timeouts and the "
        "header limit must be positive");
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Responder

class Responder::Impl {
 public:
  Impl(std::shared_ptr<Gate> gate, std::weak_ptr<Connection> connection, size_t stream_limit)
      : gate_(std::move(gate)), connection_(std::move(connection)), stream_limit_(stream_limit) {}
  ~Impl() {
    if (!answered_.exchange(true)) Deliver(Response::Error(500, "the request was not answered"));
  }

  void Reply(Response response) {
    if (!answered_.exchange(true)) Deliver(std::move(response));
  }

  std::shared_ptr<EventStream> StartStream(const HeaderList& headers) {
    auto stream = std::make_shared<Stream>(gate_, connection_, stream_limit_, StreamHead(headers));
    if (answered_.exchange(true) ||
        !PostTo(*gate_, connection_, [stream](Connection& c) { c.AttachStream(stream); })) {
      stream->MarkClosed();
    }
    return stream;
  }

 private:
  void Deliver(Response response) {
    PostTo(*gate_, connection_, [response = std::move(response)](Connection& c) mutable {
      c.Answer(std::move(response));
    });
  }

  const std::shared_ptr<Gate> gate_;
  const std::weak_ptr<Connection> connection_;
  const size_t stream_limit_;
  std::atomic<bool> answered_{false};
};

Responder::Responder(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
void Responder::Reply(Response response) const { impl_->Reply(std::move(response)); }
std::shared_ptr<EventStream> Responder::StartStream(HeaderList headers) const {
  return impl_->StartStream(headers);
}

// Here, below Responder::Impl, which it creates.
void Connection::Dispatch() {
  stream_.expires_never();  // the handler may take its time; nothing is read meanwhile
  BeastRequest message = parser_->release();
  version_ = message.version();
  keep_alive_ = message.keep_alive();
  head_ = message.method() == bhttp::verb::head;
  Result<Request> request = ToRequest(message, remote_);
  if (!request.ok()) {
    keep_alive_ = false;
    return Write(Response::Error(400, request.status().message()));
  }
  Responder responder(std::make_shared<Responder::Impl>(core_.gate, weak_from_this(),
                                                        core_.limits.max_stream_backlog_bytes));
  asio::post(core_.pool, [&core = core_, request = std::move(*request), responder]() {
    try {
      core.handler(request, responder);
    } catch (const std::exception& e) {
      std::cerr << "http: handler failed on " << request.method << " " << request.path << ": "
                << e.what() << "\n";
      responder.Reply(Response::Error(500, "internal error"));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// HttpServer

class HttpServer::Impl {
 public:
  static constexpr int kIoThreads = 2;

  Impl(Limits limits, Handler handler, const tcp::endpoint& endpoint)
      : core_(limits, std::move(handler)), acceptor_(io_), retry_(io_) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    Accept();
    for (int i = 0; i < kIoThreads; ++i) threads_.emplace_back([this] { io_.run(); });
  }

  // Order matters: no more posts from handlers, then no I/O thread, then no handler thread; the
  // sockets go while their io_context is still alive, and the Core outlives the io_context.
  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(core_.gate->mu);
      core_.gate->closed = true;
    }
    io_.stop();
    for (std::thread& thread : threads_) thread.join();
    core_.pool.stop();
    core_.pool.join();
    core_.DropAll();
  }

  tcp::endpoint local() const { return acceptor_.local_endpoint(); }
  size_t open_connections() { return core_.Count(); }

 private:
  void Accept() {
    acceptor_.async_accept(asio::make_strand(io_),
                           [this](beast::error_code error, tcp::socket socket) {
                             OnAccept(error, std::move(socket));
                           });
  }

  void OnAccept(beast::error_code error, tcp::socket socket) {
    if (error == asio::error::operation_aborted) return;
    if (error) {  // out of file descriptors, most likely: pause instead of spinning on the error
      retry_.expires_after(Millis(50));
      retry_.async_wait([this](beast::error_code wait_error) {
        if (!wait_error) Accept();
      });
      return;
    }
    core_.Admit(std::move(socket));
    Accept();
  }

  Core core_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  std::vector<std::thread> threads_;
};

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& listen, Limits limits,
                                                      Handler handler) {
  Result<tcp::endpoint> endpoint = ParseListen(listen);
  if (!endpoint.ok()) return endpoint.status();
  Status checked = CheckLimits(limits);
  if (!checked.ok()) return checked;
  if (!handler) return Status::Error("http server: no handler");
  try {
    return std::unique_ptr<HttpServer>(
        new HttpServer(std::make_unique<Impl>(limits, std::move(handler), *endpoint)));
  } catch (const boost::system::system_error& e) {
    return Status::Error("cannot listen on " + listen + ": " + e.code().message());
  }
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;
int HttpServer::port() const { return impl_->local().port(); }
std::string HttpServer::url() const { return "http://" + EndpointText(impl_->local()); }
size_t HttpServer::open_connections() const { return impl_->open_connections(); }

}  // namespace vigil::http
