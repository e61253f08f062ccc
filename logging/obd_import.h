// SPDX-License-Identifier: Apache-2.0
// Reads the Open Bandit Dataset (Saito et al. 2021, arXiv:2008.07146; files of
// st-tech/zr-obp, see data/README.md) into recloop's log vocabulary.
//
// One campaign folder of one logging policy, e.g. data/obd/random/men, holds
// CAMPAIGN.csv (one row per item shown at one slot) and item_context.csv. Each
// row of CAMPAIGN.csv becomes one decision and its reward:
//   event id     "<policy>-<campaign>-<row index>" (the unnamed first column)
//   policy       "obd_<policy>" (obd_random, obd_bts)
//   candidates   every item of item_context.csv, in item_id order; Context::items
//                holds the item ids, so action = the item's index, item = item_id
//   item features  [item_feature_0, one-hot(item_feature_1), one-hot(item_feature_2),
//                  one-hot(item_feature_3)]: the categories of each column sorted
//                  by their (hashed) string and numbered PER FILE, because the
//                  hash strings differ between the random and bts copies
//   user features  [one-hot(user_feature_0), ..., one-hot(user_feature_3)], the
//                  categories again sorted per file. The user-item_affinity
//                  columns are not imported.
//   slot         position - 1 (0 = left, 1 = centre, 2 = right)
//   probability  propensity_score; pmf left empty (the logger's pmf over items
//                is not in the data)
//   reward       click (0 or 1), timestamp = the row's timestamp
//   timestamp_us the `timestamp` column (UTC, "YYYY-MM-DD HH:MM:SS[.ffffff]+HH:MM")
// Sorting the categories makes the encoding independent of row order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "logging/imported_log.h"

namespace recloop {

struct ObdFolder {
  std::string path;      // folder holding CAMPAIGN.csv and item_context.csv
  std::string policy;    // logging policy: "random" or "bts"
  std::string campaign;  // "men", "women" or "all"
};

// The campaign folders `dir` names: `dir` itself when it holds
// item_context.csv (policy and campaign then default to the names of its
// parent folder and of itself), else every DIR/POLICY/CAMPAIGN folder that
// exists, restricted to `policy` / `campaign` when they are not empty, in
// sorted order. Throws ConfigError when nothing matches.
std::vector<ObdFolder> find_obd_folders(const std::string& dir, const std::string& policy = {},
                                        const std::string& campaign = {});

// Reads one campaign folder. Throws recloop::Error naming the file and line of
// a malformed row (wrong field count, a number that does not parse, an unknown
// item, a position < 1), and listing the rows whose propensity_score is
// missing, zero or above 1 (all of them are counted; the first few are named).
ImportedLog read_obd(const ObdFolder& folder);

// Microseconds since the Unix epoch of an OBD timestamp such as
// "2019-11-24 00:03:13.442536+00:00"; throws recloop::Error naming `where`.
std::int64_t parse_obd_timestamp(std::string_view text, const std::string& where);

}  // namespace recloop
