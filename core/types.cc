// SPDX-License-Identifier: Apache-2.0
#include "core/types.h"

#include <cassert>

namespace recloop {

void joint_features(const Context& context, ActionId action, Eigen::Ref<Eigen::VectorXd> out) {
  const auto user_dim = context.user.size();
  assert(out.size() == context.feature_dim());
  assert(action < context.actions.cols());
  out.head(user_dim) = context.user;
  out.tail(context.actions.rows()) = context.actions.col(action);
}

}  // namespace recloop
