// SPDX-License-Identifier: Apache-2.0
#include "feedback/client.h"

#include "core/check.h"
#include "core/error.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace recloop {
namespace {

// Messages the DEALER queues before send() keeps them in the backlog instead:
// deep enough to pipeline a whole collector batch and more.
constexpr int kSendHighWaterMark = 16384;

// Acks the DEALER may queue unread. When full it stops reading the connection
// and the collector's ROUTER starts dropping acks (causing resends), so it is
// deep enough for many collector batches; an ack is a few dozen bytes.
constexpr int kReceiveHighWaterMark = 1 << 20;

// The most parts a message to a client has (a reward ack with its reward id);
// longer ones are dropped.
constexpr std::size_t kMaxAckParts = 4;

std::string_view view(const zmq::message_t& message) {
  return {static_cast<const char*>(message.data()), message.size()};
}

ClientOptions checked(ClientOptions options) {
  if (options.resend_timeout_ms < 1) {
    throw std::invalid_argument("feedback client: resend_timeout_ms must be >= 1, got " +
                                std::to_string(options.resend_timeout_ms));
  }
  if (options.max_unacknowledged < 1) {
    throw std::invalid_argument("feedback client: max_unacknowledged must be >= 1");
  }
  return options;
}

// Options must be set before connect(): ZeroMQ applies them per connection.
void connect(zmq::socket_t& socket, const std::string& endpoint, std::string_view role) {
  socket.set(zmq::sockopt::linger, 0);
  try {
    socket.connect(endpoint);
  } catch (const zmq::error_t& e) {
    throw Error(std::string(role) + ": cannot connect to '" + endpoint + "': " + e.what());
  }
}

// Checks made here rather than left to the collector: it drops a malformed
// frame without an ack, and the client would then resend it forever.
void check_event_id(const std::string& event_id) {
  RECLOOP_CHECK(!event_id.empty() && event_id.size() <= kMaxEventIdBytes,
                "event id must have 1 to " + std::to_string(kMaxEventIdBytes) + " bytes");
}

}  // namespace

FeedbackClient::FeedbackClient(zmq::context_t& zmq, const std::string& endpoint,
                               ClientOptions options)
    : socket_(zmq, zmq::socket_type::dealer), endpoint_(endpoint), options_(checked(options)) {
  socket_.set(zmq::sockopt::sndhwm, kSendHighWaterMark);
  socket_.set(zmq::sockopt::rcvhwm, kReceiveHighWaterMark);
  if (options_.curve) apply_client_keys(socket_, *options_.curve);
  connect(socket_, endpoint, "feedback client");
}

void FeedbackClient::send(const LoggedDecision& logged) {
  const Decision& d = logged.decision;
  check_event_id(d.event_id);
  const std::size_t n = logged.context.size();
  RECLOOP_CHECK(d.pmf.size() == n && d.action < n && d.item == logged.context.items[d.action],
                "event '" + d.event_id + "': pmf, action or item does not match the context");
  RECLOOP_CHECK(d.probability > 0.0 && d.probability <= 1.0 && d.probability == d.pmf[d.action],
                "event '" + d.event_id + "': probability must be pmf[action] > 0");
  RECLOOP_CHECK(logged.truth.empty() || logged.truth.size() == n,
                "event '" + d.event_id + "': truth must be empty or one value per candidate");
  RECLOOP_CHECK(d.session.size() <= kMaxEventIdBytes,
                "event '" + d.event_id + "': session id longer than " +
                    std::to_string(kMaxEventIdBytes) + " bytes");
  enqueue(EventKind::decision, d.event_id, encode_decision(logged));
}

void FeedbackClient::send(const Reward& reward) {
  check_event_id(reward.event_id);
  RECLOOP_CHECK(std::isfinite(reward.value), "event '" + reward.event_id + "': reward not finite");
  RECLOOP_CHECK(reward.reward_id.size() <= kMaxEventIdBytes,
                "event '" + reward.event_id + "': reward id longer than " +
                    std::to_string(kMaxEventIdBytes) + " bytes");
  enqueue(EventKind::reward, pending_key(reward.event_id, reward.reward_id),
          encode_reward(reward));
}

void FeedbackClient::activate(const EventId& event_id) {
  check_event_id(event_id);
  enqueue(EventKind::activation, event_id, encode_activation(event_id));
}

std::string FeedbackClient::pending_key(std::string_view event_id, std::string_view reward_id) {
  std::string key(event_id);
  if (!reward_id.empty()) {
    key += '\0';
    key += reward_id;
  }
  return key;
}

void FeedbackClient::enqueue(EventKind kind, std::string id, Frames frames) {
  if (unacknowledged() >= options_.max_unacknowledged) ++blocked_sends_;
  while (unacknowledged() >= options_.max_unacknowledged) poll(options_.resend_timeout_ms);
  // Acks are read as we go: left unread they would fill the receive queue, and
  // a ROUTER drops acks it cannot deliver, which would only cause resends.
  read_acks();
  const auto now = Clock::now();
  drain_backlog(now);

  auto [it, inserted] = pending(kind).try_emplace(id);
  Entry& entry = it->second;
  entry.frames = std::move(frames);
  if (entry.queued) return;  // already waiting; it will go out with the new frames
  Key key{kind, std::move(id)};
  // Keep the order of sends: nothing overtakes the backlog.
  if (!backlog_.empty() || !transmit(key, entry, now)) {
    entry.queued = true;
    backlog_.push_back(std::move(key));
  }
}

// Hands one message to the socket without blocking; false if it is full.
bool FeedbackClient::transmit(const Key& key, Entry& entry, Clock::time_point now) {
  const std::size_t last = entry.frames.size() - 1;
  for (std::size_t i = 0; i <= last; ++i) {
    const auto flags =
        i < last ? zmq::send_flags::sndmore | zmq::send_flags::dontwait : zmq::send_flags::dontwait;
    try {
      // Multipart messages are atomic: if the first part is taken, so is the rest.
      if (!socket_.send(zmq::buffer(entry.frames[i]), flags)) {
        RECLOOP_CHECK(i == 0, "ZeroMQ refused a later part of a multipart message");
        return false;
      }
    } catch (const zmq::error_t& e) {
      if (i == 0 && e.num() == EINTR) return false;
      throw Error("feedback client: cannot send to '" + endpoint_ + "': " + e.what());
    }
  }
  entry.sent_at = now;
  entry.queued = false;
  in_flight_.push_back({key, now});
  return true;
}

void FeedbackClient::drain_backlog(Clock::time_point now) {
  while (!backlog_.empty()) {
    const Key& key = backlog_.front();
    auto it = pending(key.kind).find(key.id);
    if (it != pending(key.kind).end()) {
      if (!transmit(key, it->second, now)) return;
    }
    backlog_.pop_front();
  }
}

// in_flight_ is in send order and the timeout is the same for all, so the due
// messages are a prefix of it. A record is stale once its event was acked or
// sent again; those are skipped.
void FeedbackClient::resend_due(Clock::time_point now) {
  const auto timeout = std::chrono::milliseconds(options_.resend_timeout_ms);
  while (!in_flight_.empty() && in_flight_.front().at + timeout <= now) {
    Sent record = std::move(in_flight_.front());
    in_flight_.pop_front();
    auto it = pending(record.key.kind).find(record.key.id);
    if (it == pending(record.key.kind).end()) continue;
    Entry& entry = it->second;
    if (entry.queued || entry.sent_at != record.at) continue;
    ++resends_;
    if (!backlog_.empty() || !transmit(record.key, entry, now)) {
      entry.queued = true;
      backlog_.push_back(std::move(record.key));
    }
  }
}

void FeedbackClient::read_acks() {
  std::array<zmq::message_t, kMaxAckParts> parts;
  zmq::message_t overflow;
  for (;;) {
    std::size_t count = 0;
    bool more = true;
    while (more) {
      zmq::message_t& part = count < kMaxAckParts ? parts[count] : overflow;
      try {
        const auto flags = count == 0 ? zmq::recv_flags::dontwait : zmq::recv_flags::none;
        if (!socket_.recv(part, flags)) return;
      } catch (const zmq::error_t& e) {
        if (count == 0 && e.num() == EINTR) return;
        throw Error("feedback client: cannot receive from '" + endpoint_ + "': " + e.what());
      }
      more = part.more();
      ++count;
    }
    if (count > kMaxAckParts) continue;
    std::array<std::string_view, kMaxAckParts> views;
    for (std::size_t i = 0; i < count; ++i) views[i] = view(parts[i]);
    const auto ack = decode_ack(std::span<const std::string_view>(views.data(), count));
    if (!ack) continue;
    Pending& map = pending(ack->kind);
    const auto it = ack->reward_id.empty() ? map.find(ack->event_id)
                                           : map.find(pending_key(ack->event_id, ack->reward_id));
    if (it != map.end()) map.erase(it);
  }
}

void FeedbackClient::poll(int timeout_ms) {
  auto now = Clock::now();
  read_acks();
  drain_backlog(now);
  resend_due(now);
  if (timeout_ms <= 0) return;

  // Wake up in time for the next resend, or when the socket has room for the backlog.
  auto wait = std::chrono::milliseconds(timeout_ms);
  if (!in_flight_.empty()) {
    const auto due = in_flight_.front().at + std::chrono::milliseconds(options_.resend_timeout_ms);
    const auto until_due = std::chrono::ceil<std::chrono::milliseconds>(due - now);
    wait = std::clamp(until_due, std::chrono::milliseconds(0), wait);
  }
  const short events = ZMQ_POLLIN | (backlog_.empty() ? 0 : ZMQ_POLLOUT);
  std::array<zmq::pollitem_t, 1> items{{{socket_.handle(), 0, events, 0}}};
  try {
    zmq::poll(items.data(), items.size(), wait);
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) {
      throw Error("feedback client: poll on '" + endpoint_ + "' failed: " + e.what());
    }
  }
  now = Clock::now();
  read_acks();
  drain_backlog(now);
  resend_due(now);
}

bool FeedbackClient::flush(int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    poll(0);
    if (unacknowledged() == 0) return true;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    poll(static_cast<int>(left.count()));
  }
}

InteractionStream::InteractionStream(zmq::context_t& zmq, const std::string& learner_endpoint,
                                     const std::optional<ClientKeys>& curve)
    : socket_(zmq, zmq::socket_type::pull), endpoint_(learner_endpoint) {
  if (curve) apply_client_keys(socket_, *curve);
  connect(socket_, learner_endpoint, "interaction stream");
}

std::optional<Interaction> InteractionStream::receive(int timeout_ms) {
  std::array<zmq::pollitem_t, 1> items{{{socket_.handle(), 0, ZMQ_POLLIN, 0}}};
  try {
    zmq::poll(items.data(), items.size(), std::chrono::milliseconds(std::max(timeout_ms, 0)));
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return std::nullopt;
    throw Error("interaction stream: poll on '" + endpoint_ + "' failed: " + e.what());
  }
  if (!(items[0].revents & ZMQ_POLLIN)) return std::nullopt;

  // Drain the whole message whatever its length, then judge it.
  std::array<zmq::message_t, 2> parts;
  zmq::message_t overflow;
  std::size_t count = 0;
  bool more = true;
  while (more) {
    zmq::message_t& part = count < parts.size() ? parts[count] : overflow;
    // Cannot block: poll said a message is here, and its parts arrive together.
    if (!socket_.recv(part, zmq::recv_flags::none)) return std::nullopt;
    more = part.more();
    ++count;
  }
  std::optional<Interaction> interaction;
  if (count == parts.size()) {
    const std::array<std::string_view, 2> views{view(parts[0]), view(parts[1])};
    interaction = decode_interaction(views);
  }
  if (!interaction) {
    throw Error("interaction stream: malformed message from '" + endpoint_ +
                "' (a collector of another version?)");
  }
  return interaction;
}

}  // namespace recloop
