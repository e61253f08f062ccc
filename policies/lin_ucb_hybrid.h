// SPDX-License-Identifier: Apache-2.0
// LinUCB with hybrid linear models (Li, Chu, Langford & Schapire 2010, "A
// contextual-bandit approach to personalized news article recommendation",
// WWW, sec. 3.2, eq. 6 and Alg. 2). The expected reward of item a is
//   E[r | x, z] = z' beta + x' theta_a,
// with beta shared by all items (learnt from every observation) and theta_a
// per item, where
//   x = joint_features(context, a)                  (d = feature_dim), and
//   z = x                                            (shared_features = joint), or
//   z = vec(user item'), user index fastest          (shared_features = outer,
//       k = user_dim * (feature_dim - user_dim): the paper's choice for its
//       experiments, the outer product of user and article features, sec. 5).
// The policy plays the candidate with the highest upper confidence bound
//   p_a = z' beta_hat + x' theta_hat_a + alpha sqrt(s_a)     (Alg. 2 line 14),
// splitting the mass equally between exact ties; otherwise the pmf is a point
// mass. A new item starts from A_a = ridge I, B_a = 0, b_a = 0 (lines 8-10,
// ridge = 1 there) and its score still uses everything beta has learnt:
// the shared part is what helps a cold-start item.
//
// update() applies Alg. 2 lines 17-23 for the chosen candidate's item and
// ignores interaction.probability (no importance weighting). Per-item state
// (A_a^-1, B_a, b_a: d^2 + d k + d doubles) is allocated on first update.
//
// Cost: probabilities() O(K (d^2 + d k + k^2)); update() O(d^2 k + d k^2 + k^3)
// (the shared k x k system is re-solved after each update).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <Eigen/Dense>

#include "core/config.h"
#include "core/types.h"
#include "policies/policy.h"

namespace recloop {

class ModelReader;

class LinUcbHybrid final : public Policy {
 public:
  enum class SharedFeatures { kJoint, kOuter };

  struct Config {
    double alpha = 1.0;  // width of the confidence bonus, finite and >= 0 (alpha of Alg. 2)
    double ridge = 1.0;  // prior precision of A_0 and every A_a, finite and > 0 (1 in Alg. 2)
    SharedFeatures shared_features = SharedFeatures::kJoint;  // what z is (see above)
    int user_dim = 0;  // outer only: length of context.user, in [1, feature_dim - 1]; else 0
    bool operator==(const Config&) const = default;
    // Reads alpha, ridge, shared_features and user_dim (absent keys keep the
    // defaults above). Throws ConfigError naming the key, its value and range,
    // or when user_dim is 0 with outer features or non-zero with joint ones.
    static Config from(ConfigSection& section);
  };
  static constexpr std::string_view kName = "lin_ucb_hybrid";

  // One item's state, as Alg. 2 names it.
  struct Arm {
    Eigen::MatrixXd A_inv;  // A_a^-1, d x d
    Eigen::MatrixXd B;      // B_a, d x k
    Eigen::VectorXd b;      // b_a, d
    std::uint64_t updates = 0;
  };

  // Throws std::invalid_argument, with the value, unless alpha >= 0 and
  // ridge > 0 are finite, feature_dim >= 1, and user_dim is in
  // [1, feature_dim - 1] for outer features and 0 for joint ones.
  LinUcbHybrid(const Config& config, int feature_dim);

  // Requires context.feature_dim() == feature_dim(), and for outer features
  // context.user.size() == user_dim (checked).
  std::vector<double> probabilities(const Context& context) const override;
  void update(const Interaction& interaction) override;
  std::string_view name() const override { return kName; }
  std::uint64_t model_version() const override { return version_; }
  std::unique_ptr<Policy> clone() const override;
  // Writes the config, the model version, A_0, b_0 and every item's A_a^-1,
  // B_a, b_a bit for bit (items in increasing id order).
  void save(ModelWriter& out) const override;
  // Reads what save() wrote; throws recloop::Error on truncated or inconsistent data.
  static std::unique_ptr<Policy> load(ModelReader& in);

  // The upper confidence bound p_a of every candidate, in candidate order.
  std::vector<double> scores(const Context& context) const;

  const Config& config() const { return config_; }
  int feature_dim() const { return dim_; }
  int shared_dim() const { return shared_dim_; }
  std::size_t arm_count() const { return arms_.size(); }
  // nullptr for an item never updated.
  const Arm* arm(ItemId item) const;
  const Eigen::MatrixXd& A0() const { return A0_; }
  const Eigen::VectorXd& b0() const { return b0_; }
  const Eigen::VectorXd& beta_hat() const { return beta_hat_; }

 private:
  void check_context(const Context& context) const;
  // z for candidate a, given its x.
  void shared_features(const Context& context, const Eigen::VectorXd& x, Eigen::VectorXd& z) const;
  // A_0^-1 and beta_hat = A_0^-1 b_0 (Alg. 2 line 5), from A_0 and b_0.
  void refresh_shared();

  Config config_;
  int dim_;
  int shared_dim_;
  Eigen::MatrixXd A0_;        // k x k
  Eigen::VectorXd b0_;        // k
  Eigen::MatrixXd A0_inv_;    // cached A_0^-1
  Eigen::VectorXd beta_hat_;  // cached A_0^-1 b_0
  std::unordered_map<ItemId, Arm> arms_;
  std::uint64_t version_ = 0;
};

}  // namespace recloop
