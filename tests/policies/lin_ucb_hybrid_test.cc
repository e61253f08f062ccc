// SPDX-License-Identifier: Apache-2.0
#include "policies/lin_ucb_hybrid.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <Eigen/Dense>

#include "core/config.h"
#include "core/error.h"
#include "core/model_io.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "policies/lin_ucb.h"
#include "policies/registry.h"
#include "tests/policies/policy_fixtures.h"
#include "tests/policies/reload_checks.h"
#include "tests/policies/thompson_fixtures.h"
#include "tests/support/pmf_checks.h"

using namespace recloop;
using Catch::Matchers::Contains;
using recloop::testing::make_interaction;
using recloop::testing::random_context;
using recloop::testing::require_bit_identical_reload;

namespace {

constexpr int kUserDim = 3;
constexpr int kActionDim = 2;
constexpr int kDim = kUserDim + kActionDim;
using Shared = LinUcbHybrid::SharedFeatures;

Eigen::VectorXd shared_of(const Context& context, const Eigen::VectorXd& x, Shared shared) {
  if (shared == Shared::kJoint) return x;
  Eigen::VectorXd z(kUserDim * kActionDim);
  for (int j = 0; j < kActionDim; ++j) {
    for (int i = 0; i < kUserDim; ++i) z[i + kUserDim * j] = context.user[i] * x[kUserDim + j];
  }
  return z;
}

// Ridge regression on all parameters at once, phi = [beta; theta_item1;
// theta_item2; ...], with prior precision ridge I: an observation (z, x) on
// item a has features u = [z; 0 ... x (in a's block) ... 0]. Li et al. 2010
// derive Alg. 2 from this system by block elimination (A_0 is the Schur
// complement), so its mean and s_{t,a} must equal u' phi_hat and u' G^-1 u.
struct JointRidge {
  double ridge;
  Shared shared;
  int k;
  std::map<ItemId, int> block;  // item -> block index
  std::vector<std::tuple<ItemId, Eigen::VectorXd, Eigen::VectorXd, double>> raw;  // (item, x, z, r)

  void add(const Context& context, ActionId action, double reward) {
    Eigen::VectorXd x(kDim);
    joint_features(context, action, x);
    block.try_emplace(context.items[action], static_cast<int>(block.size()));
    raw.emplace_back(context.items[action], x, shared_of(context, x, shared), reward);
  }
  // (mean, s) for candidate `a` of `context`; an item never seen gets its own
  // empty block, which is what a new item is.
  std::pair<double, double> score(const Context& context, ActionId action) const {
    std::map<ItemId, int> blocks = block;
    blocks.try_emplace(context.items[action], static_cast<int>(blocks.size()));
    const int n = k + kDim * static_cast<int>(blocks.size());
    Eigen::MatrixXd G = ridge * Eigen::MatrixXd::Identity(n, n);
    Eigen::VectorXd f = Eigen::VectorXd::Zero(n);
    const auto features = [&](ItemId item, const Eigen::VectorXd& x, const Eigen::VectorXd& z) {
      Eigen::VectorXd u = Eigen::VectorXd::Zero(n);
      u.head(k) = z;
      u.segment(k + kDim * blocks.at(item), kDim) = x;
      return u;
    };
    for (const auto& [item, x, z, r] : raw) {
      const Eigen::VectorXd u = features(item, x, z);
      G += u * u.transpose();
      f += r * u;
    }
    Eigen::VectorXd x(kDim);
    joint_features(context, action, x);
    const Eigen::VectorXd u = features(context.items[action], x, shared_of(context, x, shared));
    const auto ldlt = G.ldlt();
    return {u.dot(ldlt.solve(f)), u.dot(ldlt.solve(u))};
  }
};

double reward_of(const Context& context, ActionId action) {
  return context.user[1] * context.actions(0, action) + 0.5 * context.actions(1, action) -
         0.3 * static_cast<double>(context.items[action] % 4);
}

// Items share most of their reward function: E[r] = x'(beta* + theta*_i) with
// |beta*| = 1 and |theta*_i| ~ 0.3, 40 items, 10 random candidates per
// request, fresh user features, fixed item embeddings.
class HybridWorld {
 public:
  static constexpr int kItems = 40;
  explicit HybridWorld(Rng& rng) : embeddings_(kActionDim, kItems), beta_(kDim) {
    for (auto& v : embeddings_.reshaped()) v = standard_normal(rng) / std::sqrt(2.0 * kActionDim);
    for (auto& v : beta_) v = standard_normal(rng);
    beta_.normalize();
    for (int i = 0; i < kItems; ++i) {
      Eigen::VectorXd theta(kDim);
      for (auto& v : theta) v = 0.3 * standard_normal(rng) / std::sqrt(double{kDim});
      theta_.push_back(theta);
    }
  }
  Context next_context(Rng& rng) const {
    Context context;
    context.user.resize(kUserDim);
    for (auto& v : context.user) v = standard_normal(rng) / std::sqrt(2.0 * kUserDim);
    context.actions.resize(kActionDim, 10);
    while (context.items.size() < 10) {
      const ItemId item = uniform_index(rng, kItems);
      if (std::find(context.items.begin(), context.items.end(), item) != context.items.end()) continue;
      context.actions.col(static_cast<Eigen::Index>(context.items.size())) =
          embeddings_.col(static_cast<Eigen::Index>(item));
      context.items.push_back(item);
    }
    return context;
  }
  std::vector<double> expected_rewards(const Context& context) const {
    std::vector<double> mu(context.size());
    Eigen::VectorXd x(kDim);
    for (std::size_t a = 0; a < context.size(); ++a) {
      joint_features(context, static_cast<ActionId>(a), x);
      mu[a] = x.dot(beta_ + theta_[context.items[a]]);
    }
    return mu;
  }

 private:
  Eigen::MatrixXd embeddings_;
  Eigen::VectorXd beta_;
  std::vector<Eigen::VectorXd> theta_;
};

// Hybrid and disjoint LinUCB (alpha = 0.5 both) on the same contexts and noise.
std::pair<testing::Regret, testing::Regret> hybrid_regret(std::uint64_t seed, int steps) {
  Rng world_rng(stream_seed(seed, 0));
  const HybridWorld world(world_rng);
  LinUcbHybrid hybrid({.alpha = 0.5}, kDim);
  LinUcb disjoint({.alpha = 0.5}, kDim);
  Policy* policies[2] = {&hybrid, &disjoint};
  testing::Regret out[2];
  double regret[2] = {0.0, 0.0};
  Rng context_rng(stream_seed(seed, 1));
  Rng noise_rng(stream_seed(seed, 2));
  for (int t = 0; t < steps; ++t) {
    const Context context = world.next_context(context_rng);
    const auto mu = world.expected_rewards(context);
    for (int p = 0; p < 2; ++p) {
      const auto decision = policies[p]->choose(context, std::to_string(t), seed);
      regret[p] += testing::pmf_regret(decision.pmf, mu);
      const double reward = mu[decision.action] + 0.1 * standard_normal(noise_rng);
      policies[p]->update(make_interaction(context, decision.action, reward, decision.probability));
      if (t + 1 == steps / 4) out[p].at_quarter = regret[p];
      out[p].at_end = regret[p];
    }
  }
  return {out[0], out[1]};
}

}  // namespace

TEST_CASE("lin_ucb_hybrid scores are the joint ridge regression of Alg. 2's derivation",
          "[policies]") {
  // Li et al. 2010, sec. 3.2: Alg. 2 is block elimination of the ridge system
  // in all parameters. Both feature maps; candidates include unseen items.
  for (Shared shared : {Shared::kJoint, Shared::kOuter}) {
    const int user_dim = shared == Shared::kOuter ? kUserDim : 0;
    LinUcbHybrid policy({.alpha = 0.7, .ridge = 1.5, .shared_features = shared,
                         .user_dim = user_dim},
                        kDim);
    JointRidge direct{1.5, shared, policy.shared_dim(), {}, {}};
    Rng rng(21);
    for (int t = 0; t < 80; ++t) {
      const Context context = random_context(rng, kUserDim, kActionDim, 4, 6);
      const auto action = static_cast<ActionId>(uniform_index(rng, context.size()));
      const double reward = reward_of(context, action) + 0.1 * standard_normal(rng);
      policy.update(make_interaction(context, action, reward));
      direct.add(context, action, reward);
    }
    REQUIRE(policy.arm_count() == 6);
    for (int i = 0; i < 5; ++i) {
      const Context context = random_context(rng, kUserDim, kActionDim, 5, 9);
      const auto scores = policy.scores(context);
      for (ActionId a = 0; a < context.size(); ++a) {
        const auto [mean, s] = direct.score(context, a);
        INFO("shared features " << static_cast<int>(shared) << ", candidate " << a);
        REQUIRE(scores[a] == Approx(mean + 0.7 * std::sqrt(s)).epsilon(1e-9));
      }
    }
  }
}

TEST_CASE("a new item is scored with what the shared part learnt from other items",
          "[policies]") {
  Rng rng(22);
  LinUcbHybrid policy({.alpha = 0.0}, kDim);
  for (int t = 0; t < 200; ++t) {
    const Context context = random_context(rng, kUserDim, kActionDim, 3, 5);
    policy.update(make_interaction(context, 0, reward_of(context, 0)));
  }
  Context context = random_context(rng, kUserDim, kActionDim, 2, 5);
  context.items = {1000, 1001};  // never seen
  const auto scores = policy.scores(context);
  Eigen::VectorXd x(kDim);
  joint_features(context, 0, x);
  REQUIRE(scores[0] == Approx(x.dot(policy.beta_hat())));
  REQUIRE(scores[0] != 0.0);
  REQUIRE(policy.arm(1000) == nullptr);
}

TEST_CASE("a fresh lin_ucb_hybrid with alpha zero ties every candidate and is uniform",
          "[policies]") {
  Rng rng(23);
  LinUcbHybrid policy({.alpha = 0.0}, kDim);
  const Context context = random_context(rng, kUserDim, kActionDim, 7, 100);
  const auto pmf = policy.probabilities(context);
  testing::require_valid_pmf(pmf, 7);
  for (double p : pmf) REQUIRE(p == Approx(1.0 / 7));
}

TEST_CASE("lin_ucb_hybrid learns faster than disjoint LinUCB when items share their rewards",
          "[policies][statistical]") {
  // 40 items whose reward functions share a common part (|beta*| = 1) and
  // differ a little (|theta*_i| ~ 0.3); T = 4000, alpha = 0.5 for both, one
  // fixed seed. Disjoint LinUCB learns each item alone (40 separate 5-d
  // regressions); the hybrid model learns beta* from every observation, so its
  // regret must be lower. Both are optimistic linear bandits with
  // O~(d sqrt(T)) regret or better, so regret(T) / regret(T/4) <= ~2
  // against 4 for linear regret: checked < 3. Over seeds 1-20 (the hidden
  // [.sweep] test below, run by hand) the hybrid's regret was 0.32-0.62 times
  // the disjoint model's, and its ratio lay in [1.52, 2.52].
  const auto [hybrid, disjoint] = hybrid_regret(2024, 4000);
  INFO("hybrid " << hybrid.at_quarter << " -> " << hybrid.at_end << ", disjoint "
                 << disjoint.at_quarter << " -> " << disjoint.at_end);
  REQUIRE(hybrid.at_end < disjoint.at_end);
  REQUIRE(hybrid.at_end / hybrid.at_quarter < 3.0);
}

TEST_CASE("lin_ucb_hybrid regret comparison holds across seeds", "[.sweep]") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const auto [hybrid, disjoint] = hybrid_regret(seed, 4000);
    INFO("seed " << seed << ": hybrid " << hybrid.at_quarter << " -> " << hybrid.at_end
                 << ", disjoint " << disjoint.at_quarter << " -> " << disjoint.at_end);
    CHECK(hybrid.at_end < disjoint.at_end);
    CHECK(hybrid.at_end / hybrid.at_quarter < 3.0);
  }
}

TEST_CASE("lin_ucb_hybrid reloads bit-identical", "[policies]") {
  Rng rng(24);
  for (Shared shared : {Shared::kJoint, Shared::kOuter}) {
    LinUcbHybrid policy({.alpha = 0.4, .shared_features = shared,
                         .user_dim = shared == Shared::kOuter ? kUserDim : 0},
                        kDim);
    for (int t = 0; t < 40; ++t) {
      const Context context = random_context(rng, kUserDim, kActionDim, 4, 8);
      policy.update(make_interaction(context, t % 4, reward_of(context, t % 4)));
    }
    require_bit_identical_reload(policy, "lin_ucb_hybrid", rng, kUserDim, kActionDim, 0.3,
                                 [&](const Policy& reloaded, const Context& context) {
                                   REQUIRE(dynamic_cast<const LinUcbHybrid&>(reloaded).scores(
                                               context) == policy.scores(context));
                                 });
  }
}

TEST_CASE("lin_ucb_hybrid settings are read with defaults and ranges", "[policies]") {
  ConfigSection empty("policy", "x.ini");
  REQUIRE(LinUcbHybrid::Config::from(empty) == LinUcbHybrid::Config{});
  ConfigSection set("policy", "x.ini");
  set.set("alpha", "0.3");
  set.set("shared_features", "outer");
  set.set("user_dim", "3");
  REQUIRE(LinUcbHybrid::Config::from(set) ==
          LinUcbHybrid::Config{.alpha = 0.3, .shared_features = Shared::kOuter, .user_dim = 3});
  ConfigSection bad_alpha("policy", "x.ini");
  bad_alpha.set("alpha", "-1");
  REQUIRE_THROWS_WITH(LinUcbHybrid::Config::from(bad_alpha),
                      Contains("alpha") && Contains("'-1'") && Contains("[0, inf)"));
  ConfigSection bad_shared("policy", "x.ini");
  bad_shared.set("shared_features", "user");
  REQUIRE_THROWS_WITH(LinUcbHybrid::Config::from(bad_shared), Contains("joint, outer"));
  ConfigSection outer_without_split("policy", "x.ini");
  outer_without_split.set("shared_features", "outer");
  REQUIRE_THROWS_WITH(LinUcbHybrid::Config::from(outer_without_split),
                      Contains("shared_features = 'outer'") && Contains("user_dim >= 1"));
  ConfigSection joint_with_split("policy", "x.ini");
  joint_with_split.set("user_dim", "2");
  REQUIRE_THROWS_WITH(LinUcbHybrid::Config::from(joint_with_split),
                      Contains("user_dim = '2'") && Contains("only used with"));
}

TEST_CASE("lin_ucb_hybrid rejects bad constructor arguments and contexts", "[policies]") {
  REQUIRE_THROWS_WITH(LinUcbHybrid({.alpha = -0.5}, kDim), Contains("alpha = -0.5"));
  REQUIRE_THROWS_WITH(LinUcbHybrid({.ridge = 0.0}, kDim), Contains("ridge"));
  REQUIRE_THROWS_WITH(LinUcbHybrid({.shared_features = Shared::kOuter}, kDim),
                      Contains("user_dim = 0") && Contains("[1, 4]"));
  REQUIRE_THROWS_WITH(LinUcbHybrid({.user_dim = 2}, kDim), Contains("user_dim = 2"));
  REQUIRE_THROWS_AS(LinUcbHybrid({}, 0), std::invalid_argument);
  LinUcbHybrid outer({.shared_features = Shared::kOuter, .user_dim = 2}, kDim);
  Rng rng(25);
  const Context wrong_split = random_context(rng, kUserDim, kActionDim, 3, 10);  // user_dim 3
  REQUIRE_THROWS_AS(outer.probabilities(wrong_split), std::logic_error);
  REQUIRE_THROWS_AS(outer.update(make_interaction(wrong_split, 0, 1.0)), std::logic_error);
  REQUIRE(outer.model_version() == 0);
}
