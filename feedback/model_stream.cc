// SPDX-License-Identifier: Apache-2.0
#include "feedback/model_stream.h"

#include "core/error.h"
#include "policies/model_file.h"

#include <zmq_addon.hpp>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <exception>
#include <iterator>
#include <vector>

namespace recloop {

ModelPublisher::ModelPublisher(zmq::context_t& zmq, const std::string& endpoint,
                               const std::optional<ServerKeys>& curve)
    : socket_(zmq, zmq::socket_type::pub) {
  socket_.set(zmq::sockopt::linger, 1000);  // let the last snapshot leave on exit
  if (curve) apply_server_keys(zmq, socket_, *curve, "models");
  try {
    socket_.bind(endpoint);
  } catch (const zmq::error_t& e) {
    throw Error("model publisher: cannot bind '" + endpoint + "': " + e.what());
  }
  endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
}

void ModelPublisher::publish(const Policy& policy, std::uint64_t version) {
  model_ = serialize_policy(policy);
  version_text_ = std::to_string(version);
  republish();
}

void ModelPublisher::republish() {
  if (model_.empty()) return;
  std::vector<zmq::const_buffer> parts{zmq::buffer(kModelTag), zmq::buffer(version_text_),
                                       zmq::buffer(model_)};
  zmq::send_multipart(socket_, parts);  // PUB never blocks: a slow subscriber loses messages
  ++published_;
}

ModelSubscriber::ModelSubscriber(zmq::context_t& zmq, const std::string& endpoint,
                                 const std::optional<ClientKeys>& curve)
    : socket_(zmq, zmq::socket_type::sub), endpoint_(endpoint) {
  if (curve) apply_client_keys(socket_, *curve);
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::maxmsgsize, kMaxModelBytes);
  socket_.set(zmq::sockopt::subscribe, kModelTag);
  try {
    socket_.connect(endpoint);
  } catch (const zmq::error_t& e) {
    throw Error("model subscriber: cannot connect to '" + endpoint + "': " + e.what());
  }
}

std::optional<ModelSnapshot> ModelSubscriber::receive(int timeout_ms) {
  std::optional<ModelSnapshot> newest;
  zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  try {
    if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) <= 0) return newest;
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return newest;
    throw;
  }
  std::vector<zmq::message_t> parts;
  while (true) {
    parts.clear();
    if (!zmq::recv_multipart(socket_, std::back_inserter(parts), zmq::recv_flags::dontwait)) break;
    if (parts.size() != 3 || parts[0].to_string_view() != kModelTag) {
      ++rejected_;
      continue;
    }
    const auto text = parts[1].to_string_view();
    std::uint64_t version = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
      ++rejected_;
      continue;
    }
    try {
      newest = ModelSnapshot{version,
                             deserialize_policy(parts[2].to_string_view(),
                                                endpoint_ + " snapshot " + std::string(text))};
    } catch (const std::exception&) {  // refused by the model file's checks
      ++rejected_;
    }
  }
  return newest;
}

}  // namespace recloop
