// SPDX-License-Identifier: Apache-2.0
// Reads the Coat shopping data set (Schnabel, Swaminathan, Singh, Chandak &
// Joachims, "Recommendations as Treatments: Debiasing Learning and
// Evaluation", ICML 2016; files described in data/README.md) into recloop's log
// vocabulary.
//
// A Coat folder holds train.ascii (ratings users chose to give: missing not at
// random), test.ascii (ratings of items drawn uniformly at random for each
// user: missing completely at random), propensities.ascii and
// user_item_features/user_features.ascii. Ratings and propensities are
// matrices of one whitespace-separated row per user and one column per item;
// rating 0 means "not rated". Every non-zero rating becomes one decision and
// its reward:
//   policy       "coat_self_selected" for train.ascii, "coat_random" for
//                test.ascii. The random ratings are the ground truth of a
//                selection-bias study: their mean estimates the mean rating over
//                all (user, item) pairs, which the self-selected ratings estimate
//                only after propensity weighting.
//   event id     "coat-self_selected-<user>-<item>" / "coat-random-<user>-<item>"
//                (user = row, item = column, both from 0)
//   candidates   all items 0 .. n_items-1 in column order: Context::items holds
//                the item ids, so action = item = the column. Context::actions
//                has no rows (action_dim 0): the 33 one-hot item features are
//                not imported, because a copy in every context would make the
//                log ~80 KB per rating; they are the same for every request and
//                can be read from user_item_features/item_features.ascii.
//   user features the user's row of user_features.ascii (14 one-hot columns:
//                gender, age, location, fashion interest)
//   slot         0
//   probability  self-selected: p(u,i) / Σ_j p(u,j), where p(u,i) is the
//                propensity file's probability that user u rates item i. A user
//                rates ~24 items and each row of p sums to ~24, so this is the
//                probability of item i in one of the user's draws: a pmf over
//                the catalogue, as recloop's probability is. Importance weights
//                for the uniform target are then (1/n_items) / probability =
//                Σ_j p(u,j) / (n_items · p(u,i)), and the IPS mean over the
//                ratings is Schnabel et al.'s IPS estimator (Sec. 3.3),
//                (1/(U·I)) Σ r/p, when every row sums to the number of ratings
//                per user.
//                random: 1 / n_items (each of a user's random items is a uniform
//                draw from the catalogue).
//                pmf left empty in both cases.
//   reward       the rating, 1 .. 5
//   timestamps   0: the data set has no times
// Pairs rated in both files (366 in the shipped data) appear once under each
// policy; their event ids differ.
#pragma once

#include <string>

#include "logging/imported_log.h"

namespace recloop {

inline constexpr char kCoatSelfSelectedPolicy[] = "coat_self_selected";
inline constexpr char kCoatRandomPolicy[] = "coat_random";

struct CoatLog {
  ImportedLog self_selected;  // train.ascii, ordered by user then item
  ImportedLog random;         // test.ascii, ordered by user then item
  std::size_t users = 0;
  std::size_t items = 0;
};

// Reads the Coat folder `dir`. Throws recloop::Error naming the file and line
// (and the item column where one is at fault) on a missing file, a row with a
// different number of values than the first row of train.ascii, a value that
// does not parse, a rating outside 0..5, a propensity that is not in (0, 1], a
// user feature row of another length than the first, or files with different
// numbers of users.
CoatLog read_coat(const std::string& dir);

}  // namespace recloop
