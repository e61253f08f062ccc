// SPDX-License-Identifier: Apache-2.0
// `recloop keygen --out NAME`: writes a CurveZMQ key pair to NAME.key (mode
// 0600) and its public key to NAME.pub (formats: feedback/curve.h), and prints
// one authorized-keys line for it on stdout, so that
//   recloop keygen --out app >> collector.authorized
// both makes a client's keys and admits it.
#include "cli/command_line.h"
#include "cli/commands.h"
#include "core/error.h"
#include "feedback/curve.h"

#include <boost/program_options.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace recloop {

int run_keygen(const std::vector<std::string>& args) {
  namespace po = boost::program_options;
  std::string stem;
  bool force = false;
  po::options_description described(
      "recloop keygen: make a CurveZMQ key pair for a server or a client\n\n"
      "usage: recloop keygen --out NAME [--force]\n\n"
      "Writes NAME.key (public and secret key, mode 0600: keep it on its host) and\n"
      "NAME.pub (the public key: give it to the peers). Prints the line to add to a\n"
      "server's --curve-authorized file to admit this key.\n\n"
      "options");
  described.add_options()
      ("help,h", "print this help and exit")
      ("out", po::value(&stem)->value_name("NAME"), "path of the files, without .key/.pub (required)")
      ("force", po::bool_switch(&force), "overwrite NAME.key and NAME.pub if they exist");
  const po::positional_options_description no_positionals;  // so stray words are errors
  if (!parse_command_line(args, described, described, &no_positionals,
                          " (see recloop keygen --help)")) {
    return 0;
  }
  if (stem.empty()) throw ConfigError("--out NAME is required");
  const KeyPair keys = generate_key_pair();
  write_key_files(stem, keys, force);
  const std::string name = std::filesystem::path(stem).filename().string();
  std::fprintf(stderr, "recloop keygen: wrote %s.key (secret, mode 0600) and %s.pub\n",
               stem.c_str(), stem.c_str());
  std::printf("%s %s\n", keys.public_key.c_str(), name.c_str());
  return 0;
}

}  // namespace recloop
