// SPDX-License-Identifier: Apache-2.0
// The option parsing every verb shares: store and notify the arguments, turn a
// boost::program_options error into a ConfigError, and answer --help.
#pragma once

#include <boost/program_options.hpp>

#include <optional>
#include <string>
#include <vector>

namespace recloop {

// Parses `args` (the words after the verb) against `all`. A malformed command
// line throws ConfigError carrying boost's message followed by `error_suffix`
// (e.g. " (see recloop serve --help)"). If `all` defines "help" and it was
// given, prints `shown` (the options a user may type; `all` may add hidden
// positional ones) and a newline to std::cout and returns nullopt: the verb
// then exits 0. `positional` may be null (no positional description at all)
// or empty (so stray words are errors).
std::optional<boost::program_options::variables_map> parse_command_line(
    const std::vector<std::string>& args, const boost::program_options::options_description& shown,
    const boost::program_options::options_description& all,
    const boost::program_options::positional_options_description* positional = nullptr,
    const std::string& error_suffix = "");

}  // namespace recloop
