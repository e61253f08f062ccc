// SPDX-License-Identifier: Apache-2.0
#include "policies/lin_ucb.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/check.h"
#include "core/error.h"
#include "core/model_io.h"
#include "policies/exploration.h"

namespace recloop {
namespace {

const LinUcb::Config& validated(const LinUcb::Config& config, int feature_dim) {
  if (!(std::isfinite(config.alpha) && config.alpha >= 0.0)) {
    throw std::invalid_argument("LinUcb: alpha = " + std::to_string(config.alpha) +
                                ", need >= 0");
  }
  if (!(std::isfinite(config.ridge) && config.ridge > 0.0)) {
    throw std::invalid_argument("LinUcb: ridge = " + std::to_string(config.ridge) +
                                ", need > 0");
  }
  if (feature_dim < 1) {
    throw std::invalid_argument("LinUcb: feature_dim = " + std::to_string(feature_dim) +
                                ", need >= 1");
  }
  return config;
}

}  // namespace

LinUcb::Config LinUcb::Config::from(ConfigSection& section) {
  const Config defaults;
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  Config config;
  config.alpha = section.get_double("alpha", defaults.alpha, 0.0, kInfinity,
                                    "width of the confidence bonus");
  config.ridge = section.get_double("ridge", defaults.ridge, 0.0, kInfinity,
                                    "prior precision of each item's ridge regression",
                                    /*min_exclusive=*/true);
  return config;
}

LinUcb::LinUcb(const Config& config, int feature_dim)
    : config_(validated(config, feature_dim)), model_(feature_dim, config.ridge) {
  // Widths from float copies of the inverses: choose() reads K of them and
  // waits on the bytes (ridge.h); the rounding is bounded in quadratic_form.h.
  model_.use_single_precision_widths();
}

std::vector<double> LinUcb::scores(const Context& context) const {
  RECLOOP_CHECK(context.size() > 0, "a context needs at least one candidate");
  RECLOOP_CHECK(context.feature_dim() == feature_dim(),
                "lin_ucb: context has feature_dim " + std::to_string(context.feature_dim()) +
                    ", policy expects " + std::to_string(feature_dim()));
  RECLOOP_CHECK(static_cast<std::size_t>(context.actions.cols()) == context.size(),
                "context has a different number of feature columns and items");
  std::vector<DisjointRidge::Prediction> predictions(context.size());
  model_.predict(context, predictions);
  std::vector<double> ucb(context.size());
  for (std::size_t a = 0; a < context.size(); ++a) {
    // Li et al. 2010, Alg. 1 lines 8-9: theta_a = A_a^-1 b_a (kept up to date
    // by the model), p_{t,a} = theta_a' x + alpha sqrt(x' A_a^-1 x). An item
    // never seen starts from A_a = ridge I, b_a = 0 (lines 4-6, where ridge = 1).
    ucb[a] = predictions[a].mean + config_.alpha * predictions[a].width;
  }
  return ucb;
}

std::vector<double> LinUcb::probabilities(const Context& context) const {
  // Alg. 1 line 11: a_t = argmax p_{t,a}. The paper breaks ties arbitrarily;
  // we split the mass equally, so the pmf stays a function of the model alone.
  return epsilon_greedy_pmf(scores(context), 0.0);
}

void LinUcb::update(const Interaction& interaction) {
  const Context& context = interaction.context;
  RECLOOP_CHECK(interaction.action < context.size(), "action outside the context");
  RECLOOP_CHECK(context.feature_dim() == feature_dim(),
                "lin_ucb: interaction has feature_dim " + std::to_string(context.feature_dim()) +
                    ", policy expects " + std::to_string(feature_dim()));
  // Alg. 1 lines 12-13: A_a += x x', b_a += r x for the chosen item only.
  model_.update(context, interaction.action, interaction.reward);
  ++version_;
}

std::unique_ptr<Policy> LinUcb::clone() const { return std::make_unique<LinUcb>(*this); }

void LinUcb::save(ModelWriter& out) const {
  out.put_f64(config_.alpha);
  out.put_f64(config_.ridge);
  out.put_u64(version_);
  model_.save(out);
}

std::unique_ptr<Policy> LinUcb::load(ModelReader& in) {
  Config config;
  config.alpha = in.get_f64("lin_ucb alpha");
  config.ridge = in.get_f64("lin_ucb ridge");
  const std::uint64_t version = in.get_u64("lin_ucb model version");
  DisjointRidge model = DisjointRidge::load(in, config.ridge, "lin_ucb");
  std::unique_ptr<LinUcb> policy;
  try {
    policy = std::make_unique<LinUcb>(config, model.dim());
  } catch (const std::invalid_argument& e) {
    throw Error(std::string("model data: ") + e.what());
  }
  policy->model_ = std::move(model);
  policy->model_.use_single_precision_widths();  // rebuilt from the loaded double state
  policy->version_ = version;
  return policy;
}

void LinUcb::predict_rewards(const Context& context, std::span<double> out) const {
  RECLOOP_CHECK(out.size() == context.size() && context.feature_dim() == feature_dim(),
                "lin_ucb: predict_rewards() needs one output per candidate and feature_dim " +
                    std::to_string(feature_dim()));
  model_.means(context, out);
}

void LinUcb::learn(const Context& context, std::span<const double> targets) {
  RECLOOP_CHECK(targets.size() == context.size(), "lin_ucb: learn() needs one target per candidate");
  RECLOOP_CHECK(context.feature_dim() == feature_dim(),
                "lin_ucb: context has feature_dim " + std::to_string(context.feature_dim()) +
                    ", policy expects " + std::to_string(feature_dim()));
  // Alg. 1 lines 12-13 with the target in place of the observed reward.
  model_.update_all(context, targets);
  ++version_;
}

}  // namespace recloop
