// SPDX-License-Identifier: Apache-2.0
#include "simulator/registry.h"

#include "core/error.h"
#include "simulator/linear_click_world.h"
#include "simulator/population_world.h"
#include "simulator/session_world.h"

namespace recloop {

std::vector<std::string> world_names() { return {"linear_click", "population"}; }

std::unique_ptr<Simulator> make_simulator(ConfigSection& section) {
  const auto world = section.get_choice("world", "linear_click", world_names(),
                                        "which simulated world to run");
  std::unique_ptr<Simulator> simulator;
  if (world == "linear_click") {
    simulator = std::make_unique<LinearClickWorld>(LinearClickWorld::Config::from(section));
  } else if (world == "population") {
    simulator = std::make_unique<PopulationWorld>(PopulationWorld::Config::from(section));
  }
  section.reject_unknown();
  return simulator;
}

std::vector<std::string> session_world_names() { return {"session"}; }

std::unique_ptr<SessionSimulator> make_session_simulator(ConfigSection& section) {
  const auto world = section.get_choice("world", "session", session_world_names(),
                                        "which simulated session world to run");
  std::unique_ptr<SessionSimulator> simulator;
  if (world == "session") {
    simulator = std::make_unique<SessionWorld>(SessionWorld::Config::from(section));
  }
  section.reject_unknown();
  return simulator;
}

}  // namespace recloop
