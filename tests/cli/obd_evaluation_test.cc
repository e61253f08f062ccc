// SPDX-License-Identifier: Apache-2.0
// The Open Bandit Dataset benchmark (Saito et al. 2021): the Bernoulli-TS
// policy's value estimated from the uniform-random log, next to the BTS log's
// own mean click, on the samples shipped in data/obd.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "cli/offline_evaluation.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "evaluation/probability_table.h"
#include "logging/obd_import.h"
#include "tests/logging/fixtures.h"

using namespace recloop;

namespace {

const std::string kObd = std::string(RECLOOP_SOURCE_DIR) + "/data/obd";

std::vector<Interaction> import_folder(const std::string& folder) {
  return to_interactions(read_obd(find_obd_folders(folder)[0]));
}

const Estimate& find(const OfflineEvaluation& e, const std::string& name) {
  for (const auto& [n, estimate] : e.estimates) {
    if (n == name) return estimate;
  }
  FAIL("no estimate " << name);
  throw;
}

OfflineEvaluation evaluate_table(const std::vector<Interaction>& log, const ProbabilityTable& table) {
  return evaluate_offline(
      log, [&](const Interaction& i) { return table.pmf(i); }, "table", {"ips", "snips", "dr"});
}

}  // namespace

TEST_CASE("the BTS policy's value estimated from the random OBD log agrees with its own mean click",
          "[cli][integration]") {
  const std::string campaign = GENERATE(std::string("men"), std::string("women"));
  // The target: BTS's empirical choice frequency of each item at each slot.
  double on_policy = 0.0, on_policy_se = 0.0;
  std::unique_ptr<ProbabilityTable> table;
  {
    const auto bts = import_folder(kObd + "/bts/" + campaign);
    table = std::make_unique<ProbabilityTable>(ProbabilityTable::from_frequencies(bts));
    double clicks = 0.0;
    for (const auto& i : bts) clicks += i.reward;
    const double n = static_cast<double>(bts.size());
    on_policy = clicks / n;
    on_policy_se = std::sqrt(on_policy * (1.0 - on_policy) / n);  // Bernoulli clicks
  }
  const auto result = evaluate_table(import_folder(kObd + "/random/" + campaign), *table);
  // The estimates and the on-policy mean come from different logs, so their
  // difference has standard error sqrt(SE_est² + SE_on²); 4 of those bound it
  // with a false-failure rate of ~6e-5 under the normal approximation. (The
  // table itself is estimated from the BTS log; with 10,000 rows over ~100
  // (item, slot) cells its sampling error is second order next to the click
  // noise at a click rate of ~0.5%.)
  for (const std::string name : {"ips", "snips", "dr"}) {
    const Estimate& e = find(result, name);
    const double se = std::sqrt(e.std_error * e.std_error + on_policy_se * on_policy_se);
    INFO(campaign << " " << name << ": estimate " << e.value << " (SE " << e.std_error
                  << "), on-policy " << on_policy << " (SE " << on_policy_se << "), relative error "
                  << (e.value - on_policy) / on_policy);
    CHECK(std::abs(e.value - on_policy) <= 4.0 * se);
    CHECK(e.std_error > 0.0);
  }
  CHECK(result.n == 10000);
  CHECK(result.weights.share_target_never_takes < 0.05);
}

TEST_CASE("OBD estimates do not depend on the order of the rows", "[cli][integration]") {
  // Write the random men log with its rows shuffled, import both, compare.
  testing::TempDir dir;
  const std::filesystem::path source = kObd + "/random/men";
  const std::filesystem::path shuffled = std::filesystem::path(dir.file("random")) / "men";
  std::filesystem::create_directories(shuffled);
  std::filesystem::copy_file(source / "item_context.csv", shuffled / "item_context.csv");
  {
    std::ifstream in(source / "men.csv");
    std::string header, line;
    std::getline(in, header);
    std::vector<std::string> rows;
    while (std::getline(in, line)) rows.push_back(line);
    Rng rng(20240517);
    for (std::size_t k = rows.size() - 1; k > 0; --k) std::swap(rows[k], rows[uniform_index(rng, k + 1)]);
    std::ofstream out(shuffled / "men.csv");
    out << header << '\n';
    for (const auto& row : rows) out << row << '\n';
  }
  const auto table = ProbabilityTable::from_frequencies(import_folder(kObd + "/bts/men"));
  const auto original = evaluate_table(import_folder(source.string()), table);
  const auto reordered = evaluate_table(import_folder(shuffled.string()), table);
  // The same sums in another order: equal up to floating-point rounding of
  // 10,000-term sums and of the ridge fit (relative 1e-9 is far above either).
  for (const std::string name : {"ips", "snips", "dr"}) {
    const Estimate& a = find(original, name);
    const Estimate& b = find(reordered, name);
    INFO(name << ": " << a.value << " vs " << b.value);
    CHECK(b.value == Approx(a.value).epsilon(1e-9));
    CHECK(b.std_error == Approx(a.std_error).epsilon(1e-9));
  }
  CHECK(reordered.weights.effective_sample_size == Approx(original.weights.effective_sample_size).epsilon(1e-9));
}
