// SPDX-License-Identifier: Apache-2.0
#include "evaluation/slate_registry.h"

#include "core/error.h"
#include "evaluation/slate_ips.h"

namespace recloop {

std::vector<std::string> slate_estimator_names() {
  return {"slate_ips", "slate_snips", "independent_ips", "independent_snips", "rips", "snrips"};
}

bool slate_estimator_needs_conditionals(const std::string& name) {
  return name != "independent_ips" && name != "independent_snips";
}

std::unique_ptr<SlateEstimator> make_slate_estimator(const std::string& name) {
  // One visible list; keep it in step with slate_estimator_names().
  using Kind = SlateIpsEstimator::Kind;
  auto make = [](Kind kind, bool self_normalized) {
    return std::make_unique<SlateIpsEstimator>(SlateIpsEstimator::Config{kind, self_normalized});
  };
  if (name == "slate_ips") return make(Kind::standard, false);
  if (name == "slate_snips") return make(Kind::standard, true);
  if (name == "independent_ips") return make(Kind::independent, false);
  if (name == "independent_snips") return make(Kind::independent, true);
  if (name == "rips") return make(Kind::reward_interaction, false);
  if (name == "snrips") return make(Kind::reward_interaction, true);
  std::string known;
  for (const auto& n : slate_estimator_names()) known += (known.empty() ? "" : ", ") + n;
  throw ConfigError("unknown slate estimator '" + name + "' (known: " + known + ")");
}

}  // namespace recloop
