#include <catch2/catch.hpp>
#include <strata/strata.hpp>

using namespace strata;

using Mlp = Sequential<Input<784>, Dense<100>, ReLU, Dense<50>, Tanh, Dense<10>>;

TEST_CASE("Sequential infers shapes and parameter counts at compile time", "[unit][net]") {
  STATIC_REQUIRE(Mlp::parameter_count == 784 * 100 + 100 + 100 * 50 + 50 + 50 * 10 + 10);
  STATIC_REQUIRE(Mlp::output_shape == Shape<10>{});
  STATIC_REQUIRE(Mlp::input_shape == Shape<784>{});
  STATIC_REQUIRE(Mlp::layer_count == 5);
  STATIC_REQUIRE(Mlp::max_width == 784);
  using Img = Sequential<Input<1, 4, 4>, Flatten, Dense<3>, Softmax>;
  STATIC_REQUIRE(Img::parameter_count == 16 * 3 + 3);
  STATIC_REQUIRE(std::is_same_v<Img::Layer<0>::OutputShape, Shape<16>>);
}

TEST_CASE("The segment table names every tensor as torch.nn.Sequential does", "[unit][net]") {
  const auto& s = Mlp::segments;
  REQUIRE(s.size() == 6);
  CHECK(s[0].name() == "0.weight");
  CHECK(s[0].offset == 0);
  CHECK(s[0].size == 78400);
  CHECK(!s[0].is_bias);
  CHECK(s[1].name() == "0.bias");
  CHECK(s[1].offset == 78400);
  CHECK(s[1].is_bias);
  CHECK(s[2].name() == "2.weight");
  CHECK(s[2].offset == 78500);
  CHECK(s[4].name() == "4.weight");
  CHECK(s[5].offset + s[5].size == Mlp::parameter_count);
  // Segments tile the buffer without gaps.
  for (std::size_t i = 1; i < s.size(); ++i) CHECK(s[i].offset == s[i - 1].offset + s[i - 1].size);
}

TEST_CASE("Activation blocks are padded to 16 scalars", "[unit][net]") {
  STATIC_REQUIRE(Mlp::activation_offsets[1] == 112);
  for (auto o : Mlp::activation_offsets) CHECK(o % 16 == 0);
  CHECK(Mlp::summary().find("Total parameters: 84060") != std::string::npos);
}
