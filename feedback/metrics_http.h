// SPDX-License-Identifier: Apache-2.0
// The metrics endpoint of a live process, and the client `recloop status`
// reads it with: HTTP/1.1 over TCP (Boost.Beast), one request per connection.
//
// Server answers:
//   GET /metrics  200, Content-Type: text/plain; version=0.0.4; charset=utf-8,
//                 the body the render function returns (MetricsRegistry::render)
//   GET /health   200, "ok\n"
//   GET (other)   404
//   other method  405
// A query string is ignored. A request whose header or body exceeds
// max_request_bytes gets 413; one not complete within timeout_ms is dropped.
// Every response closes its connection. A render function that throws gives
// 500 with its message. The server reveals counters only, never accepts a
// write, and binds loopback unless told otherwise.
//
// Threads: the server runs on its own thread, started by the constructor and
// joined by stop() or the destructor. The render function is called on that
// thread, one request at a time. http_get() is a blocking call for any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace recloop {

// "HOST:PORT" split in two; an IPv6 host is written in brackets, "[::1]:9100",
// and returned without them. Throws ConfigError naming `text` when the host is
// empty or the port is not a number in 0 .. 65535 (0: the system picks one,
// for a server).
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
HostPort parse_host_port(std::string_view text);

struct MetricsHttpOptions {
  std::string address = "127.0.0.1";  // an IP address (or "localhost"); loopback by default
  std::uint16_t port = 0;             // 0: the system picks a free port (see port())
  std::size_t max_request_bytes = 8192;
  int timeout_ms = 5000;  // to read a request and write its response
};

class MetricsHttpServer {
 public:
  // Binds, listens and starts the serving thread. Throws recloop::Error naming
  // the address and port if they cannot be bound, ConfigError for an address
  // that is not an IP address, std::invalid_argument for a null render.
  MetricsHttpServer(MetricsHttpOptions options, std::function<std::string()> render);
  // stop().
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // Closes the listening socket and open connections and joins the thread.
  // Idempotent; call from any thread but the server's own.
  void stop();

  // The port actually bound (the system's choice when options.port was 0).
  std::uint16_t port() const;
  // "ADDRESS:PORT" with the bound port, IPv6 in brackets.
  std::string endpoint() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

// GET http://HOST:PORT/TARGET, HTTP/1.1, the whole exchange within timeout_ms
// (name resolution included). Bodies over 16 MiB are refused. Throws
// recloop::Error "HOST:PORT: <reason>" ("Connection refused", "timed out", ...)
// when no complete response arrives.
HttpResponse http_get(const std::string& host, std::uint16_t port, std::string_view target,
                      int timeout_ms);

}  // namespace recloop
