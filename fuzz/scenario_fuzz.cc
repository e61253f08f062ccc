// SPDX-License-Identifier: Apache-2.0
// Fuzzes the scenario reader (cli/scenario_config.h: INI text), the --set
// override parser (Scenario::apply_override) and the typed getters of
// core/config.h that convert the values. Documented failure: ConfigError.
// Any other exception, crash or sanitizer report is a finding.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/scenario_config.h"
#include "core/config.h"
#include "core/error.h"

namespace {

// Reads every key of every section with each getter, as the algorithms would.
void read_all(recloop::Scenario& scenario) {
  using recloop::ConfigError;
  std::vector<std::string> names;
  for (const auto& [name, section] : scenario.sections()) names.push_back(name);
  for (const std::string& name : names) {
    recloop::ConfigSection& section = scenario.section(name);
    std::vector<std::string> keys;
    for (const auto& [key, value] : section.values()) keys.push_back(key);
    for (const std::string& key : keys) {
      try { (void)section.get_double(key, 0.5, 0.0, 1.0, "a probability", true); } catch (const ConfigError&) {}
      try { (void)section.get_int(key, 1, -5, 1000000, "a count"); } catch (const ConfigError&) {}
      try { (void)section.get_bool(key, false, "a switch"); } catch (const ConfigError&) {}
      try { (void)section.get_choice(key, "a", {"a", "b"}, "a choice"); } catch (const ConfigError&) {}
      try { (void)section.get_list(key, "x, y", "a list"); } catch (const ConfigError&) {}
      try { (void)section.get_string(key, "", "a name"); } catch (const ConfigError&) {}
      (void)section.where(key);
    }
    try { section.reject_unknown(); } catch (const ConfigError&) {}
  }
}

struct ScratchFile {
  std::string path = "/tmp/recloop-fuzz-scenario-" + std::to_string(::getpid()) + ".ini";
  ~ScratchFile() { std::remove(path.c_str()); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace recloop;
  const std::string text(reinterpret_cast<const char*>(data), size);

  // The whole input as a scenario file (load_scenario reads a path), removed at exit.
  static const ScratchFile file;
  {
    std::ofstream out(file.path, std::ios::binary | std::ios::trunc);
    out << text;
  }
  try {
    Scenario scenario = load_scenario(file.path);
    read_all(scenario);
  } catch (const ConfigError&) {
  }

  // Each line as a --set override.
  Scenario overrides("--set");
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    try {
      overrides.apply_override(line);
    } catch (const ConfigError&) {
    }
  }
  read_all(overrides);
  return 0;
}
