// SPDX-License-Identifier: Apache-2.0
// The simulator factory: one explicit list of worlds.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "simulator/session_simulator.h"
#include "simulator/simulator.h"

namespace recloop {

std::vector<std::string> world_names();

// Builds the world named by the section's `world` key (default "linear_click")
// from the rest of the section, then rejects unknown keys. Throws ConfigError.
std::unique_ptr<Simulator> make_simulator(ConfigSection& section);

// Worlds of several requests per user (session_simulator.h): "session"
// (session_world.h, the population world's users and items with session
// dynamics). They are not single-step worlds: make_simulator() does not know them.
std::vector<std::string> session_world_names();

// Builds the session world named by the section's `world` key (default
// "session") from the rest of the section, then rejects unknown keys.
// Throws ConfigError.
std::unique_ptr<SessionSimulator> make_session_simulator(ConfigSection& section);

}  // namespace recloop
