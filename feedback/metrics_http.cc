// SPDX-License-Identifier: Apache-2.0
// HTTP/1.1 (RFC 9112) with Boost.Beast on one Asio io_context per server or
// request: the server accepts and serves asynchronously on its own thread;
// the client chains resolve, connect, write and read under one deadline timer.
#include "feedback/metrics_http.h"

#include "core/error.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <limits>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

namespace recloop {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr std::uint64_t kMaxResponseBytes = std::uint64_t{16} << 20;

std::string joined(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

HostPort parse_host_port(std::string_view text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    throw ConfigError("'" + std::string(text) + "' is not HOST:PORT");
  }
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    throw ConfigError("'" + std::string(text) + "': write an IPv6 host in brackets, [::1]:PORT");
  }
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (host.empty() || port_text.empty() || ec != std::errc() ||
      end != port_text.data() + port_text.size() || port > 65535) {
    throw ConfigError("'" + std::string(text) + "' is not HOST:PORT with a port in 0 .. 65535");
  }
  return {std::string(host), static_cast<std::uint16_t>(port)};
}

struct MetricsHttpServer::Impl {
  MetricsHttpOptions options;
  std::function<std::string()> render;
  net::io_context io{1};
  tcp::acceptor acceptor{io};
  std::string endpoint;
  std::uint16_t port = 0;
  std::thread thread;
  bool stopped = false;

  void accept();
};

namespace {

// One connection: read one request, write one response, close.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const MetricsHttpOptions& options,
          const std::function<std::string()>& render)
      : stream_(std::move(socket)),
        options_(options),
        render_(render),
        buffer_(options.max_request_bytes) {}

  void start() {
    parser_.emplace();
    const std::size_t limit = options_.max_request_bytes;
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(limit, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(limit);
    stream_.expires_after(std::chrono::milliseconds(options_.timeout_ms));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec == http::error::header_limit || ec == http::error::body_limit ||
        ec == http::error::buffer_overflow) {
      respond(http::status::payload_too_large,
              "request larger than " + std::to_string(options_.max_request_bytes) + " bytes\n");
      return;
    }
    if (ec) return;  // timeout, reset or garbage: the connection is dropped
    const auto& request = parser_->get();
    std::string_view target(request.target().data(), request.target().size());
    target = target.substr(0, target.find('?'));
    if (request.method() != http::verb::get) {
      respond(http::status::method_not_allowed, "only GET\n");
    } else if (target == "/metrics") {
      try {
        respond(http::status::ok, render_(), "text/plain; version=0.0.4; charset=utf-8");
      } catch (const std::exception& e) {
        respond(http::status::internal_server_error, std::string(e.what()) + "\n");
      }
    } else if (target == "/health") {
      respond(http::status::ok, "ok\n");
    } else {
      respond(http::status::not_found, "not found; try /metrics or /health\n");
    }
  }

  void respond(http::status status, std::string body,
               std::string_view content_type = "text/plain; charset=utf-8") {
    response_.version(11);
    response_.result(status);
    response_.set(http::field::server, "recloop");
    response_.set(http::field::content_type,
                  beast::string_view(content_type.data(), content_type.size()));
    response_.keep_alive(false);
    response_.body() = std::move(body);
    response_.prepare_payload();
    stream_.expires_after(std::chrono::milliseconds(options_.timeout_ms));
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        beast::error_code ignored;
                        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                        self->drain();
                      });
  }

  // A lingering close: reads and discards what the peer still sends until it
  // closes (or the timeout), so that closing with unread bytes does not reset
  // the connection before the peer has read the response (RFC 9112 9.6).
  void drain() {
    stream_.async_read_some(net::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (!ec) self->drain();
                            });
  }

  beast::tcp_stream stream_;
  const MetricsHttpOptions& options_;
  const std::function<std::string()>& render_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::array<char, 1024> discard_;
};

}  // namespace

void MetricsHttpServer::Impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) std::make_shared<Session>(std::move(socket), options, render)->start();
    accept();
  });
}

MetricsHttpServer::MetricsHttpServer(MetricsHttpOptions options,
                                     std::function<std::string()> render)
    : impl_(std::make_unique<Impl>()) {
  if (!render) throw std::invalid_argument("MetricsHttpServer: null render function");
  if (options.max_request_bytes < 64) {
    throw std::invalid_argument("MetricsHttpServer: max_request_bytes below 64");
  }
  if (options.timeout_ms < 1) throw std::invalid_argument("MetricsHttpServer: timeout_ms < 1");
  beast::error_code ec;
  const std::string host = options.address == "localhost" ? "127.0.0.1" : options.address;
  const net::ip::address address = net::ip::make_address(host, ec);
  if (ec) {
    throw ConfigError("metrics address '" + options.address + "' is not an IP address");
  }
  const std::string where = joined(host, options.port);
  const tcp::endpoint endpoint(address, options.port);
  Impl& s = *impl_;
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) throw Error("metrics endpoint " + where + ": " + ec.message());
  s.port = s.acceptor.local_endpoint().port();
  s.endpoint = joined(host, s.port);
  s.options = std::move(options);
  s.render = std::move(render);
  s.accept();
  s.thread = std::thread([&s] {
    // A handler that throws (only bad_alloc can) ends that connection, not the server.
    while (true) {
      try {
        s.io.run();
        return;
      } catch (const std::exception&) {
      }
    }
  });
}

MetricsHttpServer::~MetricsHttpServer() { stop(); }

void MetricsHttpServer::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  Impl& s = *impl_;
  net::post(s.io, [&s] {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    s.io.stop();
  });
  s.thread.join();
  // Connections still open are closed when the io_context is destroyed.
}

std::uint16_t MetricsHttpServer::port() const { return impl_->port; }

std::string MetricsHttpServer::endpoint() const { return impl_->endpoint; }

HttpResponse http_get(const std::string& host, std::uint16_t port, std::string_view target,
                      int timeout_ms) {
  const std::string where = joined(host, port);
  net::io_context io{1};
  tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  net::steady_timer deadline(io);
  http::request<http::empty_body> request{http::verb::get,
                                          beast::string_view(target.data(), target.size()), 11};
  request.set(http::field::host, where);
  request.set(http::field::user_agent, "recloop-status");
  request.keep_alive(false);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBytes);

  beast::error_code failure;
  bool timed_out = false;
  bool done = false;
  auto finish = [&](beast::error_code ec) {
    failure = ec;
    done = true;
    deadline.cancel();
  };
  deadline.expires_after(std::chrono::milliseconds(timeout_ms));
  deadline.async_wait([&](beast::error_code ec) {
    if (ec || done) return;
    timed_out = true;
    resolver.cancel();
    beast::error_code ignored;
    stream.socket().close(ignored);
  });
  resolver.async_resolve(
      host, std::to_string(port), [&](beast::error_code ec, tcp::resolver::results_type results) {
        if (ec) return finish(ec);
        stream.async_connect(results, [&](beast::error_code ec, const tcp::endpoint&) {
          if (ec) return finish(ec);
          http::async_write(stream, request, [&](beast::error_code ec, std::size_t) {
            if (ec) return finish(ec);
            http::async_read(stream, buffer, parser,
                             [&](beast::error_code ec, std::size_t) { finish(ec); });
          });
        });
      });
  io.run();
  if (timed_out) throw Error(where + ": no response within " + std::to_string(timeout_ms) + " ms");
  if (failure) throw Error(where + ": " + failure.message());
  const auto& response = parser.get();
  HttpResponse result;
  result.status = static_cast<int>(response.result_int());
  const auto type = response[http::field::content_type];
  result.content_type.assign(type.data(), type.size());
  result.body = response.body();
  return result;
}

}  // namespace recloop
