// SPDX-License-Identifier: Apache-2.0
#include "policies/square_cb.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/check.h"
#include "core/error.h"
#include "core/model_io.h"

namespace recloop {
namespace {

const SquareCb::Config& validated(const SquareCb::Config& config, int feature_dim) {
  if (!(std::isfinite(config.gamma_scale) && config.gamma_scale >= 0.0)) {
    throw std::invalid_argument("SquareCb: gamma_scale = " + std::to_string(config.gamma_scale) +
                                ", need >= 0");
  }
  if (!(std::isfinite(config.ridge) && config.ridge > 0.0)) {
    throw std::invalid_argument("SquareCb: ridge = " + std::to_string(config.ridge) +
                                ", need > 0");
  }
  if (feature_dim < 1) {
    throw std::invalid_argument("SquareCb: feature_dim = " + std::to_string(feature_dim) +
                                ", need >= 1");
  }
  return config;
}

void check_context(const Context& context, int feature_dim) {
  RECLOOP_CHECK(context.size() > 0, "a context needs at least one candidate");
  RECLOOP_CHECK(context.feature_dim() == feature_dim,
                "square_cb: context has feature_dim " + std::to_string(context.feature_dim()) +
                    ", policy expects " + std::to_string(feature_dim));
  RECLOOP_CHECK(static_cast<std::size_t>(context.actions.cols()) == context.size(),
                "context has a different number of feature columns and items");
}

}  // namespace

std::vector<double> inverse_gap_pmf(std::span<const double> predicted_rewards, double gamma) {
  if (predicted_rewards.empty()) throw std::invalid_argument("inverse_gap_pmf: no predictions");
  if (!(std::isfinite(gamma) && gamma >= 0.0)) {
    throw std::invalid_argument("inverse_gap_pmf: gamma = " + std::to_string(gamma) +
                                ", need >= 0");
  }
  double best = predicted_rewards[0];
  for (double y : predicted_rewards) {
    if (!std::isfinite(y)) {
      throw std::invalid_argument("inverse_gap_pmf: non-finite prediction " + std::to_string(y));
    }
    if (y > best) best = y;
  }
  const double k = static_cast<double>(predicted_rewards.size());
  std::vector<double> pmf(predicted_rewards.size());
  double others = 0.0;
  std::size_t n_best = 0;
  for (std::size_t a = 0; a < pmf.size(); ++a) {
    if (predicted_rewards[a] == best) {
      ++n_best;
      continue;
    }
    // Foster & Rakhlin 2020, Alg. 1, inverse gap weighting:
    // p_t(a) = 1 / (mu + gamma (yhat_a - yhat_b)) with losses, mu = K; for
    // rewards the gap is y_best - y_a > 0. A gap overflowing to infinity
    // gives exactly 0.
    pmf[a] = 1.0 / (k + gamma * (best - predicted_rewards[a]));
    others += pmf[a];
  }
  // Alg. 1, the greedy action: p_t(b) = 1 - sum_{a != b} p_t(a), shared by exact ties.
  // others <= (K - n_best) / K, so each best candidate gets at least 1 / K.
  const double remainder = (1.0 - others) / static_cast<double>(n_best);
  for (std::size_t a = 0; a < pmf.size(); ++a) {
    if (predicted_rewards[a] == best) pmf[a] = remainder;
  }
  return pmf;
}

SquareCb::Config SquareCb::Config::from(ConfigSection& section) {
  const Config defaults;
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  Config config;
  config.gamma_scale = section.get_double(
      "gamma_scale", defaults.gamma_scale, 0.0, kInfinity,
      "learning rate gamma_t = gamma_scale sqrt(K t): larger exploits more, 0 is uniform");
  config.ridge = section.get_double("ridge", defaults.ridge, 0.0, kInfinity,
                                    "prior precision of each item's ridge regression",
                                    /*min_exclusive=*/true);
  return config;
}

SquareCb::SquareCb(const Config& config, int feature_dim)
    : config_(validated(config, feature_dim)), model_(feature_dim, config.ridge) {}

double SquareCb::gamma(std::size_t n_candidates) const {
  // Theorem 1's gamma, of order sqrt(K T / Reg_Sq(T)), made anytime by t in place of T.
  return config_.gamma_scale *
         std::sqrt(static_cast<double>(n_candidates) * static_cast<double>(version_));
}

std::vector<double> SquareCb::probabilities(const Context& context) const {
  check_context(context, feature_dim());
  // Alg. 1: the oracle's prediction for every action, then inverse gap weighting.
  std::vector<double> predicted(context.size());
  model_.means(context, predicted);
  return inverse_gap_pmf(predicted, gamma(context.size()));
}

void SquareCb::update(const Interaction& interaction) {
  const Context& context = interaction.context;
  RECLOOP_CHECK(interaction.action < context.size(), "action outside the context");
  RECLOOP_CHECK(context.feature_dim() == feature_dim(),
                "square_cb: interaction has feature_dim " + std::to_string(context.feature_dim()) +
                    ", policy expects " + std::to_string(feature_dim()));
  // Alg. 1, last step: the oracle is updated with the observed (x_t, a_t, r_t).
  model_.update(context, interaction.action, interaction.reward);
  ++version_;
}

void SquareCb::predict_rewards(const Context& context, std::span<double> out) const {
  check_context(context, feature_dim());
  RECLOOP_CHECK(out.size() == context.size(),
                "square_cb: predict_rewards() needs one output per candidate");
  model_.means(context, out);
}

void SquareCb::learn(const Context& context, std::span<const double> targets) {
  check_context(context, feature_dim());
  RECLOOP_CHECK(targets.size() == context.size(),
                "square_cb: learn() needs one target per candidate");
  model_.update_all(context, targets);
  ++version_;
}

std::unique_ptr<Policy> SquareCb::clone() const { return std::make_unique<SquareCb>(*this); }

void SquareCb::save(ModelWriter& out) const {
  out.put_f64(config_.gamma_scale);
  out.put_f64(config_.ridge);
  out.put_u64(version_);
  model_.save(out);
}

std::unique_ptr<Policy> SquareCb::load(ModelReader& in) {
  Config config;
  config.gamma_scale = in.get_f64("square_cb gamma_scale");
  config.ridge = in.get_f64("square_cb ridge");
  const std::uint64_t version = in.get_u64("square_cb model version");
  DisjointRidge model = DisjointRidge::load(in, config.ridge, "square_cb");
  std::unique_ptr<SquareCb> policy;
  try {
    policy = std::make_unique<SquareCb>(config, model.dim());
  } catch (const std::invalid_argument& e) {
    throw Error(std::string("model data: ") + e.what());
  }
  policy->model_ = std::move(model);
  policy->version_ = version;
  return policy;
}

}  // namespace recloop
