#include <catch2/catch.hpp>
#include <strata/core/rng.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

using namespace strata;

TEST_CASE("Rng is reproducible for a seed and differs across seeds", "[unit][core]") {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const auto va = a.next();
    CHECK(va == b.next());
    CHECK(va != c.next());
  }
}

TEST_CASE("Rng uniform and normal have the right moments", "[unit][core]") {
  Rng r(7);
  const int n = 200000;
  double su = 0, su2 = 0, sn = 0, sn2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = r.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    su += u;
    su2 += u * u;
    const double z = r.normal();
    sn += z;
    sn2 += z * z;
  }
  CHECK(su / n == Approx(0.5).margin(0.005));
  CHECK(su2 / n - (su / n) * (su / n) == Approx(1.0 / 12).margin(0.002));
  CHECK(sn / n == Approx(0.0).margin(0.01));
  CHECK(sn2 / n == Approx(1.0).margin(0.01));
}

TEST_CASE("Rng::below is unbiased and in range: shuffle is a permutation", "[unit][core]") {
  Rng r(3);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) {
    const auto k = r.below(7);
    REQUIRE(k < 7);
    ++counts[k];
  }
  for (int c : counts) CHECK(c == Approx(10000).margin(400));
  std::vector<int> v(100);
  std::iota(v.begin(), v.end(), 0);
  auto w = v;
  shuffle(w.begin(), w.end(), r);
  CHECK(w != v);
  std::sort(w.begin(), w.end());
  CHECK(w == v);
}

TEST_CASE("Rng::fork gives independent streams without advancing the parent", "[unit][core]") {
  Rng p(5);
  Rng copy = p;
  Rng f1 = p.fork(1), f2 = p.fork(2), f1b = p.fork(1);
  CHECK(p.next() == copy.next());
  const auto a = f1.next();
  CHECK(a == f1b.next());
  CHECK(a != f2.next());
}
