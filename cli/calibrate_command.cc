// SPDX-License-Identifier: Apache-2.0
// recloop calibrate --log LOG --out SCENARIO.ini: population-world parameters
// fitted from a ranking log, corrected for the logging policy
// (simulator/calibration.h).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>

#include <boost/program_options.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "logging/event_log.h"
#include "simulator/calibration.h"

namespace po = boost::program_options;

namespace recloop {
namespace {

std::string number(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.6g", x);
  return buffer;
}

void write_items(const std::string& path, const CalibrationResult& fit) {
  std::ofstream out(path);
  if (!out) throw Error(path + ": cannot write");
  // Columns: item, impressions, clicks, naive_ctr, attractiveness,
  // attractiveness_se, log_popularity; with the factor fit also item_bias (b_i)
  // and factor_0 .. factor_{d-1} (q_i), d the length of the logged user
  // features, so that b_i + y' q_i is the fitted click logit of a user with
  // features y (simulator/calibration.h).
  out << "item,impressions,clicks,naive_ctr,attractiveness,attractiveness_se,log_popularity";
  if (fit.factors) {
    out << ",item_bias";
    for (std::size_t j = 0; j < fit.user_dim; ++j) out << ",factor_" << j;
  }
  out << '\n';
  for (std::size_t i = 0; i < fit.items.size(); ++i) {
    out << fit.items[i] << ',' << fit.impressions[i] << ',' << fit.clicks[i] << ','
        << number(fit.naive_ctr[i]) << ',' << number(fit.attractiveness[i]) << ','
        << number(fit.attractiveness_se[i]) << ','
        << (std::isnan(fit.log_popularity[i]) ? std::string() : number(fit.log_popularity[i]));
    if (fit.factors) {
      out << ',' << number(fit.item_bias[i]);
      for (std::size_t j = 0; j < fit.user_dim; ++j) {
        out << ',' << number(fit.item_factors[i * fit.user_dim + j]);
      }
    }
    out << '\n';
  }
  out.close();
  if (!out) throw Error(path + ": write failed");
}

void write_scenario(const std::string& path, const std::string& log_path,
                    const std::string& items_path, const CalibrationResult& fit, double signal) {
  std::ofstream out(path);
  if (!out) throw Error(path + ": cannot write");
  out << "; Calibrated by `recloop calibrate` from " << log_path << ": " << fit.rows
      << " logged slots in " << fit.rankings << " rankings of up to " << fit.slots << " slots.\n"
      << "; Position-based click model fitted by EM"
      << (fit.weighted ? ", each row weighted by 1 / (the logger's P(item at slot))"
                       : ", unweighted (--naive: biased by the logger)")
      << ".\n; Fitted position effects theta_k (standard error), theta_0 = 1:\n;  ";
  for (std::size_t k = 0; k < fit.slots; ++k) {
    out << " " << k << ": " << number(fit.theta[k]);
    if (k > 0) out << " (" << number(fit.theta_se[k]) << ")";
  }
  out << "\n; position_decay below is eta of theta_k = (k + 1)^-eta, +- " << number(fit.eta_se)
      << ".\n; Per-item attractiveness (no scenario key): " << items_path << "\n"
      << "; Not identified by an item-level fit and left at their defaults: latent_dim,\n"
      << "; user types, observation noise; signal = " << number(signal)
      << " is the affinity sd assumed when mapping item logits to bias_mean/bias_sd.\n\n"
      << "[simulator]\n"
      << "world = population\n"
      << "n_items = " << std::max<std::size_t>(fit.catalogue, 2) << "\n"
      << "candidates = " << std::min(fit.candidates, std::max<std::size_t>(fit.catalogue, 2)) << "\n"
      << "choice_model = " << choice_model_name(fit.choice) << "\n"
      << "position_decay = " << number(fit.eta) << "\n"
      << "signal = " << number(signal) << "\n"
      << "bias_mean = " << number(fit.bias_mean) << "\n"
      << "bias_sd = " << number(fit.bias_sd) << "\n"
      << "popularity_weight = " << number(fit.popularity_weight) << "\n";
  if (fit.zipf_exponent) out << "zipf_exponent = " << number(*fit.zipf_exponent) << "\n";
  out.close();
  if (!out) throw Error(path + ": write failed");
}

}  // namespace

int run_calibrate(const std::vector<std::string>& args) {
  po::options_description options(
      "recloop calibrate --log LOG --out SCENARIO.ini [options]\n\n"
      "Fits a population world (position bias theta_k, per-item attractiveness, and the\n"
      "scenario keys position_decay, choice_model, bias_mean, bias_sd, popularity_weight,\n"
      "zipf_exponent, n_items, candidates) from a ranking log, each logged slot weighted by\n"
      "1 / the logging ranker's P(item at slot) so that what the logger chose to show does\n"
      "not bias the fit (simulator/calibration.h). Writes a scenario `recloop simulate`\n"
      "runs, a CSV of per-item estimates beside it, and prints the fit with the naive one.\n"
      "With theta fixed, also fits per-item bias b_i and factors q_i of the click\n"
      "logit b_i + y' q_i on the logged user features y (a weighted logistic factor\n"
      "model; the CSV's item_bias and factor_* columns) unless --factor-iterations 0.\n\n"
      "options");
  std::string log_path, out_path, items_path, policy, choice = "auto";
  std::int64_t popularity_row = -1;
  double signal = 0.0;
  int factor_iterations = CalibrationOptions{}.factor_iterations;
  double factor_l2 = CalibrationOptions{}.factor_l2;
  options.add_options()
      ("help,h", "show this help")
      ("log", po::value(&log_path), "decision log (SQLite) of a ranking policy")
      ("out", po::value(&out_path), "scenario INI to write")
      ("items", po::value(&items_path), "per-item CSV to write (default: OUT with .items.csv)")
      ("policy", po::value(&policy), "fit only this logging policy's decisions")
      ("naive", "write the unweighted fit (biased by the logger; for comparison)")
      ("choice-model", po::value(&choice), "auto (multi_click if a ranking has two clicks), pbm or multi_click")
      ("popularity-row", po::value(&popularity_row),
       "item-feature row holding log popularity (0 for population-world logs; -1: none)")
      ("signal", po::value(&signal), "affinity sd assumed for the bias mapping, [0, 10] (default 0)")
      ("factor-iterations", po::value(&factor_iterations),
       "Fisher-scoring steps per item of the factor fit, [0, 1000]; 0 = no factors (default 10)")
      ("factor-l2", po::value(&factor_l2), "L2 penalty on the item factors, in rows, [0, 1e6] (default 1)");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw ConfigError(e.what());
  }
  if (vm.count("help")) {
    std::cout << options << "\n";
    return 0;
  }
  if (log_path.empty()) throw ConfigError("--log LOG is required");
  if (out_path.empty()) throw ConfigError("--out SCENARIO.ini is required");
  if (items_path.empty()) {
    items_path = std::filesystem::path(out_path).replace_extension(".items.csv").string();
  }
  if (!(signal >= 0.0 && signal <= 10.0)) {
    throw ConfigError("--signal " + number(signal) + " is not in [0, 10]");
  }
  if (factor_iterations < 0 || factor_iterations > 1000) {
    throw ConfigError("--factor-iterations " + std::to_string(factor_iterations) +
                      " is not in [0, 1000]");
  }
  if (!(factor_l2 >= 0.0 && factor_l2 <= 1e6)) {
    throw ConfigError("--factor-l2 " + number(factor_l2) + " is not in [0, 1e6]");
  }
  CalibrationOptions fit_options{.weighted = !vm.count("naive"), .popularity_row = popularity_row,
                                 .signal = signal, .factor_iterations = factor_iterations,
                                 .factor_l2 = factor_l2};
  if (choice == "pbm" || choice == "multi_click") {
    fit_options.choice = parse_choice_model(choice);
  } else if (choice != "auto") {
    throw ConfigError("--choice-model '" + choice + "' is not auto, pbm or multi_click");
  }
  if (!std::filesystem::exists(log_path)) throw ConfigError(log_path + ": no such file");

  CalibrationData data(popularity_row);
  {
    EventLog log(log_path);
    try {
      log.for_each([&](const Interaction& i) { data.add(i); }, policy);
    } catch (const std::invalid_argument& e) {
      throw Error(log_path + ": " + e.what());
    }
  }
  if (data.rows() == 0) {
    throw Error(log_path + ": no rewarded decisions" +
                (policy.empty() ? std::string() : " of policy '" + policy + "'"));
  }
  CalibrationResult fit, other;
  try {
    fit = data.fit(fit_options);
    CalibrationOptions other_options = fit_options;
    other_options.weighted = !fit_options.weighted;
    other = data.fit(other_options);
  } catch (const std::invalid_argument& e) {
    throw Error(log_path + ": " + e.what());
  }
  const CalibrationResult& weighted = fit.weighted ? fit : other;
  const CalibrationResult& unweighted = fit.weighted ? other : fit;

  std::printf("calibrate: %s: %zu logged slots, %zu rankings, %zu items shown (%zu offered), "
              "%zu slots, %zu candidates per request\n",
              log_path.c_str(), fit.rows, fit.rankings, fit.items.size(), fit.catalogue, fit.slots,
              fit.candidates);
  std::printf("choice model: %s (%s; most clicks in one ranking: %zu)\n",
              std::string(choice_model_name(fit.choice)).c_str(),
              fit.choice_detected ? "detected" : "given", fit.max_clicks_per_ranking);
  if (fit.deterministic_logger) {
    std::printf("note: every logged P(item at slot) is 1: the logger never randomised, so the "
                "weights correct nothing\n");
  }
  std::printf("\n%-5s %10s %8s %12s %12s %10s\n", "slot", "theta", "SE", "unweighted", "naive CTR",
              "shown");
  std::printf("%-5s %10s %8s %12s %12s %10s\n", "", "(weighted)", "", "EM", "ratio", "");
  for (std::size_t k = 0; k < fit.slots; ++k) {
    std::printf("%-5zu %10.4f %8.4f %12.4f %12.4f %10.0f\n", k, weighted.theta[k],
                weighted.theta_se[k], unweighted.theta[k], fit.naive_theta[k],
                fit.slot_impressions[k]);
  }
  std::printf("\n%-18s %10s %10s %12s\n", "scenario key", "weighted", "SE", "unweighted");
  std::printf("%-18s %10.4f %10.4f %12.4f\n", "position_decay", weighted.eta, weighted.eta_se,
              unweighted.eta);
  std::printf("%-18s %10.4f %10s %12.4f\n", "bias_mean", weighted.bias_mean, "",
              unweighted.bias_mean);
  std::printf("%-18s %10.4f %10s %12.4f\n", "bias_sd", weighted.bias_sd, "", unweighted.bias_sd);
  std::printf("%-18s %10.4f %10s %12.4f\n", "popularity_weight", weighted.popularity_weight, "",
              unweighted.popularity_weight);
  if (fit.zipf_exponent) {
    std::printf("%-18s %10.4f %10s %12s\n", "zipf_exponent", *fit.zipf_exponent, "",
                "(logged shares)");
  }
  double mean_a = 0.0, mean_u = 0.0, mean_ctr = 0.0;
  const auto n = static_cast<double>(fit.items.size());
  for (std::size_t i = 0; i < fit.items.size(); ++i) {
    mean_a += weighted.attractiveness[i] / n;
    mean_u += unweighted.attractiveness[i] / n;
    mean_ctr += fit.naive_ctr[i] / n;
  }
  std::printf("%-18s %10.4f %10s %12.4f   (naive CTR %.4f)\n", "mean attractiveness", mean_a, "",
              mean_u, mean_ctr);

  if (fit.factors) {
    std::printf("\nfactor model theta_k sigmoid(b_i + y' q_i), %zu user features, theta fixed:\n",
                fit.user_dim);
    std::printf("%-36s %10s %12s\n", "mean log-likelihood per row", "weighted", "unweighted");
    std::printf("%-36s %10.5f %12.5f\n", "  attractiveness only (EM)", weighted.loglik_attractiveness,
                unweighted.loglik_attractiveness);
    std::printf("%-36s %10.5f %12.5f\n", "  with item factors", weighted.loglik_factors,
                unweighted.loglik_factors);
  }

  write_items(items_path, fit);
  write_scenario(out_path, log_path, items_path, fit, signal);
  std::printf("\nwrote %s (%s fit) and %s; EM %d iterations%s\n", out_path.c_str(),
              fit.weighted ? "weighted" : "unweighted", items_path.c_str(), fit.iterations,
              fit.converged ? "" : " (not converged)");
  return 0;
}

}  // namespace recloop
