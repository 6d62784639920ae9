#pragma once
// Figures of a sweep as PNG files, drawn by gnuplot (Debian: gnuplot-nox).
//
// Each function writes three files side by side: the data (<name>.dat, one block per line
// of the figure, blocks separated by two blank lines and addressed by `index`), a gnuplot
// script (<name>.gp, readable and editable; `gnuplot <name>.gp` run in that directory
// redraws the figure) and the image (<name>.png), rendered by running gnuplot on the
// script. When gnuplot is not on PATH the .dat and .gp are still written and the result
// says so (rendered == false, with a note); nothing is thrown. When gnuplot fails its
// messages are in the note. Files that cannot be written throw strata::io_error.
//
// Non-finite values (a diverged trial's last losses) and values not measured are written
// as "?", gnuplot's missing-value mark, and skipped. Titles and legends are drawn as
// plain text (noenhanced), so underscores and carets show as they are.
//
// Needs nlohmann/json; not included by strata.hpp.
//
// **Example**:
// ```
// const auto trials = journal.load();
// experiment::learning_curves(trials, "runs/curves.png", {.title = "MLP on spirals", .label_keys = {"lr"}});
// experiment::metric_vs_param(trials, "lr", "val_accuracy", "runs/acc_vs_lr.png", {.group_by = "optimizer"});
// ```
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "trial.hpp"

extern char** environ;

namespace strata::experiment {

/// What a plot function wrote and whether the PNG was drawn.
struct PlotResult {
  std::filesystem::path png, script, data;
  bool rendered = false;  ///< the PNG was written by gnuplot
  std::string note;       ///< why it was not rendered, or gnuplot's warnings; empty when all went well
};

/// Which learning curves to draw.
enum class Quantity { loss, metric, both };

/// A legend text for a trial.
using TrialLabel = std::function<std::string(const TrialRecord&)>;

struct LearningCurveOptions {
  Quantity quantity = Quantity::both;  ///< both: loss and metric panels side by side
  std::string title = {};
  TrialLabel label = {};                     ///< legend text per trial; when empty, built from label_keys
  std::vector<std::string> label_keys = {};  ///< params shown as "lr=0.01, batch_size=32"; empty: those that vary
  std::size_t max_lines = 12;                ///< trials drawn (the first ones given); the note says how many were left out
  std::optional<bool> log_loss = {};         ///< log y for loss; automatic: when all losses > 0 span more than 20x
  int width = 0, height = 600;               ///< pixels; width 0: 1000, or 1500 with two panels
};

struct MetricVsParamOptions {
  std::string title = {};   ///< default: "<result_key> vs <param_key>"
  std::string xlabel = {};  ///< default: param_key
  std::string ylabel = {};  ///< default: result_key
  std::optional<bool> log_x = {};  ///< automatic: when all x > 0 and they span more than 20x
  std::string group_by = {};       ///< a param key: one line per value (e.g. "optimizer")
  int width = 1000, height = 600;
};

struct LrOptions {
  std::string title = "learning rate per epoch";
  TrialLabel label = {};
  std::vector<std::string> label_keys = {};
  std::size_t max_lines = 12;
  std::optional<bool> log_y = {};  ///< automatic: when all lr > 0 span more than 20x
  int width = 1000, height = 600;
};

/// One line or scatter of xy_series.
struct Series {
  std::string label;
  std::vector<double> x, y;
  std::string style = "points";  ///< "points", "lines" or "linespoints"
};

struct XYOptions {
  std::string title = {}, xlabel = {}, ylabel = {};
  bool log_x = false, log_y = false;
  int width = 1000, height = 600;
};

namespace detail {

inline constexpr const char* plot_colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                                               "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939"};

inline std::string plot_colour(std::size_t k) { return plot_colours[k % std::size(plot_colours)]; }

/// A gnuplot string literal: single quotes (no escapes are processed), a quote doubled,
/// line breaks as spaces.
inline std::string gp_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "''";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  out += '\'';
  return out;
}

/// A data value: the shortest text that reads back exactly, or "?" (missing) when not finite.
inline std::string gp_number(double v) {
  if (!std::isfinite(v)) return "?";
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}
inline std::string gp_number(const std::optional<double>& v) { return v ? gp_number(*v) : std::string("?"); }

/// Writes a whole file (not atomically: plots are cheap to redo); strata::io_error on failure.
inline void write_text_file(const std::filesystem::path& file, std::string_view contents) {
  Fd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.fd < 0) throw_os(file, "cannot create the file", errno);
  if (!write_all(fd.fd, contents.data(), contents.size())) throw_os(file, "cannot write", errno);
  if (fd.close() != 0) throw_os(file, "cannot close", errno);
}

/// The first executable `name` in the directories of $PATH.
inline std::optional<std::filesystem::path> find_on_path(const std::string& name) {
  const char* env = std::getenv("PATH");
  if (!env) return std::nullopt;
  const std::string path = env;
  std::size_t begin = 0;
  while (begin <= path.size()) {
    std::size_t end = path.find(':', begin);
    if (end == std::string::npos) end = path.size();
    const std::string dir = end > begin ? path.substr(begin, end - begin) : std::string(".");
    const std::filesystem::path candidate = std::filesystem::path(dir) / name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    begin = end + 1;
  }
  return std::nullopt;
}

/// The three files of a plot: <name>.png, <name>.gp, <name>.dat.
inline PlotResult plot_files(const std::filesystem::path& png) {
  PlotResult r;
  r.png = png;
  r.script = std::filesystem::path(png).replace_extension(".gp");
  r.data = std::filesystem::path(png).replace_extension(".dat");
  return r;
}

/// The script's first lines: terminal (pngcairo when gnuplot has it, else png), output,
/// missing-value mark, grid.
inline std::string gp_preamble(const PlotResult& files, int width, int height) {
  const std::string size = "size " + std::to_string(width) + "," + std::to_string(height);
  std::string s;
  s += "# Drawn by strata. Redraw: cd to this directory, then: gnuplot " + files.script.filename().string() + "\n";
  s += "# Data: " + files.data.filename().string() + ", one block per line of the figure (plot ... index k).\n";
  s += "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n";
  s += "  set terminal pngcairo " + size + " noenhanced font 'sans,11'\n";
  s += "} else {\n";
  s += "  set terminal png " + size + " noenhanced\n";
  s += "}\n";
  s += "set output " + gp_quote(files.png.filename().string()) + "\n";
  s += "set datafile missing '?'\n";
  s += "set grid lc rgb '#dddddd'\n";
  s += "set border lc rgb '#555555'\n";
  s += "datafile = " + gp_quote(files.data.filename().string()) + "\n";
  return s;
}

/// Runs `gnuplot <script>` in the script's directory and collects its messages.
inline void render(PlotResult& r) {
  const auto gnuplot = find_on_path("gnuplot");
  if (!gnuplot) {
    r.rendered = false;
    r.note = "gnuplot is not on PATH (Debian: apt install gnuplot-nox); the data and script are written: run "
             "`gnuplot " + r.script.filename().string() + "` in " + quoted_path(directory_of(r.script)) + " to draw " +
             r.png.filename().string();
    return;
  }
  const auto dir = std::filesystem::absolute(directory_of(r.script));
  const auto script = std::filesystem::absolute(r.script);
  // A failed run must not leave an older image looking like the result.
  std::error_code ec;
  std::filesystem::remove(r.png, ec);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_os(r.script, "cannot create a pipe to run gnuplot", errno);
  Fd read_end(fds[0]), write_end(fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.fd, 1);
  posix_spawn_file_actions_adddup2(&actions, write_end.fd, 2);
  const std::string cd = "cd " + gp_quote(dir.string());
  std::string arg0 = gnuplot->string(), arg1 = "-e", arg3 = script.string();
  std::string arg2 = cd;
  char* argv[] = {arg0.data(), arg1.data(), arg2.data(), arg3.data(), nullptr};
  pid_t pid = 0;
  const int spawn_err = ::posix_spawn(&pid, arg0.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  write_end.close();
  if (spawn_err != 0) {
    r.rendered = false;
    r.note = "cannot start " + gnuplot->string() + ": " + std::strerror(spawn_err);
    return;
  }
  std::string output;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(read_end.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buf, static_cast<std::size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  r.rendered = ok && std::filesystem::is_regular_file(r.png, ec) && std::filesystem::file_size(r.png, ec) > 0;
  if (!ok) {
    r.note = "gnuplot failed (" +
             (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                : "killed by signal " + std::to_string(WIFSIGNALED(status) ? WTERMSIG(status) : 0)) +
             ") on " + quoted_path(r.script) + (output.empty() ? std::string() : ": " + output);
  } else if (!r.rendered) {
    r.note = "gnuplot ran but wrote no image " + quoted_path(r.png) + (output.empty() ? std::string() : ": " + output);
  } else {
    r.note = output;  // warnings, if any
  }
}

/// Writes the data and script, then renders.
inline PlotResult finish_plot(PlotResult r, const std::string& data, const std::string& script,
                              const std::string& extra_note = {}) {
  write_text_file(r.data, data);
  write_text_file(r.script, script);
  render(r);
  if (!extra_note.empty()) r.note = r.note.empty() ? extra_note : extra_note + "; " + r.note;
  return r;
}

/// The value of a param as legend text: strings as they are, numbers as written.
inline std::string param_text(const nlohmann::ordered_json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v.get<double>());
    return buf;
  }
  return v.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

/// The params whose values differ between `trials` (first-seen order); a param that some
/// trials lack differs too.
inline std::vector<std::string> varying_params(const std::vector<const TrialRecord*>& trials) {
  std::vector<std::string> keys;
  for (const auto* t : trials)
    if (t->params.is_object())
      for (const auto& [k, v] : t->params.items())
        if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  const auto value = [](const TrialRecord& t, const std::string& k) -> const nlohmann::ordered_json* {
    if (!t.params.is_object()) return nullptr;
    const auto it = t.params.find(k);
    return it == t.params.end() ? nullptr : &*it;
  };
  std::vector<std::string> varying;
  for (const auto& k : keys) {
    const auto* first = value(*trials.front(), k);
    for (const auto* t : trials) {
      const auto* v = value(*t, k);
      if ((v == nullptr) != (first == nullptr) || (v && *v != *first)) {
        varying.push_back(k);
        break;
      }
    }
  }
  return varying;
}

/// Legend text of a trial: the label function, or "key=value, ..." of `keys`, or "#index".
inline std::string trial_label(const TrialRecord& t, const TrialLabel& label, const std::vector<std::string>& keys) {
  if (label) return label(t);
  std::string s;
  for (const auto& k : keys) {
    if (!t.params.is_object()) break;
    const auto it = t.params.find(k);
    if (it == t.params.end()) continue;
    s += (s.empty() ? "" : ", ") + k + "=" + param_text(*it);
  }
  return s.empty() ? "#" + std::to_string(t.index) : s;
}

/// Whether finite positive values spanning more than 20x call for a log axis.
inline bool wants_log(const std::vector<double>& values) {
  double lo = 0, hi = 0;
  bool any = false;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    if (v <= 0) return false;
    lo = any ? std::min(lo, v) : v;
    hi = any ? std::max(hi, v) : v;
    any = true;
  }
  return any && hi > 20 * lo;
}

/// Chooses the trials to draw and their legend texts.
inline std::vector<std::pair<const TrialRecord*, std::string>> pick_trials(const std::vector<TrialRecord>& trials,
                                                                           std::size_t max_lines,
                                                                           const TrialLabel& label,
                                                                           const std::vector<std::string>& label_keys,
                                                                           std::string& note) {
  std::vector<const TrialRecord*> drawn;
  for (const auto& t : trials) {
    if (drawn.size() >= max_lines) break;
    drawn.push_back(&t);
  }
  if (trials.size() > drawn.size())
    note = "drew the first " + std::to_string(drawn.size()) + " of " + std::to_string(trials.size()) +
           " trials (max_lines)";
  const auto keys = label_keys.empty() ? varying_params(drawn) : label_keys;
  std::vector<std::pair<const TrialRecord*, std::string>> out;
  for (const auto* t : drawn) out.emplace_back(t, trial_label(*t, label, keys));
  // Two trials with the same text (a param left out of the label): tell them apart by index.
  std::vector<bool> repeated(out.size(), false);
  for (std::size_t i = 0; i < out.size(); ++i)
    for (std::size_t j = 0; j < out.size(); ++j)
      if (i != j && out[i].second == out[j].second) repeated[i] = true;
  for (std::size_t i = 0; i < out.size(); ++i)
    if (repeated[i]) out[i].second += " (#" + std::to_string(out[i].first->index) + ")";
  return out;
}

/// gnuplot data: `header`, then one block per drawn trial ("# index k: trial #i label"), a
/// line per epoch from `row(epoch)`; a trial without epochs gets `empty_row`, so that
/// gnuplot still counts its block and the indices stay those of the legend.
template <class Row>
std::string trial_blocks(const std::vector<std::pair<const TrialRecord*, std::string>>& drawn, std::string header,
                         const char* empty_row, Row row) {
  std::string data = std::move(header);
  for (std::size_t k = 0; k < drawn.size(); ++k) {
    const auto& [t, label] = drawn[k];
    if (k) data += "\n\n";
    data += "# index " + std::to_string(k) + ": trial #" + std::to_string(t->index) + " " + label + "\n";
    for (const auto& e : t->history) data += row(e) + '\n';
    if (t->history.empty()) data += std::string(empty_row) + '\n';
  }
  return data;
}

/// Right margin (screen fraction) that leaves room for a legend of these labels.
/// Pixels the legend takes: sample line, gaps and the longest text at 11 pt.
inline double legend_pixels(const std::vector<std::string>& labels) {
  std::size_t longest = 5;
  for (const auto& l : labels) longest = std::max(longest, display_width(l));
  return 90.0 + 8.5 * static_cast<double>(longest);
}
inline double legend_room(const std::vector<std::string>& labels, int width) {
  return std::clamp(legend_pixels(labels) / static_cast<double>(width), 0.10, 0.6);
}

}  // namespace detail

/// Train (dashed) and validation (solid) curves per epoch, one colour per trial: loss and
/// metric side by side (Quantity::both), or one of them. The legend, one entry per trial
/// plus the train/val line styles, sits right of the plots. The metric panel is left out
/// when no trial has a metric.
///
/// **Example**: learning_curves(trials, "curves.png", {.title = "spirals", .label_keys = {"optimizer", "lr"}})
inline PlotResult learning_curves(const std::vector<TrialRecord>& trials, const std::filesystem::path& png,
                                  const LearningCurveOptions& options = {}) {
  using detail::gp_number;
  using detail::gp_quote;
  PlotResult files = detail::plot_files(png);
  std::string note;
  const auto drawn = detail::pick_trials(trials, options.max_lines, options.label, options.label_keys, note);
  if (drawn.empty()) note = "nothing to plot";

  std::string metric_name;
  bool any_metric = false;
  std::vector<double> losses;
  for (const auto& d : drawn)
    if (metric_name.empty()) metric_name = d.first->metric_name;
  const std::string data = detail::trial_blocks(
      drawn, "# epoch train_loss val_loss train_metric val_metric lr\n", "1 ? ? ? ? ?", [&](const EpochRecord& e) {
        losses.push_back(e.train_loss);
        if (e.val_loss) losses.push_back(*e.val_loss);
        any_metric = any_metric || (e.train_metric && std::isfinite(*e.train_metric)) ||
                     (e.val_metric && std::isfinite(*e.val_metric));
        return std::to_string(e.epoch) + ' ' + gp_number(e.train_loss) + ' ' + gp_number(e.val_loss) + ' ' +
               gp_number(e.train_metric) + ' ' + gp_number(e.val_metric) + ' ' + gp_number(e.lr);
      });
  if (metric_name.empty()) metric_name = "metric";

  std::vector<Quantity> panels;
  if (options.quantity != Quantity::metric) panels.push_back(Quantity::loss);
  if (options.quantity != Quantity::loss && any_metric) panels.push_back(Quantity::metric);
  if (panels.empty()) {
    panels.push_back(Quantity::loss);
    note += std::string(note.empty() ? "" : "; ") + "no trial has a metric: drew the loss instead";
  }
  std::vector<std::string> labels;
  for (const auto& d : drawn) labels.push_back(d.second);
  labels.push_back("train (dashed)");
  // Without a given width, the panels keep their size and the image grows with the legend.
  const int width = options.width > 0 ? options.width
                                      : (panels.size() == 2 ? 1100 : 700) + static_cast<int>(detail::legend_pixels(labels));
  const int height = options.height > 0 ? options.height : 600;
  const double key_room = detail::legend_room(labels, width);
  // Room for the tick labels and y label of each panel: about 90 pixels.
  const double left = 90.0 / width, gap = 100.0 / width;
  const double plot_right = 1.0 - key_room;
  const double panel_width = (plot_right - left - gap * static_cast<double>(panels.size() - 1)) /
                             static_cast<double>(panels.size());
  const bool title = !options.title.empty();
  const double top = title ? 0.88 : 0.95;

  std::string gp = detail::gp_preamble(files, width, height);
  gp += "set multiplot" + (title ? " title " + gp_quote(options.title) + " font ',13'" : std::string()) + "\n";
  gp += "set tmargin at screen " + gp_number(top) + "\nset bmargin at screen 0.11\n";
  gp += "set xlabel 'epoch'\nset xtics nomirror\nset ytics nomirror\nset mxtics\n";
  // y fitted to the data plus 3% on each side, so that curves at their extremes stay off the border.
  gp += "set autoscale yfix\nset offsets 0, 0, graph 0.03, graph 0.03\n";
  for (std::size_t p = 0; p < panels.size(); ++p) {
    const bool loss = panels[p] == Quantity::loss;
    const double l = left + static_cast<double>(p) * (panel_width + gap);
    gp += "\n# panel " + std::to_string(p + 1) + ": " + (loss ? std::string("loss") : metric_name) + "\n";
    gp += "set lmargin at screen " + gp_number(l) + "\nset rmargin at screen " + gp_number(l + panel_width) + "\n";
    // One panel under a figure title needs no title of its own: its y label names it.
    gp += panels.size() == 1 && title ? std::string("unset title\n")
                                      : "set title " + gp_quote(loss ? "loss" : metric_name) + "\n";
    gp += "set ylabel " + gp_quote(loss ? "loss" : metric_name) + "\n";
    const bool log_y = loss && options.log_loss.value_or(detail::wants_log(losses));
    gp += log_y ? "set logscale y\n" : "unset logscale y\n";
    const bool with_key = p + 1 == panels.size();
    if (with_key)
      gp += "set key at screen " + gp_number(plot_right + 0.01) + "," + gp_number(top) +
            " left top Left reverse samplen 3 spacing 1.1 box lc rgb '#bbbbbb' opaque\n";
    else
      gp += "unset key\n";
    const int train_col = loss ? 2 : 4, val_col = loss ? 3 : 5;
    std::string plot;
    for (std::size_t k = 0; k < drawn.size(); ++k) {
      const std::string idx = std::to_string(k), colour = gp_quote(detail::plot_colour(k));
      plot += std::string(plot.empty() ? "plot " : ", \\\n     ") + "datafile index " + idx + " using 1:" +
              std::to_string(val_col) + " with lines lw 2 dt 1 lc rgb " + colour +
              (with_key ? " title " + gp_quote(drawn[k].second) : std::string(" notitle"));
      plot += ", \\\n     datafile index " + idx + " using 1:" + std::to_string(train_col) +
              " with lines lw 1.5 dt 2 lc rgb " + colour + " notitle";
    }
    if (drawn.empty())
      plot = "set label 1 'no trials to plot' at graph 0.5, graph 0.5 center\nplot [0:1] [0:1] -1 notitle";
    else if (with_key)
      plot += std::string(", \\\n     ") +
              "keyentry with lines lw 1.5 dt 2 lc rgb 'black' title 'train (dashed)', \\\n"
              "     keyentry with lines lw 2 dt 1 lc rgb 'black' title 'val (solid)'";
    gp += plot + "\n";
  }
  gp += "unset multiplot\n";
  return detail::finish_plot(files, data, gp, note);
}

/// A final figure against a hyperparameter, e.g. validation accuracy against the learning
/// rate, one line per value of options.group_by (e.g. the optimizer). Trials that diverged
/// or failed, and those without a finite number for either key, are left out (the note
/// counts them). Where several trials of a group share an x (other params varied), the
/// line joins their means and each trial is a small point. A param with text values
/// (e.g. "arch") gives a categorical axis.
///
/// **Example**: metric_vs_param(trials, "lr", "val_accuracy", "acc_vs_lr.png", {.group_by = "optimizer"})
inline PlotResult metric_vs_param(const std::vector<TrialRecord>& trials, const std::string& param_key,
                                  const std::string& result_key, const std::filesystem::path& png,
                                  const MetricVsParamOptions& options = {}) {
  using detail::gp_number;
  using detail::gp_quote;
  PlotResult files = detail::plot_files(png);

  // Collect (group, x, y); x is a number, or a category's position for text values.
  std::vector<std::string> categories;
  bool categorical = false;
  for (const auto& t : trials) {
    const auto it = t.params.is_object() ? t.params.find(param_key) : t.params.end();
    if (t.params.is_object() && it != t.params.end() && !it->is_number()) categorical = true;
  }
  struct Point {
    double x, y;
  };
  std::vector<std::string> groups;
  std::vector<std::vector<Point>> points;
  std::size_t left_out = 0;
  for (const auto& t : trials) {
    if (!finished_normally(t.status) || !t.params.is_object() || !t.results.is_object()) {
      ++left_out;
      continue;
    }
    const auto xi = t.params.find(param_key);
    const auto yi = t.results.find(result_key);
    if (xi == t.params.end() || yi == t.results.end() || !yi->is_number() ||
        !std::isfinite(yi->get<double>()) || (!categorical && !std::isfinite(xi->get<double>()))) {
      ++left_out;
      continue;
    }
    double x = 0;
    if (categorical) {
      const std::string c = detail::param_text(*xi);
      auto pos = std::find(categories.begin(), categories.end(), c);
      if (pos == categories.end()) pos = categories.insert(categories.end(), c);
      x = static_cast<double>(pos - categories.begin());
    } else {
      x = xi->get<double>();
    }
    std::string group;
    if (!options.group_by.empty()) {
      const auto gi = t.params.find(options.group_by);
      group = options.group_by + "=" + (gi == t.params.end() ? std::string("(none)") : detail::param_text(*gi));
    }
    auto g = std::find(groups.begin(), groups.end(), group);
    if (g == groups.end()) {
      groups.push_back(group);
      points.emplace_back();
      g = groups.end() - 1;
    }
    points[static_cast<std::size_t>(g - groups.begin())].push_back({x, yi->get<double>()});
  }
  std::string note =
      left_out ? std::to_string(left_out) + " of " + std::to_string(trials.size()) +
                     " trials left out (diverged, failed, or without a finite " + param_key + " and " + result_key + ")"
               : std::string();

  // Blocks: for group g, index 2g holds x and the mean y per x (the line), index 2g+1 every trial.
  std::string data = "# " + param_key + " " + result_key + "\n";
  std::vector<double> xs;
  std::vector<bool> has_repeats(groups.size(), false);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    auto& pts = points[g];
    std::stable_sort(pts.begin(), pts.end(), [](const Point& a, const Point& b) { return a.x < b.x; });
    if (g) data += "\n\n";
    data += "# index " + std::to_string(2 * g) + ": " + (groups[g].empty() ? result_key : groups[g]) + ", mean per x\n";
    for (std::size_t i = 0; i < pts.size();) {
      std::size_t j = i;
      double sum = 0;
      while (j < pts.size() && pts[j].x == pts[i].x) sum += pts[j++].y;
      if (j - i > 1) has_repeats[g] = true;
      data += gp_number(pts[i].x) + ' ' + gp_number(sum / static_cast<double>(j - i)) + '\n';
      xs.push_back(pts[i].x);
      i = j;
    }
    data += "\n\n# index " + std::to_string(2 * g + 1) + ": every trial\n";
    for (const auto& p : pts) data += gp_number(p.x) + ' ' + gp_number(p.y) + '\n';
  }

  const bool log_x = !categorical && options.log_x.value_or(detail::wants_log(xs));
  std::string gp = detail::gp_preamble(files, options.width, options.height);
  gp += "set title " + gp_quote(options.title.empty() ? result_key + " vs " + param_key : options.title) + " font ',13'\n";
  gp += "set xlabel " + gp_quote(options.xlabel.empty() ? param_key : options.xlabel) + "\n";
  gp += "set ylabel " + gp_quote(options.ylabel.empty() ? result_key : options.ylabel) + "\n";
  gp += "set xtics nomirror\nset ytics nomirror\n";
  if (log_x) gp += "set logscale x 10\nset format x '%g'\nset mxtics 10\n";
  if (categorical) {
    std::string tics;
    for (std::size_t c = 0; c < categories.size(); ++c)
      tics += (c ? ", " : "") + gp_quote(categories[c]) + " " + std::to_string(c);
    gp += "set xtics (" + tics + ")\nset xrange [-0.5:" + gp_number(static_cast<double>(categories.size()) - 0.5) +
          "]\n";
  } else if (!xs.empty()) {
    // Leave a little room at both ends so that the end points are not on the border.
    const auto [lo, hi] = std::minmax_element(xs.begin(), xs.end());
    if (log_x)
      gp += "set xrange [" + gp_number(*lo / 1.5) + ":" + gp_number(*hi * 1.5) + "]\n";
    else if (*hi > *lo)
      gp += "set xrange [" + gp_number(*lo - 0.05 * (*hi - *lo)) + ":" + gp_number(*hi + 0.05 * (*hi - *lo)) + "]\n";
  }
  gp += "set autoscale yfix\nset offsets 0, 0, graph 0.05, graph 0.05\n";
  const bool keyed = !options.group_by.empty();
  gp += keyed ? "set key outside right top Left reverse box lc rgb '#bbbbbb'\n" : "unset key\n";
  std::string plot;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const std::string colour = gp_quote(detail::plot_colour(g));
    plot += std::string(plot.empty() ? "plot " : ", \\\n     ") + "datafile index " + std::to_string(2 * g) +
            " using 1:2 with linespoints lw 2 pt 7 ps 1.2 lc rgb " + colour +
            (keyed ? " title " + gp_quote(groups[g]) : std::string(" notitle"));
    if (has_repeats[g])
      plot += ", \\\n     datafile index " + std::to_string(2 * g + 1) + " using 1:2 with points pt 6 ps 0.8 lc rgb " +
              colour + " notitle";
  }
  if (plot.empty()) {
    note += std::string(note.empty() ? "" : "; ") + "nothing to plot";
    plot = "set label 1 'no finite values to plot' at graph 0.5, graph 0.5 center\nplot [0:1] [0:1] -1 notitle";
  }
  gp += plot + "\n";
  return detail::finish_plot(files, data, gp, note);
}

/// The learning rate of each epoch (the lr column of each history), one line per trial;
/// log y when the rates span more than 20x.
inline PlotResult lr_per_epoch(const std::vector<TrialRecord>& trials, const std::filesystem::path& png,
                               const LrOptions& options = {}) {
  using detail::gp_number;
  using detail::gp_quote;
  PlotResult files = detail::plot_files(png);
  std::string note;
  const auto drawn = detail::pick_trials(trials, options.max_lines, options.label, options.label_keys, note);
  std::vector<double> lrs;
  const std::string data = detail::trial_blocks(drawn, "# epoch lr\n", "1 ?", [&](const EpochRecord& e) {
    lrs.push_back(e.lr);
    return std::to_string(e.epoch) + ' ' + gp_number(e.lr);
  });
  std::string gp = detail::gp_preamble(files, options.width, options.height);
  if (!options.title.empty()) gp += "set title " + gp_quote(options.title) + " font ',13'\n";
  gp += "set xlabel 'epoch'\nset ylabel 'learning rate'\nset xtics nomirror\nset ytics nomirror\n";
  gp += "set autoscale yfix\nset offsets 0, 0, graph 0.03, graph 0.03\n";
  if (options.log_y.value_or(detail::wants_log(lrs))) gp += "set logscale y 10\nset format y '%g'\n";
  gp += "set key outside right top Left reverse box lc rgb '#bbbbbb'\n";
  std::string plot;
  for (std::size_t k = 0; k < drawn.size(); ++k)
    plot += std::string(plot.empty() ? "plot " : ", \\\n     ") + "datafile index " + std::to_string(k) +
            " using 1:2 with lines lw 2 lc rgb " + gp_quote(detail::plot_colour(k)) + " title " +
            gp_quote(drawn[k].second);
  if (plot.empty()) {
    note += std::string(note.empty() ? "" : "; ") + "nothing to plot";
    plot = "plot [0:1] [0:1] -1 notitle";
  }
  gp += plot + "\n";
  return detail::finish_plot(files, data, gp, note);
}

/// Any x-y data, e.g. predicted sigma against a feature: each series is one block, drawn
/// with its style ("points", "lines" or "linespoints") in its own colour. Throws
/// strata::option_error when a series' x and y differ in length or its style is unknown.
inline PlotResult xy_series(const std::vector<Series>& series, const std::filesystem::path& png,
                            const XYOptions& options = {}) {
  using detail::gp_number;
  using detail::gp_quote;
  for (const auto& s : series) {
    if (s.x.size() != s.y.size())
      throw option_error("strata: xy_series: series '" + s.label + "' has " + std::to_string(s.x.size()) +
                         " x values but " + std::to_string(s.y.size()) + " y values");
    if (s.style != "points" && s.style != "lines" && s.style != "linespoints")
      throw option_error("strata: xy_series: series '" + s.label + "' has style '" + s.style +
                         "'; use \"points\", \"lines\" or \"linespoints\"");
  }
  PlotResult files = detail::plot_files(png);
  std::string data = "# x y\n";
  for (std::size_t k = 0; k < series.size(); ++k) {
    if (k) data += "\n\n";
    data += "# index " + std::to_string(k) + ": " + series[k].label + "\n";
    for (std::size_t i = 0; i < series[k].x.size(); ++i)
      data += gp_number(series[k].x[i]) + ' ' + gp_number(series[k].y[i]) + '\n';
    if (series[k].x.empty()) data += "0 ?\n";  // keeps the block counted
  }
  std::string gp = detail::gp_preamble(files, options.width, options.height);
  if (!options.title.empty()) gp += "set title " + gp_quote(options.title) + " font ',13'\n";
  if (!options.xlabel.empty()) gp += "set xlabel " + gp_quote(options.xlabel) + "\n";
  if (!options.ylabel.empty()) gp += "set ylabel " + gp_quote(options.ylabel) + "\n";
  gp += "set xtics nomirror\nset ytics nomirror\n";
  if (options.log_x) gp += "set logscale x 10\nset format x '%g'\n";
  if (options.log_y) gp += "set logscale y 10\nset format y '%g'\n";
  const bool keyed = std::any_of(series.begin(), series.end(), [](const Series& s) { return !s.label.empty(); });
  gp += keyed ? "set key outside right top Left reverse box lc rgb '#bbbbbb'\n" : "unset key\n";
  std::string plot;
  for (std::size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    const std::string colour = gp_quote(detail::plot_colour(k));
    const std::string style = s.style == "points"  ? "with points pt 7 ps 0.6"
                              : s.style == "lines" ? "with lines lw 2"
                                                   : "with linespoints lw 2 pt 7 ps 0.8";
    plot += std::string(plot.empty() ? "plot " : ", \\\n     ") + "datafile index " + std::to_string(k) +
            " using 1:2 " + style + " lc rgb " + colour +
            (s.label.empty() ? std::string(" notitle") : " title " + gp_quote(s.label));
  }
  std::string note;
  if (plot.empty()) {
    note = "nothing to plot";
    plot = "plot [0:1] [0:1] -1 notitle";
  }
  gp += plot + "\n";
  return detail::finish_plot(files, data, gp, note);
}

}  // namespace strata::experiment
