// SPDX-License-Identifier: Apache-2.0
// Frontend/backend/worker layout after zguide ch. 3 ("Multithreaded Server");
// request and reply fields after the Azure Personalizer Rank API, whose
// "rewardActionId" and "ranking" an application can use unchanged.
#include "feedback/decision_server.h"

#include "core/error.h"
#include "core/rng.h"
#include "feedback/client.h"

#include <unistd.h>
#include <zmq_addon.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <iterator>
#include <map>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>
#include <utility>

namespace recloop {
namespace {

using nlohmann::json;

// Bounds what a peer can make the server allocate: a request over
// max_request_bytes but within this size is read and refused with an error
// reply; ZeroMQ drops the connection of a peer sending more.
constexpr std::int64_t kHardMessageLimit = std::int64_t{64} << 20;


std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string error_reply(const std::string& message) {
  return json{{"error", message}}.dump();
}


// JSON text written as nlohmann::json::dump() writes it (ensure_ascii off).
void append_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          std::array<char, 7> escaped{};
          std::snprintf(escaped.data(), escaped.size(), "\\u%04x", static_cast<unsigned>(c));
          out.append(escaped.data(), 6);
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void append_unsigned(std::string& out, std::uint64_t value) {
  std::array<char, 24> digits{};
  const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  out.append(digits.data(), end);
}

// Layout after nlohmann's dtoa_impl::format_buffer (see append_json_double).
void append_double_impl(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  if (value == 0.0) {
    out += std::signbit(value) ? "-0.0" : "0.0";
    return;
  }
  std::array<char, 40> buffer{};
  const auto [end, ec] =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::scientific);
  const char* p = buffer.data();
  if (*p == '-') {
    out += '-';
    ++p;
  }
  std::array<char, 20> digits{};
  int k = 0;
  for (; p != end && *p != 'e'; ++p) {
    if (*p != '.') digits[static_cast<std::size_t>(k++)] = *p;
  }
  int exponent = 0;
  std::from_chars(p + 1 + (p[1] == '+' ? 1 : 0), end, exponent);
  const int n = exponent + 1;  // position of the decimal point after the first digit
  const char* d = digits.data();
  constexpr int kMaxExp = 15, kMinExp = -4;
  if (k <= n && n <= kMaxExp) {
    out.append(d, static_cast<std::size_t>(k));
    out.append(static_cast<std::size_t>(n - k), '0');
    out += ".0";
  } else if (0 < n && n <= kMaxExp) {
    out.append(d, static_cast<std::size_t>(n));
    out += '.';
    out.append(d + n, static_cast<std::size_t>(k - n));
  } else if (kMinExp < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out.append(d, static_cast<std::size_t>(k));
  } else {
    out += d[0];
    if (k > 1) {
      out += '.';
      out.append(d + 1, static_cast<std::size_t>(k - 1));
    }
    const int e = n - 1;
    out += e < 0 ? "e-" : "e+";
    const int magnitude = e < 0 ? -e : e;
    if (magnitude < 10) out += '0';
    append_unsigned(out, static_cast<std::uint64_t>(magnitude));
  }
}

// A candidate id as given: a string or an unsigned integer from either parser;
// anything else (a baseline 17.0 equal to id 17) as nlohmann writes it.
void append_id(std::string& out, const json& id) {
  if (id.is_string()) {
    append_string(out, id.get_ref<const std::string&>());
  } else if (id.is_number_unsigned()) {
    append_unsigned(out, id.get<std::uint64_t>());
  } else {
    out += id.dump();
  }
}

// `"key":` with the comma before it unless it is the object's first.
void append_key(std::string& out, std::string_view key) {
  const char last = out.back();
  if (last != '{' && last != '[') out += ',';
  out += '"';
  out += key;
  out += "\":";
}

}  // namespace


void append_json_double(std::string& out, double value) { append_double_impl(out, value); }


DecisionServer::DecisionServer(zmq::context_t& zmq, DecisionServerOptions options,
                               FeatureSchema schema, PolicySnapshot first)
    : zmq_(zmq),
      options_(std::move(options)),
      schema_(std::move(schema)),
      frontend_(zmq, zmq::socket_type::router) {
  if (options_.threads < 1) throw std::invalid_argument("DecisionServer: threads must be >= 1");
  if (options_.poll_timeout_ms < 1 || options_.flush_timeout_ms < 0 ||
      options_.resend_timeout_ms < 1) {
    throw std::invalid_argument("DecisionServer: timeouts out of range");
  }
  if (options_.max_request_bytes < 2) {
    throw std::invalid_argument("DecisionServer: max_request_bytes must be >= 2");
  }
  if (!first.policy) throw std::invalid_argument("DecisionServer: no policy");
  snapshot_ = std::make_shared<const PolicySnapshot>(std::move(first));

  // An identifier, not a random draw: the start time and process id make the
  // prefix of generated event ids differ between servers and restarts.
  const auto started = std::chrono::system_clock::now().time_since_epoch().count();
  const std::uint64_t tag =
      splitmix64(static_cast<std::uint64_t>(started) ^ (static_cast<std::uint64_t>(::getpid()) << 40));
  std::array<char, 17> hex{};
  std::snprintf(hex.data(), hex.size(), "%016llx", static_cast<unsigned long long>(tag));
  id_prefix_ = hex.data();
  backend_endpoint_ = "inproc://recloop-decision-workers-" + id_prefix_;

  frontend_.set(zmq::sockopt::linger, 0);
  frontend_.set(zmq::sockopt::maxmsgsize,
                std::max<std::int64_t>(kHardMessageLimit,
                                       static_cast<std::int64_t>(options_.max_request_bytes) + 4096));
  if (options_.curve) apply_server_keys(zmq, frontend_, *options_.curve, "decision-server");
  try {
    frontend_.bind(options_.endpoint);
  } catch (const zmq::error_t& e) {
    throw Error("decision server: cannot bind '" + options_.endpoint + "': " + e.what());
  }
  endpoint_ = frontend_.get(zmq::sockopt::last_endpoint);
}

DecisionServer::~DecisionServer() = default;

void DecisionServer::publish(PolicySnapshot next) {
  if (!next.policy) throw std::invalid_argument("DecisionServer::publish: no policy");
  auto fresh = std::make_shared<const PolicySnapshot>(std::move(next));
  {
    std::lock_guard<std::mutex> lock(publish_mutex_);
    snapshot_.swap(fresh);
    publications_.fetch_add(1, std::memory_order_release);
  }
  swaps_.fetch_add(1, std::memory_order_relaxed);
}  // `fresh` (the old snapshot) is released here, outside the lock

std::shared_ptr<const PolicySnapshot> DecisionServer::snapshot() const {
  std::lock_guard<std::mutex> lock(publish_mutex_);
  return snapshot_;
}

const PolicySnapshot& DecisionServer::current(SnapshotView& view) const {
  if (publications_.load(std::memory_order_acquire) != view.publication) {
    std::lock_guard<std::mutex> lock(publish_mutex_);
    view.snapshot = snapshot_;
    view.publication = publications_.load(std::memory_order_relaxed);
  }
  return *view.snapshot;
}

DecisionServerStats DecisionServer::stats() const {
  DecisionServerStats s;
  s.requests = requests_.load();
  s.answered = answered_.load();
  s.rejected = rejected_.load();
  s.failed = failed_.load();
  s.forwarded = forwarded_.load();
  s.unacknowledged = unacknowledged_.load();
  s.swaps = swaps_.load();
  s.apprentice_decisions = apprentice_decisions_.load();
  s.apprentice_agreements = apprentice_agreements_.load();
  s.explored = explored_.load();
  s.probability_sum = probability_sum_.load();
  return s;
}

void DecisionServer::note_rejection(std::string_view reason) {
  if (!options_.logger.enabled(LogLevel::warn)) return;
  const std::int64_t now = now_us();
  std::int64_t last = last_rejection_log_us_.load(std::memory_order_relaxed);
  if ((last != 0 && now - last < 1'000'000) ||
      !last_rejection_log_us_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    unlogged_rejections_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const std::uint64_t unlogged = unlogged_rejections_.exchange(0, std::memory_order_relaxed);
  options_.logger.warn("rejected request", {{"reason", std::string(reason)},
                                            {"not_logged_since", std::to_string(unlogged)}});
}

EventId DecisionServer::next_event_id() {
  return id_prefix_ + "-" + std::to_string(next_id_.fetch_add(1, std::memory_order_relaxed));
}

std::string DecisionServer::answer(std::string_view body, std::vector<LoggedDecision>& decisions) {
  SnapshotView view;
  RankParseBuffers buffers;
  std::string reply;
  answer(body, decisions, view, buffers, reply);
  return reply;
}

void DecisionServer::answer(std::string_view body, std::vector<LoggedDecision>& decisions,
                            SnapshotView& view, RankParseBuffers& buffers, std::string& reply) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  reply.clear();
  RankRequest request;
  try {
    if (body.size() > options_.max_request_bytes) {
      throw RequestError("request has " + std::to_string(body.size()) + " bytes, more than the " +
                         std::to_string(options_.max_request_bytes) + " allowed");
    }
    request = parse_rank_request(body, schema_, buffers);
  } catch (const RequestError& e) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    note_rejection(e.what());
    reply = error_reply(e.what());
    return;
  }
  // One look: the whole request decides with this snapshot, which `view`
  // keeps alive until this worker sees the next publication.
  const PolicySnapshot* snapshot = &current(view);
  if (request.slots && !snapshot->ranker) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    note_rejection("slots without a ranker");
    reply = error_reply("slots: this server has no ranker (start it with --ranker)");
    return;
  }
  const EventId event_id = request.event_id ? *request.event_id : next_event_id();
  const std::int64_t timestamp = now_us();
  // The chosen action (slot 0's for a ranking) and its pmf, for the exploration counters.
  bool explored = false;
  double logged_probability = 0.0;
  auto note_choice = [&](const Decision& decision) {
    if (decision.action < decision.pmf.size()) {
      explored = decision.pmf[decision.action] <
                 *std::max_element(decision.pmf.begin(), decision.pmf.end());
    }
    logged_probability = decision.probability;
  };
  // The request's session and flags go on every decision it logs.
  auto mark = [&request](Decision& decision) {
    decision.session = request.session;
    decision.step = request.step;
    decision.deferred = request.deferred;
    decision.skip_learning = request.skip_learning;
  };
  // The reply's fields in byte-wise key order, as nlohmann::json wrote them
  // (its objects are std::maps), so that replies stay byte-for-byte the same.
  auto head = [&](bool apprentice) {
    reply += '{';
    if (apprentice) {
      append_key(reply, "apprentice");
      reply += "true";
    }
    if (request.baseline) {
      append_key(reply, "baselineAction");
      append_id(reply, *request.baseline);
    }
    append_key(reply, "eventId");
    append_string(reply, event_id);
    append_key(reply, "modelVersion");
    append_unsigned(reply, snapshot->version);
  };
  bool apprenticed = false, agreed = false;
  try {
    if (!request.slots) {
      Decision decision = snapshot->policy->choose(request.context, event_id, options_.run_seed);
      decision.model_version = snapshot->version;
      mark(decision);
      const ActionId policy_action = decision.action;
      if (options_.apprentice && request.baseline) {
        // Apprentice mode (header): serve and log the baseline with its real
        // probability under the deterministic rule that chose it, 1; the
        // policy's own draw is only reported and counted.
        const auto baseline = static_cast<ActionId>(
            std::find(request.ids.begin(), request.ids.end(), *request.baseline) -
            request.ids.begin());
        apprenticed = true;
        agreed = decision.action == baseline;
        decision.action = baseline;
        decision.item = request.context.items[baseline];
        decision.probability = 1.0;
        decision.pmf.assign(request.ids.size(), 0.0);
        decision.pmf[baseline] = 1.0;
        decision.policy = kBaselinePolicy;
      }
      std::vector<std::size_t>& order = buffers.order;
      order.resize(request.ids.size());
      std::iota(order.begin(), order.end(), std::size_t{0});
      const std::size_t chosen = decision.action;
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (a == chosen) return b != chosen;
        if (b == chosen) return false;
        return decision.pmf[a] > decision.pmf[b];
      });
      head(apprenticed);
      append_key(reply, "policy");
      append_string(reply, decision.policy);
      if (apprenticed) {
        append_key(reply, "policyActionId");
        append_id(reply, request.ids[policy_action]);
      }
      append_key(reply, "ranking");
      reply += '[';
      for (const std::size_t a : order) {
        if (reply.back() != '[') reply += ',';
        reply += '{';
        append_key(reply, "id");
        append_id(reply, request.ids[a]);
        append_key(reply, "probability");
        append_json_double(reply, decision.pmf[a]);
        reply += '}';
      }
      reply += ']';
      append_key(reply, "rewardActionId");
      append_id(reply, request.ids[decision.action]);
      reply += '}';
      note_choice(decision);
      decisions.push_back({std::move(decision), std::move(request.context), {}, timestamp});
    } else {
      const Ranking drawn =
          snapshot->ranker->rank(request.context, *request.slots, event_id, options_.run_seed);
      head(false);
      append_key(reply, "policy");
      append_string(reply, drawn.policy);
      append_key(reply, "ranking");
      reply += '[';
      for (std::size_t k = 0; k < drawn.actions.size(); ++k) {
        Decision decision = slot_decision(drawn, k);
        decision.model_version = snapshot->version;
        mark(decision);
        if (k == 0) note_choice(decision);
        if (k > 0) reply += ',';
        reply += '{';
        append_key(reply, "conditional");
        append_json_double(reply, decision.conditional);
        append_key(reply, "eventId");
        append_string(reply, decision.event_id);
        append_key(reply, "id");
        append_id(reply, request.ids[decision.action]);
        append_key(reply, "probability");
        append_json_double(reply, decision.probability);
        reply += '}';
        decisions.push_back({std::move(decision), request.context, {}, timestamp});
      }
      reply += ']';
      append_key(reply, "rewardActionId");
      append_id(reply, request.ids[drawn.actions.front()]);
      append_key(reply, "slots");
      append_unsigned(reply, drawn.actions.size());
      reply += '}';
    }
  } catch (const std::exception& e) {
    // A policy refusing the context (e.g. a model of another dimension) or a
    // contract check failing: the request cannot be answered, the server goes on.
    decisions.clear();
    failed_.fetch_add(1, std::memory_order_relaxed);
    reply = error_reply(std::string("decision failed: ") + e.what());
    return;
  }
  answered_.fetch_add(1, std::memory_order_relaxed);
  if (apprenticed) {
    apprentice_decisions_.fetch_add(1, std::memory_order_relaxed);
    if (agreed) apprentice_agreements_.fetch_add(1, std::memory_order_relaxed);
  }
  if (explored) explored_.fetch_add(1, std::memory_order_relaxed);
  probability_sum_.fetch_add(logged_probability, std::memory_order_relaxed);
}

void DecisionServer::work(const std::atomic<bool>& stop) {
  zmq::socket_t socket(zmq_, zmq::socket_type::rep);
  socket.set(zmq::sockopt::linger, 0);
  socket.connect(backend_endpoint_);
  std::unique_ptr<FeedbackClient> client;
  if (!options_.collector_endpoint.empty()) {
    client = std::make_unique<FeedbackClient>(
        zmq_, options_.collector_endpoint,
        ClientOptions{.resend_timeout_ms = options_.resend_timeout_ms, .curve = options_.collector_curve});
  }
  std::vector<LoggedDecision> decisions;
  std::vector<zmq::message_t> parts;
  SnapshotView view;
  RankParseBuffers buffers;  // reused by every request of this worker
  std::string reply;
  while (!stop.load()) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    int ready = 0;
    try {
      ready = zmq::poll(&item, 1, std::chrono::milliseconds(options_.poll_timeout_ms));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
    if (ready > 0 && (item.revents & ZMQ_POLLIN)) {
      parts.clear();
      if (!zmq::recv_multipart(socket, std::back_inserter(parts))) continue;
      decisions.clear();
      if (parts.size() != 1) {
        requests_.fetch_add(1, std::memory_order_relaxed);
        rejected_.fetch_add(1, std::memory_order_relaxed);
        note_rejection("request of " + std::to_string(parts.size()) + " message parts");
        reply = error_reply("a request is one message part holding JSON, not " +
                            std::to_string(parts.size()) + " parts");
      } else {
        answer(parts.front().to_string_view(), decisions, view, buffers, reply);
      }
      socket.send(zmq::buffer(reply), zmq::send_flags::none);
      if (client) {
        for (const auto& decision : decisions) client->send(decision);
        forwarded_.fetch_add(decisions.size(), std::memory_order_relaxed);
      }
    }
    if (client) client->poll(0);
  }
  if (client) {
    client->flush(options_.flush_timeout_ms);
    unacknowledged_.fetch_add(client->unacknowledged(), std::memory_order_relaxed);
  }
}

void DecisionServer::run(const std::atomic<bool>& stop) {
  zmq::socket_t backend(zmq_, zmq::socket_type::dealer);
  backend.set(zmq::sockopt::linger, 0);
  backend.bind(backend_endpoint_);

  // Workers stop on their own flag, raised after the frontend has stopped, so
  // none is left waiting on a backend that is gone.
  std::atomic<bool> stop_workers{false};
  std::atomic<bool> worker_failed{false};
  std::vector<std::thread> workers;
  std::exception_ptr failure;
  std::mutex failure_mutex;
  workers.reserve(static_cast<std::size_t>(options_.threads));
  for (int t = 0; t < options_.threads; ++t) {
    workers.emplace_back([&] {
      try {
        work(stop_workers);
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        worker_failed.store(true);
      }
    });
  }

  std::vector<zmq::message_t> parts;
  auto forward = [&parts](zmq::socket_t& from, zmq::socket_t& to) {
    parts.clear();
    if (!zmq::recv_multipart(from, std::back_inserter(parts), zmq::recv_flags::dontwait)) return;
    zmq::send_multipart(to, parts);
  };
  // A failed worker (say, a collector endpoint that cannot be used) stops the
  // server rather than leaving it to serve with fewer workers.
  while (!stop.load() && !worker_failed.load()) {
    std::array<zmq::pollitem_t, 2> items{{{frontend_.handle(), 0, ZMQ_POLLIN, 0},
                                          {backend.handle(), 0, ZMQ_POLLIN, 0}}};
    int ready = 0;
    try {
      ready = zmq::poll(items.data(), items.size(), std::chrono::milliseconds(options_.poll_timeout_ms));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
    if (ready <= 0) continue;
    if (items[0].revents & ZMQ_POLLIN) forward(frontend_, backend);
    if (items[1].revents & ZMQ_POLLIN) forward(backend, frontend_);
  }
  stop_workers.store(true);
  for (auto& worker : workers) worker.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace recloop
