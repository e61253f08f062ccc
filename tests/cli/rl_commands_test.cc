// SPDX-License-Identifier: Apache-2.0
// The commands of off-policy reinforcement learning over sessions, as
// processes: `recloop sessions --log --behaviour` writes logged sessions,
// `recloop train --algo` trains from them, `recloop evaluate --sequential`
// estimates the trained policy's session value, `recloop sessions --model`
// compares it with the bandits, and `recloop serve --model` serves it.
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "logging/session_log.h"
#include "policies/model_file.h"
#include "tests/logging/fixtures.h"
#include "tests/support/live_fixtures.h"
#include "tests/support/process.h"

using namespace recloop;
using nlohmann::json;
using recloop::testing::run_command;
using recloop::testing::TempDir;
using recloop::testing::loopback_endpoint;

namespace {

const std::string kBinary = RECLOOP_BINARY;
const std::string kScenario = std::string(RECLOOP_SOURCE_DIR) + "/scenarios/streaming_fatigue.ini";

// 150 sessions of at most 30 steps under epsilon-greedy at 0.3, learning online.
std::string write_session_log(const TempDir& dir) {
  const std::string path = dir.file("sessions.db");
  const auto logged = run_command(kBinary + " sessions " + kScenario +
                                  " -q --sessions 150 --set simulator.session_max_steps=30"
                                  " --set epsilon_greedy.epsilon=0.3 --log " + path +
                                  " --behaviour epsilon_greedy");
  INFO(logged.out << logged.err);
  REQUIRE(logged.exit_code == 0);
  CHECK_THAT(logged.out, Catch::Contains("logged 150 sessions"));
  return path;
}

// An LSPI model trained on the session log at `log` with `options` added to
// the train command; its path in `dir`.
std::string train_lspi(const TempDir& dir, const std::string& log,
                       const std::string& options = "") {
  const std::string model = dir.file("lspi.bin");
  REQUIRE(run_command(kBinary + " train --algo lspi --log " + log + " --out " + model + options)
              .exit_code == 0);
  return model;
}

std::string key(char prefix, int i) {
  char text[16];
  std::snprintf(text, sizeof text, "%c%03d", prefix, i);
  return text;
}

}  // namespace

TEST_CASE("recloop sessions --log writes complete sessions with the behaviour's pmf and truth",
          "[cli][integration]") {
  TempDir dir;
  const std::string path = write_session_log(dir);
  SessionLogSummary summary;
  const auto trajectories = read_sessions(path, "epsilon_greedy", &summary);
  REQUIRE(trajectories.size() == 150);
  CHECK(summary.complete == 150);
  CHECK(summary.with_truth == summary.steps);
  for (const Trajectory& t : trajectories) {
    CHECK(t.steps.size() <= 30);
    for (const TrajectoryStep& s : t.steps) {
      REQUIRE(s.pmf.size() == s.context.size());
      CHECK(s.probability == s.pmf[s.action]);
      CHECK(s.probability >= 0.03 - 1e-12);  // epsilon / candidates: full support
    }
  }
}

TEST_CASE("every RL algorithm trains a model file from logged sessions that reloads under its name",
          "[cli][integration]") {
  TempDir dir;
  const std::string log = write_session_log(dir);
  const std::map<std::string, std::string> names{
      {"lspi", "lspi"}, {"bcq", "bcq"}, {"reinforce", "reinforce_topk"}, {"slateq", "slateq"}};
  for (const auto& [algo, name] : names) {
    const std::string model = dir.file(algo + ".bin");
    const auto trained = run_command(kBinary + " train --algo " + algo + " --log " + log +
                                     " --out " + model + " --epsilon 0.1 --epochs 2");
    INFO(algo << ": " << trained.out << trained.err);
    REQUIRE(trained.exit_code == 0);
    CHECK_THAT(trained.out, Catch::Contains("on 150 sessions"));
    const auto policy = load_model(model);
    CHECK(policy->name() == name);
  }
}

TEST_CASE("recloop evaluate --sequential prints every sequential estimate of a trained model",
          "[cli][integration]") {
  TempDir dir;
  const std::string log = write_session_log(dir);
  const std::string model = train_lspi(dir, log, " --epsilon 0.1");
  const auto evaluated = run_command(kBinary + " evaluate --sequential --log " + log +
                                     " --target model:" + model +
                                     " --gamma 0.9 --bootstrap 20 --fqe-bootstrap 2 --json");
  INFO(evaluated.out << evaluated.err);
  REQUIRE(evaluated.exit_code == 0);
  const json out = json::parse(evaluated.out);
  CHECK(out.at("sessions") == 150);
  CHECK(out.at("gamma") == 0.9);
  for (const char* name : {"pdis", "wpdis", "dr", "wdr", "magic", "fqe"}) {
    const json& e = out.at("estimates").at(name);
    INFO(name);
    CHECK(std::isfinite(e.at("value").get<double>()));
    CHECK(e.at("lower").get<double>() <= e.at("value").get<double>());
    CHECK(e.at("value").get<double>() <= e.at("upper").get<double>());
  }
  // A uniform target has full support under the logger: positive weights at every step.
  const auto uniform = run_command(kBinary + " evaluate --sequential --log " + log +
                                   " --target policy:uniform --bootstrap 20 --fqe-bootstrap 0");
  INFO(uniform.out << uniform.err);
  REQUIRE(uniform.exit_code == 0);
  CHECK_THAT(uniform.out, Catch::Contains("pdis") && Catch::Contains("magic"));
}

TEST_CASE("recloop sessions --model adds a trained policy, frozen, to the comparison",
          "[cli][integration]") {
  TempDir dir;
  const std::string log = write_session_log(dir);
  const std::string model = train_lspi(dir, log);
  const auto compared = run_command(kBinary + " sessions " + kScenario +
                                    " -q --sessions 50 --set simulator.session_max_steps=30"
                                    " --set sessions.first_session=100000 --json --model " + model);
  INFO(compared.out << compared.err);
  REQUIRE(compared.exit_code == 0);
  const json out = json::parse(compared.out);
  bool found = false;
  for (const auto& p : out.at("policies")) found = found || p.at("policy") == "lspi:lspi.bin";
  CHECK(found);
  const auto text = run_command(kBinary + " sessions " + kScenario +
                                " -q --sessions 50 --set simulator.session_max_steps=30 --model " +
                                model);
  CHECK_THAT(text.out, Catch::Contains("trained policies against the best policy learning online"));
}

TEST_CASE("recloop simulate hands a session scenario to the sessions comparison, models included",
          "[cli][integration]") {
  TempDir dir;
  const std::string log = write_session_log(dir);
  const std::string model = train_lspi(dir, log);
  const auto simulated = run_command(kBinary + " simulate " + kScenario +
                                     " -q --sessions 20 --set simulator.session_max_steps=30 --json"
                                     " --model " + model);
  INFO(simulated.out << simulated.err);
  REQUIRE(simulated.exit_code == 0);
  const json out = json::parse(simulated.out);
  CHECK(out.at("world") == "session");
  CHECK(out.at("sessions") == 20);
}

TEST_CASE("the RL commands refuse bad input with one line naming it", "[cli][integration]") {
  TempDir dir;
  const auto unknown = run_command(kBinary + " train --algo dqn --log " + kScenario + " --out m.bin");
  CHECK(unknown.exit_code != 0);
  CHECK_THAT(unknown.err, Catch::Contains("unknown algorithm 'dqn'"));
  const auto no_behaviour =
      run_command(kBinary + " sessions " + kScenario + " --log " + dir.file("l.db"));
  CHECK(no_behaviour.exit_code != 0);
  CHECK_THAT(no_behaviour.err, Catch::Contains("--behaviour"));
  // A log without sessions: decisions of single requests only.
  const std::string plain = dir.file("plain.db");
  REQUIRE(run_command(kBinary + " simulate -q --set run.steps=50 --log " + plain).exit_code == 0);
  const auto empty = run_command(kBinary + " train --algo lspi --log " + plain + " --out " +
                                 dir.file("m.bin"));
  CHECK(empty.exit_code != 0);
  CHECK_THAT(empty.err, Catch::Contains("no sessions to train on"));
  const auto missing_model = run_command(kBinary + " evaluate --sequential --log " + plain +
                                         " --target model:" + dir.file("none.bin"));
  CHECK(missing_model.exit_code != 0);
  CHECK_THAT(missing_model.err, Catch::Contains("file not found"));
}

TEST_CASE("a trained RL model serves through recloop serve and answers rank with a valid pmf",
          "[cli][integration]") {
  TempDir dir;
  const std::string log = write_session_log(dir);
  const std::string model = train_lspi(dir, log, " --epsilon 0.1");
  const auto trajectories = read_sessions(log);
  REQUIRE_FALSE(trajectories.empty());
  const Context& context = trajectories.front().steps.front().context;
  const int user_dim = static_cast<int>(context.user.size());
  const int action_dim = static_cast<int>(context.actions.rows());
  const auto policy = load_model(model);
  const std::vector<double> expected = policy->probabilities(context);

  const std::string endpoint = loopback_endpoint();
  recloop::testing::RecloopProcess server(
      {"serve", "--model", model, "--user-dim", std::to_string(user_dim), "--action-dim",
       std::to_string(action_dim), "--bind", endpoint},
      dir.file("serve.out"));
  // Keys sort byte-wise into the order of the logged features: u000, u001, ...
  json features = json::object();
  for (int i = 0; i < user_dim; ++i) features[key('u', i)] = context.user[i];
  json actions = json::array();
  for (std::size_t a = 0; a < context.size(); ++a) {
    json f = json::object();
    for (int i = 0; i < action_dim; ++i) f[key('a', i)] = context.actions(i, static_cast<Eigen::Index>(a));
    actions.push_back({{"id", std::to_string(a)}, {"features", f}});
  }
  const json body{{"contextFeatures", features}, {"actions", actions}, {"eventId", "rl-1"}};
  const auto ranked = run_command(kBinary + " rank --timeout-ms 20000 --server " + endpoint +
                                  " --json '" + body.dump() + "'");
  INFO(ranked.out << ranked.err);
  REQUIRE(ranked.exit_code == 0);
  const json reply = json::parse(ranked.out);
  CHECK(reply.at("policy") == "lspi");
  REQUIRE(reply.at("ranking").size() == context.size());
  double total = 0.0;
  for (const auto& entry : reply["ranking"]) {
    const double p = entry.at("probability").get<double>();
    CHECK(p >= 0.0);
    total += p;
    const auto a = static_cast<std::size_t>(std::stoul(entry.at("id").get<std::string>()));
    CHECK(p == Approx(expected.at(a)).margin(1e-12));
  }
  CHECK(total == Approx(1.0).margin(1e-12));
}
