// SPDX-License-Identifier: Apache-2.0
// `recloop simulate --live` against real `recloop collect` and `recloop serve`
// processes: every served request is logged once, joined to its reward, with
// the probability the reply reported, and the rewards agree with the world's
// exact expected rewards.
#include "cli/scenario_config.h"
#include "cli/simulate_live.h"
#include "core/rng.h"
#include "feedback/decision_server.h"
#include "logging/event_log.h"
#include "simulator/registry.h"
#include "tests/logging/fixtures.h"
#include "tests/support/live_fixtures.h"
#include "tests/support/process.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace recloop;
using nlohmann::json;
using recloop::testing::run_command;
using recloop::testing::TempDir;
using recloop::testing::loopback_endpoint;
using recloop::testing::read_file;

namespace {

// One context of the default scenario's world, with latent vectors of
// `latent_dim` (0: the default).
Context default_world_context(int latent_dim = 0) {
  Scenario scenario = default_scenario();
  if (latent_dim > 0) scenario.section("simulator").set("latent_dim", std::to_string(latent_dim));
  auto world = make_simulator(scenario.section("simulator"));
  Rng rng(3);
  return world->next_context(rng);
}

std::string names(const char* stem, Eigen::Index n) {
  std::string list;
  for (Eigen::Index i = 0; i < n; ++i) {
    if (i) list += ",";
    list += stem;
    list += std::to_string(i);
  }
  return list;
}

}  // namespace

TEST_CASE("a live rank request carries the world's context under the names the server lists",
          "[cli]") {
  const Context context = default_world_context(12);
  const auto dim = [](Eigen::Index n) { return static_cast<int>(n); };
  REQUIRE(context.user.size() > 10);  // so byte-wise key order would differ from index order
  std::vector<ActionId> offered;
  for (ActionId a = 0; a < context.size(); a += 2) offered.push_back(a);
  const json request = live_rank_request(context, offered);
  CHECK_FALSE(request.contains("eventId"));
  const auto named = FeatureSchema::from_names(
      [&] {
        std::vector<std::string> v;
        for (Eigen::Index i = 0; i < context.user.size(); ++i) v.push_back("user_" + std::to_string(i));
        return v;
      }(),
      [&] {
        std::vector<std::string> v;
        for (Eigen::Index i = 0; i < context.actions.rows(); ++i) v.push_back("a_" + std::to_string(i));
        return v;
      }(),
      0, 0);
  const RankRequest parsed = parse_rank_request(request.dump(), named);
  CHECK(parsed.context.user == context.user);  // exact: JSON numbers round-trip
  REQUIRE(parsed.context.size() == offered.size());
  for (std::size_t k = 0; k < offered.size(); ++k) {
    CHECK(parsed.context.items[k] == context.items[offered[k]]);
    CHECK(parsed.context.actions.col(static_cast<Eigen::Index>(k)) ==
          context.actions.col(static_cast<Eigen::Index>(offered[k])));
  }
  CHECK(live_schema_flags(dim(context.user.size()), dim(context.actions.rows())) ==
        "--context-features " + names("user_", context.user.size()) + " --action-features " +
            names("a_", context.actions.rows()));
}

TEST_CASE("simulate --live logs every served request once with its replied probability, and its "
          "rewards match the world's exact values",
          "[cli][integration][statistical]") {
  TempDir dir;
  const std::string log_path = dir.file("events.db");
  const std::string replies_path = dir.file("replies.tsv");
  const std::string collector_endpoint = loopback_endpoint();
  const std::string server_endpoint = loopback_endpoint();
  const Context context = default_world_context();
  recloop::testing::RecloopProcess collector(
      {"collect", "--log", log_path, "--bind", collector_endpoint}, dir.file("collect.out"));
  recloop::testing::RecloopProcess server(
      {"serve", "--policy", "uniform", "--context-features", names("user_", context.user.size()),
       "--action-features", names("a_", context.actions.rows()), "--threads", "2", "--bind",
       server_endpoint, "--collector", collector_endpoint},
      dir.file("serve.out"));

  constexpr int kRequests = 400;
  const auto simulated = run_command(
      std::string(RECLOOP_BINARY) + " simulate --live --server " + server_endpoint +
      " --collector " + collector_endpoint + " --requests " + std::to_string(kRequests) +
      " --threads 2 --timeout-ms 20000 --event-prefix live-test- --replies " + replies_path +
      " --json --quiet");
  INFO(simulated.out << simulated.err << read_file(dir.file("serve.out"))
                     << read_file(dir.file("collect.out")));
  REQUIRE(simulated.exit_code == 0);
  const json report = json::parse(simulated.out);
  CHECK(report.at("requests") == kRequests);
  CHECK(report.at("served") == kRequests);
  CHECK(report.at("errors") == 0);
  CHECK(report.at("rewards_unacknowledged") == 0);

  // Stopping the server flushes the decisions it forwarded; then the collector.
  const int server_status = server.stop(SIGTERM);
  REQUIRE(WIFEXITED(server_status));
  CHECK(WEXITSTATUS(server_status) == 0);
  const int collector_status = collector.stop(SIGTERM);
  REQUIRE(WIFEXITED(collector_status));

  struct Replied {
    std::string item;
    double probability = 0.0;
    double reward = 0.0;
  };
  std::map<std::string, Replied> replies;
  std::istringstream lines(read_file(replies_path));
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string event_id;
    Replied replied;
    fields >> event_id >> replied.item >> replied.probability >> replied.reward;
    REQUIRE(fields);
    CHECK(replies.emplace(event_id, replied).second);
  }
  REQUIRE(replies.size() == kRequests);

  EventLog log(log_path);
  CHECK(log.decision_count() == kRequests);
  CHECK(log.interaction_count() == kRequests);
  std::size_t joined = 0;
  log.for_each([&](const Interaction& interaction) {
    const auto it = replies.find(interaction.event_id);
    REQUIRE(it != replies.end());
    CHECK(std::to_string(interaction.context.items[interaction.action]) == it->second.item);
    CHECK(interaction.probability == it->second.probability);
    CHECK(interaction.reward == it->second.reward);
    ++joined;
  });
  CHECK(joined == kRequests);

  // The uniform policy's exact value is the mean over candidates of E[r|x,a];
  // the value computed from the replied probabilities must be that, up to
  // rounding.
  const double value = report.at("policy_value_exact");
  CHECK(value == Approx(report.at("uniform").get<double>()).margin(1e-12));
  // Clicks are 0/1 with P(click | x, a) = E[r|x,a], so r_i - v(x_i) (v the
  // policy's exact value at x_i) has mean 0 and variance at most 1/4: the
  // mean of n = 400 differences has sd <= 0.5 / sqrt(400) = 0.025. Four sd
  // (0.1) is exceeded with probability < 6.4e-5 (normal approximation).
  const double tolerance = 4.0 * 0.5 / std::sqrt(static_cast<double>(kRequests));
  CHECK(std::abs(report.at("mean_reward").get<double>() - value) <= tolerance);
  // The served items' exact mean differs from the policy's value by the mean
  // of E[r|x,a_i] - v(x_i), values in [-1, 1] of mean 0 and variance at most
  // 1/4 (for values in [0, 1]), so the same bound applies.
  CHECK(std::abs(report.at("served_exact").get<double>() - value) <= tolerance);
  CHECK(report.at("best").get<double>() > value);
}
