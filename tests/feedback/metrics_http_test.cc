// SPDX-License-Identifier: Apache-2.0
// The metrics endpoint over a real loopback socket.
#include "feedback/metrics_http.h"

#include "core/error.h"
#include "feedback/metrics.h"
#include "tests/support/process.h"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

namespace recloop {
namespace {

constexpr int kTimeoutMs = 5000;

// Sends `request` as raw bytes to 127.0.0.1:port and returns all it gets back.
std::string raw_exchange(std::uint16_t port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close before reading everything
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);  // the server drains until this end-of-stream, then closes
  std::string reply;
  char chunk[4096];
  ssize_t n = 0;
  while ((n = ::recv(fd, chunk, sizeof chunk, 0)) > 0)
    reply.append(chunk, static_cast<std::size_t>(n));
  ::close(fd);
  return reply;
}

TEST_CASE("The metrics server answers /metrics with the registry's text",
          "[feedback][metrics][integration]") {
  MetricsRegistry registry;
  Counter& requests = registry.counter("recloop_requests_total", "Requests received.");
  requests.add(12);
  MetricsHttpServer server({}, [&] { return registry.render(); });
  REQUIRE(server.port() != 0);
  CHECK(server.endpoint() == "127.0.0.1:" + std::to_string(server.port()));

  const HttpResponse response = http_get("127.0.0.1", server.port(), "/metrics", kTimeoutMs);
  CHECK(response.status == 200);
  CHECK(response.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(response.body == registry.render());
  // Rendered per request: a later scrape sees a later count.
  requests.add();
  CHECK(http_get("127.0.0.1", server.port(), "/metrics?x=1", kTimeoutMs)
            .body.find("recloop_requests_total 13\n") != std::string::npos);
}

TEST_CASE("The metrics server answers /health, 404 for other paths and 405 for other methods",
          "[feedback][metrics][integration]") {
  MetricsHttpServer server({}, [] { return std::string("x 1\n"); });
  const HttpResponse health = http_get("127.0.0.1", server.port(), "/health", kTimeoutMs);
  CHECK(health.status == 200);
  CHECK(health.body == "ok\n");
  CHECK(http_get("127.0.0.1", server.port(), "/", kTimeoutMs).status == 404);
  CHECK(http_get("127.0.0.1", server.port(), "/metrics/extra", kTimeoutMs).status == 404);
  const std::string post = raw_exchange(
      server.port(), "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
  CHECK(post.rfind("HTTP/1.1 405", 0) == 0);
}

TEST_CASE("The metrics server refuses a request larger than its bound with 413",
          "[feedback][metrics][integration]") {
  MetricsHttpOptions options;
  options.max_request_bytes = 1024;
  MetricsHttpServer server(options, [] { return std::string(); });
  const std::string request =
      "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Padding: " + std::string(4096, 'a') + "\r\n\r\n";
  CHECK(raw_exchange(server.port(), request).rfind("HTTP/1.1 413", 0) == 0);
  // And goes on serving.
  CHECK(http_get("127.0.0.1", server.port(), "/health", kTimeoutMs).status == 200);
}

TEST_CASE("A render function that throws gives 500 with its message",
          "[feedback][metrics][integration]") {
  MetricsHttpServer server({}, []() -> std::string { throw std::runtime_error("log closed"); });
  const HttpResponse response = http_get("127.0.0.1", server.port(), "/metrics", kTimeoutMs);
  CHECK(response.status == 500);
  CHECK(response.body == "log closed\n");
}

TEST_CASE("A stopped metrics server no longer accepts connections",
          "[feedback][metrics][integration]") {
  MetricsHttpServer server({}, [] { return std::string(); });
  const std::uint16_t port = server.port();
  REQUIRE(http_get("127.0.0.1", port, "/health", kTimeoutMs).status == 200);
  server.stop();
  server.stop();  // idempotent
  CHECK_THROWS_AS(http_get("127.0.0.1", port, "/health", kTimeoutMs), Error);
}

TEST_CASE("Fetching from a port nobody listens on fails with one line naming it",
          "[feedback][metrics][integration]") {
  const int port = recloop::testing::free_tcp_port();
  REQUIRE(port > 0);
  const std::string where = "127.0.0.1:" + std::to_string(port);
  CHECK_THROWS_WITH(http_get("127.0.0.1", static_cast<std::uint16_t>(port), "/metrics", kTimeoutMs),
                    Catch::StartsWith(where + ": ") && Catch::Contains("refused"));
}

TEST_CASE("HOST:PORT splits, with IPv6 hosts in brackets, and bad forms are refused",
          "[feedback][metrics]") {
  const HostPort v4 = parse_host_port("127.0.0.1:9100");
  CHECK(v4.host == "127.0.0.1");
  CHECK(v4.port == 9100);
  const HostPort v6 = parse_host_port("[::1]:0");
  CHECK(v6.host == "::1");
  CHECK(v6.port == 0);
  CHECK_THROWS_AS(parse_host_port("localhost"), ConfigError);
  CHECK_THROWS_AS(parse_host_port(":9100"), ConfigError);
  CHECK_THROWS_AS(parse_host_port("h:65536"), ConfigError);
  CHECK_THROWS_AS(parse_host_port("h:9x"), ConfigError);
  CHECK_THROWS_WITH(parse_host_port("::1:80"), Catch::Contains("brackets"));
}

TEST_CASE("An address that is not an IP address is a configuration error", "[feedback][metrics]") {
  MetricsHttpOptions options;
  options.address = "metrics.example";
  CHECK_THROWS_AS(MetricsHttpServer(options, [] { return std::string(); }), ConfigError);
}

}  // namespace
}  // namespace recloop
