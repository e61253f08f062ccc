// SPDX-License-Identifier: Apache-2.0
// recloop import FORMAT SOURCE --out LOG: other tools' logs into a recloop log.
#include <cstdio>
#include <iostream>

#include <boost/program_options.hpp>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "core/error.h"
#include "logging/coat_import.h"
#include "logging/dsjson.h"
#include "logging/event_log.h"
#include "logging/imported_log.h"
#include "logging/obd_import.h"

namespace po = boost::program_options;

namespace recloop {

int run_import(const std::vector<std::string>& args) {
  po::options_description options(
      "recloop import FORMAT SOURCE --out LOG [options]\n\n"
      "Turns another tool's log into a recloop decision log (imported decisions keep\n"
      "only the chosen action's probability). FORMAT is:\n"
      "  coat DIR   Coat ratings (Schnabel et al. 2016, e.g. data/coat): self-selected\n"
      "             ratings as policy coat_self_selected with the propensities,\n"
      "             random ratings as coat_random; mapping in logging/coat_import.h\n"
      "  obd DIR    Open Bandit Dataset: DIR is one campaign folder (e.g.\n"
      "             data/obd/random/men) or the root holding POLICY/CAMPAIGN folders;\n"
      "             mapping in logging/obd_import.h\n"
      "  dsjson FILE  Vowpal Wabbit / Decision Service JSON lines (the whole pmf is\n"
      "             kept; unlabelled lines are decisions without reward; _skipLearn\n"
      "             lines get policy NAME_skip_learn); mapping in logging/dsjson.h\n\n"
      "Importing into an existing log adds the events it does not hold yet.\n\n"
      "options");
  std::string format, source, out_path, campaign, policy;
  options.add_options()
      ("help,h", "show this help")
      ("out", po::value(&out_path), "recloop log (SQLite) to write; created if missing")
      ("campaign", po::value(&campaign), "obd: only this campaign (men, women, all)")
      ("policy", po::value(&policy), "obd: only this logging policy (random, bts); "
       "dsjson: policy name to store (default dsjson)");
  po::options_description hidden;
  hidden.add_options()("format", po::value(&format))("source", po::value(&source));
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("format", 1).add("source", 1);
  if (!parse_command_line(args, options, all, &positional)) return 0;
  if (format.empty() || source.empty()) throw ConfigError("usage: recloop import FORMAT SOURCE --out LOG");
  if (out_path.empty()) throw ConfigError("--out LOG is required");

  if (format == "coat") {
    const CoatLog coat = read_coat(source);
    EventLog log(out_path);
    for (const ImportedLog* part : {&coat.self_selected, &coat.random}) {
      const std::size_t fresh = write_imported(log, *part);
      std::printf("%s: %zu ratings of policy %s, %zu users x %zu items (%zu new) -> %s\n",
                  source.c_str(), part->decisions.size(),
                  part == &coat.random ? kCoatRandomPolicy : kCoatSelfSelectedPolicy, coat.users,
                  coat.items, fresh, out_path.c_str());
    }
    return 0;
  }

  if (format == "obd") {
    const auto folders = find_obd_folders(source, policy, campaign);
    EventLog log(out_path);
    for (const auto& folder : folders) {
      const ImportedLog imported = read_obd(folder);
      const std::size_t fresh = write_imported(log, imported);
      std::printf("%s: %zu decisions of policy obd_%s, campaign %s (%zu new) -> %s\n",
                  folder.path.c_str(), imported.decisions.size(), folder.policy.c_str(),
                  folder.campaign.c_str(), fresh, out_path.c_str());
    }
    return 0;
  }
  if (format == "dsjson") {
    const std::string name = policy.empty() ? std::string("dsjson") : policy;
    const DsjsonLog imported = read_dsjson(source, name);
    EventLog log(out_path);
    const std::size_t fresh = write_dsjson_events(log, imported);
    std::size_t labelled = 0, skip_learn = 0;
    for (const auto& event : imported.events) {
      labelled += event.reward ? 1 : 0;
      skip_learn += event.skip_learn ? 1 : 0;
    }
    std::printf("%s: %zu decisions (%zu with reward, %zu _skipLearn as policy %s%s), %zu shared and %zu "
                "action features (%zu new) -> %s\n",
                source.c_str(), imported.events.size(), labelled, skip_learn, name.c_str(),
                std::string(kSkipLearnSuffix).c_str(), imported.user_features.size(),
                imported.action_features.size(), fresh, out_path.c_str());
    return 0;
  }
  throw ConfigError("unknown format '" + format + "' (known: obd, dsjson, coat)");
}

}  // namespace recloop
