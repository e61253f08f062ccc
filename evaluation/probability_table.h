// SPDX-License-Identifier: Apache-2.0
// A fixed target policy given as a table of probabilities π(item at slot),
// optionally per context segment: how the Open Bandit Pipeline evaluates the
// Bernoulli-TS policy from the uniform policy's log (Saito et al. 2021), with
// the table taken from the empirical choice frequencies of another log.
//
// CSV layout (header required, columns in any order, `segment` optional):
//   item,slot,probability[,segment]
//   item         catalogue id (Context::items), unsigned integer
//   slot         0-based position (Interaction::slot)
//   probability  π(item | slot, segment) in [0, 1]; for each (segment, slot)
//                the probabilities sum to 1 within 1e-6
//   segment      context_segment() of the contexts the row applies to; a table
//                without the column (or with empty segments only) applies to
//                every context
// Items of a context missing from the table get probability 0.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "core/types.h"

namespace recloop {

// The segment of a context: the indices of the non-zero user features, in
// increasing order, joined by '.' (e.g. "0.4.9.17"). For one-hot user features
// (the imported logs) this names the combination of categories, so a segment
// table transfers only between logs that share one feature encoding.
std::string context_segment(const Context& context);

class ProbabilityTable {
 public:
  struct Row {
    std::string segment;  // "" = every context
    ItemId item = 0;
    std::uint32_t slot = 0;
    double probability = 0.0;
  };

  // Throws std::invalid_argument naming the offending row: a probability
  // outside [0, 1], a repeated (segment, slot, item), a (segment, slot) whose
  // probabilities do not sum to 1 within 1e-6, or a mix of empty and
  // non-empty segments.
  explicit ProbabilityTable(std::vector<Row> rows);

  // Reads the CSV layout above; throws recloop::Error naming file and line.
  static ProbabilityTable load_csv(const std::string& path);
  // Writes the CSV layout above, probabilities in shortest exact form.
  void write_csv(std::ostream& out) const;

  // π(item at slot) = share of `log`'s interactions at that slot (and, with
  // `by_segment`, in that segment) whose chosen item is `item`. Integer counts,
  // so the table does not depend on the log's order. Throws
  // std::invalid_argument for an empty log.
  static ProbabilityTable from_frequencies(const std::vector<Interaction>& log,
                                           bool by_segment = false);

  // The target pmf over `logged.context`'s candidates at `logged.slot` (in
  // its segment, if the table has segments): one entry per candidate. Throws
  // std::invalid_argument naming the event when the table has no rows for
  // that (segment, slot), or when it puts more than 1e-6 of its mass on items
  // that are not candidates of the context (the mass would be lost silently).
  std::vector<double> pmf(const Interaction& logged) const;

  bool has_segments() const { return has_segments_; }
  const std::vector<Row>& rows() const { return rows_; }  // sorted by segment, slot, item

 private:
  std::vector<Row> rows_;
  bool has_segments_ = false;
  // (segment, slot) -> item -> probability
  std::map<std::pair<std::string, std::uint32_t>, std::map<ItemId, double>> lookup_;
};

}  // namespace recloop
