#pragma once
// Result tables of a sweep, one row per trial, as Markdown (for reports), CSV and JSON.
//
// Columns, in order: "#" (the trial's index), every hyperparameter key (the union over
// all trials, in first-seen order), "params" (parameter count), every results key (union,
// first-seen order; a results key that is also a hyperparameter is shown as
// "<key> (result)"), "status" and "s/epoch". A diverged trial's status reads
// "diverged (step N)" and its results cells are empty, as are a failed trial's.
//
// Needs nlohmann/json; not included by strata.hpp.
//
// **Example**:
// ```
// experiment::Table table(journal.load());
// table.mark_best("val_accuracy", /*higher_is_better=*/true).sort_by("val_accuracy", /*descending=*/true);
// table.select({"#", "arch", "lr", "params", "val_accuracy", "status"});
// table.write_markdown("results.md");
// // |     # | arch              |        lr |  params | val_accuracy | status             |
// // |------:|-------------------|----------:|--------:|-------------:|--------------------|
// // | **1** | **mlp 2x16 relu** | **0.001** | **354** |   **0.9500** | **completed**      |
// // |     0 | mlp 2x16 relu     |       0.1 |     354 |       0.9125 | completed          |
// // |     2 | mlp 2x64 relu     |     1e-05 |    4610 |              | diverged (step 17) |
// ```
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "trial.hpp"

namespace strata::experiment {

namespace detail {

/// How a column's numbers are shown in Markdown.
enum class ColumnKind { index, param, count, result, status, seconds };

inline std::string format_double(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

/// A hyperparameter as people write it: 32, 0.5, 0.001, 1e-05.
inline std::string format_param(double v) {
  if (std::abs(v) < 1e15 && v == std::floor(v)) return format_double("%.0f", v);
  return format_double("%g", v);
}

/// A measured figure with 4 significant digits, trailing zeros kept so that a column
/// lines up: 0.9650, 12.35, 0.0001234 (as 1.234e-04), 23456.
inline std::string format_figure(double v) {
  if (std::abs(v) >= 1e4 && std::abs(v) < 1e15) return format_double("%.0f", v);
  if (v != 0 && std::abs(v) < 1e-3) return format_double("%.3e", v);
  std::string s = format_double("%#.4g", v);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

/// One CSV field, quoted as RFC 4180 asks when it holds a comma, a quote or a line break.
inline std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  q += '"';
  return q;
}

}  // namespace detail

class Table {
 public:
  using Json = nlohmann::ordered_json;

  /// A table of `trials`, rows in the given order, every column shown.
  explicit Table(std::vector<TrialRecord> trials) : trials_(std::move(trials)) {
    using detail::ColumnKind;
    add_column("#", ColumnKind::index);
    for (const auto& t : trials_)
      if (t.params.is_object())
        for (const auto& [k, v] : t.params.items())
          if (!has_column(k)) add_column(k, ColumnKind::param, k);
    add_column("params", ColumnKind::count);
    for (const auto& t : trials_)
      if (t.results.is_object())
        for (const auto& [k, v] : t.results.items()) {
          const bool taken = std::any_of(columns_.begin(), columns_.end(),
                                         [&](const Column& c) { return c.kind == ColumnKind::result && c.key == k; });
          if (taken) continue;
          add_column(has_column(k) ? k + " (result)" : k, ColumnKind::result, k);
        }
    add_column("status", ColumnKind::status);
    add_column("s/epoch", ColumnKind::seconds);

    cells_.resize(trials_.size());
    for (std::size_t r = 0; r < trials_.size(); ++r) {
      const auto& t = trials_[r];
      auto& row = cells_[r];
      row.reserve(columns_.size());
      for (const auto& c : columns_) row.push_back(cell_of(t, c));
    }
    order_.resize(trials_.size());
    for (std::size_t r = 0; r < order_.size(); ++r) order_[r] = r;
    shown_.resize(columns_.size());
    for (std::size_t c = 0; c < shown_.size(); ++c) shown_[c] = c;
  }

  /// Sorts the rows by `column`, stably: numbers numerically, text alphabetically, and
  /// empty, NaN and infinite cells last in either direction. Throws strata::option_error
  /// for an unknown column.
  Table& sort_by(const std::string& column, bool descending = false) {
    const std::size_t c = column_index(column, "sort_by");
    const auto rank = [](const Json& v) {
      if (v.is_number()) return std::isfinite(v.get<double>()) ? 0 : 2;
      if (v.is_string()) return 1;
      return v.is_null() ? 2 : 1;
    };
    std::stable_sort(order_.begin(), order_.end(), [&](std::size_t a, std::size_t b) {
      const Json& x = cells_[a][c];
      const Json& y = cells_[b][c];
      const int rx = rank(x), ry = rank(y);
      if (rx != ry) return rx < ry;
      if (rx == 0) return descending ? x.get<double>() > y.get<double>() : x.get<double>() < y.get<double>();
      if (rx == 1) {
        const std::string sx = text_of(x), sy = text_of(y);
        return descending ? sx > sy : sx < sy;
      }
      return false;
    });
    return *this;
  }

  /// Marks the row with the best finite number in `column` among the trials that
  /// finished normally (completed or stopped early); ties go to the earlier row. Markdown
  /// shows that row in bold; CSV and JSON gain a boolean "best" column. When no row
  /// qualifies nothing is marked (and best() throws). Throws strata::option_error for an
  /// unknown column.
  Table& mark_best(const std::string& column, bool higher_is_better) {
    const std::size_t c = column_index(column, "mark_best");
    best_column_ = column;
    best_.reset();
    for (std::size_t r : order_) {
      if (!finished_normally(trials_[r].status)) continue;
      const Json& v = cells_[r][c];
      if (!v.is_number() || !std::isfinite(v.get<double>())) continue;
      if (!best_) {
        best_ = r;
        continue;
      }
      const double b = cells_[*best_][c].get<double>(), x = v.get<double>();
      if (higher_is_better ? x > b : x < b) best_ = r;
    }
    marked_ = true;
    return *this;
  }

  /// Shows only `columns`, in that order. Throws strata::option_error naming an unknown
  /// column and listing the available ones.
  Table& select(const std::vector<std::string>& columns) {
    std::vector<std::size_t> shown;
    shown.reserve(columns.size());
    for (const auto& name : columns) shown.push_back(column_index(name, "select"));
    shown_ = std::move(shown);
    return *this;
  }

  /// Every column the table has, whether shown or not.
  std::vector<std::string> available_columns() const {
    std::vector<std::string> names;
    for (const auto& c : columns_) names.push_back(c.name);
    return names;
  }

  /// The columns shown, in order (without the "best" column of CSV and JSON).
  std::vector<std::string> columns() const {
    std::vector<std::string> names;
    for (std::size_t c : shown_) names.push_back(columns_[c].name);
    return names;
  }

  std::size_t size() const { return order_.size(); }

  /// The trial in row `row` (0-based, in the current order).
  const TrialRecord& trial(std::size_t row) const { return trials_.at(order_.at(row)); }

  /// The value in row `row` and `column`: a number, a string or null (empty).
  const Json& cell(std::size_t row, const std::string& column) const {
    return cells_.at(order_.at(row))[column_index(column, "cell")];
  }

  /// The trial of the row marked by mark_best. Throws strata::error when mark_best was
  /// not called or found no finished trial with a number in its column.
  const TrialRecord& best() const {
    if (!marked_) throw error("strata: Table::best: no best row: call mark_best(column, higher_is_better) first");
    if (!best_)
      throw error("strata: Table::best: no trial that completed or stopped early has a finite number in column '" +
                  best_column_ + "'");
    return trials_[*best_];
  }

  /// A GitHub pipe table: numeric columns right-aligned ("---:"), cells padded so that
  /// the text lines up, the best row (see mark_best) in bold. Hyperparameters are shown
  /// as written (0.001, 1e-05), integers as they are, other figures with 4 significant
  /// digits. Ends with a newline.
  std::string to_markdown() const {
    const std::size_t n = shown_.size();
    std::vector<std::vector<std::string>> text(order_.size(), std::vector<std::string>(n));
    std::vector<bool> numeric(n, true);
    std::vector<std::size_t> width(n, 3);
    for (std::size_t k = 0; k < n; ++k) {
      const auto& col = columns_[shown_[k]];
      width[k] = std::max(width[k], detail::display_width(markdown_escape(col.name)));
      for (std::size_t i = 0; i < order_.size(); ++i) {
        const Json& v = cells_[order_[i]][shown_[k]];
        if (!v.is_null() && !v.is_number()) numeric[k] = false;
        std::string s = markdown_escape(markdown_text(v, col.kind));
        if (best_ && order_[i] == *best_ && !s.empty()) s = std::string("**").append(s).append("**");
        width[k] = std::max(width[k], detail::display_width(s));
        text[i][k] = std::move(s);
      }
    }
    const auto pad = [&](const std::string& s, std::size_t k) {
      const std::string fill(width[k] - detail::display_width(s), ' ');
      return numeric[k] ? fill + s : s + fill;
    };
    std::string out = "|";
    // Appends piece by piece: " " + std::string trips GCC 12's -Wrestrict (PR 105651).
    const auto cell = [&](const std::string& text, std::size_t k) {
      out += ' ';
      out += pad(text, k);
      out += " |";
    };
    for (std::size_t k = 0; k < n; ++k) cell(markdown_escape(columns_[shown_[k]].name), k);
    out += "\n|";
    for (std::size_t k = 0; k < n; ++k)
      out += numeric[k] ? std::string(width[k] + 1, '-').append(":|") : std::string(width[k] + 2, '-').append("|");
    out += '\n';
    for (const auto& row : text) {
      out += '|';
      for (std::size_t k = 0; k < n; ++k) cell(row[k], k);
      out += '\n';
    }
    return out;
  }

  /// CSV with a header row, fields quoted as RFC 4180 asks, numbers in full precision
  /// (they read back to the same doubles), empty fields for empty cells, and a final
  /// "best" column (true/false) after mark_best. Lines end in "\n".
  std::string to_csv() const {
    std::string out;
    for (std::size_t k = 0; k < shown_.size(); ++k) {
      if (k) out += ',';
      out += detail::csv_field(columns_[shown_[k]].name);
    }
    if (marked_) out += ",best";
    out += '\n';
    for (std::size_t r : order_) {
      for (std::size_t k = 0; k < shown_.size(); ++k) {
        if (k) out += ',';
        out += detail::csv_field(plain_text(cells_[r][shown_[k]]));
      }
      if (marked_) out += best_ && *best_ == r ? ",true" : ",false";
      out += '\n';
    }
    return out;
  }

  /// An array with one object per row, keyed by the shown columns (plus "best" after
  /// mark_best); numbers in full precision, NaN and infinities as "nan", "inf", "-inf",
  /// empty cells as null.
  Json to_json() const {
    Json rows = Json::array();
    for (std::size_t r : order_) {
      Json row = Json::object();
      for (std::size_t c : shown_) {
        Json v = cells_[r][c];
        detail::encode_non_finite(v);
        row[columns_[c].name] = std::move(v);
      }
      if (marked_) row["best"] = best_ && *best_ == r;
      rows.push_back(std::move(row));
    }
    return rows;
  }

  /// Writes to_markdown(), to_csv() or to_json() (indented) to `file` atomically: a
  /// temporary file next to it is written, synced and renamed over it. Throws
  /// strata::io_error naming the file; any previous file is then unchanged.
  void write_markdown(const std::filesystem::path& file) const { detail::write_file_atomically(file, to_markdown()); }
  void write_csv(const std::filesystem::path& file) const { detail::write_file_atomically(file, to_csv()); }
  void write_json(const std::filesystem::path& file) const {
    detail::write_file_atomically(
        file, to_json().dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
  }

 private:
  struct Column {
    std::string name;
    detail::ColumnKind kind;
    std::string key;  // the params or results key, for those kinds
  };

  bool has_column(const std::string& name) const {
    return std::any_of(columns_.begin(), columns_.end(), [&](const Column& c) { return c.name == name; });
  }
  void add_column(std::string name, detail::ColumnKind kind, std::string key = {}) {
    columns_.push_back({std::move(name), kind, std::move(key)});
  }

  std::size_t column_index(const std::string& name, const char* caller) const {
    for (std::size_t c = 0; c < columns_.size(); ++c)
      if (columns_[c].name == name) return c;
    std::string list;
    for (const auto& c : columns_) list += (list.empty() ? "" : ", ") + ("'" + c.name + "'");
    throw option_error(std::string("strata: Table::") + caller + ": no column '" + name + "'; the columns are " + list);
  }

  static Json cell_of(const TrialRecord& t, const Column& c) {
    using detail::ColumnKind;
    switch (c.kind) {
      case ColumnKind::index: return t.index;
      case ColumnKind::param: {
        if (!t.params.is_object()) return nullptr;
        const auto it = t.params.find(c.key);
        return it == t.params.end() ? Json() : *it;
      }
      case ColumnKind::count: return t.parameter_count;
      case ColumnKind::result: {
        if (t.status == TrialStatus::diverged || t.status == TrialStatus::failed || !t.results.is_object())
          return nullptr;
        const auto it = t.results.find(c.key);
        return it == t.results.end() ? Json() : *it;
      }
      case ColumnKind::status:
        switch (t.status) {
          case TrialStatus::completed: return "completed";
          case TrialStatus::stopped_early: return "stopped early";
          case TrialStatus::diverged: return "diverged (step " + std::to_string(t.diverged_step) + ")";
          case TrialStatus::failed: return "failed";
        }
        return nullptr;
      case ColumnKind::seconds: return t.seconds_per_epoch;
    }
    return nullptr;
  }

  /// Text for sorting and CSV: strings as they are, numbers in full precision.
  static std::string plain_text(const Json& v) {
    if (v.is_null()) return {};
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_float() && !std::isfinite(v.get<double>()))
      return detail::number_to_json(v.get<double>()).get<std::string>();
    return v.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  static std::string text_of(const Json& v) { return plain_text(v); }

  static std::string markdown_text(const Json& v, detail::ColumnKind kind) {
    using detail::ColumnKind;
    if (v.is_number_float()) {
      const double x = v.get<double>();
      if (!std::isfinite(x)) return detail::number_to_json(x).get<std::string>();
      return kind == ColumnKind::param ? detail::format_param(x) : detail::format_figure(x);
    }
    return plain_text(v);
  }

  /// A cell's text made safe inside a pipe table: '|' escaped, line breaks as spaces.
  static std::string markdown_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
      if (c == '|') out += "\\|";
      else if (c == '\n' || c == '\r') out += ' ';
      else out += c;
    }
    return out;
  }

  std::vector<TrialRecord> trials_;
  std::vector<Column> columns_;
  std::vector<std::vector<Json>> cells_;  // [trial][column], trial in the order given
  std::vector<std::size_t> order_;        // rows: indices into trials_
  std::vector<std::size_t> shown_;        // indices into columns_
  std::optional<std::size_t> best_;       // index into trials_
  std::string best_column_;
  bool marked_ = false;
};

}  // namespace strata::experiment
