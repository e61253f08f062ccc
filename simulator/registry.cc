// SPDX-License-Identifier: Apache-2.0
#include "simulator/registry.h"

#include "core/error.h"
#include "simulator/linear_click_world.h"

namespace recloop {

std::vector<std::string> world_names() { return {"linear_click"}; }

std::unique_ptr<Simulator> make_simulator(ConfigSection& section) {
  const auto world = section.get_choice("world", "linear_click", world_names(),
                                        "which simulated world to run");
  std::unique_ptr<Simulator> simulator;
  if (world == "linear_click") {
    simulator = std::make_unique<LinearClickWorld>(LinearClickWorld::Config::from(section));
  }
  section.reject_unknown();
  return simulator;
}

}  // namespace recloop
