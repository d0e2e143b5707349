// HttpServer (engine/http/http_server.h) driven over real sockets, the way browsers, curl and
// hostile clients drive it: limits, timeouts, crowds, streams and a blocking handler.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http_server.h"
#include "json_text.h"
#include "live_fixtures.h"

namespace vigil::http {
namespace {

using testing::CerrCapture;
using testing::WaitUntil;
using Millis = std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

Millis Since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<Millis>(SteadyClock::now() - start);
}

struct Reply {
  int status = 0;  // 0: no whole response arrived
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The head of `raw` (status and headers), if it holds all of it.
std::optional<Reply> ParseHead(const std::string& raw, size_t* body_start) {
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos || raw.compare(0, 9, "HTTP/1.1 ") != 0) return std::nullopt;
  Reply reply;
  reply.status = std::stoi(raw.substr(9, 3));
  size_t line = raw.find("\r\n") + 2;
  while (line < end) {
    size_t next = raw.find("\r\n", line);
    std::string field = raw.substr(line, next - line);
    size_t colon = field.find(':');
    reply.headers[Lower(field.substr(0, colon))] =
        field.substr(field.find_first_not_of(' ', colon + 1));
    line = next + 2;
  }
  *body_start = end + 4;
  return reply;
}

// A blocking client socket whose every wait has a deadline (poll), so a server that misbehaves
// fails the test instead of hanging it.
class Client {
 public:
  explicit Client(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  }
  ~Client() { Close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  // False once the server has closed or reset the connection.
  bool Send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads until `done(received)`, the server closes, or `limit` passes; returns what arrived.
  std::string ReadUntil(const std::function<bool(const std::string&)>& done, Millis limit) {
    auto deadline = SteadyClock::now() + limit;
    while (!done(received_) && !closed_) {
      Millis left = std::chrono::duration_cast<Millis>(deadline - SteadyClock::now());
      if (left.count() <= 0 || !ReadSome(left)) break;
    }
    return received_;
  }

  // One whole response (Content-Length framed, or up to the close), then forgets it.
  Reply ReadReply(Millis limit = Millis(3000)) {
    ReadUntil([](const std::string& raw) { return Complete(raw); }, limit);
    size_t body_start = 0;
    std::optional<Reply> reply = ParseHead(received_, &body_start);
    if (!reply || (!Complete(received_) && !closed_)) return Reply{};
    size_t length = reply->status == 204 || reply->status == 304 ? 0
                    : reply->headers.count("content-length")
                        ? std::stoul(reply->headers["content-length"])
                        : received_.size() - body_start;
    reply->body = received_.substr(body_start, length);
    received_.erase(0, body_start + length);
    return *reply;
  }

  // True when the server closes the connection within `limit` (whatever it sends first).
  bool ClosedWithin(Millis limit) {
    ReadUntil([](const std::string&) { return false; }, limit);
    return closed_;
  }
  bool closed() const { return closed_; }

 private:
  static bool Complete(const std::string& raw) {
    size_t body_start = 0;
    std::optional<Reply> reply = ParseHead(raw, &body_start);
    if (!reply) return false;
    if (reply->status == 204 || reply->status == 304) return true;  // never a body
    if (!reply->headers.count("content-length")) return false;      // runs until the close
    return raw.size() - body_start >= std::stoul(reply->headers["content-length"]);
  }

  bool ReadSome(Millis limit) {
    pollfd waiting{fd_, POLLIN, 0};
    if (poll(&waiting, 1, static_cast<int>(limit.count())) <= 0) return false;
    char buffer[64 * 1024];
    ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    received_.append(buffer, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  std::string received_;
  bool closed_ = false;
};

std::string Get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n";
}

// One value handed from a handler thread to the test, waited for with a limit.
template <typename T>
class Mailbox {
 public:
  void Put(T value) {
    std::lock_guard<std::mutex> lock(mu_);
    value_ = std::move(value);
    changed_.notify_all();
  }
  T Take() {
    std::unique_lock<std::mutex> lock(mu_);
    REQUIRE(
        changed_.wait_for(lock, std::chrono::seconds(10), [this] { return value_.has_value(); }));
    T value = std::move(*value_);
    value_.reset();
    return value;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::optional<T> value_;
};

Limits FastLimits() {
  Limits limits;
  limits.idle_timeout_ms = 300;
  limits.request_timeout_ms = 600;
  limits.max_connections = 64;
  limits.max_body_bytes = 1024;
  return limits;
}

std::unique_ptr<HttpServer> Serve(Limits limits, Handler handler) {
  Result<std::unique_ptr<HttpServer>> server =
      HttpServer::Start("127.0.0.1:0", limits, std::move(handler));
  if (!server.ok()) FAIL(server.status().message());
  return std::move(*server);
}

// Answers with what it understood of the request, one "name=value" a line.
void Echo(const Request& request, const Responder& responder) {
  std::string text = "method=" + request.method + "\npath=" + request.path +
                     "\nremote=" + request.remote + "\nbody=" + request.body + "\n";
  for (const auto& [name, value] : request.query) text += "query." + name + "=" + value + "\n";
  for (const auto& [name, value] : request.headers) text += "header." + name + "=" + value + "\n";
  Response response = Response::Json(200, text);
  response.content_type = "text/plain";
  response.headers.emplace_back("X-Echo", "yes");
  if (request.path == "/empty") response.status = 204;  // the body is dropped, not sent
  if (request.path == "/own-policy") {
    response.headers.emplace_back("Content-Security-Policy", "default-src 'none'");
  }
  responder.Reply(std::move(response));
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The crowd test opens about 1,000 descriptors in this process (both ends of 500 connections).
void RaiseDescriptorLimit() {
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_cur < 4096 && limit.rlim_max > limit.rlim_cur) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 4096);
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  REQUIRE_MESSAGE(limit.rlim_cur >= 1200, "the crowd test needs 1200 file descriptors");
}

}  // namespace

TEST_CASE("http_server: a GET gets its body and the security headers, twice on one connection") {
  auto server = Serve(FastLimits(), Echo);
  CHECK(server->url() == "http://127.0.0.1:" + std::to_string(server->port()));
  Client client(server->port());
  REQUIRE(client.Send(Get("/hello")));
  Reply reply = client.ReadReply();
  CHECK(reply.status == 200);
  CHECK(reply.headers["content-type"] == "text/plain");
  CHECK(reply.headers["x-echo"] == "yes");
  CHECK(reply.headers["x-content-type-options"] == "nosniff");
  CHECK(reply.headers["cache-control"] == "no-store");
  CHECK(reply.headers["content-security-policy"] == "default-src 'self'");
  CHECK(Has(reply.body, "method=GET\npath=/hello\nremote=127.0.0.1:"));
  CHECK(Has(reply.body, "header.host=test\n"));

  REQUIRE(client.Send(Get("/empty")));
  reply = client.ReadReply();
  CHECK(reply.status == 204);
  CHECK(reply.headers.count("content-length") == 0);

  REQUIRE(client.Send(Get("/own-policy")));  // keep-alive: the same connection again
  reply = client.ReadReply();
  CHECK(reply.status == 200);
  CHECK(reply.headers["content-security-policy"] == "default-src 'none'");  // the handler's wins
  CHECK(server->open_connections() == 1);
}

TEST_CASE("http_server: path and query are percent-decoded, '+' is a space in the query") {
  auto server = Serve(FastLimits(), Echo);
  Client client(server->port());
  REQUIRE(client.Send(
      Get("/a%20b/c%2Fd?x=1&name=Ann+O%27Neil&amp=a%26b&x=2&flag", "X-Mixed-Case: Value\r\n")));
  Reply reply = client.ReadReply();
  REQUIRE(reply.status == 200);
  CHECK(Has(reply.body, "path=/a b/c/d\n"));
  CHECK(Has(reply.body, "query.x=2\n"));  // the last one wins
  CHECK(Has(reply.body, "query.name=Ann O'Neil\n"));
  CHECK(Has(reply.body, "query.amp=a&b\n"));
  CHECK(Has(reply.body, "query.flag=\n"));
  CHECK(Has(reply.body, "header.x-mixed-case=Value\n"));

  Client bad(server->port());
  REQUIRE(bad.Send(Get("/?x=%zz")));
  reply = bad.ReadReply();
  CHECK(reply.status == 400);
  CHECK(reply.headers["content-type"] == "application/json");
  CHECK(reply.body == "{\"error\":\"bad percent-encoding in the query\"}");
  CHECK(bad.ClosedWithin(Millis(3000)));
}

TEST_CASE("http_server: too big a header is 431, too big a body 413, malformed 400; each closes") {
  auto server = Serve(FastLimits(), Echo);
  SUBCASE("header") {
    Client client(server->port());
    client.Send(Get("/", "X-Big: " + std::string(16 * 1024, 'a') + "\r\n"));
    CHECK(client.ReadReply().status == 431);
    CHECK(client.ClosedWithin(Millis(3000)));
  }
  SUBCASE("body") {
    Client client(server->port());
    client.Send("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 100000\r\n\r\n" +
                std::string(4096, 'b'));
    CHECK(client.ReadReply().status == 413);
    CHECK(client.ClosedWithin(Millis(3000)));
  }
  SUBCASE("body within the limit") {
    Client client(server->port());
    client.Send("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello");
    Reply reply = client.ReadReply();
    CHECK(reply.status == 200);
    CHECK(Has(reply.body, "method=POST\n"));
    CHECK(Has(reply.body, "body=hello\n"));
  }
  SUBCASE("malformed request line") {
    Client client(server->port());
    client.Send("this is not http\r\n\r\n");
    Reply reply = client.ReadReply();
    CHECK(reply.status == 400);
    CHECK(Has(reply.body, "{\"error\":\"malformed request"));
    CHECK(client.ClosedWithin(Millis(3000)));
  }
}

TEST_CASE("http_server: a client silent for the idle timeout is closed") {
  auto server = Serve(FastLimits(), Echo);
  Client idle(server->port());
  CHECK(idle.ClosedWithin(Millis(5000)));  // 300 ms idle timeout; the limit only guards a hang
  Client kept(server->port());
  REQUIRE(kept.Send(Get("/")));
  CHECK(kept.ReadReply().status == 200);
  CHECK(kept.ClosedWithin(Millis(5000)));  // idle again after its answer
}

TEST_CASE("http_server: slowloris is cut off by the request timeout; others served meanwhile") {
  Limits limits = FastLimits();
  limits.idle_timeout_ms = 15000;    // a byte every 50 ms keeps the idle timer from firing ...
  limits.request_timeout_ms = 3000;  // ... so only the whole-request deadline can end it
  auto server = Serve(limits, Echo);
  Client slow(server->port());
  // At a byte per 50 ms the whole request would take about 50 s.
  const std::string request = Get("/slow", "X-Padding: " + std::string(1000, 'p') + "\r\n");
  auto start = SteadyClock::now();
  size_t sent = 0;
  bool slow_open_when_served = false;
  for (; sent < request.size() && !slow.closed(); ++sent) {
    if (!slow.Send(request.substr(sent, 1))) break;
    if (sent == 3) {  // part way through, an ordinary client
      Client normal(server->port());
      normal.Send(Get("/fast"));
      CHECK(normal.ReadReply(Millis(10000)).status == 200);
      // Served while the slow client still held its connection: it did not stall the server.
      // (The two connections are the slow one and this one.)
      slow_open_when_served = server->open_connections() == 2;
    }
    slow.ClosedWithin(Millis(50));  // paces the bytes; returns early once the server closes
  }
  CHECK(slow_open_when_served);
  CHECK(slow.closed());
  CHECK(sent < request.size());  // cut off before its request was whole: the deadline did it
  // A guard, not a benchmark: 3 s deadline; without it the close would take some 50 s.
  CHECK(Since(start) < Millis(12000));
}

TEST_CASE("http_server: when full, a newcomer takes the place of the longest-waiting connection") {
  Limits limits = FastLimits();
  limits.max_connections = 2;
  limits.idle_timeout_ms = 15000;  // no place frees up by a timeout during the test
  limits.request_timeout_ms = 15000;
  auto server = Serve(limits, Echo);
  Client oldest(server->port());  // idle since it connected
  WaitUntil([&] { return server->open_connections() == 1; }, "the first connection admitted");
  Client half(server->port());
  half.Send("GET /half HTTP/1.1\r\nHo");  // its header only part-sent
  WaitUntil([&] { return server->open_connections() == 2; }, "a full server");

  Client fresh(server->port());
  fresh.Send(Get("/fresh"));
  Reply reply = fresh.ReadReply(Millis(10000));
  CHECK(reply.status == 200);
  CHECK(Has(reply.body, "path=/fresh\n"));
  CHECK(oldest.ClosedWithin(Millis(10000)));
  CHECK(oldest.ReadUntil([](const std::string&) { return true; }, Millis(0)).empty());  // no answer
  CHECK(server->open_connections() == 2);

  // The younger waiting connection kept its place and its half-sent request.
  REQUIRE(half.Send("st: test\r\n\r\n"));
  reply = half.ReadReply(Millis(10000));
  CHECK(reply.status == 200);
  CHECK(Has(reply.body, "path=/half\n"));
}

// A handler for the tests of places held at work: "/stream" opens a stream (handed to the test),
// "/block" waits until released (announcing it started), anything else is echoed.
class WorkingHandler {
 public:
  WorkingHandler() : released_(release_.get_future().share()) {}

  // Declared after the server, this releases blocked handlers before the server is destroyed, as
  // its destructor waits for them, should a check stop the test early.
  struct Releaser {
    WorkingHandler* work;
    ~Releaser() { work->Release(); }
  };
  Releaser ReleaseOnExit() { return Releaser{this}; }

  Handler handler() {
    return [this](const Request& request, const Responder& responder) {
      if (request.path == "/stream") return streams.Put(responder.StartStream());
      if (request.path != "/block") return Echo(request, responder);
      blocked.Put(true);
      released_.wait();
      responder.Reply(Response::Json(200, "{\"released\":true}"));
    };
  }
  void Release() {
    if (!std::exchange(released_already_, true)) release_.set_value();
  }

  Mailbox<std::shared_ptr<EventStream>> streams;
  Mailbox<bool> blocked;  // a /block handler has started

 private:
  std::promise<void> release_;
  std::shared_future<void> released_;
  bool released_already_ = false;
};

// A stream and a request whose handler is blocked, opened in that order: two places at work,
// which a full server never evicts.
struct PlacesAtWork {
  PlacesAtWork(int port, WorkingHandler& work) : streaming(port), blocked(port) {
    streaming.Send(Get("/stream"));
    stream = work.streams.Take();
    blocked.Send(Get("/block"));
    work.blocked.Take();
  }
  Client streaming, blocked;
  std::shared_ptr<EventStream> stream;
};

TEST_CASE("http_server: 500 idle and half-sent connections do not keep a fresh client out") {
  RaiseDescriptorLimit();
  Limits limits = FastLimits();  // 64 places
  limits.idle_timeout_ms = 15000;  // the crowd would hold its places for the whole test ...
  limits.request_timeout_ms = 15000;
  WorkingHandler work;
  auto server = Serve(limits, work.handler());
  auto release_on_exit = work.ReleaseOnExit();
  // Places at work, taken first, so that they are the longest-held: never evicted.
  PlacesAtWork at_work(server->port(), work);
  Client& streaming = at_work.streaming;
  Client& blocked = at_work.blocked;
  std::shared_ptr<EventStream> stream = at_work.stream;

  auto crowd_started = SteadyClock::now();
  std::vector<std::unique_ptr<Client>> crowd;
  for (int i = 0; i < 500; ++i) {
    crowd.push_back(std::make_unique<Client>(server->port()));
    if (i % 2 == 1) crowd.back()->Send("GET /half HTTP/1.1\r\nHost: te");
  }
  WaitUntil([&] { return server->open_connections() == limits.max_connections; }, "a full server");

  Client fresh(server->port());
  fresh.Send(Get("/"));
  Reply reply = fresh.ReadReply(Millis(10000));
  CHECK(reply.status == 200);
  // ... so the place was taken from the crowd, not freed by a timeout: the server is still full,
  // and well within the 15 s timeouts of the crowd's arrival (a guard, not a benchmark).
  CHECK(server->open_connections() == limits.max_connections);
  CHECK(Since(crowd_started) < Millis(10000));

  CHECK(crowd.front()->ClosedWithin(Millis(10000)));  // the longest waiting went first
  REQUIRE(crowd.back()->Send("st\r\n\r\n"));        // the newest kept its place
  CHECK(crowd.back()->ReadReply(Millis(10000)).status == 200);

  // The stream and the handled request kept theirs.
  CHECK(stream->open());
  stream->Send("data: still here\n\n");
  CHECK(Has(streaming.ReadUntil([](const std::string& raw) { return Has(raw, "still here"); },
                                Millis(10000)),
            "\r\n\r\ndata: still here\n\n"));
  work.Release();
  reply = blocked.ReadReply(Millis(10000));
  CHECK(reply.status == 200);
  CHECK(reply.body == "{\"released\":true}");

  crowd.clear();  // the crowd leaves; their places free up as the server sees them go
  WaitUntil([&] { return server->open_connections() <= 3; }, "the crowd's connections to close");
}

TEST_CASE("http_server: when every place is at work, a newcomer is answered 503 at once") {
  Limits limits = FastLimits();
  limits.max_connections = 2;
  WorkingHandler work;
  auto server = Serve(limits, work.handler());
  auto release_on_exit = work.ReleaseOnExit();
  PlacesAtWork at_work(server->port(), work);
  Client& blocked = at_work.blocked;
  std::shared_ptr<EventStream> stream = at_work.stream;

  Client refused(server->port());
  refused.Send(Get("/"));
  // "At once": answered while the blocked handler still holds its place, not queued behind it.
  Reply reply = refused.ReadReply(Millis(10000));
  CHECK(reply.status == 503);
  CHECK(reply.headers["retry-after"] == "1");
  CHECK(refused.ClosedWithin(Millis(10000)));
  CHECK(stream->open());
  CHECK(server->open_connections() == 2);

  work.Release();
  CHECK(blocked.ReadReply(Millis(10000)).status == 200);
  // Answered, the blocked connection waits for its next request, so a newcomer may take its
  // place (once the server has seen its answer written: until then a newcomer still gets 503).
  WaitUntil([&] {
    Client after(server->port());
    after.Send(Get("/"));
    return after.ReadReply(Millis(10000)).status == 200;
  }, "a newcomer admitted in the place of the answered connection");
  CHECK(blocked.ClosedWithin(Millis(10000)));
  CHECK(stream->open());
}

TEST_CASE("http_server: a stream delivers Send()s in order and closes when its client goes") {
  Mailbox<std::shared_ptr<EventStream>> streams;
  auto server = Serve(FastLimits(), [&](const Request& request, const Responder& responder) {
    streams.Put(responder.StartStream({{"X-Stream", "1"}}));
  });
  auto client = std::make_unique<Client>(server->port());
  client->Send(Get("/stream"));
  std::shared_ptr<EventStream> stream = streams.Take();
  std::string head =
      client->ReadUntil([](const std::string& raw) { return Has(raw, "\r\n\r\n"); }, Millis(3000));
  size_t body_start = 0;
  std::optional<Reply> reply = ParseHead(head, &body_start);
  REQUIRE(reply);
  CHECK(reply->status == 200);
  CHECK(reply->headers["content-type"] == "text/event-stream");
  CHECK(reply->headers["cache-control"] == "no-cache");
  CHECK(reply->headers["connection"] == "keep-alive");
  CHECK(reply->headers["x-accel-buffering"] == "no");
  CHECK(reply->headers["x-content-type-options"] == "nosniff");
  CHECK(reply->headers["x-stream"] == "1");
  CHECK(reply->headers.count("content-length") == 0);

  std::string expected;
  for (int i = 1; i <= 50; ++i) {
    std::string event =
        "id: 0:" + std::to_string(i) + "\ndata: {\"n\":" + std::to_string(i) + "}\n\n";
    stream->Send(event);
    expected += event;
  }
  std::string all = client->ReadUntil(
      [&](const std::string& raw) { return raw.size() >= body_start + expected.size(); },
      Millis(3000));
  CHECK(all.substr(body_start) == expected);
  CHECK(stream->open());  // the idle timeout does not apply to a stream

  client.reset();  // the client leaves
  WaitUntil([&] { return !stream->open(); }, "the stream to notice its client left");
  stream->Send("data: nobody\n\n");  // does nothing, and does not fail
  WaitUntil([&] { return server->open_connections() == 0; }, "the stream's connection to close");
}

TEST_CASE("http_server: Close() ends a stream after what was sent; the client sees the end") {
  Mailbox<std::shared_ptr<EventStream>> streams;
  auto server = Serve(FastLimits(), [&](const Request&, const Responder& responder) {
    streams.Put(responder.StartStream());
  });
  Client client(server->port());
  client.Send(Get("/stream"));
  std::shared_ptr<EventStream> stream = streams.Take();
  stream->Send("data: last\n\n");
  stream->Close();
  CHECK_FALSE(stream->open());
  CHECK(client.ClosedWithin(Millis(3000)));
  CHECK(Has(client.ReadUntil([](const std::string&) { return true; }, Millis(0)),
            "\r\n\r\ndata: last\n\n"));
}

TEST_CASE("http_server: a stream whose client never reads is closed past its backlog limit") {
  Limits limits = FastLimits();
  limits.max_stream_backlog_bytes = 64 * 1024;
  Mailbox<std::shared_ptr<EventStream>> streams;
  auto server = Serve(limits, [&](const Request&, const Responder& responder) {
    streams.Put(responder.StartStream());
  });
  Client client(server->port());  // reads nothing after its request
  client.Send(Get("/stream"));
  std::shared_ptr<EventStream> stream = streams.Take();
  const std::string event = "data: " + std::string(16 * 1024, 'x') + "\n\n";
  // Socket buffers take a few megabytes first; 200 MB would be far past them.
  for (int i = 0; i < 12800 && stream->open(); ++i) stream->Send(event);
  CHECK_FALSE(stream->open());
  WaitUntil([&] { return server->open_connections() == 0; }, "the backlogged connection to close");
}

TEST_CASE("http_server: a blocking handler does not stall other requests") {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto server = Serve(FastLimits(), [&](const Request& request, const Responder& responder) {
    if (request.path == "/block") released.wait();  // e.g. waiting for Kafka to acknowledge
    responder.Reply(Response::Json(200, "{\"path\":" + JsonQuote(request.path) + "}"));
  });
  // Should a check below stop the test, the handlers must still return: the server's destructor
  // waits for them.
  struct Unblock {
    std::promise<void>& release;
    bool done = false;
    ~Unblock() {
      if (!done) release.set_value();
    }
  } unblock{release};
  Client blocked(server->port());
  blocked.Send(Get("/block"));
  Client blocked_too(server->port());
  blocked_too.Send(Get("/block"));

  // Answered while both handlers are still blocked (they are released only below), so no time
  // bound is needed: a server stalled by them would not answer at all.
  Client other(server->port());
  other.Send(Get("/fast"));
  Reply reply = other.ReadReply(Millis(10000));
  CHECK(reply.status == 200);
  CHECK(reply.body == "{\"path\":\"/fast\"}");

  release.set_value();
  unblock.done = true;
  CHECK(blocked.ReadReply().body == "{\"path\":\"/block\"}");
  CHECK(blocked_too.ReadReply().status == 200);
}

TEST_CASE("http_server: a Responder answers once, from any thread; unanswered it sends 500") {
  Mailbox<Responder> held;
  auto server = Serve(FastLimits(), [&](const Request& request, const Responder& responder) {
    if (request.path == "/later") held.Put(responder);
    if (request.path == "/throw") throw std::runtime_error("broken handler");
    // "/drop": returns without answering
  });
  Client later(server->port());
  later.Send(Get("/later"));
  Responder responder = held.Take();
  std::thread([responder] {
    responder.Reply(Response::Json(201, "{}"));
    responder.Reply(Response::Error(500, "ignored: the first answer counts"));
  }).join();
  Reply reply = later.ReadReply();
  CHECK(reply.status == 201);
  later.Send(Get("/drop"));  // the same connection: the ignored second answer left nothing behind
  reply = later.ReadReply();
  CHECK(reply.status == 500);
  CHECK(reply.body == "{\"error\":\"the request was not answered\"}");

  CerrCapture cerr;
  Client thrown(server->port());
  thrown.Send(Get("/throw"));
  CHECK(thrown.ReadReply().status == 500);
  CHECK(Has(cerr.text(), "http: handler failed on GET /throw: broken handler"));
}

TEST_CASE("http_server: destroyed with open connections and a stream still held, nothing breaks") {
  Mailbox<std::shared_ptr<EventStream>> streams;
  Mailbox<Responder> held;
  auto server = Serve(FastLimits(), [&](const Request& request, const Responder& responder) {
    if (request.path == "/stream") streams.Put(responder.StartStream());
    if (request.path == "/held") held.Put(responder);
  });
  Client streaming(server->port());
  streaming.Send(Get("/stream"));
  std::shared_ptr<EventStream> stream = streams.Take();
  Client waiting(server->port());
  waiting.Send(Get("/held"));
  Responder responder = held.Take();
  Client idle(server->port());
  server.reset();

  CHECK_FALSE(stream->open());
  stream->Send("data: too late\n\n");
  responder.Reply(Response::Json(200, "{}"));
  CHECK(streaming.ClosedWithin(Millis(3000)));
  CHECK(waiting.ClosedWithin(Millis(3000)));
  CHECK(idle.ClosedWithin(Millis(3000)));
}

TEST_CASE("http_server: Start needs IP-ADDRESS:PORT") {
  for (const char* bad : {"8080", "localhost:8080", "127.0.0.1:", "127.0.0.1:99999"}) {
    INFO(bad);
    Result<std::unique_ptr<HttpServer>> server = HttpServer::Start(bad, Limits{}, Echo);
    REQUIRE_FALSE(server.ok());
    CHECK(Has(server.status().message(), "expected IP-ADDRESS:PORT"));
  }
}

TEST_CASE("http_server: Response::Error escapes its message as a JSON string") {
  Response response = Response::Error(404, "no \"alert\"\n\\here");
  CHECK(response.status == 404);
  CHECK(response.content_type == "application/json");
  CHECK(response.body == "{\"error\":\"no \\\"alert\\\"\\u000a\\\\here\"}");
}

}  // namespace vigil::http
