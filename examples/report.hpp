#pragma once
// What every sweep example does with its trials: the full table as Markdown, CSV and JSON,
// the best rows printed, learning curves of the best trials and a metric-vs-lr plot.
#include <strata/experiment.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace examples {

struct ReportOptions {
  std::string title;
  std::string sort_key;                 ///< e.g. "val_accuracy"
  bool higher_is_better = true;
  std::size_t print_rows = 15;          ///< rows printed (the files hold all)
  std::size_t curves = 6;               ///< best trials drawn in the learning curves
  std::vector<std::string> columns{};   ///< printed columns; empty: all
  std::string group_by = "optimizer";   ///< lines of the metric-vs-parameter plot
  std::string x_param = "lr";           ///< the parameter on its x axis
};

/// Writes <dir>/results.{md,csv,json}, <dir>/curves.png and <dir>/<metric>_vs_<x_param>.png, and
/// prints the best rows and the file paths. Returns the best trial.
inline strata::experiment::TrialRecord report(const std::vector<strata::experiment::TrialRecord>& trials,
                                              const std::filesystem::path& dir, const ReportOptions& o) {
  namespace ex = strata::experiment;
  std::filesystem::create_directories(dir);
  ex::Table table(trials);
  table.sort_by(o.sort_key, o.higher_is_better).mark_best(o.sort_key, o.higher_is_better);
  table.write_markdown(dir / "results.md");
  table.write_csv(dir / "results.csv");
  table.write_json(dir / "results.json");

  std::vector<ex::TrialRecord> best;
  for (std::size_t r = 0; r < table.size() && best.size() < std::max(o.print_rows, o.curves); ++r)
    best.push_back(table.trial(r));
  std::vector<ex::TrialRecord> shown(best.begin(), best.begin() + static_cast<std::ptrdiff_t>(std::min(best.size(), o.print_rows)));
  ex::Table printed(shown);
  printed.sort_by(o.sort_key, o.higher_is_better).mark_best(o.sort_key, o.higher_is_better);
  if (!o.columns.empty()) {
    std::vector<std::string> cols;
    const auto have = printed.available_columns();
    for (const auto& c : o.columns)
      if (std::find(have.begin(), have.end(), c) != have.end()) cols.push_back(c);
    printed.select(cols);
  }
  std::cout << "\n## " << o.title << " (" << trials.size() << " trials; best " << printed.size() << " by "
            << o.sort_key << ")\n\n"
            << printed.to_markdown() << "\n";

  std::vector<ex::TrialRecord> curves(best.begin(), best.begin() + static_cast<std::ptrdiff_t>(std::min(best.size(), o.curves)));
  const auto c = ex::learning_curves(curves, dir / "curves.png", {.title = o.title + ": best " + std::to_string(curves.size()) + " trials"});
  const std::string metric_key = o.sort_key;
  const auto m = ex::metric_vs_param(trials, o.x_param, metric_key, dir / (metric_key + "_vs_" + o.x_param + ".png"),
                                     {.title = o.title + ": " + metric_key + " vs " + o.x_param, .group_by = o.group_by});
  for (const auto* p : {&c, &m})
    std::cout << (p->rendered ? "plot: " : "plot not rendered (" + p->note + "): ") << p->png.string() << "\n";
  std::cout << "tables: " << (dir / "results.md").string() << ", .csv, .json\n";
  return table.best();
}

}  // namespace examples
