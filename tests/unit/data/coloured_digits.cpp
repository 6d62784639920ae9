// Coloured digits (two targets: digit and colour) and the generated glyph digits.
#include <catch2/catch.hpp>
#include <cmath>
#include <set>
#include <vector>

#include <strata/data/coloured_digits.hpp>
#include <strata/data/split.hpp>

using namespace strata;

TEST_CASE("coloured digits: glyph_digits is balanced, in range and deterministic", "[unit][data][coloured_digits]") {
  const auto g = data::glyph_digits(30, 4);
  CHECK(g.size() == 300);
  CHECK(g.x.rows() == 256);
  CHECK(data::class_counts(g, 10) == std::vector<std::size_t>(10, 30));
  CHECK(g.x.minCoeff() >= 0.0f);
  CHECK(g.x.maxCoeff() <= 1.0f);
  CHECK(g.x == data::glyph_digits(30, 4).x);
  CHECK(g.y == data::glyph_digits(30, 4).y);
  CHECK(g.x != data::glyph_digits(30, 5).x);
  // Ink: the mean image of each digit differs from every other digit's, and an 8 carries
  // more ink than a 1.
  Eigen::MatrixXd means = Eigen::MatrixXd::Zero(256, 10);
  for (Eigen::Index j = 0; j < g.x.cols(); ++j)
    means.col(static_cast<Eigen::Index>(g.y(0, j))) += g.x.col(j).cast<double>() / 30.0;
  CHECK(means.col(8).sum() > 1.5 * means.col(1).sum());
  for (Eigen::Index a = 0; a < 10; ++a)
    for (Eigen::Index b = a + 1; b < 10; ++b) CHECK((means.col(a) - means.col(b)).norm() > 1.0);
  // Shifted by at most 2 columns, the 10 px wide glyph never reaches the first or last
  // column: those hold only the small noise.
  for (Eigen::Index j = 0; j < g.x.cols(); ++j)
    for (Eigen::Index y = 0; y < 16; ++y) {
      CHECK(g.x(y * 16, j) < 0.3f);
      CHECK(g.x(y * 16 + 15, j) < 0.3f);
    }
  CHECK_THROWS_AS(data::glyph_digits(0), option_error);
}

TEST_CASE("coloured digits: shape, targets, every colour, intensity times colour", "[unit][data][coloured_digits]") {
  const auto grey = data::glyph_digits<double>(20, 1);
  const auto rgb = data::coloured_digits(grey, 7, 2);
  static_assert(std::is_same_v<std::remove_const_t<decltype(rgb)>, Dataset<Shape<3, 16, 16>, Shape<2>, double>>);
  REQUIRE(rgb.size() == grey.size());
  CHECK(rgb.x.rows() == 3 * 256);
  CHECK(rgb.y.rows() == 2);
  CHECK(rgb.y.row(0) == grey.y.row(0));
  std::vector<int> per_colour(7, 0);
  for (Eigen::Index j = 0; j < rgb.y.cols(); ++j) {
    const double c = rgb.y(1, j);
    REQUIRE(c >= 0);
    REQUIRE(c < 7);
    REQUIRE(c == std::floor(c));
    const auto colour = static_cast<std::size_t>(c);
    ++per_colour[colour];
    const auto rgb_of = data::colour_rgb(colour);
    for (Eigen::Index ch = 0; ch < 3; ++ch)
      for (Eigen::Index i = 0; i < 256; ++i)
        REQUIRE(rgb.x(ch * 256 + i, j) == grey.x(i, j) * rgb_of[static_cast<std::size_t>(ch)]);
  }
  for (int count : per_colour) CHECK(count >= 10);  // 200 draws of 7 colours: about 29 each
  // Seeded: the same seed repeats the colours, another seed changes them.
  CHECK(data::coloured_digits(grey, 7, 2).y == rgb.y);
  CHECK(data::coloured_digits(grey, 7, 2).x == rgb.x);
  CHECK(data::coloured_digits(grey, 7, 3).y != rgb.y);
  // Three colours: only red, green and blue.
  const auto three = data::coloured_digits(grey, 3, 2);
  CHECK(three.y.row(1).maxCoeff() <= 2.0);
  CHECK(three.y.row(1).minCoeff() >= 0.0);
}

TEST_CASE("coloured digits: clamping, background noise, names and argument checks",
          "[unit][data][coloured_digits]") {
  // A hand-made 1x2x3 set: intensities outside [0, 1] are clamped.
  Eigen::Matrix<float, 6, 2> x;
  x << 1.5f, 0.0f, -0.2f, 0.25f, 0.5f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f;
  // Columns: (1.5, -0.2, 0.5, 0, 0, 0) and (0, 0.25, 1, 0, 0, 1).
  const Dataset<Shape<1, 2, 3>, Shape<1>, float> tiny(x, Eigen::Matrix<float, 1, 2>(4.0f, 7.0f));
  const auto c = data::coloured_digits(tiny, 1);  // one colour: red
  CHECK(c.y == (Eigen::Matrix<float, 2, 2>() << 4, 7, 0, 0).finished());
  CHECK(c.x(0, 0) == 1.0f);  // 1.5 clamped
  CHECK(c.x(1, 0) == 0.0f);  // -0.2 clamped
  CHECK(c.x(2, 0) == 0.5f);
  CHECK(c.x.bottomRows(12).isZero());  // green and blue channels

  const auto grey = data::glyph_digits(10, 2);
  const auto noisy = data::coloured_digits(grey, 3, 5, 0.3);
  CHECK(noisy.y == data::coloured_digits(grey, 3, 5).y);  // the noise has its own stream
  CHECK(noisy.x.minCoeff() >= 0.0f);
  CHECK(noisy.x.maxCoeff() <= 1.0f);
  // Where the ink is 0, every channel is background noise in [0, 0.3); somewhere it is not 0.
  double background_max = 0;
  for (Eigen::Index j = 0; j < grey.x.cols(); ++j)
    for (Eigen::Index i = 0; i < 256; ++i)
      if (grey.x(i, j) == 0.0f)
        for (Eigen::Index ch = 0; ch < 3; ++ch) {
          CHECK(noisy.x(ch * 256 + i, j) < 0.3f);
          background_max = std::max(background_max, static_cast<double>(noisy.x(ch * 256 + i, j)));
        }
  CHECK(background_max > 0.2);

  CHECK(data::colour_name(0) == "red");
  CHECK(data::colour_name(3) == "yellow");
  CHECK(data::colour_name(6) == "white");
  std::set<std::string> names;
  for (std::size_t i = 0; i < data::palette_size; ++i) names.insert(data::colour_name(i));
  CHECK(names.size() == data::palette_size);
  CHECK_THROWS_AS(data::colour_name(7), option_error);
  CHECK_THROWS_AS(data::coloured_digits(grey, 0), option_error);
  CHECK_THROWS_AS(data::coloured_digits(grey, 8), option_error);
  CHECK_THROWS_AS(data::coloured_digits(grey, 3, 0, 1.5), option_error);
}
