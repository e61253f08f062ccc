// SPDX-License-Identifier: Apache-2.0
#include "cli/command_line.h"

#include "core/error.h"

#include <iostream>

namespace recloop {

namespace po = boost::program_options;

std::optional<po::variables_map> parse_command_line(const std::vector<std::string>& args,
                                                    const po::options_description& shown,
                                                    const po::options_description& all,
                                                    const po::positional_options_description* positional,
                                                    const std::string& error_suffix) {
  po::variables_map values;
  try {
    po::command_line_parser parser(args);
    parser.options(all);
    if (positional != nullptr) parser.positional(*positional);
    po::store(parser.run(), values);
    po::notify(values);
  } catch (const po::error& e) {
    throw ConfigError(std::string(e.what()) + error_suffix);
  }
  if (values.count("help")) {
    std::cout << shown << "\n";
    return std::nullopt;
  }
  return values;
}

}  // namespace recloop
