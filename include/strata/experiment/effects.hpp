#pragma once
// What each value of a factor did on average over a sweep: for every factor (a column of
// the table: loss, optimizer, kernel, ...) and each of its values, how many trials had it,
// how many finished, and the mean, best and worst of a metric over those that finished.
// This is the "MSE or cross-entropy, averaged over everything else" summary that a sweep
// table with hundreds of rows does not show by itself.
//
// **Example**:
// ```
// const auto rows = experiment::effects(trials, {"loss", "kernel"}, "val_accuracy");
// std::cout << experiment::effects_markdown(rows, "val_accuracy");
// ```
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "table.hpp"
#include "trial.hpp"

namespace strata::experiment {

/// One value of one factor.
struct Effect {
  std::string factor;        ///< column name, e.g. "loss"
  std::string level;         ///< the value as the table prints it, e.g. "MSE"
  std::size_t trials = 0;    ///< trials with this value
  std::size_t finished = 0;  ///< of those, completed or stopped early with a finite metric
  double mean = std::numeric_limits<double>::quiet_NaN();  ///< over the finished ones
  double best = std::numeric_limits<double>::quiet_NaN();
  double worst = std::numeric_limits<double>::quiet_NaN();
};

/// One Effect per (factor, value), factors in the order given, values in order of first
/// appearance in `trials`. Diverged and failed trials count in `trials` but not in the
/// figures. Throws strata::option_error for a factor or metric that is not a column.
inline std::vector<Effect> effects(const std::vector<TrialRecord>& trials, const std::vector<std::string>& factors,
                                   const std::string& metric, bool higher_is_better = true) {
  const Table table(trials);
  std::vector<Effect> out;
  for (const auto& factor : factors) {
    const std::size_t first = out.size();
    for (std::size_t r = 0; r < table.size(); ++r) {
      const auto& key = table.cell(r, factor);
      const std::string level = key.is_null() ? "" : key.is_string() ? key.get<std::string>() : key.dump();
      auto it = std::find_if(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
                             [&](const Effect& e) { return e.level == level; });
      if (it == out.end()) {
        out.push_back({.factor = factor, .level = level});
        it = out.end() - 1;
      }
      ++it->trials;
      const auto& v = table.cell(r, metric);
      const auto status = table.trial(r).status;
      if (!(status == TrialStatus::completed || status == TrialStatus::stopped_early) || !v.is_number()) continue;
      const double x = v.get<double>();
      if (!std::isfinite(x)) continue;
      const bool none = it->finished == 0;
      it->mean = none ? x : it->mean + (x - it->mean) / static_cast<double>(it->finished + 1);
      it->best = none ? x : higher_is_better ? std::max(it->best, x) : std::min(it->best, x);
      it->worst = none ? x : higher_is_better ? std::min(it->worst, x) : std::max(it->worst, x);
      ++it->finished;
    }
  }
  return out;
}

/// The effects as a Markdown table: factor, value, trials, finished, mean, best, worst.
inline std::string effects_markdown(const std::vector<Effect>& effects, const std::string& metric) {
  std::vector<std::vector<std::string>> rows{
      {"factor", "value", "trials", "finished", "mean " + metric, "best", "worst"}};
  const auto fig = [](double v) { return std::isfinite(v) ? detail::format_figure(v) : std::string{}; };
  for (const auto& e : effects)
    rows.push_back({e.factor, e.level, std::to_string(e.trials), std::to_string(e.finished), fig(e.mean),
                    fig(e.best), fig(e.worst)});
  std::vector<std::size_t> width(rows.front().size(), 3);
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  std::string s;
  const auto line = [&](const std::vector<std::string>& row) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      const std::string pad(width[c] - row[c].size(), ' ');
      s += "| " + (c < 2 ? row[c] + pad : pad + row[c]) + " ";
    }
    s += "|\n";
  };
  line(rows.front());
  for (std::size_t c = 0; c < width.size(); ++c)
    s += "| " + (c < 2 ? std::string(width[c], '-') : std::string(width[c] - 1, '-') + ":") + " ";
  s += "|\n";
  for (std::size_t r = 1; r < rows.size(); ++r) line(rows[r]);
  return s;
}

}  // namespace strata::experiment
