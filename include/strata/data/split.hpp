#pragma once
// Train/validation/test splits by a seeded permutation, optionally stratified by class,
// and class counts for reporting how balanced a split came out.
//
// Every sample lands in exactly one part, the part sizes are exactly the ones asked for
// (fractions are rounded to counts first, see `split_counts`), and the same seed gives the
// same split on every platform (strata::Rng is a fixed xoshiro256**, not std::shuffle).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iomanip>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "dataset.hpp"

namespace strata::data {

/// Part sizes as fractions of the data set; they must be >= 0 and sum to 1.
struct SplitFractions {
  double train = 0.8, val = 0.1, test = 0.1;
};

/// Part sizes as sample counts; they must sum to the data set's size.
struct SplitCounts {
  std::size_t train = 0, val = 0, test = 0;
};

/// The three parts of a split.
template <class D>
struct Split {
  D train, val, test;
};

namespace detail {

/// The class index held by target column `j` (Shape<1> targets): throws data_error when it
/// is not an integer in [0, classes) (classes == 0: any non-negative integer).
template <class In, class Tg, class T>
std::size_t class_of(const Dataset<In, Tg, T>& d, std::size_t j, std::size_t classes, const char* who) {
  static_assert(Tg::size == 1, "strata: class indices need targets of Shape<1> (one class index per sample)");
  const double v = static_cast<double>(d.y(0, static_cast<Eigen::Index>(j)));
  if (!(v >= 0) || v != std::floor(v) || (classes != 0 && v >= static_cast<double>(classes)))
    throw data_error(std::string("strata: ") + who + ": sample " + std::to_string(j) + " has target " +
                     std::to_string(v) + ", expected a class index in [0, " +
                     (classes != 0 ? std::to_string(classes) : std::string("inf")) +
                     ") (targets of Shape<1> holding 0, 1, 2, ...)");
  return static_cast<std::size_t>(v);
}

/// Fisher-Yates with strata::Rng, so that a seed gives the same order everywhere.
inline void shuffle(std::vector<std::size_t>& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

template <class D>
D gather(const D& d, const std::vector<std::size_t>& idx) {
  D out;
  out.x.resize(d.x.rows(), static_cast<Eigen::Index>(idx.size()));
  out.y.resize(d.y.rows(), static_cast<Eigen::Index>(idx.size()));
  for (std::size_t k = 0; k < idx.size(); ++k) {
    out.x.col(static_cast<Eigen::Index>(k)) = d.x.col(static_cast<Eigen::Index>(idx[k]));
    out.y.col(static_cast<Eigen::Index>(k)) = d.y.col(static_cast<Eigen::Index>(idx[k]));
  }
  return out;
}

}  // namespace detail

/// Rounds fractions to counts that sum to `n` exactly: val and test are rounded to the
/// nearest sample and train takes the rest. Throws option_error for negative fractions or
/// ones that do not sum to 1 (within 1e-6).
inline SplitCounts split_counts(std::size_t n, SplitFractions f) {
  if (!(f.train >= 0 && f.val >= 0 && f.test >= 0) || std::abs(f.train + f.val + f.test - 1.0) > 1e-6)
    strata::detail::throw_option("split: fractions train " + std::to_string(f.train) + ", val " + std::to_string(f.val) +
                         ", test " + std::to_string(f.test) + " must be >= 0 and sum to 1 (e.g. {0.8, 0.1, 0.1})");
  const auto round = [n](double x) { return static_cast<std::size_t>(std::floor(x * static_cast<double>(n) + 0.5)); };
  SplitCounts c{0, std::min(round(f.val), n), 0};
  c.test = std::min(round(f.test), n - c.val);
  c.train = n - c.val - c.test;
  return c;
}

/// Splits `d` into train/val/test parts of exactly `sizes` samples by a permutation drawn
/// from `seed`. With `stratify`, the targets must be class indices (Shape<1>) and each class
/// is divided in the parts' proportions: class c contributes to part p within one sample
/// of count_c * size_p / n (the rounding is balanced so that the part sizes stay exact).
/// Within each part the samples are in a seeded random order.
///
/// **Example**:
/// ```cpp
/// auto parts = data::split(digits, data::SplitCounts{1297, 250, 250}, 42, true);
/// auto parts2 = data::split(digits, data::SplitFractions{0.7, 0.15, 0.15}, 42);
/// // parts.train.size() == 1297; every digit is in exactly one of the three parts
/// ```
template <class In, class Tg, class T>
Split<Dataset<In, Tg, T>> split(const Dataset<In, Tg, T>& d, SplitCounts sizes, std::uint64_t seed = 0,
                                bool stratify = false) {
  const std::size_t n = d.size();
  if (sizes.train + sizes.val + sizes.test != n)
    strata::detail::throw_option("split: counts train " + std::to_string(sizes.train) + " + val " + std::to_string(sizes.val) +
                         " + test " + std::to_string(sizes.test) + " = " +
                         std::to_string(sizes.train + sizes.val + sizes.test) + ", but the data set holds " +
                         std::to_string(n) + " samples; make them sum to " + std::to_string(n) +
                         " (or pass SplitFractions)");
  Rng rng(seed);
  const std::size_t want[3] = {sizes.train, sizes.val, sizes.test};
  std::vector<std::size_t> part[3];
  if (!stratify) {
    std::vector<std::size_t> perm(n);
    for (std::size_t i = 0; i < n; ++i) perm[i] = i;
    detail::shuffle(perm, rng);
    std::size_t at = 0;
    for (int p = 0; p < 3; ++p) {
      part[p].assign(perm.begin() + static_cast<std::ptrdiff_t>(at),
                     perm.begin() + static_cast<std::ptrdiff_t>(at + want[p]));
      at += want[p];
    }
  } else {
    if constexpr (Tg::size != 1) {
      strata::detail::throw_option("split: stratify needs targets of Shape<1> holding class indices, found " +
                           Tg::to_string());
    } else {
      std::vector<std::vector<std::size_t>> by_class;
      for (std::size_t j = 0; j < n; ++j) {
        const std::size_t c = detail::class_of(d, j, 0, "split (stratified)");
        if (c >= by_class.size()) by_class.resize(c + 1);
        by_class[c].push_back(j);
      }
      // Quotas m_c * n_p / n: floors first, then one extra sample per (class, part) cell
      // until every class and every part is complete. Each class hands its extras to the
      // parts that still miss the most samples (largest fraction first among equals); the
      // fractions of a class sum to its extras and those of a part to its shortfall, so
      // this greedy 0/1 rounding always completes both.
      const std::size_t classes = by_class.size();
      std::vector<std::size_t> take(classes * 3);
      std::vector<double> frac(classes * 3);
      std::size_t short_of[3] = {want[0], want[1], want[2]};
      for (std::size_t c = 0; c < classes; ++c)
        for (int p = 0; p < 3; ++p) {
          const double q = static_cast<double>(by_class[c].size()) * static_cast<double>(want[p]) /
                           static_cast<double>(n);
          take[c * 3 + p] = static_cast<std::size_t>(std::floor(q));
          frac[c * 3 + p] = q - std::floor(q);
          short_of[p] -= take[c * 3 + p];
        }
      for (std::size_t c = 0; c < classes; ++c) {
        std::size_t extra = by_class[c].size() - take[c * 3] - take[c * 3 + 1] - take[c * 3 + 2];
        while (extra > 0) {
          int best = -1;
          for (int p = 0; p < 3; ++p) {
            if (short_of[p] == 0 || frac[c * 3 + p] < 0) continue;
            if (best < 0 || short_of[p] > short_of[best] ||
                (short_of[p] == short_of[best] && frac[c * 3 + p] > frac[c * 3 + best]))
              best = p;
          }
          if (best < 0) {  // cannot happen for consistent quotas; fall back to any open part
            for (int p = 0; p < 3 && best < 0; ++p)
              if (short_of[p] > 0) best = p;
          }
          ++take[c * 3 + best];
          frac[c * 3 + best] = -1;  // at most one extra per cell
          --short_of[best];
          --extra;
        }
      }
      for (std::size_t c = 0; c < classes; ++c) {
        detail::shuffle(by_class[c], rng);
        std::size_t at = 0;
        for (int p = 0; p < 3; ++p) {
          part[p].insert(part[p].end(), by_class[c].begin() + static_cast<std::ptrdiff_t>(at),
                         by_class[c].begin() + static_cast<std::ptrdiff_t>(at + take[c * 3 + p]));
          at += take[c * 3 + p];
        }
      }
      for (auto& p : part) detail::shuffle(p, rng);
    }
  }
  return {detail::gather(d, part[0]), detail::gather(d, part[1]), detail::gather(d, part[2])};
}

/// As above, with sizes given as fractions (rounded by `split_counts`).
template <class In, class Tg, class T>
Split<Dataset<In, Tg, T>> split(const Dataset<In, Tg, T>& d, SplitFractions fractions, std::uint64_t seed = 0,
                                bool stratify = false) {
  return split(d, split_counts(d.size(), fractions), seed, stratify);
}

/// Samples per class: `result[c]` counts targets equal to c. Targets must be class indices
/// in [0, classes) (Shape<1>); anything else throws data_error naming the sample.
template <class In, class Tg, class T>
std::vector<std::size_t> class_counts(const Dataset<In, Tg, T>& d, std::size_t classes) {
  std::vector<std::size_t> counts(classes, 0);
  for (std::size_t j = 0; j < d.size(); ++j) ++counts[detail::class_of(d, j, classes, "class_counts")];
  return counts;
}

/// One line on the class balance: "n=569: 0: 212 (37.3%), 1: 357 (62.7%)".
template <class In, class Tg, class T>
std::string class_report(const Dataset<In, Tg, T>& d, std::size_t classes) {
  const auto counts = class_counts(d, classes);
  std::ostringstream s;
  s << "n=" << d.size() << ":" << std::fixed << std::setprecision(1);
  for (std::size_t c = 0; c < classes; ++c)
    s << (c ? ", " : " ") << c << ": " << counts[c] << " ("
      << (d.size() ? 100.0 * static_cast<double>(counts[c]) / static_cast<double>(d.size()) : 0.0) << "%)";
  return s.str();
}

}  // namespace strata::data
