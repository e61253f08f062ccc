// SPDX-License-Identifier: Apache-2.0
#include "policies/bagging.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/check.h"
#include "core/error.h"
#include "core/model_io.h"
#include "core/rng.h"
#include "core/sampling.h"

namespace recloop {
namespace {

const Bagging::Config& validated(const Bagging::Config& config, int feature_dim) {
  if (config.members < 1 || config.members > Bagging::kMaxMembers) {
    throw std::invalid_argument("Bagging: members = " + std::to_string(config.members) +
                                ", need [1, " + std::to_string(Bagging::kMaxMembers) + "]");
  }
  if (!(config.epsilon >= 0.0 && config.epsilon <= 1.0)) {
    throw std::invalid_argument("Bagging: epsilon = " + std::to_string(config.epsilon) +
                                ", need [0, 1]");
  }
  if (!(std::isfinite(config.ridge) && config.ridge > 0.0)) {
    throw std::invalid_argument("Bagging: ridge = " + std::to_string(config.ridge) +
                                ", need > 0");
  }
  if (!std::isfinite(config.initial_value)) {
    throw std::invalid_argument("Bagging: initial_value = " + std::to_string(config.initial_value) +
                                ", need a finite value");
  }
  if (feature_dim < 1) {
    throw std::invalid_argument("Bagging: feature_dim = " + std::to_string(feature_dim) +
                                ", need >= 1");
  }
  return config;
}

void check_context(const Context& context, int feature_dim) {
  RECLOOP_CHECK(context.size() > 0, "a context needs at least one candidate");
  RECLOOP_CHECK(context.feature_dim() == feature_dim,
                "bagging: context has feature_dim " + std::to_string(context.feature_dim()) +
                    ", policy expects " + std::to_string(feature_dim));
  RECLOOP_CHECK(static_cast<std::size_t>(context.actions.cols()) == context.size(),
                "context has a different number of feature columns and items");
}

// One ridge step with importance weight w: the weighted least-squares
// statistics A += w x x', b += w r x are those of the unweighted step on
// (sqrt(w) x, sqrt(w) r), so a weight costs one rank-one update, not w.
void weighted_update(DisjointRidge& model, ItemId item, const Eigen::VectorXd& x, double reward,
                     unsigned w) {
  if (w == 1) {
    model.update(item, x, reward);  // bit-identical to an unweighted learner
    return;
  }
  const double s = std::sqrt(static_cast<double>(w));
  model.update(item, s * x, s * reward);
}

}  // namespace

unsigned Bagging::bootstrap_weight(std::uint64_t seed, std::uint64_t update, std::size_t member) {
  // Oza & Russell 2001, fig. 2: each model sees each example k ~ Poisson(1)
  // times, the limit of the binomial count of bootstrap resampling as the data
  // set grows. Drawn by inverting the CDF, sum_{j<=k} e^-1 / j!.
  const double u = uniform01(stream_seed(stream_seed(seed, update), member));
  constexpr unsigned kMaxWeight = 20;
  double probability = std::exp(-1.0);  // P(k = 0)
  double cdf = probability;
  unsigned k = 0;
  while (u >= cdf && k < kMaxWeight) {
    ++k;
    probability /= k;
    cdf += probability;
  }
  return k;
}

Bagging::Config Bagging::Config::from(ConfigSection& section) {
  const Config defaults;
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  Config config;
  config.members = static_cast<int>(section.get_int("members", defaults.members, 1, kMaxMembers,
                                                    "number of bootstrap members B"));
  config.epsilon = section.get_double("epsilon", defaults.epsilon, 0.0, 1.0,
                                      "uniform exploration mixed into the members' votes");
  config.ridge = section.get_double("ridge", defaults.ridge, 0.0, kInfinity,
                                    "prior precision of each member's ridge regressions",
                                    /*min_exclusive=*/true);
  config.initial_value = section.get_double(
      "initial_value", defaults.initial_value, -kInfinity, kInfinity,
      "prediction for an item never updated (optimistic if high)", /*min_exclusive=*/true);
  config.greedify = section.get_bool("greedify", defaults.greedify,
                                     "member 0 always learns with weight 1 (greedy bagging)");
  config.seed = static_cast<std::uint64_t>(
      section.get_int("seed", static_cast<long long>(defaults.seed), 0,
                      std::numeric_limits<long long>::max(), "seed of the bootstrap weights"));
  return config;
}

Bagging::Bagging(const Config& config, int feature_dim)
    : config_(validated(config, feature_dim)),
      members_(static_cast<std::size_t>(config.members),
               DisjointRidge(feature_dim, config.ridge)) {}

unsigned Bagging::weight(std::size_t member) const {
  if (config_.greedify && member == 0) return 1;
  return bootstrap_weight(config_.seed, version_, member);
}

std::vector<double> Bagging::probabilities(const Context& context) const {
  check_context(context, feature_dim());
  const std::size_t k = context.size();
  std::vector<double> votes(k, 0.0);
  std::vector<double> means(k);
  const double member_share = 1.0 / static_cast<double>(members_.size());
  for (const auto& member : members_) {
    member.means(context, means);
    double best = means[0];
    for (double m : means) best = m > best ? m : best;
    std::size_t n_best = 0;
    for (double m : means) n_best += (m == best);
    // Bietti et al. 2021, Bag: each member votes for its greedy action; exact
    // ties split the vote, so a fresh ensemble (all means 0) is uniform. The
    // members predict initial_value + mean; the constant cannot change an argmax.
    const double vote = member_share / static_cast<double>(n_best);
    for (std::size_t a = 0; a < k; ++a) {
      if (means[a] == best) votes[a] += vote;
    }
  }
  const double explore = config_.epsilon / static_cast<double>(k);
  for (double& v : votes) v = (1.0 - config_.epsilon) * v + explore;
  return votes;
}

void Bagging::update(const Interaction& interaction) {
  const Context& context = interaction.context;
  RECLOOP_CHECK(interaction.action < context.size(), "action outside the context");
  RECLOOP_CHECK(context.feature_dim() == feature_dim(),
                "bagging: interaction has feature_dim " + std::to_string(context.feature_dim()) +
                    ", policy expects " + std::to_string(feature_dim()));
  Eigen::VectorXd x(feature_dim());
  joint_features(context, interaction.action, x);
  const ItemId item = context.items[interaction.action];
  for (std::size_t m = 0; m < members_.size(); ++m) {
    const unsigned w = weight(m);
    if (w > 0) weighted_update(members_[m], item, x, interaction.reward - config_.initial_value, w);
  }
  ++version_;
}

void Bagging::predict_rewards(const Context& context, std::span<double> out) const {
  check_context(context, feature_dim());
  RECLOOP_CHECK(out.size() == context.size(),
                "bagging: predict_rewards() needs one output per candidate");
  std::vector<double> means(context.size());
  std::fill(out.begin(), out.end(), 0.0);
  for (const auto& member : members_) {
    member.means(context, means);
    for (std::size_t a = 0; a < out.size(); ++a) out[a] += means[a];
  }
  for (double& v : out) v = config_.initial_value + v / static_cast<double>(members_.size());
}

void Bagging::learn(const Context& context, std::span<const double> targets) {
  check_context(context, feature_dim());
  RECLOOP_CHECK(targets.size() == context.size(),
                "bagging: learn() needs one target per candidate");
  Eigen::VectorXd x(feature_dim());
  for (std::size_t m = 0; m < members_.size(); ++m) {
    const unsigned w = weight(m);
    if (w == 0) continue;
    for (std::size_t a = 0; a < context.size(); ++a) {
      joint_features(context, static_cast<ActionId>(a), x);
      weighted_update(members_[m], context.items[a], x, targets[a] - config_.initial_value, w);
    }
  }
  ++version_;
}

std::unique_ptr<Policy> Bagging::clone() const { return std::make_unique<Bagging>(*this); }

void Bagging::save(ModelWriter& out) const {
  out.put_u64(static_cast<std::uint64_t>(config_.members));
  out.put_f64(config_.epsilon);
  out.put_f64(config_.ridge);
  out.put_f64(config_.initial_value);
  out.put_bool(config_.greedify);
  out.put_u64(config_.seed);
  out.put_u64(version_);
  for (const auto& member : members_) member.save(out);
}

std::unique_ptr<Policy> Bagging::load(ModelReader& in) {
  Config config;
  const std::uint64_t members = in.get_u64("bagging members");
  if (members < 1 || members > static_cast<std::uint64_t>(kMaxMembers)) {
    throw Error("model data: bagging members = " + std::to_string(members) + ", need [1, " +
                std::to_string(kMaxMembers) + "]");
  }
  config.members = static_cast<int>(members);
  config.epsilon = in.get_f64("bagging epsilon");
  config.ridge = in.get_f64("bagging ridge");
  config.initial_value = in.get_f64("bagging initial_value");
  config.greedify = in.get_bool("bagging greedify");
  config.seed = in.get_u64("bagging seed");
  const std::uint64_t version = in.get_u64("bagging model version");
  std::vector<DisjointRidge> models;
  models.reserve(members);
  for (std::uint64_t m = 0; m < members; ++m) {
    models.push_back(DisjointRidge::load(in));
    if (models.back().ridge() != config.ridge || models.back().dim() != models.front().dim()) {
      throw Error("model data: bagging member " + std::to_string(m) +
                  " has another ridge or dimension than the ensemble");
    }
  }
  std::unique_ptr<Bagging> policy;
  try {
    policy = std::make_unique<Bagging>(config, models.front().dim());
  } catch (const std::invalid_argument& e) {
    throw Error(std::string("model data: ") + e.what());
  }
  policy->members_ = std::move(models);
  policy->version_ = version;
  return policy;
}

}  // namespace recloop
