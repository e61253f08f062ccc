// SPDX-License-Identifier: Apache-2.0
// Lazy Pirate client (zguide ch. 4, "Client-Side Reliability"): poll the REQ
// socket with a timeout; on a timeout close it, open a new one, resend. The
// failover to the next server follows the zguide's round-robin "flclient"
// idea, without its parallel requests.
#include "feedback/rank_client.h"

#include "core/error.h"
#include "core/rng.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <utility>

namespace recloop {
namespace {

using Clock = std::chrono::steady_clock;

// An identifier, not a random draw: start time, process id and the client's
// address make prefixes differ between clients, threads and restarts.
std::string generated_prefix(const void* self) {
  const auto started = std::chrono::system_clock::now().time_since_epoch().count();
  const std::uint64_t tag =
      splitmix64(static_cast<std::uint64_t>(started) ^
                 (static_cast<std::uint64_t>(::getpid()) << 40) ^
                 splitmix64(reinterpret_cast<std::uintptr_t>(self)));
  std::array<char, 17> hex{};
  std::snprintf(hex.data(), hex.size(), "%016llx", static_cast<unsigned long long>(tag));
  return hex.data();
}

}  // namespace

std::vector<std::string> split_endpoints(const std::vector<std::string>& values) {
  std::vector<std::string> endpoints;
  for (const auto& value : values) {
    std::size_t start = 0;
    while (true) {
      const std::size_t comma = value.find(',', start);
      const std::string item = value.substr(start, comma == std::string::npos ? comma : comma - start);
      if (item.empty()) throw std::invalid_argument("empty endpoint in '" + value + "'");
      endpoints.push_back(item);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return endpoints;
}

RankClient::RankClient(zmq::context_t& zmq, RankClientOptions options)
    : zmq_(zmq), options_(std::move(options)) {
  if (options_.endpoints.empty()) throw std::invalid_argument("RankClient: no endpoints");
  for (const auto& endpoint : options_.endpoints) {
    if (endpoint.empty()) throw std::invalid_argument("RankClient: empty endpoint");
  }
  if (options_.timeout_ms < 1) {
    throw std::invalid_argument("RankClient: timeout_ms must be >= 1, not " +
                                std::to_string(options_.timeout_ms));
  }
  if (options_.retries < 0) {
    throw std::invalid_argument("RankClient: retries must be >= 0, not " +
                                std::to_string(options_.retries));
  }
  if (options_.event_id_prefix.empty()) options_.event_id_prefix = generated_prefix(this);
}

void RankClient::connect() {
  socket_.reset();  // linger 0: an unanswered request is dropped with the socket
  zmq::socket_t socket(zmq_, zmq::socket_type::req);
  socket.set(zmq::sockopt::linger, 0);
  if (options_.curve) apply_client_keys(socket, *options_.curve);
  const std::string& endpoint = options_.endpoints[current_];
  try {
    socket.connect(endpoint);
  } catch (const zmq::error_t& e) {
    throw Error("rank client: cannot connect to '" + endpoint + "': " + e.what());
  }
  socket_.emplace(std::move(socket));
}

std::optional<RankReply> RankClient::rank_text(std::string_view request) {
  nlohmann::json parsed =
      nlohmann::json::parse(request.begin(), request.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    throw std::invalid_argument("RankClient: the request is not a JSON object");
  }
  return rank(std::move(parsed));
}

std::optional<RankReply> RankClient::rank(nlohmann::json request) {
  if (!request.is_object()) {
    throw std::invalid_argument("RankClient: the request is not a JSON object");
  }
  RankReply result;
  const auto given = request.find("eventId");
  if (given == request.end()) {
    result.event_id = options_.event_id_prefix + "-" + std::to_string(next_id_++);
    request["eventId"] = result.event_id;
  } else if (given->is_string()) {
    result.event_id = given->get<std::string>();
  }  // else: sent as is; the server refuses it
  const std::string body = request.dump();
  ++stats_.requests;

  const int attempts = 1 + options_.retries;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) {
      ++stats_.retries;
      if (options_.endpoints.size() > 1) {
        current_ = (current_ + 1) % options_.endpoints.size();
        ++stats_.failovers;
      }
      socket_.reset();  // Lazy Pirate: never reuse a REQ socket that is waiting for a reply
    }
    if (!socket_) connect();
    socket_->send(zmq::buffer(body), zmq::send_flags::none);

    const auto deadline = Clock::now() + std::chrono::milliseconds(options_.timeout_ms);
    bool ready = false;
    while (!ready) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) break;
      zmq::pollitem_t item{socket_->handle(), 0, ZMQ_POLLIN, 0};
      try {
        ready = zmq::poll(&item, 1, left) > 0 && (item.revents & ZMQ_POLLIN);
      } catch (const zmq::error_t& e) {
        if (e.num() != EINTR) throw;  // a signal: wait out the rest of the timeout
      }
    }
    if (!ready) continue;
    zmq::message_t reply;
    if (!socket_->recv(reply, zmq::recv_flags::dontwait)) continue;
    result.text = reply.to_string();
    result.json = nlohmann::json::parse(result.text, nullptr, /*allow_exceptions=*/false);
    result.endpoint = options_.endpoints[current_];
    result.attempts = attempt + 1;
    ++stats_.answered;
    return result;
  }
  socket_.reset();
  ++stats_.abandoned;
  return std::nullopt;
}

}  // namespace recloop
