// SPDX-License-Identifier: Apache-2.0
#include "tests/support/live_fixtures.h"

#include "core/config.h"
#include "policies/model_file.h"
#include "policies/registry.h"
#include "tests/support/process.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

namespace recloop::testing {

std::string with_free_port(const std::string& prefix) {
  const int port = free_tcp_port();
  REQUIRE(port > 0);
  std::string endpoint = prefix;  // appended: g++ 12 -Wrestrict false positive on prefix + ...
  endpoint += std::to_string(port);
  return endpoint;
}

std::string loopback_endpoint() { return with_free_port("tcp://127.0.0.1:"); }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::unique_ptr<Policy> trained_epsilon_greedy(const std::vector<ItemId>& items) {
  ConfigSection section("epsilon_greedy");
  section.set("epsilon", "0.3");
  auto policy = make_policy("epsilon_greedy", section, 3);
  Interaction interaction;
  interaction.context.user = Eigen::Vector2d(0.0, 1.0);
  interaction.context.actions = Eigen::MatrixXd::Ones(1, 4);
  interaction.context.items = items;
  interaction.probability = 0.25;
  for (int i = 0; i < 200; ++i) {
    const double x = (i % 10) / 10.0;
    interaction.context.user[0] = x;
    interaction.action = static_cast<ActionId>(i % 4);
    interaction.reward = interaction.action == 0 ? x : interaction.action == 1 ? 1.0 - x : 0.2;
    policy->update(interaction);
  }
  return policy;
}

void save_trained_model(const std::string& path) {
  save_model(*trained_epsilon_greedy({10, 11, 12, 13}), path);
}

}  // namespace recloop::testing
