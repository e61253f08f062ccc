// SPDX-License-Identifier: Apache-2.0
#include "policies/registry.h"

#include "core/error.h"
#include "policies/bagging.h"
#include "policies/bernoulli_thompson.h"
#include "policies/epsilon_greedy.h"
#include "policies/gaussian_thompson.h"
#include "policies/lin_ucb.h"
#include "policies/lin_ucb_hybrid.h"
#include "policies/linear_softmax.h"
#include "policies/linear_thompson.h"
#include "policies/logistic_thompson.h"
#include "policies/multi_armed_epsilon_greedy.h"
#include "policies/popularity_policy.h"
#include "policies/probability_floor.h"
#include "policies/rl/rl_policy.h"
#include "policies/softmax.h"
#include "policies/square_cb.h"
#include "policies/ucb1.h"
#include "policies/uniform_random.h"

namespace recloop {

std::vector<std::string> policy_names() {
  return {std::string(UniformRandom::kName), std::string(EpsilonGreedy::kName),
          std::string(LinUcb::kName),
          std::string(MultiArmedEpsilonGreedy::kName), std::string(Softmax::kName),
          std::string(Ucb1::kName), std::string(LinearSoftmax::kName),
          std::string(SquareCb::kName), std::string(Bagging::kName),
          std::string(BernoulliThompson::kName), std::string(GaussianThompson::kName),
          std::string(LinearThompson::kName), std::string(LogisticThompson::kName),
          std::string(LinUcbHybrid::kName), std::string(PopularityPolicy::kName)};
}

namespace {

// Every policy without its probability floor; make_policy() adds the floor.
std::unique_ptr<Policy> make_unfloored_policy(const std::string& name, ConfigSection& section,
                                              int feature_dim) {
  if (name == UniformRandom::kName) {
    const auto config = UniformRandom::Config::from(section);
    section.reject_unknown();
    return std::make_unique<UniformRandom>(config);
  }
  if (name == EpsilonGreedy::kName) {
    const auto config = EpsilonGreedy::Config::from(section);
    section.reject_unknown();
    return std::make_unique<EpsilonGreedy>(config, feature_dim);
  }
  if (name == LinUcb::kName) {
    const auto config = LinUcb::Config::from(section);
    section.reject_unknown();
    return std::make_unique<LinUcb>(config, feature_dim);
  }
  if (name == MultiArmedEpsilonGreedy::kName) {
    const auto config = MultiArmedEpsilonGreedy::Config::from(section);
    section.reject_unknown();
    return std::make_unique<MultiArmedEpsilonGreedy>(config);
  }
  if (name == Softmax::kName) {
    const auto config = Softmax::Config::from(section);
    section.reject_unknown();
    return std::make_unique<Softmax>(config);
  }
  if (name == Ucb1::kName) {
    const auto config = Ucb1::Config::from(section);
    section.reject_unknown();
    return std::make_unique<Ucb1>(config);
  }
  if (name == LinearSoftmax::kName) {
    const auto config = LinearSoftmax::Config::from(section);
    section.reject_unknown();
    return std::make_unique<LinearSoftmax>(config, feature_dim);
  }
  if (name == SquareCb::kName) {
    const auto config = SquareCb::Config::from(section);
    section.reject_unknown();
    return std::make_unique<SquareCb>(config, feature_dim);
  }
  if (name == Bagging::kName) {
    const auto config = Bagging::Config::from(section);
    section.reject_unknown();
    return std::make_unique<Bagging>(config, feature_dim);
  }
  if (name == BernoulliThompson::kName) {
    const auto config = BernoulliThompson::Config::from(section);
    section.reject_unknown();
    return std::make_unique<BernoulliThompson>(config);
  }
  if (name == GaussianThompson::kName) {
    const auto config = GaussianThompson::Config::from(section);
    section.reject_unknown();
    return std::make_unique<GaussianThompson>(config);
  }
  if (name == LinearThompson::kName) {
    const auto config = LinearThompson::Config::from(section);
    section.reject_unknown();
    return std::make_unique<LinearThompson>(config, feature_dim);
  }
  if (name == LogisticThompson::kName) {
    const auto config = LogisticThompson::Config::from(section);
    section.reject_unknown();
    return std::make_unique<LogisticThompson>(config, feature_dim);
  }
  if (name == LinUcbHybrid::kName) {
    const auto config = LinUcbHybrid::Config::from(section);
    section.reject_unknown();
    return std::make_unique<LinUcbHybrid>(config, feature_dim);
  }
  if (name == PopularityPolicy::kName) {
    const auto config = PopularityPolicy::Config::from(section);
    section.reject_unknown();
    return std::make_unique<PopularityPolicy>(config);
  }
  if (is_trained_policy_name(name)) {
    throw ConfigError(section.source() + ": policy '" + name +
                      "' is trained offline from logged sessions (policies/rl/) and has no "
                      "untrained form; serve its model file: recloop serve --model FILE");
  }
  std::string known;
  for (const auto& n : policy_names()) known += (known.empty() ? "" : ", ") + n;
  throw ConfigError(section.source() + ": unknown policy '" + name + "' (known: " + known + ")");
}

}  // namespace

std::unique_ptr<Policy> make_policy(const std::string& name, ConfigSection& section,
                                    int feature_dim) {
  // Read before the policy's own keys, so that its reject_unknown() accepts
  // it; only when set, so that a section documents (and a scenario file must
  // spell out) the policy's own keys alone.
  const double floor =
      section.has(std::string(ProbabilityFloor::kName)) ? ProbabilityFloor::read_floor(section) : 0.0;
  auto policy = make_unfloored_policy(name, section, feature_dim);
  if (floor == 0.0) return policy;
  return std::make_unique<ProbabilityFloor>(std::move(policy), floor);
}

std::unique_ptr<Policy> load_policy(const std::string& name, ModelReader& in) {
  if (name == ProbabilityFloor::kName) return ProbabilityFloor::load(in);
  if (name == UniformRandom::kName) return UniformRandom::load(in);
  if (name == EpsilonGreedy::kName) return EpsilonGreedy::load(in);
  if (name == LinUcb::kName) return LinUcb::load(in);
  if (name == MultiArmedEpsilonGreedy::kName) return MultiArmedEpsilonGreedy::load(in);
  if (name == Softmax::kName) return Softmax::load(in);
  if (name == Ucb1::kName) return Ucb1::load(in);
  if (name == LinearSoftmax::kName) return LinearSoftmax::load(in);
  if (name == SquareCb::kName) return SquareCb::load(in);
  if (name == Bagging::kName) return Bagging::load(in);
  if (name == BernoulliThompson::kName) return BernoulliThompson::load(in);
  if (name == GaussianThompson::kName) return GaussianThompson::load(in);
  if (name == LinearThompson::kName) return LinearThompson::load(in);
  if (name == LogisticThompson::kName) return LogisticThompson::load(in);
  if (name == LinUcbHybrid::kName) return LinUcbHybrid::load(in);
  if (name == PopularityPolicy::kName) return PopularityPolicy::load(in);
  if (auto trained = load_trained_policy(name, in)) return trained;
  std::string known;
  for (const auto& n : policy_names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("model data names an unknown policy '" + name + "' (known: " + known + ")");
}

std::string saved_name(const Policy& policy) {
  if (dynamic_cast<const ProbabilityFloor*>(&policy) != nullptr) {
    return std::string(ProbabilityFloor::kName);
  }
  return std::string(policy.name());
}

std::string policy_reference(const std::string& name) {
  if (name == UniformRandom::kName) {
    return "uniform exploration, the baseline logging policy of off-policy evaluation "
           "(Li, Chu, Langford & Wang 2011, WSDM, sec. 3)";
  }
  if (name == EpsilonGreedy::kName) {
    return "epsilon-greedy over per-item ridge regressions (Sutton & Barto 2018, "
           "Reinforcement Learning, sec. 2.2; Li et al. 2010, WWW, sec. 3.1)";
  }
  if (name == LinUcb::kName) {
    return "LinUCB with disjoint linear models (Li, Chu, Langford & Schapire 2010, "
           "\"A contextual-bandit approach to personalized news article recommendation\", "
           "WWW, Alg. 1)";
  }
  if (name == MultiArmedEpsilonGreedy::kName) {
    return "epsilon-greedy on per-item sample means (Sutton & Barto 2018, Reinforcement "
           "Learning, sec. 2.2-2.4, eq. 2.1; optimistic initial values sec. 2.6)";
  }
  if (name == Softmax::kName) {
    return "softmax (Boltzmann) exploration on per-item sample means (Sutton & Barto 2018, "
           "Reinforcement Learning, sec. 2.8, eq. 2.11)";
  }
  if (name == Ucb1::kName) {
    return "UCB1 (Auer, Cesa-Bianchi & Fischer 2002, \"Finite-time analysis of the "
           "multiarmed bandit problem\", Machine Learning 47, fig. 1)";
  }
  if (name == LinearSoftmax::kName) {
    return "softmax exploration over per-item ridge regressions (Sutton & Barto 2018, "
           "sec. 2.8, eq. 2.11; Li et al. 2010, WWW, sec. 3.1)";
  }
  if (name == SquareCb::kName) {
    return "SquareCB, inverse gap weighting over a ridge regression oracle (Foster & Rakhlin "
           "2020, \"Beyond UCB\", ICML, Alg. 1), gamma_t = gamma_scale sqrt(K t)";
  }
  if (name == Bagging::kName) {
    return "online bootstrap ensemble of ridge regressions with Poisson(1) weights (Oza & "
           "Russell 2001, AISTATS; Bietti, Agarwal & Langford 2021, JMLR, \"A contextual "
           "bandit bake-off\", Bag)";
  }
  if (name == BernoulliThompson::kName) {
    return "Thompson sampling with Beta priors, Bernoulli trials for rewards in [0, 1] "
           "(Agrawal & Goyal 2012, \"Analysis of Thompson sampling for the multi-armed bandit "
           "problem\", COLT, Alg. 1-2); pmf by Monte Carlo over `draws` posterior draws";
  }
  if (name == GaussianThompson::kName) {
    return "Thompson sampling with Gaussian posteriors, known variance or Normal-Gamma "
           "(Agrawal & Goyal 2013, \"Further optimal regret bounds for Thompson sampling\", "
           "AISTATS, Alg. 2; Murphy 2007, \"Conjugate Bayesian analysis of the Gaussian "
           "distribution\", sec. 2-3); pmf by Monte Carlo";
  }
  if (name == LinearThompson::kName) {
    return "linear Thompson sampling on Bayesian ridge regression, per item or shared, "
           "Cholesky-factor draws (Agrawal & Goyal 2013, \"Thompson sampling for contextual "
           "bandits with linear payoffs\", ICML, Alg. 1); pmf by Monte Carlo";
  }
  if (name == LogisticThompson::kName) {
    return "Thompson sampling for clicks with a diagonal Laplace approximation of logistic "
           "regression (Chapelle & Li 2011, \"An empirical evaluation of Thompson sampling\", "
           "NIPS, Alg. 3); pmf by Monte Carlo";
  }
  if (name == LinUcbHybrid::kName) {
    return "LinUCB with hybrid linear models, shared and per-item (Li, Chu, Langford & "
           "Schapire 2010, WWW, eq. 6 and Alg. 2)";
  }
  if (name == PopularityPolicy::kName) {
    return "popularity-biased logging, P(a) proportional to popularity^beta, for selection-bias "
           "experiments (Steck 2011, \"Item popularity and recommendation accuracy\", RecSys)";
  }
  return trained_policy_reference(name);
}

}  // namespace recloop
