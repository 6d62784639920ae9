// Finite-difference checks of Conv2D: weight, bias and input gradients for strides 1 and 2,
// padding 0, 1 and "same", kernels 1, 3 and 5, several channel counts and batch sizes, and
// every CPU kernel path (GEMM per sample or per batch, GEMM or direct weight gradient).
// A convolution is bilinear in its input and weights, so no input needs keeping away from
// a kink here. See gradcheck.hpp for the method and the metrics.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>

#include "gradcheck/gradcheck.hpp"

using namespace strata;
using namespace strata::gradcheck;

namespace {

/// Network<Net, double> initialised from `seed`, objective sum(c .* output) with c ~ N(0, 1).
template <class Net>
Result check_conv(std::size_t batch, std::uint64_t seed) {
  Network<Net, double> net(seed);
  const auto x = normal_batch<Net::InputShape::size>(batch, seed + 1000);
  const LinearFunctional<Net::OutputShape::size> f(batch, seed * 7919 + 1);
  return check_network(net, x, f);
}

}  // namespace

TEST_CASE("gradcheck: Conv2D stride 1, no padding, kernels 1, 3 and 5", "[gradcheck][conv]") {
  for (const std::size_t batch : {1, 3}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("conv2d", (check_conv<Sequential<Input<2, 6, 5>, Conv2D<3, 3>>>(batch, 1)));
    REQUIRE_GRADCHECK("conv2d", (check_conv<Sequential<Input<3, 4, 4>, Conv2D<2, 1>>>(batch, 2)));
    REQUIRE_GRADCHECK("conv2d", (check_conv<Sequential<Input<2, 7, 6>, Conv2D<3, 5>>>(batch, 3)));
    REQUIRE_GRADCHECK("conv2d", (check_conv<Sequential<Input<1, 5, 5>, Conv2D<4, 3>>>(batch, 4)));
    REQUIRE_GRADCHECK("conv2d", (check_conv<Sequential<Input<5, 3, 4>, Conv2D<1, 3>>>(batch, 5)));
  }
}

TEST_CASE("gradcheck: Conv2D stride 2", "[gradcheck][conv]") {
  for (const std::size_t batch : {1, 3}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("conv2d", (check_conv<Sequential<Input<2, 7, 6>, Conv2D<4, 3, 2>>>(batch, 11)));
    REQUIRE_GRADCHECK("conv2d", (check_conv<Sequential<Input<3, 6, 6>, Conv2D<2, 1, 2>>>(batch, 12)));
    REQUIRE_GRADCHECK("conv2d", (check_conv<Sequential<Input<2, 9, 8>, Conv2D<3, 5, 2>>>(batch, 13)));
    REQUIRE_GRADCHECK("conv2d", (check_conv<Sequential<Input<1, 8, 8>, Conv2D<3, 3, 2>>>(batch, 14)));
  }
}

TEST_CASE("gradcheck: Conv2D padding 1 and 2, with strides 1 and 2", "[gradcheck][conv]") {
  for (const std::size_t batch : {1, 3}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("conv2d", (check_conv<Sequential<Input<2, 5, 6>, Conv2D<3, 3, 1, 1>>>(batch, 21)));
    REQUIRE_GRADCHECK("conv2d", (check_conv<Sequential<Input<3, 7, 5>, Conv2D<2, 3, 2, 1>>>(batch, 22)));
    REQUIRE_GRADCHECK("conv2d", (check_conv<Sequential<Input<2, 6, 6>, Conv2D<2, 5, 2, 1>>>(batch, 23)));
    REQUIRE_GRADCHECK("conv2d", (check_conv<Sequential<Input<2, 4, 5>, Conv2D<2, 1, 1, 1>>>(batch, 24)));
    REQUIRE_GRADCHECK("conv2d", (check_conv<Sequential<Input<1, 3, 3>, Conv2D<2, 5, 1, 2>>>(batch, 25)));
  }
}

TEST_CASE("gradcheck: Conv2D same padding keeps the image size", "[gradcheck][conv]") {
  using Same3 = Sequential<Input<3, 5, 6>, Conv2D<4, 3, 1, same_padding>>;
  using Same5 = Sequential<Input<2, 6, 5>, Conv2D<3, 5, 1, same_padding>>;
  static_assert(Same3::output_shape == Shape<4, 5, 6>{} && Same5::output_shape == Shape<3, 6, 5>{});
  for (const std::size_t batch : {1, 4}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("conv2d", check_conv<Same3>(batch, 31));
    REQUIRE_GRADCHECK("conv2d", check_conv<Same5>(batch, 32));
  }
}

TEST_CASE("gradcheck: Conv2D on every CPU kernel path", "[gradcheck][conv]") {
  // ConvPlan: one GEMM per sample from 64 output positions (10x10 here), one GEMM per batch
  // below, and dot products of weight rows and position-major columns for at most 16
  // positions in the batch (Batched at batch 1); direct weight gradient for patches of
  // <= 16 taps (1x3x3 here).
  using PerSample = Sequential<Input<3, 10, 10>, Conv2D<4, 3, 1, 1>>;
  using PerSampleFewTaps = Sequential<Input<1, 10, 10>, Conv2D<3, 3>>;
  using Batched = Sequential<Input<4, 5, 5>, Conv2D<5, 3>>;
  using BatchedFewTaps = Sequential<Input<1, 4, 4>, Conv2D<3, 3, 1, 1>>;
  static_assert(backend::cpu_kernels::ConvPlan<3, 10, 10, 4, 3, 1, 1>::gemm_per_sample);
  static_assert(!backend::cpu_kernels::ConvPlan<3, 10, 10, 4, 3, 1, 1>::direct_weight_gradient);
  static_assert(backend::cpu_kernels::ConvPlan<1, 10, 10, 3, 3, 1, 0>::gemm_per_sample);
  static_assert(backend::cpu_kernels::ConvPlan<1, 10, 10, 3, 3, 1, 0>::direct_weight_gradient);
  static_assert(!backend::cpu_kernels::ConvPlan<4, 5, 5, 5, 3, 1, 0>::gemm_per_sample);
  static_assert(backend::cpu_kernels::ConvPlan<4, 5, 5, 5, 3, 1, 0>::rows_kernel(1));
  static_assert(!backend::cpu_kernels::ConvPlan<4, 5, 5, 5, 3, 1, 0>::rows_kernel(2));
  static_assert(!backend::cpu_kernels::ConvPlan<1, 4, 4, 3, 3, 1, 1>::gemm_per_sample);
  static_assert(backend::cpu_kernels::ConvPlan<1, 4, 4, 3, 3, 1, 1>::direct_weight_gradient);
  for (const std::size_t batch : {1, 2, 7}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("conv2d (kernel paths)", check_conv<PerSample>(batch, 41));
    REQUIRE_GRADCHECK("conv2d (kernel paths)", check_conv<PerSampleFewTaps>(batch, 42));
    REQUIRE_GRADCHECK("conv2d (kernel paths)", check_conv<Batched>(batch, 43));
    REQUIRE_GRADCHECK("conv2d (kernel paths)", check_conv<BatchedFewTaps>(batch, 44));
  }
}

TEST_CASE("gradcheck: a smooth stack of convolutions into Dense", "[gradcheck][conv][stack]") {
  using Net = Sequential<Input<2, 8, 7>, Conv2D<4, 3, 1, same_padding>, Tanh, Conv2D<3, 3, 2>, Sigmoid,
                         Conv2D<5, 1>, Flatten, Dense<3>>;
  for (const std::size_t batch : {1, 5}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("conv2d (stack)", check_conv<Net>(batch, 51));
  }
}
