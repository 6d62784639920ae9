// Generated sets: circles and moons as scikit-learn defines them.
#include <catch2/catch.hpp>
#include <cmath>

#include <strata/data/split.hpp>
#include <strata/data/synthetic.hpp>

using namespace strata;

TEST_CASE("circles: sizes, balanced labels, radii, reproducible", "[unit][data][synthetic]") {
  const auto a = data::circles(201, 0.0, 0.5, 3);
  CHECK(a.size() == 201);
  CHECK(data::class_counts(a, 2) == std::vector<std::size_t>{100, 101});  // sklearn: n // 2 outer
  for (Eigen::Index j = 0; j < a.x.cols(); ++j) {
    const double r = std::hypot(a.x(0, j), a.x(1, j));
    CHECK(r == Approx(a.y(0, j) == 0 ? 1.0 : 0.5).margin(1e-6));
  }
  const auto b = data::circles(201, 0.0, 0.5, 3);
  CHECK(a.x == b.x);
  CHECK(a.y == b.y);
  const auto n1 = data::circles(200, 0.1, 0.5, 1), n2 = data::circles(200, 0.1, 0.5, 1),
             n3 = data::circles(200, 0.1, 0.5, 2);
  CHECK(n1.x == n2.x);
  CHECK(n1.x != n3.x);
  CHECK(data::class_counts(n1, 2) == std::vector<std::size_t>{100, 100});
  CHECK(n1.y.head(100).sum() > 20);  // shuffled: class 1 is not all at the end
  CHECK_THROWS_AS(data::circles(100, 0.0, 1.5), option_error);
  CHECK_THROWS_AS(data::circles(1), option_error);
}

TEST_CASE("moons: sizes, balanced labels, shape, reproducible", "[unit][data][synthetic]") {
  const auto a = data::moons(300, 0.0, 5);
  CHECK(a.size() == 300);
  CHECK(data::class_counts(a, 2) == std::vector<std::size_t>{150, 150});
  for (Eigen::Index j = 0; j < a.x.cols(); ++j) {
    const double cx = a.y(0, j) == 0 ? 0.0 : 1.0, cy = a.y(0, j) == 0 ? 0.0 : 0.5;
    CHECK(std::hypot(a.x(0, j) - cx, a.x(1, j) - cy) == Approx(1.0).margin(1e-6));
    if (a.y(0, j) == 0) CHECK(a.x(1, j) >= -1e-6f);  // upper half circle
    else CHECK(a.x(1, j) <= 0.5f + 1e-6f);            // lower half, shifted
  }
  CHECK(a.x.row(0).minCoeff() == Approx(-1.0).margin(1e-6));
  CHECK(a.x.row(0).maxCoeff() == Approx(2.0).margin(1e-6));
  const auto b = data::moons(300, 0.2, 5), c = data::moons(300, 0.2, 5), d = data::moons(300, 0.2, 6);
  CHECK(b.x == c.x);
  CHECK(b.y == c.y);
  CHECK(b.x != d.x);
  CHECK(data::class_counts(data::moons(7), 2) == std::vector<std::size_t>{3, 4});
}
