// SPDX-License-Identifier: Apache-2.0
#include "cli/scenario_config.h"

#include <filesystem>
#include <fstream>

#include <boost/property_tree/ini_parser.hpp>
#include <boost/property_tree/ptree.hpp>

#include "core/error.h"

namespace recloop {

Scenario load_scenario(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) {
    throw ConfigError(path + ": scenario file not found");
  }
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot open scenario file");
  boost::property_tree::ptree tree;
  try {
    boost::property_tree::ini_parser::read_ini(in, tree);
  } catch (const boost::property_tree::ini_parser_error& e) {
    throw ConfigError(path + ":" + std::to_string(e.line()) + ": " + e.message());
  }
  Scenario scenario(path);
  for (const auto& [section_name, section_tree] : tree) {
    // A key before the first [section] has a value and no children; an empty
    // section has neither.
    if (section_tree.empty() && !section_tree.data().empty()) {
      throw ConfigError(path + ": key '" + section_name + "' outside any [section]");
    }
    ConfigSection& section = scenario.section(section_name);
    for (const auto& [key, value] : section_tree) {
      if (!value.empty()) throw ConfigError(path + ": [" + section_name + "] nested key '" + key + "'");
      section.set(key, value.data());
    }
  }
  return scenario;
}

Scenario default_scenario() { return Scenario("<built-in defaults>"); }

}  // namespace recloop
