#include <catch2/catch.hpp>
#include <strata/strata.hpp>

#include <cmath>

using namespace strata;

using Net = Sequential<Input<6>, Dense<32>, ReLU, Dense<4>>;

TEST_CASE("Dense init is U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as in torch.nn.Linear", "[unit][net]") {
  using Wide = Sequential<Input<400>, Dense<300>>;
  Network<Wide> n(1);
  const auto w = n.parameters("0.weight");
  const auto b = n.parameters("0.bias");
  const double bound = 1.0 / std::sqrt(400.0);
  double sum = 0, sum2 = 0;
  for (float v : w) {
    REQUIRE(std::abs(v) <= bound);
    sum += v;
    sum2 += double(v) * v;
  }
  const double mean = sum / double(w.size());
  const double var = sum2 / double(w.size()) - mean * mean;
  CHECK(mean == Approx(0).margin(bound * 0.01));
  CHECK(var == Approx(bound * bound / 3).epsilon(0.01));  // variance of U(-a, a) is a^2 / 3
  for (float v : b) REQUIRE(std::abs(v) <= bound);
}

TEST_CASE("Same seed gives identical parameters: other seeds differ", "[unit][net]") {
  Network<Net> a(3), b(3), c(4);
  CHECK(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
  CHECK(!std::equal(a.parameters().begin(), a.parameters().end(), c.parameters().begin()));
}

TEST_CASE("Adding a layer does not change the other layers' initial values", "[unit][net]") {
  using Longer = Sequential<Input<6>, Dense<32>, ReLU, Dense<4>, Tanh, Dense<2>>;
  Network<Net> a(9);
  Network<Longer> b(9);
  const auto pa = a.parameters();
  CHECK(std::equal(pa.begin(), pa.end(), b.parameters().begin()));
}

TEST_CASE("The workspace grows only for a larger batch", "[unit][net]") {
  Network<Net> n(0);
  Eigen::Matrix<float, 6, Eigen::Dynamic> x = Eigen::Matrix<float, 6, Eigen::Dynamic>::Random(6, 64);
  n.forward(x);
  CHECK(n.capacity() == 64);
  n.forward(x.leftCols(10).eval());
  CHECK(n.capacity() == 64);
  CHECK(n.batch() == 10);
}

TEST_CASE("Network rejects a batch whose rows do not match the input shape", "[unit][net]") {
  Network<Net> n(0);
  Eigen::MatrixXf bad = Eigen::MatrixXf::Zero(5, 3);
  CHECK_THROWS_AS(n.forward(bad), shape_error);
  CHECK_THROWS_WITH(n.forward(bad), Catch::Contains("5 rows per sample") && Catch::Contains("needs 6"));
  CHECK_THROWS_AS(n.forward(static_cast<const float*>(nullptr), 0), option_error);
  CHECK_THROWS_WITH(n.parameters("9.weight"), Catch::Contains("no parameter tensor named '9.weight'"));
}

TEST_CASE("Dense: a batch gives the outputs of its samples run one at a time, on every CPU path", "[unit][net]") {
  // 256 -> 300 (76,800 weights): one sample splits its matrix-vector product across
  // threads, 40 samples take the GEMM; 8 -> 16 -> 4: per-column products up to 32 samples.
  using Big = Sequential<Input<256>, Dense<300>>;
  using Small = Sequential<Input<8>, Dense<16>, Tanh, Dense<4>>;
  auto check = [](auto& net, const auto& x) {
    const auto all = net.forward(x);
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      const auto one = net.forward(x.col(j).data(), 1);
      INFO("sample " << j);
      CHECK((one - all.col(j)).cwiseAbs().maxCoeff() <= 1e-5f * (1.0f + all.col(j).cwiseAbs().maxCoeff()));
    }
  };
  Network<Big> big(3);
  const Columns<float, 256> xb = Columns<float, 256>::Random(256, 40);
  check(big, xb);
  Network<Small> small(4);
  const Columns<float, 8> xs = Columns<float, 8>::Random(8, 40);  // 40 samples: the GEMM path
  check(small, xs);
  const Columns<float, 8> xs20 = xs.leftCols(20);  // 20 samples: per-column products
  check(small, xs20);
}
