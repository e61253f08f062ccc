// SPDX-License-Identifier: Apache-2.0
// Model snapshots over PUB/SUB: what is published arrives as the same policy
// with its version; malformed snapshots are counted and skipped.
#include "core/config.h"
#include "feedback/model_stream.h"
#include "policies/registry.h"

#include <catch2/catch.hpp>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <optional>
#include <string>
#include <vector>

using namespace recloop;

namespace {

Context two_candidates() {
  Context context;
  context.user = Eigen::Vector2d(0.4, 1.0);
  context.actions = Eigen::MatrixXd::Ones(1, 2);
  context.items = {5, 6};
  return context;
}

}  // namespace

TEST_CASE("a published snapshot arrives as the same policy with its version",
          "[feedback][integration]") {
  ConfigSection section("epsilon_greedy");
  section.set("epsilon", "0.2");
  auto policy = make_policy("epsilon_greedy", section, 3);
  Interaction interaction;
  interaction.context = two_candidates();
  interaction.probability = 0.5;
  interaction.reward = 1.0;
  policy->update(interaction);

  zmq::context_t zmq;
  ModelPublisher publisher(zmq, "tcp://127.0.0.1:*");
  ModelSubscriber subscriber(zmq, publisher.endpoint());
  publisher.publish(*policy, 17);
  std::optional<ModelSnapshot> received;
  // PUB drops what is sent before the subscription is in place: repeat, as a
  // learner does, until one arrives.
  for (int attempt = 0; attempt < 200 && !received; ++attempt) {
    received = subscriber.receive(50);
    if (!received) publisher.republish();
  }
  REQUIRE(received);
  CHECK(received->version == 17);
  CHECK(received->policy->name() == "epsilon_greedy");
  CHECK(received->policy->probabilities(two_candidates()) == policy->probabilities(two_candidates()));
  CHECK(subscriber.rejected() == 0);
}

TEST_CASE("malformed snapshots are counted and skipped", "[feedback][integration]") {
  zmq::context_t zmq;
  zmq::socket_t pub(zmq, zmq::socket_type::pub);
  pub.bind("tcp://127.0.0.1:*");
  const std::string endpoint = pub.get(zmq::sockopt::last_endpoint);
  ModelSubscriber subscriber(zmq, endpoint);
  std::vector<zmq::const_buffer> bad{zmq::str_buffer("mod1"), zmq::str_buffer("3"),
                                     zmq::str_buffer("not a model file")};
  for (int attempt = 0; attempt < 200 && subscriber.rejected() == 0; ++attempt) {
    zmq::send_multipart(pub, bad);
    CHECK_FALSE(subscriber.receive(50));
  }
  CHECK(subscriber.rejected() > 0);
}
