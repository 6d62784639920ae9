// data::split and class counts: exact sizes, disjoint and covering parts, reproducible by
// seed, stratified proportions within one sample of the quota.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <set>
#include <vector>

#include <strata/data/split.hpp>

using namespace strata;

namespace {

// n samples whose input is the sample's index, with labels cycling through an uneven
// class mix (class c appears with weight c + 1).
Dataset<Shape<2>, Shape<1>> indexed(std::size_t n, std::size_t classes) {
  Eigen::MatrixXf x(2, static_cast<Eigen::Index>(n)), y(1, static_cast<Eigen::Index>(n));
  std::vector<int> pattern;
  for (std::size_t c = 0; c < classes; ++c)
    for (std::size_t k = 0; k <= c; ++k) pattern.push_back(static_cast<int>(c));
  for (std::size_t j = 0; j < n; ++j) {
    x(0, static_cast<Eigen::Index>(j)) = static_cast<float>(j);
    x(1, static_cast<Eigen::Index>(j)) = -static_cast<float>(j);
    y(0, static_cast<Eigen::Index>(j)) = static_cast<float>(pattern[j % pattern.size()]);
  }
  return {x, y};
}

std::vector<int> ids(const Dataset<Shape<2>, Shape<1>>& d) {
  std::vector<int> v;
  for (Eigen::Index j = 0; j < d.x.cols(); ++j) v.push_back(static_cast<int>(d.x(0, j)));
  return v;
}

}  // namespace

TEST_CASE("split: exact sizes, disjoint and covering, rows kept together", "[unit][data][split]") {
  const auto d = indexed(1003, 3);
  for (bool stratify : {false, true}) {
    const auto s = data::split(d, data::SplitCounts{700, 150, 153}, 7, stratify);
    CHECK(s.train.size() == 700);
    CHECK(s.val.size() == 150);
    CHECK(s.test.size() == 153);
    std::multiset<int> all;
    for (const auto* p : {&s.train, &s.val, &s.test}) {
      for (int i : ids(*p)) all.insert(i);
      for (Eigen::Index j = 0; j < p->x.cols(); ++j) {  // x, y of one sample stay together
        const auto i = static_cast<Eigen::Index>(p->x(0, j));
        CHECK(p->x(1, j) == d.x(1, i));
        CHECK(p->y(0, j) == d.y(0, i));
      }
    }
    REQUIRE(all.size() == 1003);
    CHECK(std::set<int>(all.begin(), all.end()).size() == 1003);  // no sample twice
    CHECK(*all.begin() == 0);
    CHECK(*all.rbegin() == 1002);
  }
  const auto f = data::split(d, data::SplitFractions{0.7, 0.15, 0.15}, 1);
  CHECK(f.train.size() + f.val.size() + f.test.size() == 1003);
  CHECK(f.val.size() == 150);
  CHECK(f.test.size() == 150);
  CHECK(f.train.size() == 703);
}

TEST_CASE("split: reproducible for a seed, different for another", "[unit][data][split]") {
  const auto d = indexed(500, 4);
  for (bool stratify : {false, true}) {
    const auto a = data::split(d, data::SplitFractions{0.6, 0.2, 0.2}, 3, stratify);
    const auto b = data::split(d, data::SplitFractions{0.6, 0.2, 0.2}, 3, stratify);
    const auto c = data::split(d, data::SplitFractions{0.6, 0.2, 0.2}, 4, stratify);
    CHECK(ids(a.train) == ids(b.train));
    CHECK(ids(a.val) == ids(b.val));
    CHECK(ids(a.test) == ids(b.test));
    CHECK(ids(a.train) != ids(c.train));
    auto sorted = [](std::vector<int> v) { std::sort(v.begin(), v.end()); return v; };
    CHECK(sorted(ids(a.test)) != sorted(ids(c.test)));  // different samples, not only order
  }
}

TEST_CASE("split: stratified parts keep class proportions within one sample", "[unit][data][split]") {
  for (std::size_t n : {97u, 1000u, 1797u}) {
    const auto d = indexed(n, 4);
    const auto total = data::class_counts(d, 4);
    const auto sizes = data::split_counts(n, {0.7, 0.1, 0.2});
    const auto s = data::split(d, sizes, 11, true);
    const std::size_t want[3] = {sizes.train, sizes.val, sizes.test};
    const Dataset<Shape<2>, Shape<1>>* parts[3] = {&s.train, &s.val, &s.test};
    for (int p = 0; p < 3; ++p) {
      REQUIRE(parts[p]->size() == want[p]);
      const auto counts = data::class_counts(*parts[p], 4);
      for (std::size_t c = 0; c < 4; ++c) {
        const double quota = static_cast<double>(total[c]) * static_cast<double>(want[p]) / static_cast<double>(n);
        INFO("n " << n << ", part " << p << ", class " << c << ": " << counts[c] << " vs quota " << quota);
        CHECK(std::abs(static_cast<double>(counts[c]) - quota) <= 1.0);
      }
    }
  }
}

TEST_CASE("split: misuse is reported", "[unit][data][split]") {
  const auto d = indexed(10, 2);
  CHECK_THROWS_AS(data::split(d, data::SplitCounts{5, 3, 3}, 0), option_error);
  CHECK_THROWS_WITH(data::split(d, data::SplitCounts{5, 3, 3}, 0), Catch::Contains("holds 10 samples"));
  CHECK_THROWS_AS(data::split(d, data::SplitFractions{0.5, 0.2, 0.2}, 0), option_error);
  CHECK_THROWS_AS(data::split(d, data::SplitFractions{1.2, -0.1, -0.1}, 0), option_error);
  auto bad = d;
  bad.y(0, 4) = 1.5f;
  CHECK_THROWS_WITH(data::split(bad, data::SplitCounts{5, 3, 2}, 0, true),
                    Catch::Contains("sample 4") && Catch::Contains("class index"));
}

TEST_CASE("class_counts and class_report", "[unit][data][split]") {
  const auto d = indexed(6, 3);  // labels 0 1 1 2 2 2
  CHECK(data::class_counts(d, 3) == std::vector<std::size_t>{1, 2, 3});
  CHECK(data::class_report(d, 3) == "n=6: 0: 1 (16.7%), 1: 2 (33.3%), 2: 3 (50.0%)");
  CHECK_THROWS_AS(data::class_counts(d, 2), data_error);  // label 2 out of range
}
