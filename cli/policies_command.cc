// SPDX-License-Identifier: Apache-2.0
// recloop policies [--json]
#include <algorithm>
#include <cstdio>
#include <iostream>

#include <boost/program_options.hpp>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/json_writer.h"
#include "core/config.h"
#include "core/error.h"
#include "policies/probability_floor.h"
#include "policies/registry.h"

namespace po = boost::program_options;

namespace recloop {
namespace {

struct PolicyDoc {
  std::string name;
  std::string reference;
  std::vector<KeyDoc> keys;
};

// What each policy documents about itself: building it from an empty section
// runs every typed getter, which records key, default, range and meaning.
// The probability floor, which every section accepts, comes last.
std::vector<PolicyDoc> policy_docs() {
  ConfigSection common("policy");
  ProbabilityFloor::read_floor(common);
  std::vector<PolicyDoc> docs;
  for (const auto& name : policy_names()) {
    ConfigSection section(name);
    make_policy(name, section, /*feature_dim=*/4);
    docs.push_back({name, policy_reference(name), section.described()});
    for (const auto& key : common.described()) docs.back().keys.push_back(key);
  }
  return docs;
}

}  // namespace

int run_policies(const std::vector<std::string>& args) {
  po::options_description options(
      "recloop policies [--json]\n\n"
      "Lists every policy a scenario, `simulate`, `evaluate` or `train` can name, with\n"
      "the paper it follows and each setting: key, default, allowed range and meaning.\n"
      "Settings go in the policy's scenario section ([lin_ucb] alpha = 0.5) or on the\n"
      "command line (--set lin_ucb.alpha=0.5).\n\n"
      "options");
  options.add_options()
      ("help,h", "show this help")
      ("json", "print one JSON object instead of text");
  const auto command_line = parse_command_line(args, options, options);
  if (!command_line) return 0;
  const po::variables_map& vm = *command_line;
  const auto docs = policy_docs();

  if (vm.count("json")) {
    JsonWriter out;
    out.begin_object().key("policies").begin_array();
    for (const auto& doc : docs) {
      out.begin_object().key("name").value(doc.name).key("reference").value(doc.reference);
      out.key("settings").begin_array();
      for (const auto& key : doc.keys) {
        out.begin_object().key("key").value(key.key).key("default").value(key.default_value)
            .key("range").value(key.range).key("doc").value(key.doc).end_object();
      }
      out.end_array().end_object();
    }
    out.end_array().end_object();
    std::cout << out.str() << "\n";
    return 0;
  }
  for (const auto& doc : docs) {
    std::size_t key_width = 3, default_width = 7, range_width = 5;
    for (const auto& key : doc.keys) {
      key_width = std::max(key_width, key.key.size());
      default_width = std::max(default_width, key.default_value.size());
      range_width = std::max(range_width, key.range.size());
    }
    std::printf("%s\n  follows: %s\n", doc.name.c_str(),
                doc.reference.empty() ? "(no reference recorded)" : doc.reference.c_str());
    std::printf("  %-*s  %-*s  %-*s  %s\n", static_cast<int>(key_width), "key",
                static_cast<int>(default_width), "default", static_cast<int>(range_width),
                "range", "meaning");
    for (const auto& key : doc.keys) {
      std::printf("  %-*s  %-*s  %-*s  %s\n", static_cast<int>(key_width), key.key.c_str(),
                  static_cast<int>(default_width), key.default_value.c_str(),
                  static_cast<int>(range_width), key.range.c_str(), key.doc.c_str());
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace recloop
