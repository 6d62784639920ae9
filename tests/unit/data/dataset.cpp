#include <catch2/catch.hpp>
#include <strata/strata.hpp>

using namespace strata;

TEST_CASE("Dataset checks rows and sample counts", "[unit][data]") {
  using D = Dataset<Shape<3>, Shape<1>>;
  CHECK_NOTHROW(D(Eigen::MatrixXf::Zero(3, 5), Eigen::MatrixXf::Zero(1, 5)));
  CHECK_THROWS_WITH(D(Eigen::MatrixXf::Zero(4, 5), Eigen::MatrixXf::Zero(1, 5)),
                    Catch::Contains("inputs have 4 rows per sample") && Catch::Contains("needs 3"));
  CHECK_THROWS_AS(D(Eigen::MatrixXf::Zero(3, 5), Eigen::MatrixXf::Zero(2, 5)), shape_error);
  CHECK_THROWS_WITH(D(Eigen::MatrixXf::Zero(3, 5), Eigen::MatrixXf::Zero(1, 4)),
                    Catch::Contains("5 input samples but 4 targets"));
}

TEST_CASE("Spirals are reproducible and balanced", "[unit][data]") {
  const auto a = data::spirals(100, 3, 0.05, 1);
  const auto b = data::spirals(100, 3, 0.05, 1);
  CHECK(a.size() == 300);
  CHECK(a.x == b.x);
  CHECK((a.y.array() == 2.0f).count() == 100);
  CHECK(a.x.cwiseAbs().maxCoeff() < 1.5f);
}
