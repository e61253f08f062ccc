// SPDX-License-Identifier: Apache-2.0
// Estimates do not depend on the order of the log's rows: the Open Bandit
// Dataset sample with its rows shuffled gives bit-identical estimates, both
// estimator by estimator and through `recloop evaluate` end to end.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "cli/offline_evaluation.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "evaluation/direct_method.h"
#include "evaluation/doubly_robust.h"
#include "evaluation/ips.h"
#include "evaluation/naive.h"
#include "evaluation/probability_table.h"
#include "evaluation/snips.h"
#include "evaluation/tabular_reward_model.h"
#include "logging/obd_import.h"
#include "tests/support/process.h"

using namespace recloop;

namespace {

const std::string kBinary = RECLOOP_BINARY;
const std::string kObd = std::string(RECLOOP_SOURCE_DIR) + "/data/obd";

template <typename T>
void shuffle(std::vector<T>& rows, std::uint64_t seed) {
  Rng rng(seed);
  for (std::size_t i = rows.size(); i > 1; --i) std::swap(rows[i - 1], rows[uniform_index(rng, i)]);
}

std::vector<Interaction> import_folder(const std::string& folder) {
  return to_interactions(read_obd(find_obd_folders(folder)[0]));
}

// A temporary folder, removed with everything in it.
struct TempDir {
  std::string path = testing::temp_path("order");
  TempDir() { std::filesystem::create_directories(path); }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// A copy of the OBD campaign folder `from` (POLICY/CAMPAIGN) under `to` with
// the data rows of CAMPAIGN.csv in a seeded random order; the first column
// (the row's index, hence its event id) travels with its row.
void write_shuffled_copy(const std::string& from, const std::string& to, const std::string& campaign,
                         std::uint64_t seed) {
  std::filesystem::create_directories(to);
  std::filesystem::copy_file(from + "/item_context.csv", to + "/item_context.csv");
  std::ifstream in(from + "/" + campaign + ".csv");
  std::string header, line;
  std::getline(in, header);
  std::vector<std::string> rows;
  while (std::getline(in, line)) rows.push_back(line);
  REQUIRE(rows.size() > 1000);
  shuffle(rows, seed);
  std::ofstream out(to + "/" + campaign + ".csv");
  out << header << "\n";
  for (const auto& row : rows) out << row << "\n";
}

}  // namespace

TEST_CASE("estimators give bit-identical estimates on a shuffled OBD log", "[cli][integration]") {
  const auto bts = import_folder(kObd + "/bts/men");
  const auto table = ProbabilityTable::from_frequencies(bts);
  const auto log = import_folder(kObd + "/random/men");
  auto shuffled = log;
  shuffle(shuffled, 11);
  REQUIRE(shuffled.front().event_id != log.front().event_id);

  auto estimate_all = [&](const std::vector<Interaction>& rows) {
    auto model = std::make_shared<TabularRewardModel>();
    for (const auto& i : rows) model->add(i);
    std::vector<std::unique_ptr<Estimator>> estimators;
    estimators.push_back(std::make_unique<NaiveEstimator>());
    estimators.push_back(std::make_unique<IpsEstimator>());
    estimators.push_back(std::make_unique<SnipsEstimator>());
    estimators.push_back(std::make_unique<DirectMethodEstimator>(model));
    estimators.push_back(std::make_unique<DoublyRobustEstimator>(model));
    for (const auto& i : rows) {
      const auto pmf = table.pmf(i);
      for (auto& e : estimators) e->add(i, pmf);
    }
    std::vector<Estimate> estimates;
    for (const auto& e : estimators) estimates.push_back(e->estimate());
    return estimates;
  };
  const auto a = estimate_all(log);
  const auto b = estimate_all(shuffled);
  for (std::size_t k = 0; k < a.size(); ++k) {
    INFO("estimator " << k << ": " << a[k].value << " vs " << b[k].value);
    REQUIRE(a[k].value == b[k].value);
    REQUIRE(a[k].std_error == b[k].std_error);
    REQUIRE(a[k].lower == b[k].lower);
    REQUIRE(a[k].upper == b[k].upper);
  }

  // The evaluation driver too, bootstrap intervals and lower bounds included.
  const auto target = [&](const Interaction& i) { return table.pmf(i); };
  const std::vector<std::string> names = {"ips", "snips", "dm", "dr", "dr_cross_fit"};
  const auto x = evaluate_offline(log, target, "table", names, 0.05, RewardModelKind::tabular,
                                  {.replicates = 300, .seed = 5});
  const auto y = evaluate_offline(shuffled, target, "table", names, 0.05, RewardModelKind::tabular,
                                  {.replicates = 300, .seed = 5});
  REQUIRE(x.bounds.size() == names.size());
  for (std::size_t k = 0; k < names.size(); ++k) {
    INFO(names[k]);
    REQUIRE(x.estimates[k].second.value == y.estimates[k].second.value);
    REQUIRE(x.estimates[k].second.std_error == y.estimates[k].second.std_error);
    REQUIRE(x.bounds[k].bootstrap_lower == y.bounds[k].bootstrap_lower);
    REQUIRE(x.bounds[k].bootstrap_upper == y.bounds[k].bootstrap_upper);
    REQUIRE((x.bounds[k].safe_lower == y.bounds[k].safe_lower ||
             (std::isnan(x.bounds[k].safe_lower) && std::isnan(y.bounds[k].safe_lower))));
  }
}

TEST_CASE("evaluate prints identical output for an OBD log imported in shuffled order",
          "[cli][integration]") {
  TempDir dir;
  write_shuffled_copy(kObd + "/random/men", dir.path + "/random/men", "men", 23);
  const std::string original = dir.path + "/original.db";
  const std::string reordered = dir.path + "/shuffled.db";
  const std::string bts = dir.path + "/bts.db";
  const std::string table = dir.path + "/table.csv";
  for (const auto& [source, out] : {std::pair{kObd + "/random/men", original},
                                    std::pair{dir.path + "/random/men", reordered},
                                    std::pair{kObd + "/bts/men", bts}}) {
    const auto imported = testing::run_command(kBinary + " import obd " + source + " --out " + out);
    INFO(imported.err);
    REQUIRE(imported.exit_code == 0);
  }
  const auto made = testing::run_command(kBinary + " table --log " + bts + " --out " + table);
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  const std::string options = " --target table:" + table +
                              " --reward-model tabular --estimators naive,ips,snips,dm,dr,dr_cross_fit"
                              " --bootstrap 500 --bootstrap-seed 3";
  for (const std::string format : {"", " --json"}) {
    const auto a = testing::run_command(kBinary + " evaluate --log " + original + options + format);
    const auto b = testing::run_command(kBinary + " evaluate --log " + reordered + options + format);
    INFO(a.err << b.err);
    REQUIRE(a.exit_code == 0);
    REQUIRE(b.exit_code == 0);
    std::string a_out = a.out, b_out = b.out;
    // The JSON names the log file, which differs.
    for (auto* text : {&a_out, &b_out}) {
      for (const std::string& path : {original, reordered}) {
        if (const auto at = text->find(path); at != std::string::npos) text->replace(at, path.size(), "LOG");
      }
    }
    REQUIRE(a_out == b_out);
    REQUIRE(a_out.find("bootstrap") != std::string::npos);
  }
}
