// SPDX-License-Identifier: Apache-2.0
// recloop export FORMAT --log LOG --out FILE: a recloop log in another tool's format.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <boost/program_options.hpp>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "core/error.h"
#include "logging/dsjson.h"

namespace po = boost::program_options;

namespace recloop {

int run_export(const std::vector<std::string>& args) {
  po::options_description options(
      "recloop export FORMAT --log LOG --out FILE [options]\n\n"
      "Writes every decision of a recloop log (with its reward when it has one) in\n"
      "another tool's format. FORMAT is:\n"
      "  dsjson   Decision Service JSON, one line per decision, as read by\n"
      "           `vw --dsjson --cb_explore_adf`: cost = -reward, actions 1-based with\n"
      "           the chosen one first, p aligned with them, shared features in\n"
      "           namespace User (u0, u1, ...), action features in namespace Item (i0,\n"
      "           i1, ...); mapping in logging/dsjson.h. `recloop import dsjson` reads\n"
      "           it back into the same contexts, actions, probabilities, pmfs and\n"
      "           rewards.\n\n"
      "options");
  std::string format, log_path, out_path, policy;
  options.add_options()
      ("help,h", "show this help")
      ("log", po::value(&log_path), "recloop log (SQLite) to read")
      ("out", po::value(&out_path), "file to write (replaced); - for standard output")
      ("policy", po::value(&policy), "only this logging policy's decisions");
  po::options_description hidden;
  hidden.add_options()("format", po::value(&format));
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("format", 1);
  if (!parse_command_line(args, options, all, &positional)) return 0;
  if (format.empty()) throw ConfigError("usage: recloop export FORMAT --log LOG --out FILE");
  if (format != "dsjson") throw ConfigError("unknown format '" + format + "' (known: dsjson)");
  if (log_path.empty()) throw ConfigError("--log LOG is required");
  if (out_path.empty()) throw ConfigError("--out FILE is required");
  if (!std::filesystem::is_regular_file(log_path)) throw ConfigError("--log '" + log_path + "': no such file");

  if (out_path == "-") {
    export_dsjson(log_path, std::cout, policy);
    return 0;
  }
  // Written next to the target and renamed, so a failed export leaves no half file.
  const std::string partial = out_path + ".partial";
  DsjsonExportCounts counts;
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(out_path + ": cannot write");
    try {
      counts = export_dsjson(log_path, out, policy);
    } catch (...) {
      out.close();
      std::filesystem::remove(partial);
      throw;
    }
  }
  std::filesystem::rename(partial, out_path);
  std::printf("%s: %zu decisions (%zu with reward, %zu _skipLearn) -> %s\n", log_path.c_str(), counts.lines,
              counts.labelled, counts.skip_learn, out_path.c_str());
  return 0;
}

}  // namespace recloop
