// SPDX-License-Identifier: Apache-2.0
#include "policies/model_file.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/config.h"
#include "core/error.h"
#include "core/model_io.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "policies/registry.h"
#include "policies/ridge.h"
#include "tests/policies/policy_fixtures.h"
#include "tests/support/process.h"

using namespace recloop;
using Catch::Matchers::Contains;
using recloop::testing::make_interaction;
using recloop::testing::random_context;

namespace {

constexpr int kUserDim = 3;
constexpr int kActionDim = 3;
constexpr int kFeatureDim = kUserDim + kActionDim;
constexpr ItemId kCatalogue = 30;

std::unique_ptr<Policy> make_default(const std::string& name) {
  ConfigSection section(name);
  return make_policy(name, section, kFeatureDim);
}

// A seeded stream of interactions: 8 candidates of a 30-item catalogue, a
// click probability that rises with the first user feature for low item ids,
// and a logging probability of 1/8.
std::vector<Interaction> stream(std::uint64_t seed, int n) {
  Rng rng(seed);
  std::vector<Interaction> out;
  for (int t = 0; t < n; ++t) {
    const Context context = random_context(rng, kUserDim, kActionDim, 8, kCatalogue);
    const auto action = static_cast<ActionId>(uniform_index(rng, context.size()));
    const double click = context.items[action] < 10 ? 0.6 + 0.2 * std::tanh(context.user[0]) : 0.2;
    auto interaction = make_interaction(context, action, bernoulli(rng, click), 1.0 / 8);
    interaction.event_id = testing::event_id("e", t);
    out.push_back(std::move(interaction));
  }
  return out;
}

// Trains on its own decisions: the model's state then depends on its own
// pmf, which is what a served, restarted model has to reproduce.
void train_on_own_decisions(Policy& policy, std::uint64_t seed, int n) {
  Rng rng(seed);
  for (int t = 0; t < n; ++t) {
    const Context context = random_context(rng, kUserDim, kActionDim, 8, kCatalogue);
    const auto decision = policy.choose(context, testing::event_id("own-", t), 5);
    const double click = decision.item < 10 ? 0.7 : 0.2;
    policy.update(make_interaction(context, decision.action, bernoulli(rng, click),
                                   decision.probability));
  }
}

// Replaces the checksum so that a deliberately edited file passes it, to
// reach the checks behind it.
std::string reseal(std::string bytes) {
  const std::uint64_t checksum = fnv1a64(std::string_view(bytes).substr(0, bytes.size() - 8));
  std::memcpy(bytes.data() + bytes.size() - 8, &checksum, 8);
  return bytes;
}

std::string trained_bytes(const std::string& name) {
  auto policy = make_default(name);
  train_on_own_decisions(*policy, 11, 40);
  return serialize_policy(*policy);
}

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("every policy reloads bit-identical: same pmfs, decisions and later updates",
          "[policies]") {
  for (const auto& name : policy_names()) {
    SECTION(name) {
      auto original = make_default(name);
      train_on_own_decisions(*original, 1, 300);
      const std::string bytes = serialize_policy(*original);
      auto reloaded = deserialize_policy(bytes, "memory");
      REQUIRE(reloaded->name() == original->name());
      REQUIRE(reloaded->model_version() == original->model_version());
      REQUIRE(serialize_policy(*reloaded) == bytes);

      Rng rng(2);
      for (int i = 0; i < 200; ++i) {
        const Context context = random_context(rng, kUserDim, kActionDim, 1 + i % 12, kCatalogue);
        REQUIRE(reloaded->probabilities(context) == original->probabilities(context));
        const auto id = testing::event_id("probe-", i);
        const auto a = original->choose(context, id, 77);
        const auto b = reloaded->choose(context, id, 77);
        REQUIRE(b.action == a.action);
        REQUIRE(b.probability == a.probability);
        REQUIRE(b.model_version == a.model_version);
      }

      // The same 100 further updates leave both in the same state.
      for (const auto& interaction : stream(3, 100)) {
        original->update(interaction);
        reloaded->update(interaction);
      }
      for (int i = 0; i < 50; ++i) {
        const Context context = random_context(rng, kUserDim, kActionDim, 8, kCatalogue);
        REQUIRE(reloaded->probabilities(context) == original->probabilities(context));
      }
      REQUIRE(serialize_policy(*reloaded) == serialize_policy(*original));
    }
  }
}

TEST_CASE("a model file on disk reloads, and saving again replaces it whole",
          "[policies][integration]") {
  const auto path = testing::temp_path("model.rlm");
  auto policy = make_default("lin_ucb");
  train_on_own_decisions(*policy, 4, 200);
  save_model(*policy, path);
  auto reloaded = load_model(path);
  REQUIRE(serialize_policy(*reloaded) == serialize_policy(*policy));

  train_on_own_decisions(*policy, 5, 50);
  save_model(*policy, path);
  REQUIRE(read_file(path) == serialize_policy(*policy));
  REQUIRE(load_model(path)->model_version() == 250);
  // Nothing left behind beside it: the temporary file was renamed.
  const auto dir = std::filesystem::path(path).parent_path();
  const auto stem = std::filesystem::path(path).filename().string();
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto file = entry.path().filename().string();
    REQUIRE_FALSE((file != stem && file.rfind(stem, 0) == 0));
  }
  std::filesystem::remove(path);
}

TEST_CASE("a model file with any one byte changed is refused, naming the file",
          "[policies]") {
  for (const std::string name : {"uniform", "epsilon_greedy"}) {
    SECTION(name) {
      const std::string bytes = trained_bytes(name);
      for (std::size_t i = 0; i < bytes.size(); ++i) {
        std::string corrupted = bytes;
        corrupted[i] = static_cast<char>(corrupted[i] ^ 0x10);
        INFO("byte " << i << " of " << bytes.size());
        try {
          deserialize_policy(corrupted, "models/m.rlm");
          FAIL("accepted");
        } catch (const Error& e) {
          const std::string message = e.what();
          REQUIRE_THAT(message, Contains("models/m.rlm: "));
          REQUIRE(message.find('\n') == std::string::npos);
          // Past the header fields, the checksum is what catches it.
          if (i >= 24 + name.size() + 8) REQUIRE_THAT(message, Contains("checksum mismatch"));
        }
      }
    }
  }
}

TEST_CASE("a truncated model file is refused as truncated", "[policies]") {
  const std::string bytes = trained_bytes("lin_ucb");
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    INFO("first " << size << " of " << bytes.size() << " bytes");
    REQUIRE_THROWS_WITH(deserialize_policy(bytes.substr(0, size), "m.rlm"),
                        Contains("m.rlm: model file truncated"));
  }
}

TEST_CASE("a file that is not a model file is refused by its magic", "[policies]") {
  REQUIRE_THROWS_WITH(deserialize_policy(std::string("SQLite format 3\0abcdefghijklmnopqrstuvwxyz", 42), "x.db"),
                      "x.db: not a recloop model file (it does not start with \"RECLOOPM\")");
}

TEST_CASE("a model file of a newer format version is refused before its checksum",
          "[policies]") {
  std::string bytes = trained_bytes("uniform");
  bytes[8] = 2;  // format version 2, checksum not updated
  REQUIRE_THROWS_WITH(deserialize_policy(bytes, "m.rlm"),
                      Contains("m.rlm: model file has format version 2, newer than this build"));
}

TEST_CASE("bytes after the checksum are refused", "[policies]") {
  REQUIRE_THROWS_WITH(deserialize_policy(trained_bytes("uniform") + "x", "m.rlm"),
                      Contains("m.rlm: model file corrupted (1 unexpected bytes"));
}

TEST_CASE("a sealed model file whose contents do not load is refused with the reason",
          "[policies]") {
  SECTION("an unknown policy name") {
    ModelWriter body;
    body.put_u64(kModelFormatVersion);
    body.put_string("no_such_policy");
    body.put_string("");
    const std::string bytes = reseal(std::string(kModelMagic) + body.bytes() + "checksum");
    REQUIRE_THROWS_WITH(deserialize_policy(bytes, "m.rlm"),
                        Contains("m.rlm: model file does not load") &&
                            Contains("unknown policy 'no_such_policy'"));
  }
  SECTION("a config value out of range") {
    std::string bytes = trained_bytes("epsilon_greedy");
    const double epsilon = 2.0;  // the first field of the payload
    std::memcpy(bytes.data() + 24 + std::strlen("epsilon_greedy") + 8, &epsilon, 8);
    REQUIRE_THROWS_WITH(deserialize_policy(reseal(bytes), "m.rlm"),
                        Contains("m.rlm: model file does not load") && Contains("epsilon"));
  }
  SECTION("a payload longer than the policy reads") {
    auto policy = make_default("uniform");
    ModelWriter payload;
    policy->save(payload);
    payload.put_u64(0);
    ModelWriter body;
    body.put_u64(kModelFormatVersion);
    body.put_string("uniform");
    body.put_string(payload.bytes());
    const std::string bytes = reseal(std::string(kModelMagic) + body.bytes() + "checksum");
    REQUIRE_THROWS_WITH(deserialize_policy(bytes, "m.rlm"),
                        Contains("m.rlm: model file does not load") && Contains("unexpected bytes"));
  }
}

TEST_CASE("model files that cannot be read or written name their path", "[policies][integration]") {
  auto policy = make_default("uniform");
  REQUIRE_THROWS_WITH(save_model(*policy, "/nonexistent-dir/m.rlm"),
                      Contains("/nonexistent-dir/m.rlm: cannot create model file"));
  REQUIRE_THROWS_WITH(load_model("/nonexistent-dir/m.rlm"),
                      Contains("/nonexistent-dir/m.rlm: cannot open model file"));
}

TEST_CASE("the ridge state keeps its slots through save and load", "[policies]") {
  // Items updated in a scrambled order get slots in that order; a reloaded
  // model must answer per item exactly as before, and update the same slots.
  DisjointRidge model(4, 0.5);
  Rng rng(9);
  Eigen::VectorXd x(4);
  for (int t = 0; t < 60; ++t) {
    for (auto& v : x) v = standard_normal(rng);
    model.update((t * 7919) % 13 + 1000000007ULL, x, standard_normal(rng));
  }
  ModelWriter out;
  model.save(out);
  const std::string bytes = out.bytes();
  ModelReader in(bytes);
  DisjointRidge reloaded = DisjointRidge::load(in);
  REQUIRE(in.at_end());
  REQUIRE(reloaded.arm_count() == model.arm_count());
  for (ItemId item = 1000000007ULL; item < 1000000007ULL + 13; ++item) {
    const auto a = model.state(item);
    const auto b = reloaded.state(item);
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    REQUIRE(b->A_inv == a->A_inv);
    REQUIRE(b->theta == a->theta);
    REQUIRE(b->b == a->b);
    REQUIRE(b->updates == a->updates);
  }
  REQUIRE_FALSE(reloaded.has_state(5));
}

TEST_CASE("inconsistent ridge state is refused naming the field", "[policies]") {
  DisjointRidge model(3, 1.0);
  model.update(4, Eigen::VectorXd::Ones(3), 1.0);
  model.update(8, Eigen::VectorXd::Ones(3), 0.0);
  SECTION("a repeated item") {
    ModelWriter out;
    out.put_u64(3);
    out.put_f64(1.0);
    const std::vector<std::uint64_t> items{4, 4};
    out.put_u64s(items);
    std::vector<double> theta(6, 0.0), a_inv(12, 0.0);
    out.put_doubles(theta);
    out.put_doubles(theta);
    out.put_doubles(a_inv);
    const std::vector<std::uint64_t> updates{1, 1};
    out.put_u64s(updates);
    ModelReader in(out.bytes());
    REQUIRE_THROWS_WITH(DisjointRidge::load(in), Contains("ridge item 4 appears twice"));
  }
  SECTION("an array of the wrong size") {
    ModelWriter out;
    out.put_u64(3);
    out.put_f64(1.0);
    const std::vector<std::uint64_t> items{4};
    out.put_u64s(items);
    const std::vector<double> short_theta(2, 0.0);
    out.put_doubles(short_theta);
    ModelReader in(out.bytes());
    REQUIRE_THROWS_WITH(DisjointRidge::load(in), Contains("ridge theta has 2 values, expected 3"));
  }
  SECTION("a non-positive ridge") {
    ModelWriter out;
    out.put_u64(3);
    out.put_f64(-1.0);
    ModelReader in(out.bytes());
    REQUIRE_THROWS_WITH(DisjointRidge::load(in), Contains("ridge = -1"));
  }
}
