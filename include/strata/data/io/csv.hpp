#pragma once
// Numeric CSV files, plain or gzip-compressed, including scikit-learn's bundled data sets.
//
// Every cell must be a finite number, every row must have as many cells as the first, and
// nothing is returned until the whole file has passed; each error names the file, the line
// and column, what was expected and what was found.
//
// Headers come in three forms, and `CsvHeader::automatic` recognises each:
//   - none: every line is data (sklearn's digits.csv.gz, diabetes_*.csv.gz);
//   - a names row, every cell non-numeric ("CRIM","ZN",... or `Chins Situps Jumps`);
//   - scikit-learn's count line `n_samples,n_features[,class names...]` (iris.csv:
//     `150,4,setosa,versicolor,virginica`; boston_house_prices.csv: `506,13,,,...`),
//     optionally followed by a names row. The counts are checked against the data, which
//     then holds n_features feature columns and one target column.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "file.hpp"

namespace strata::data {

/// How the first lines of a CSV file are read.
enum class CsvHeader {
  automatic,  ///< detect sklearn's count line, then a names row (all cells non-numeric)
  none,       ///< every line is data
  names,      ///< the first line names the columns
  sklearn,    ///< the first line is `n_samples,n_features[,class names]`, a names row may follow
};

/// A column chosen by 0-based index (negative counts from the end: -1 is the last) or by
/// its name in the header row. Default-constructed: no column.
class CsvColumn {
 public:
  CsvColumn() = default;
  CsvColumn(std::integral auto index) : kind_(Kind::index), index_(static_cast<std::ptrdiff_t>(index)) {}
  CsvColumn(std::string name) : kind_(Kind::name), name_(std::move(name)) {}
  CsvColumn(const char* name) : CsvColumn(std::string(name)) {}

  bool empty() const { return kind_ == Kind::none; }
  bool by_name() const { return kind_ == Kind::name; }
  std::ptrdiff_t index() const { return index_; }
  const std::string& name() const { return name_; }

 private:
  enum class Kind { none, index, name } kind_ = Kind::none;
  std::ptrdiff_t index_ = 0;
  std::string name_;
};

struct CsvOptions {
  /// The target column, moved out of the features into `CsvTable::target`. Empty: none.
  CsvColumn target = {};
  CsvHeader header = CsvHeader::automatic;
  /// Field separator. 0: ',' when the first line contains one, else whitespace;
  /// ' ': runs of spaces and tabs (sklearn's diabetes files); any other char: that char.
  char delimiter = 0;
};

/// A numeric table read from a CSV file.
template <class T = float>
struct CsvTable {
  std::size_t rows = 0;                     ///< data rows (samples)
  std::size_t cols = 0;                     ///< feature columns (without the target)
  std::vector<T> features;                  ///< rows x cols, row-major: sample after sample
  std::vector<T> target;                    ///< one value per row; empty without a target column
  std::vector<std::string> feature_names;   ///< from the names row; empty when there is none
  std::string target_name;                  ///< the target column's name, when there is a names row
  std::vector<std::string> class_names;     ///< from sklearn's count line (iris: setosa, ...)

  /// Feature `col` of sample `row`. `features` is also the column-major cols x rows matrix
  /// with one sample per column: `Eigen::Map<Eigen::MatrixXf>(t.features.data(), t.cols, t.rows)`.
  T feature(std::size_t row, std::size_t col) const { return features[row * cols + col]; }
};

namespace detail {

struct CsvLine {
  std::size_t number = 0;  // 1-based
  std::vector<std::string> fields;
};

inline std::string shorten(std::string_view s) {
  if (s.size() <= 40) return std::string(s);
  return std::string(s.substr(0, 37)) + "...";
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// Splits one line. With ',' (or another char) fields may be double-quoted, with "" for a
/// quote inside; with ' ' fields are separated by runs of blanks.
inline std::vector<std::string> split_csv_line(const std::filesystem::path& file, std::string_view line,
                                               std::size_t number, char delim) {
  std::vector<std::string> fields;
  if (delim == ' ') {
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i == line.size()) break;
      std::size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
      fields.emplace_back(line.substr(i, j - i));
      i = j;
    }
    return fields;
  }
  std::size_t i = 0;
  for (;;) {
    std::string field;
    std::size_t j = i;
    while (j < line.size() && (line[j] == ' ' || line[j] == '\t')) ++j;
    if (j < line.size() && line[j] == '"') {
      const std::size_t open = j;
      ++j;
      for (;;) {
        if (j >= line.size())
          throw_data(file, "line " + std::to_string(number) + ", character " + std::to_string(open + 1) +
                               ": unterminated quoted field, expected a closing '\"' before the end of the line");
        if (line[j] == '"') {
          if (j + 1 < line.size() && line[j + 1] == '"') {
            field += '"';
            j += 2;
            continue;
          }
          ++j;
          break;
        }
        field += line[j++];
      }
      while (j < line.size() && (line[j] == ' ' || line[j] == '\t')) ++j;
      if (j < line.size() && line[j] != delim)
        throw_data(file, "line " + std::to_string(number) + ", character " + std::to_string(j + 1) +
                             ": expected the delimiter '" + std::string(1, delim) + "' after a quoted field, found '" +
                             std::string(1, line[j]) + "'");
    } else {
      const std::size_t end = std::min(line.find(delim, i), line.size());
      field = std::string(trim(line.substr(i, end - i)));
      j = end;
    }
    fields.push_back(std::move(field));
    if (j >= line.size()) break;
    i = j + 1;  // past the delimiter
  }
  return fields;
}

/// The value of a numeric cell, or nothing. Accepts what strtod accepts in the C locale
/// (a leading '+', exponents), but not inf or nan.
inline std::optional<double> parse_number(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

template <class T>
const char* float_name() {
  if constexpr (std::is_same_v<T, float>) return "float";
  else if constexpr (std::is_same_v<T, double>) return "double";
  else return "long double";
}

/// The largest finite T, as "3.40282e+38".
template <class T>
std::string largest() {
  std::ostringstream os;
  os << std::numeric_limits<T>::max();
  return os.str();
}

inline bool is_count(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// The value of a cell that is_count accepts, or nothing when it is over 2^64 - 1.
inline std::optional<std::size_t> parse_count(std::string_view s) {
  std::size_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

/// sklearn's first line: two counts, then at least one more cell, none of them numeric
/// (class names, or empty cells as in boston_house_prices.csv).
inline bool is_sklearn_count_line(const std::vector<std::string>& f) {
  if (f.size() < 3 || !is_count(f[0]) || !is_count(f[1])) return false;
  return std::none_of(f.begin() + 2, f.end(), [](const std::string& s) { return parse_number(s).has_value(); });
}

/// A names row: every cell non-empty and non-numeric.
inline bool is_names_line(const std::vector<std::string>& f) {
  return std::all_of(f.begin(), f.end(), [](const std::string& s) { return !s.empty() && !parse_number(s); });
}

}  // namespace detail

/// Parses the bytes of a CSV file already in memory (gunzipped when they start with the
/// gzip magic), exactly as read_csv parses a file: `file` only names the data in messages.
/// Throws strata::data_error as read_csv does; `bytes` is not kept.
///
/// **Example**:
/// ```cpp
/// const std::string text = "x,y\n1,2\n3,4\n";
/// auto t = data::parse_csv({reinterpret_cast<const unsigned char*>(text.data()), text.size()}, "inline.csv",
///                          {.target = "y"});
/// // t.rows == 2, t.cols == 1, t.target == {2, 4}
/// ```
template <class T = float>
CsvTable<T> parse_csv(std::span<const unsigned char> bytes, const std::filesystem::path& file,
                      const CsvOptions& options = {}) {
  using detail::throw_data;
  const detail::FileBytes fb = detail::unpack(bytes, file);
  const std::string_view text(reinterpret_cast<const char*>(fb.bytes.data()), fb.bytes.size());
  const std::string where_prefix = fb.gzipped ? " of the gunzipped data" : "";
  auto at_line = [&](std::size_t line) { return "line " + std::to_string(line) + where_prefix; };

  // Split into non-blank lines.
  std::vector<std::pair<std::size_t, std::string_view>> lines;
  {
    std::size_t start = 0, number = 1;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!detail::trim(line).empty()) lines.emplace_back(number, line);
      start = end + 1;
      ++number;
    }
  }
  if (lines.empty()) throw_data(file, "no data: the file is empty (or holds only blank lines), expected rows of numbers");

  char delim = options.delimiter;
  if (delim == 0) delim = lines.front().second.find(',') != std::string_view::npos ? ',' : ' ';
  if (delim == '\t') delim = ' ';
  auto split = [&](std::size_t i) { return detail::split_csv_line(file, lines[i].second, lines[i].first, delim); };

  CsvTable<T> out;
  std::size_t next = 0;
  std::optional<std::size_t> sklearn_samples, sklearn_features;
  std::size_t sklearn_line = 0, names_line = 0;
  std::vector<std::string> names;

  std::vector<std::string> first = split(0);
  const bool sklearn = options.header == CsvHeader::sklearn ||
                       (options.header == CsvHeader::automatic && detail::is_sklearn_count_line(first));
  // Said after every error about the count line when it was recognised, not asked for.
  const std::string guessed =
      options.header == CsvHeader::automatic
          ? " (line " + std::to_string(lines[0].first) + " was read as scikit-learn's count line "
            "'n_samples,n_features[,class names]'; if it is data, pass .header = CsvHeader::none)"
          : std::string();
  if (sklearn) {
    if (first.size() < 2 || !detail::is_count(first[0]) || !detail::is_count(first[1]))
      throw_data(file, at_line(lines[0].first) + ": expected scikit-learn's count line "
                       "'n_samples,n_features[,class names]', found '" + detail::shorten(lines[0].second) + "'");
    sklearn_line = lines[0].first;
    sklearn_samples = detail::parse_count(first[0]);
    sklearn_features = detail::parse_count(first[1]);
    if (!sklearn_samples || !sklearn_features)
      throw_data(file, at_line(sklearn_line) + ": " + (sklearn_samples ? "n_features" : "n_samples") + " = " +
                           detail::shorten(sklearn_samples ? first[1] : first[0]) +
                           " in scikit-learn's count line 'n_samples,n_features[,class names]' is too large, "
                           "expected a count of at most " +
                           std::to_string(std::numeric_limits<std::size_t>::max()) + guessed);
    for (std::size_t i = 2; i < first.size(); ++i)
      if (!first[i].empty()) out.class_names.push_back(first[i]);
    next = 1;
    if (next < lines.size()) {
      std::vector<std::string> f = split(next);
      if (detail::is_names_line(f)) {
        names = std::move(f);
        names_line = lines[next].first;
        ++next;
      }
    }
  } else if (options.header == CsvHeader::names ||
             (options.header == CsvHeader::automatic && detail::is_names_line(first))) {
    names = std::move(first);
    names_line = lines[0].first;
    next = 1;
  }
  if (next == lines.size())
    throw_data(file, "no data rows after the " +
                         std::string(names_line != 0 ? "names row" : "scikit-learn count line") + " on " +
                         at_line(lines[next - 1].first) + ", expected rows of numbers" +
                         (sklearn && names_line == 0 ? guessed : std::string()));

  // Parse every data row into a row-major double table.
  std::size_t width = 0, width_line = 0;
  std::vector<double> values;
  for (std::size_t i = next; i < lines.size(); ++i) {
    const std::vector<std::string> f = split(i);
    const std::size_t number = lines[i].first;
    if (width == 0) {
      width = f.size();
      width_line = number;
    } else if (f.size() != width) {
      throw_data(file, at_line(number) + ": ragged row with " + std::to_string(f.size()) + " fields, expected " +
                           std::to_string(width) + " as on line " + std::to_string(width_line));
    }
    for (std::size_t c = 0; c < f.size(); ++c) {
      const auto v = detail::parse_number(f[c]);
      auto column = [&] {
        std::string s = "column " + std::to_string(c + 1);
        if (c < names.size()) s += " (" + names[c] + ")";
        return s;
      };
      if (!v)
        throw_data(file, at_line(number) + ", " + column() + ": expected a finite number, found " +
                             (f[c].empty() ? std::string("an empty cell") : "'" + detail::shorten(f[c]) + "'"));
      if constexpr (std::is_floating_point_v<T>) {
        // Finite as a double but not as T (1e39 as float): the table would hold an infinity.
        if (!std::isfinite(static_cast<T>(*v)))
          throw_data(file, at_line(number) + ", " + column() + ": expected a finite number, found '" +
                               detail::shorten(f[c]) + "', which is out of the range of " + detail::float_name<T>() +
                               " (magnitude at most " + detail::largest<T>() + "); read the file as double");
      }
      values.push_back(*v);
    }
  }
  const std::size_t rows = values.size() / width;

  if (!names.empty() && names.size() != width)
    throw_data(file, "the names row on " + at_line(names_line) + " names " + std::to_string(names.size()) +
                         " columns, but the data rows have " + std::to_string(width) + " fields (from line " +
                         std::to_string(width_line) + ")");
  if (sklearn_samples && *sklearn_samples != rows)
    throw_data(file, at_line(sklearn_line) + " says n_samples = " + std::to_string(*sklearn_samples) +
                         ", but the file holds " + std::to_string(rows) + " data rows (truncated?)" + guessed);
  if (sklearn_features && *sklearn_features != width - 1)  // width >= 1: every data row has a field
    throw_data(file, at_line(sklearn_line) + " says n_features = " + std::to_string(*sklearn_features) +
                         ", expected rows of " +
                         (*sklearn_features < std::numeric_limits<std::size_t>::max()
                              ? std::to_string(*sklearn_features + 1)
                              : std::string("2^64")) +
                         " fields (features and the target), found " + std::to_string(width) + " on line " +
                         std::to_string(width_line) + guessed);

  // The target column.
  std::optional<std::size_t> target;
  const CsvColumn& t = options.target;
  if (!t.empty() && t.by_name()) {
    if (names.empty())
      throw_data(file, "target column '" + t.name() + "' asked for by name, but the file has no names row "
                       "(choose the target by index, e.g. -1 for the last column)");
    const auto it = std::find(names.begin(), names.end(), t.name());
    if (it == names.end()) {
      std::string all;
      for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
      throw_data(file, "missing target column: the names row on " + at_line(names_line) + " has no column '" +
                           t.name() + "'; found " + all);
    }
    target = static_cast<std::size_t>(it - names.begin());
  } else if (!t.empty()) {
    const auto w = static_cast<std::ptrdiff_t>(width);
    const std::ptrdiff_t i = t.index() < 0 ? t.index() + w : t.index();
    if (i < 0 || i >= w)
      throw_data(file, "missing target column: index " + std::to_string(t.index()) + " asked for, but the rows have " +
                           std::to_string(width) + " columns (indices 0 to " + std::to_string(width - 1) + ", or -" +
                           std::to_string(width) + " to -1) from line " + std::to_string(width_line));
    target = static_cast<std::size_t>(i);
  }

  out.rows = rows;
  out.cols = width - (target ? 1 : 0);
  out.features.reserve(out.rows * out.cols);
  if (target) out.target.reserve(rows);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < width; ++c) {
      const T v = static_cast<T>(values[r * width + c]);
      if (target && c == *target) out.target.push_back(v);
      else out.features.push_back(v);
    }
  for (std::size_t c = 0; c < names.size(); ++c) {
    if (target && c == *target) out.target_name = names[c];
    else out.feature_names.push_back(names[c]);
  }
  return out;
}

/// Reads a numeric CSV file (gunzipped through zlib when it starts with the gzip magic).
///
/// Throws strata::data_error naming the file and line for a non-numeric or empty cell, a
/// ragged row, a names row whose length differs from the rows', sklearn counts that do not
/// match the data, a target column that does not exist, a file without data rows, and
/// (through the gzip layer) a truncated or corrupt .gz file.
///
/// **Example**:
/// ```cpp
/// // boston_house_prices.csv: count line, names row, 506 rows of 13 features + MEDV
/// auto boston = data::read_csv(dir / "boston_house_prices.csv", {.target = "MEDV"});
/// // boston.rows == 506, boston.cols == 13, boston.target[0] == 24
/// auto digits = data::read_csv(dir / "digits.csv.gz", {.target = -1});  // 1797 x 64
/// ```
template <class T = float>
CsvTable<T> read_csv(const std::filesystem::path& file, const CsvOptions& options = {}) {
  return parse_csv<T>(detail::read_raw(file), file, options);
}

}  // namespace strata::data
