#include <catch2/catch.hpp>
#include <strata/core/shape.hpp>

using namespace strata;

TEST_CASE("Shape has static rank, size and dims", "[unit][core]") {
  using S = Shape<1, 28, 28>;
  STATIC_REQUIRE(S::rank == 3);
  STATIC_REQUIRE(S::size == 784);
  STATIC_REQUIRE(S::dims[1] == 28);
  STATIC_REQUIRE(S{} == Shape<1, 28, 28>{});
  STATIC_REQUIRE(!(S{} == Shape<784>{}));
  CHECK(S::to_string() == "1x28x28");
  CHECK(Shape<10>::to_string() == "10");
}
