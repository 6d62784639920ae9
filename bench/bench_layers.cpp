// Forward and backward of each convolution and pooling layer of the digit CNN
// (1x28x28 -> Conv2D<32,3> -> MaxPool<2> -> Conv2D<64,3> -> MaxPool<2> -> Conv2D<128,3>),
// batch 50. The GFLOP/s counter counts 2 flops per multiply-add for convolutions (forward
// 2*B*OC*OH*OW*C*K*K, backward twice that with the input gradient) and one operation per
// window element for pooling.
//
//   <layer>/forward, <layer>/backward        what a Network runs (the backend's ConvPlan)
//   conv*/forward_relu/fused, .../separate   a following ReLU in the convolution's pass
//                                            (what a Network runs) or after it
//   conv*/<pass>/im2col_per_sample, .../im2col_batched, .../direct
//                                            the alternatives ConvPlan chooses among, to
//                                            re-measure the choice on another machine
//   conv*/forward_one_image/im2col, .../wide one image (batch-1 inference) with its ReLU:
//                                            the kernels ConvPlan chooses among at batch 1
// conv1 is a first layer: its backward computes no input gradient, as in training.
#include <benchmark/benchmark.h>

#include <strata/strata.hpp>

#include <cstddef>
#include <vector>

namespace {

using namespace strata;
using Cpu = backend::Cpu;
constexpr std::size_t kBatch = 50;

std::vector<float> random_vector(std::size_t n, std::uint64_t seed) {
  std::vector<float> v(n);
  Rng rng(seed);
  for (auto& e : v) e = static_cast<float>(rng.normal());
  return v;
}

void set_rate(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iteration * static_cast<double>(state.iterations()) * 1e-9,
                                                 benchmark::Counter::kIsRate);
  state.counters["samples/s"] = benchmark::Counter(static_cast<double>(state.iterations() * kBatch),
                                                   benchmark::Counter::kIsRate);
}

/// Buffers for one layer at batch kBatch; the layer runs through its bound type, as in a Network.
template <class Layer>
struct LayerCase {
  using In = typename Layer::InputShape;
  using Out = typename Layer::OutputShape;
  std::vector<float> params = random_vector(std::max<std::size_t>(Layer::parameter_count, 1), 1);
  std::vector<float> grads = std::vector<float>(params.size());
  std::vector<float> x = random_vector(In::size * kBatch, 2);
  std::vector<float> y = std::vector<float>(Out::size * kBatch);
  std::vector<float> dy = random_vector(Out::size * kBatch, 3);
  std::vector<float> dx = std::vector<float>(In::size * kBatch);
  std::vector<float> scratch = std::vector<float>(std::max<std::size_t>(Layer::scratch_per_sample, 1) * kBatch);
  Rng rng{4};

  Context<float, Cpu> context() {
    Context<float, Cpu> c;
    c.batch = kBatch;
    c.scratch = scratch.data();
    c.rng = &rng;
    return c;
  }
  void forward() {
    auto c = context();
    Layer::forward(params.data(), x.data(), y.data(), c);
  }
  void backward(bool input_gradient) {
    auto c = context();
    Layer::backward(params.data(), grads.data(), x.data(), y.data(), dy.data(), input_gradient ? dx.data() : nullptr,
                    c);
  }
};

template <class Spec, std::size_t... Dims>
using Bound = typename Sequential<Input<Dims...>, Spec>::template Layer<0>;

template <class Layer>
constexpr double conv_flops() {
  return 2.0 * kBatch * static_cast<double>(Layer::OutputShape::size) * static_cast<double>(Layer::fan_in);
}
template <class Layer, std::size_t K>
constexpr double pool_ops() {
  return static_cast<double>(kBatch) * static_cast<double>(Layer::OutputShape::size) * K * K;
}

template <class Layer>
void conv_forward(benchmark::State& state) {
  LayerCase<Layer> c;
  for (auto _ : state) {
    c.forward();
    benchmark::DoNotOptimize(c.y.data());
    benchmark::ClobberMemory();
  }
  set_rate(state, conv_flops<Layer>());
}

/// Forward followed by ReLU: in the convolution's pass (forward_relu, what a Network runs
/// for Conv2D, ReLU) or as a pass of its own after it.
template <class Layer, bool Fused>
void conv_relu_forward(benchmark::State& state) {
  LayerCase<Layer> c;
  std::vector<float> relu_y(c.y.size());
  for (auto _ : state) {
    auto ctx = c.context();
    if constexpr (Fused) {
      Layer::forward_relu(c.params.data(), c.x.data(), c.y.data(), relu_y.data(), ctx);
    } else {
      Layer::forward(c.params.data(), c.x.data(), c.y.data(), ctx);
      Cpu::relu_forward(c.y.data(), relu_y.data(), relu_y.size());
    }
    benchmark::DoNotOptimize(relu_y.data());
    benchmark::ClobberMemory();
  }
  set_rate(state, conv_flops<Layer>());
}

/// Backward after one forward (the im2col columns it reads stay in scratch; backward
/// overwrites them with the input-gradient columns, which changes no timing).
template <class Layer, bool InputGradient>
void conv_backward(benchmark::State& state) {
  LayerCase<Layer> c;
  c.forward();
  for (auto _ : state) {
    c.backward(InputGradient);
    benchmark::DoNotOptimize(c.grads.data());
    benchmark::ClobberMemory();
  }
  set_rate(state, (InputGradient ? 2.0 : 1.0) * conv_flops<Layer>());
}

template <class Layer, std::size_t K>
void pool_forward(benchmark::State& state) {
  LayerCase<Layer> c;
  for (auto _ : state) {
    c.forward();
    benchmark::DoNotOptimize(c.y.data());
    benchmark::ClobberMemory();
  }
  set_rate(state, pool_ops<Layer, K>());
}

template <class Layer, std::size_t K>
void pool_backward(benchmark::State& state) {
  LayerCase<Layer> c;
  c.forward();
  for (auto _ : state) {
    c.backward(true);
    benchmark::DoNotOptimize(c.dx.data());
    benchmark::ClobberMemory();
  }
  set_rate(state, pool_ops<Layer, K>());
}

// ---- The alternative convolution kernels, called directly --------------------------------

enum class Variant { im2col_per_sample, im2col_batched, direct };

template <std::size_t C, std::size_t H, std::size_t W, std::size_t OC, std::size_t K, Variant V>
void conv_variant_forward(benchmark::State& state) {
  using Layer = Bound<Conv2D<OC, K>, C, H, W>;
  LayerCase<Layer> c;
  const float* w = c.params.data();
  const float* b = w + Layer::weight_count;
  for (auto _ : state) {
    if constexpr (V == Variant::direct)
      Cpu::conv2d_forward_direct<C, H, W, OC, K, 1, 0>(w, b, c.x.data(), c.y.data(), kBatch);
    else
      Cpu::conv2d_forward_im2col<C, H, W, OC, K, 1, 0, V == Variant::im2col_per_sample>(w, b, c.x.data(), c.y.data(),
                                                                                         c.scratch.data(), kBatch);
    benchmark::DoNotOptimize(c.y.data());
    benchmark::ClobberMemory();
  }
  set_rate(state, conv_flops<Layer>());
}

template <std::size_t C, std::size_t H, std::size_t W, std::size_t OC, std::size_t K, Variant V, bool DirectWeightGradient,
          bool InputGradient>
void conv_variant_backward(benchmark::State& state) {
  using Layer = Bound<Conv2D<OC, K>, C, H, W>;
  LayerCase<Layer> c;
  const float* w = c.params.data();
  float* dw = c.grads.data();
  float* db = dw + Layer::weight_count;
  float* dx = InputGradient ? c.dx.data() : nullptr;
  c.forward();
  for (auto _ : state) {
    if constexpr (V == Variant::direct)
      Cpu::conv2d_backward_direct<C, H, W, OC, K, 1, 0>(w, c.x.data(), c.dy.data(), dw, db, dx, kBatch);
    else
      Cpu::conv2d_backward_im2col<C, H, W, OC, K, 1, 0, V == Variant::im2col_per_sample, DirectWeightGradient>(
          w, c.x.data(), c.dy.data(), dw, db, dx, c.scratch.data(), kBatch);
    benchmark::DoNotOptimize(c.grads.data());
    benchmark::ClobberMemory();
  }
  set_rate(state, (InputGradient ? 2.0 : 1.0) * conv_flops<Layer>());
}

// ---- One image (batch-1 inference): the forward kernels ConvPlan chooses among -----------

enum class OneImage { im2col, wide };

/// Forward and ReLU of one image: im2col + gemm_broadcast (gemm_rows below 16 positions), or
/// the products read straight from the padded image (conv2d_forward_wide).
template <std::size_t C, std::size_t H, std::size_t W, std::size_t OC, std::size_t K, OneImage V>
void conv_one_image_forward(benchmark::State& state) {
  using Layer = Bound<Conv2D<OC, K>, C, H, W>;
  using Plan = backend::cpu_kernels::ConvPlan<C, H, W, OC, K, 1, 0>;
  LayerCase<Layer> c;
  const float* w = c.params.data();
  const float* b = w + Layer::weight_count;
  for (auto _ : state) {
    if constexpr (V == OneImage::wide)
      Cpu::conv2d_forward_wide<C, H, W, OC, K, 0>(w, b, c.x.data(), c.y.data(), c.scratch.data(), true);
    else
      Cpu::conv2d_forward_im2col<C, H, W, OC, K, 1, 0, Plan::gemm_per_sample>(w, b, c.x.data(), c.y.data(),
                                                                            c.scratch.data(), 1, true);
    benchmark::DoNotOptimize(c.y.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      conv_flops<Layer>() / kBatch * static_cast<double>(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
}

using Conv1 = Bound<Conv2D<32, 3>, 1, 28, 28>;
using Pool1 = Bound<MaxPool<2>, 32, 26, 26>;
using Conv2 = Bound<Conv2D<64, 3>, 32, 13, 13>;
using Pool2 = Bound<MaxPool<2>, 64, 11, 11>;
using Conv3 = Bound<Conv2D<128, 3>, 64, 5, 5>;
using Avg1 = Bound<AvgPool<2>, 32, 26, 26>;
using Global3 = Bound<GlobalAvgPool, 128, 3, 3>;

constexpr auto us = benchmark::kMicrosecond;

}  // namespace

// What a Network runs.
BENCHMARK_TEMPLATE(conv_forward, Conv1)->Name("conv1_1x28x28_to_32/forward")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_backward, Conv1, false)->Name("conv1_1x28x28_to_32/backward")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(pool_forward, Pool1, 2)->Name("maxpool1_32x26x26/forward")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(pool_backward, Pool1, 2)->Name("maxpool1_32x26x26/backward")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_forward, Conv2)->Name("conv2_32x13x13_to_64/forward")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_backward, Conv2, true)->Name("conv2_32x13x13_to_64/backward")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(pool_forward, Pool2, 2)->Name("maxpool2_64x11x11/forward")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(pool_backward, Pool2, 2)->Name("maxpool2_64x11x11/backward")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_forward, Conv3)->Name("conv3_64x5x5_to_128/forward")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_backward, Conv3, true)->Name("conv3_64x5x5_to_128/backward")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(pool_forward, Avg1, 2)->Name("avgpool_32x26x26/forward")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(pool_backward, Avg1, 2)->Name("avgpool_32x26x26/backward")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(pool_forward, Global3, 3)->Name("global_avg_pool_128x3x3/forward")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(pool_backward, Global3, 3)->Name("global_avg_pool_128x3x3/backward")->Unit(us)->UseRealTime();

// A ReLU after the convolution, in its pass or apart.
BENCHMARK_TEMPLATE(conv_relu_forward, Conv1, true)->Name("conv1_1x28x28_to_32/forward_relu/fused")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_relu_forward, Conv1, false)->Name("conv1_1x28x28_to_32/forward_relu/separate")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_relu_forward, Conv2, true)->Name("conv2_32x13x13_to_64/forward_relu/fused")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_relu_forward, Conv2, false)->Name("conv2_32x13x13_to_64/forward_relu/separate")->Unit(us)->UseRealTime();

// The alternatives.
BENCHMARK_TEMPLATE(conv_variant_forward, 1, 28, 28, 32, 3, Variant::im2col_per_sample)
    ->Name("conv1_1x28x28_to_32/forward/im2col_per_sample")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_variant_forward, 1, 28, 28, 32, 3, Variant::im2col_batched)
    ->Name("conv1_1x28x28_to_32/forward/im2col_batched")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_variant_forward, 1, 28, 28, 32, 3, Variant::direct)
    ->Name("conv1_1x28x28_to_32/forward/direct")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_variant_backward, 1, 28, 28, 32, 3, Variant::im2col_per_sample, false, false)
    ->Name("conv1_1x28x28_to_32/backward/im2col_gemm_weight_gradient")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_variant_backward, 1, 28, 28, 32, 3, Variant::im2col_per_sample, true, false)
    ->Name("conv1_1x28x28_to_32/backward/im2col_direct_weight_gradient")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_variant_backward, 1, 28, 28, 32, 3, Variant::direct, false, false)
    ->Name("conv1_1x28x28_to_32/backward/direct")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_variant_forward, 32, 13, 13, 64, 3, Variant::im2col_per_sample)
    ->Name("conv2_32x13x13_to_64/forward/im2col_per_sample")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_variant_forward, 32, 13, 13, 64, 3, Variant::im2col_batched)
    ->Name("conv2_32x13x13_to_64/forward/im2col_batched")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_variant_forward, 32, 13, 13, 64, 3, Variant::direct)
    ->Name("conv2_32x13x13_to_64/forward/direct")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_variant_backward, 32, 13, 13, 64, 3, Variant::im2col_per_sample, false, true)
    ->Name("conv2_32x13x13_to_64/backward/im2col_per_sample")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_variant_backward, 32, 13, 13, 64, 3, Variant::im2col_batched, false, true)
    ->Name("conv2_32x13x13_to_64/backward/im2col_batched")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_variant_backward, 32, 13, 13, 64, 3, Variant::direct, false, true)
    ->Name("conv2_32x13x13_to_64/backward/direct")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_variant_forward, 64, 5, 5, 128, 3, Variant::im2col_per_sample)
    ->Name("conv3_64x5x5_to_128/forward/im2col_per_sample")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_variant_forward, 64, 5, 5, 128, 3, Variant::im2col_batched)
    ->Name("conv3_64x5x5_to_128/forward/im2col_batched")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_variant_forward, 64, 5, 5, 128, 3, Variant::direct)
    ->Name("conv3_64x5x5_to_128/forward/direct")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_variant_backward, 64, 5, 5, 128, 3, Variant::im2col_per_sample, false, true)
    ->Name("conv3_64x5x5_to_128/backward/im2col_per_sample")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_variant_backward, 64, 5, 5, 128, 3, Variant::im2col_batched, false, true)
    ->Name("conv3_64x5x5_to_128/backward/im2col_batched")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_variant_backward, 64, 5, 5, 128, 3, Variant::direct, false, true)
    ->Name("conv3_64x5x5_to_128/backward/direct")->Unit(us)->UseRealTime();

// One image, with the following ReLU (what batch-1 inference runs through each)
BENCHMARK_TEMPLATE(conv_one_image_forward, 1, 28, 28, 32, 3, OneImage::im2col)
    ->Name("conv1_1x28x28_to_32/forward_one_image/im2col")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_one_image_forward, 1, 28, 28, 32, 3, OneImage::wide)
    ->Name("conv1_1x28x28_to_32/forward_one_image/wide")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_one_image_forward, 32, 13, 13, 64, 3, OneImage::im2col)
    ->Name("conv2_32x13x13_to_64/forward_one_image/im2col")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_one_image_forward, 32, 13, 13, 64, 3, OneImage::wide)
    ->Name("conv2_32x13x13_to_64/forward_one_image/wide")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_one_image_forward, 64, 5, 5, 128, 3, OneImage::im2col)
    ->Name("conv3_64x5x5_to_128/forward_one_image/im2col")->Unit(us)->UseRealTime();
BENCHMARK_TEMPLATE(conv_one_image_forward, 64, 5, 5, 128, 3, OneImage::wide)
    ->Name("conv3_64x5x5_to_128/forward_one_image/wide")->Unit(us)->UseRealTime();

BENCHMARK_MAIN();
