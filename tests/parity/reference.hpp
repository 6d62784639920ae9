#pragma once
// Reader for the PyTorch reference files written by tests/parity/make_reference.py
// (regenerate: /usr/bin/python3 tests/parity/make_reference.py), and the norm-wise
// comparison the parity tests use.
//
// Format: one entry per line, `<name> <count> <v1> ... <v_count>`; lines starting with
// `#` and blank lines are skipped. Any malformed line, duplicate name, wrong count or
// missing entry throws std::runtime_error naming the file and the entry.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef STRATA_TEST_DATA_DIR
#error "STRATA_TEST_DATA_DIR (the tests/ source folder) must be defined"
#endif

namespace parity {

class Reference {
 public:
  /// Loads tests/parity/reference/<file>.
  static const Reference& get(const std::string& file) {
    static std::mutex mutex;
    static std::map<std::string, Reference> cache;
    const std::lock_guard lock(mutex);
    auto it = cache.find(file);
    if (it == cache.end())
      it = cache.emplace(file, Reference(std::string(STRATA_TEST_DATA_DIR) + "/parity/reference/" + file)).first;
    return it->second;
  }

  explicit Reference(std::string path) : path_(std::move(path)) {
    std::ifstream in(path_);
    if (!in)
      fail("cannot open the file (regenerate it with: /usr/bin/python3 tests/parity/make_reference.py)");
    std::string line;
    std::size_t line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.empty() || line[0] == '#') continue;
      std::istringstream ls(line);
      std::string name, count_text;
      if (!(ls >> name >> count_text)) fail("line " + std::to_string(line_no) + ": expected '<name> <count> <values...>'");
      char* end = nullptr;
      errno = 0;
      const unsigned long long count = std::strtoull(count_text.c_str(), &end, 10);
      if (errno != 0 || end == count_text.c_str() || *end != '\0')
        fail("line " + std::to_string(line_no) + ", entry '" + name + "': count '" + count_text + "' is not a number");
      std::vector<std::string> values;
      values.reserve(count);
      for (std::string v; ls >> v;) values.push_back(v);
      if (values.size() != count)
        fail("line " + std::to_string(line_no) + ", entry '" + name + "': header says " + std::to_string(count) +
             " values but the line has " + std::to_string(values.size()));
      if (!entries_.emplace(name, std::move(values)).second)
        fail("line " + std::to_string(line_no) + ": duplicate entry '" + name + "'");
    }
    if (entries_.empty()) fail("no entries");
  }

  [[nodiscard]] bool has(const std::string& name) const { return entries_.count(name) != 0; }

  /// The names that start with `prefix`, with the prefix removed (sorted).
  [[nodiscard]] std::vector<std::string> names_under(const std::string& prefix) const {
    std::vector<std::string> out;
    for (auto it = entries_.lower_bound(prefix); it != entries_.end() && it->first.rfind(prefix, 0) == 0; ++it)
      out.push_back(it->first.substr(prefix.size()));
    return out;
  }

  /// The values of an entry in double (parsed with strtod: exact for what Python's repr wrote).
  [[nodiscard]] std::vector<double> doubles(const std::string& name, std::ptrdiff_t expected = -1) const {
    return parse<double>(name, expected, [](const char* s, char** e) { return std::strtod(s, e); });
  }
  /// The values of an entry in float (parsed with strtof: exact for float32 values written with 9 digits).
  [[nodiscard]] std::vector<float> floats(const std::string& name, std::ptrdiff_t expected = -1) const {
    return parse<float>(name, expected, [](const char* s, char** e) { return std::strtof(s, e); });
  }
  [[nodiscard]] double scalar(const std::string& name) const { return doubles(name, 1)[0]; }

  const std::string& path() const { return path_; }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("parity reference file " + path_ + ": " + what);
  }

  template <class T, class Parse>
  std::vector<T> parse(const std::string& name, std::ptrdiff_t expected, Parse p) const {
    const auto it = entries_.find(name);
    if (it == entries_.end())
      fail("no entry named '" + name +
           "' (is the file stale? regenerate it with: /usr/bin/python3 tests/parity/make_reference.py)");
    const auto& text = it->second;
    if (expected >= 0 && text.size() != static_cast<std::size_t>(expected))
      fail("entry '" + name + "' has " + std::to_string(text.size()) + " values, the test expects " +
           std::to_string(expected));
    std::vector<T> out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
      char* end = nullptr;
      const T v = p(text[i].c_str(), &end);
      if (end == text[i].c_str() || *end != '\0' || !std::isfinite(v))
        fail("entry '" + name + "', value " + std::to_string(i) + ": '" + text[i] + "' is not a finite number");
      out.push_back(v);
    }
    return out;
  }

  std::string path_;
  std::map<std::string, std::vector<std::string>> entries_;
};

/// ||a - b|| / max(||b||, 1e-12) and max |a_i - b_i|, accumulated in double.
struct Difference {
  double relative = 0;
  double max_abs = 0;
};
template <class A, class B>
Difference difference(const A& a, const B& b) {
  if (std::size(a) != std::size(b))
    throw std::runtime_error("parity: comparing " + std::to_string(std::size(a)) + " values with " +
                             std::to_string(std::size(b)));
  double diff = 0, norm = 0, max_abs = 0;
  auto ia = std::begin(a);
  auto ib = std::begin(b);
  for (; ib != std::end(b); ++ia, ++ib) {
    const double x = static_cast<double>(*ia), y = static_cast<double>(*ib);
    diff += (x - y) * (x - y);
    norm += y * y;
    max_abs = std::max(max_abs, std::abs(x - y));
    if (std::isnan(x)) max_abs = x;
  }
  Difference d;
  d.relative = std::sqrt(diff) / std::max(std::sqrt(norm), 1e-12);
  if (std::isnan(max_abs)) d.relative = max_abs;
  d.max_abs = max_abs;
  return d;
}

/// Worst relative error per group, printed at exit when STRATA_PARITY_REPORT is set
/// (used to report the measured margins).
class Report {
 public:
  static Report& instance() {
    static Report r;
    return r;
  }
  void add(const std::string& group, const std::string& what, double rel) {
    const std::lock_guard lock(mutex_);
    const auto it = worst_.find(group);
    if (it == worst_.end()) worst_.emplace(group, std::pair{rel, what});
    else if (!(rel <= it->second.first)) it->second = {rel, what};
  }
  ~Report() {
    if (std::getenv("STRATA_PARITY_REPORT") == nullptr) return;
    for (const auto& [group, w] : worst_)
      std::printf("parity worst relative error [%s]: %.3g (%s)\n", group.c_str(), w.first, w.second.c_str());
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::pair<double, std::string>> worst_;
};

}  // namespace parity

/// Checks ||actual - expected|| / max(||expected||, 1e-12) < tol; on failure prints both
/// norms' relative error and the largest element-wise absolute difference.
#define PARITY_CHECK_CLOSE(group, what, actual, expected, tol)                     \
  do {                                                                             \
    const auto parity_d_ = ::parity::difference((actual), (expected));             \
    ::parity::Report::instance().add((group), (what), parity_d_.relative);         \
    INFO("comparing " << (what) << ": relative error " << parity_d_.relative       \
                      << ", max element-wise abs difference " << parity_d_.max_abs \
                      << ", tolerance " << (tol));                                 \
    CHECK(parity_d_.relative < (tol));                                             \
  } while (false)
