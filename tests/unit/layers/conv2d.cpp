// Conv2D: shapes and parameter layout, initialisation, and the CPU kernels (every im2col
// variant and the direct reference loops) against a naive convolution written from the
// definition, on geometries covering stride, padding, kernel 1 and non-square images.
#include <catch2/catch.hpp>
#include <strata/strata.hpp>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <vector>

using namespace strata;

namespace {

// ---- Shapes, parameters, segments -------------------------------------------------------

using Digits = Sequential<Input<1, 28, 28>, Conv2D<32, 3>, ReLU, MaxPool<2>, Conv2D<64, 3>, ReLU, MaxPool<2>,
                          Conv2D<128, 3>, ReLU, Flatten, Dense<10>>;
static_assert(Digits::Layer<0>::OutputShape{} == Shape<32, 26, 26>{});
static_assert(Digits::Layer<2>::OutputShape{} == Shape<32, 13, 13>{});
static_assert(Digits::Layer<3>::OutputShape{} == Shape<64, 11, 11>{});
static_assert(Digits::Layer<5>::OutputShape{} == Shape<64, 5, 5>{});
static_assert(Digits::Layer<6>::OutputShape{} == Shape<128, 3, 3>{});
static_assert(Digits::output_shape == Shape<10>{});
static_assert(Digits::layer_parameter_counts[0] == 32 * 1 * 9 + 32);
static_assert(Digits::layer_parameter_counts[3] == 64 * 32 * 9 + 64);
static_assert(Digits::layer_parameter_counts[6] == 128 * 64 * 9 + 128);
// Conv2D declares the scratch the CPU kernels use: im2col columns and the channel-major output gradient.
static_assert(Digits::Layer<3>::scratch_per_sample == 32 * 9 * 128 + 64 * 121);  // column rows padded to 128
static_assert(Digits::Layer<3>::scratch_per_sample == backend::cpu_kernels::ConvPlan<32, 13, 13, 64, 3, 1, 0>::scratch);

// (H + 2P - K) / S + 1, floor division as torch.nn.Conv2d.
static_assert(Sequential<Input<3, 7, 8>, Conv2D<5, 3, 2, 1>>::output_shape == Shape<5, 4, 4>{});
static_assert(Sequential<Input<3, 7, 8>, Conv2D<5, 5, 2>>::output_shape == Shape<5, 2, 2>{});
static_assert(Sequential<Input<2, 5, 6>, Conv2D<4, 1>>::output_shape == Shape<4, 5, 6>{});
static_assert(Sequential<Input<2, 5, 6>, Conv2D<4, 5, 1, same_padding>>::output_shape == Shape<4, 5, 6>{});
static_assert(Sequential<Input<2, 5, 6>, Conv2D<4, 3, 1, same_padding>>::output_shape == Shape<4, 5, 6>{});
static_assert(Conv2D<4, 5, 1, same_padding>::padding == 2);
// A kernel may exceed the image as long as it fits the padded image.
static_assert(Sequential<Input<1, 2, 2>, Conv2D<1, 3, 1, 1>>::output_shape == Shape<1, 2, 2>{});

TEST_CASE("Conv2D stores weight [OC][C][K][K] then bias, named as torch.nn.Conv2d", "[unit][layers][conv]") {
  using Net = Sequential<Input<3, 8, 8>, Conv2D<4, 3>, ReLU, Conv2D<2, 1>>;
  static_assert(Net::segments.size() == 4);
  CHECK(Net::segments[0].name() == "0.weight");
  CHECK(Net::segments[0].size == 4 * 3 * 3 * 3);
  CHECK(Net::segments[0].fan_in == 27);
  CHECK_FALSE(Net::segments[0].is_bias);
  CHECK(Net::segments[1].name() == "0.bias");
  CHECK(Net::segments[1].offset == 108);
  CHECK(Net::segments[1].size == 4);
  CHECK(Net::segments[1].is_bias);
  CHECK(Net::segments[2].name() == "2.weight");
  CHECK(Net::segments[2].fan_in == 4);
  CHECK(Net::segments[3].name() == "2.bias");
  CHECK(Net::Layer<0>::name() == "Conv2D<4,3>");
  CHECK(Sequential<Input<3, 8, 8>, Conv2D<4, 3, 2, 1>>::Layer<0>::name() == "Conv2D<4,3,2,1>");
  CHECK(Sequential<Input<3, 8, 8>, Conv2D<4, 3, 1, same_padding>>::Layer<0>::name() == "Conv2D<4,3,1,1>");
}

TEST_CASE("Conv2D init is U(-1/sqrt(C*K*K), 1/sqrt(C*K*K)) as in torch.nn.Conv2d", "[unit][layers][conv]") {
  using Net = Sequential<Input<16, 6, 6>, Conv2D<64, 5>>;
  Network<Net> net(3);
  const auto w = net.parameters("0.weight");
  const double bound = 1.0 / std::sqrt(16.0 * 25.0);
  double sum = 0, sum2 = 0;
  for (float v : w) {
    REQUIRE(std::abs(v) <= bound);
    sum += v;
    sum2 += double(v) * v;
  }
  const double mean = sum / double(w.size());
  CHECK(mean == Approx(0).margin(bound * 0.02));
  CHECK(sum2 / double(w.size()) - mean * mean == Approx(bound * bound / 3).epsilon(0.02));
  for (float v : net.parameters("0.bias")) REQUIRE(std::abs(v) <= bound);
}

// ---- Kernels against the definition ------------------------------------------------------

/// y[j][oc][oh][ow] = b[oc] + sum_{c,kh,kw} w[oc][c][kh][kw] x[j][c][oh*S+kh-P][ow*S+kw-P]
/// (zero outside the image), and its adjoints, straight from the definition in double.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t OC, std::size_t K, std::size_t S, std::size_t P>
struct Naive {
  static constexpr std::size_t OH = (H + 2 * P - K) / S + 1, OW = (W + 2 * P - K) / S + 1;
  static constexpr std::size_t in = C * H * W, out = OC * OH * OW, weights = OC * C * K * K;

  template <class F>
  static void each(std::size_t batch, F&& f) {
    for (std::size_t j = 0; j < batch; ++j)
      for (std::size_t oc = 0; oc < OC; ++oc)
        for (std::size_t oh = 0; oh < OH; ++oh)
          for (std::size_t ow = 0; ow < OW; ++ow)
            for (std::size_t c = 0; c < C; ++c)
              for (std::size_t kh = 0; kh < K; ++kh)
                for (std::size_t kw = 0; kw < K; ++kw) {
                  const long ih = long(oh * S + kh) - long(P), iw = long(ow * S + kw) - long(P);
                  if (ih < 0 || iw < 0 || ih >= long(H) || iw >= long(W)) continue;
                  f(j * out + (oc * OH + oh) * OW + ow, j * in + (c * H + std::size_t(ih)) * W + std::size_t(iw),
                    ((oc * C + c) * K + kh) * K + kw);
                }
  }
  static std::vector<double> forward(const std::vector<double>& w, const std::vector<double>& b,
                                     const std::vector<double>& x, std::size_t batch) {
    std::vector<double> y(batch * out);
    for (std::size_t j = 0; j < batch; ++j)
      for (std::size_t oc = 0; oc < OC; ++oc)
        for (std::size_t p = 0; p < OH * OW; ++p) y[j * out + oc * OH * OW + p] = b[oc];
    each(batch, [&](std::size_t yi, std::size_t xi, std::size_t wi) { y[yi] += w[wi] * x[xi]; });
    return y;
  }
  static void backward(const std::vector<double>& w, const std::vector<double>& x, const std::vector<double>& dy,
                       std::vector<double>& dw, std::vector<double>& db, std::vector<double>& dx, std::size_t batch) {
    dw.assign(weights, 0.0);
    db.assign(OC, 0.0);
    dx.assign(batch * in, 0.0);
    each(batch, [&](std::size_t yi, std::size_t xi, std::size_t wi) {
      dw[wi] += dy[yi] * x[xi];
      dx[xi] += w[wi] * dy[yi];
    });
    for (std::size_t j = 0; j < batch; ++j)
      for (std::size_t oc = 0; oc < OC; ++oc)
        for (std::size_t p = 0; p < OH * OW; ++p) db[oc] += dy[j * out + oc * OH * OW + p];
  }
};

std::vector<double> random_vector(std::size_t n, Rng& rng) {
  std::vector<double> v(n);
  for (auto& e : v) e = rng.normal();
  return v;
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

/// Every CPU path (chosen plan; im2col with per-sample or batched GEMM, with GEMM or direct
/// weight gradient where the patch allows; direct reference) against Naive, in double.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t OC, std::size_t K, std::size_t S, std::size_t P>
void check_kernels(std::size_t batch) {
  using N = Naive<C, H, W, OC, K, S, P>;
  using Cpu = backend::Cpu;
  using Plan = backend::cpu_kernels::ConvPlan<C, H, W, OC, K, S, P>;
  CAPTURE(C, H, W, OC, K, S, P, batch);
  Rng rng(C * 1000 + H * 100 + K * 10 + S + P);
  const auto w = random_vector(N::weights, rng), b = random_vector(OC, rng), x = random_vector(batch * N::in, rng),
             dy = random_vector(batch * N::out, rng);
  const auto y_ref = N::forward(w, b, x, batch);
  std::vector<double> dw_ref, db_ref, dx_ref;
  N::backward(w, x, dy, dw_ref, db_ref, dx_ref, batch);
  constexpr double tol = 1e-12;

  std::vector<double> scratch(Plan::scratch * batch), y(batch * N::out), dw(N::weights), db(OC), dx(batch * N::in);
  // With `relu`, relu(y) in y's place (0 for y < 0, y otherwise, -0 kept): the forward that
  // a stack runs for a convolution followed by ReLU.
  auto check_relu = [&](const char* what, auto&& forward) {
    INFO(what);
    std::vector<double> y_plain(y.size()), y_relu(y.size(), std::nan(""));
    forward(y_plain.data(), false);
    forward(y_relu.data(), true);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
      const double want = y_plain[i] < 0 ? 0.0 : y_plain[i];
      wrong += y_relu[i] != want || std::signbit(y_relu[i]) != std::signbit(want);
    }
    CHECK(wrong == 0);
    CHECK(std::find_if(y_plain.begin(), y_plain.end(), [](double v) { return v < 0; }) != y_plain.end());
    CHECK(std::find_if(y_relu.begin(), y_relu.end(), [](double v) { return v > 0; }) != y_relu.end());
  };
  auto check_backward = [&](const char* what) {
    INFO(what);
    CHECK(max_abs_diff(dw, dw_ref) < tol);
    CHECK(max_abs_diff(db, db_ref) < tol);
    CHECK(max_abs_diff(dx, dx_ref) < tol);
  };

  check_relu("chosen plan, with ReLU", [&](double* out, bool relu) {
    Cpu::conv2d_forward<C, H, W, OC, K, S, P>(w.data(), b.data(), x.data(), out, scratch.data(), batch, relu);
  });
  Cpu::conv2d_forward<C, H, W, OC, K, S, P>(w.data(), b.data(), x.data(), y.data(), scratch.data(), batch);
  CHECK(max_abs_diff(y, y_ref) < tol);
  Cpu::conv2d_backward<C, H, W, OC, K, S, P>(w.data(), x.data(), dy.data(), dw.data(), db.data(), dx.data(),
                                             scratch.data(), batch);
  check_backward("chosen plan");

  [&]<bool PerSample>(std::bool_constant<PerSample>) {
    check_relu(PerSample ? "GEMM per sample, with ReLU" : "one GEMM per batch, with ReLU", [&](double* out, bool relu) {
      Cpu::conv2d_forward_im2col<C, H, W, OC, K, S, P, PerSample>(w.data(), b.data(), x.data(), out, scratch.data(),
                                                                  batch, relu);
    });
    Cpu::conv2d_forward_im2col<C, H, W, OC, K, S, P, PerSample>(w.data(), b.data(), x.data(), y.data(),
                                                                scratch.data(), batch);
    CHECK(max_abs_diff(y, y_ref) < tol);
    Cpu::conv2d_backward_im2col<C, H, W, OC, K, S, P, PerSample, false>(w.data(), x.data(), dy.data(), dw.data(),
                                                                        db.data(), dx.data(), scratch.data(), batch);
    check_backward(PerSample ? "im2col, GEMM per sample" : "im2col, one GEMM per batch");
    if constexpr (C * K * K <= 16) {
      Cpu::conv2d_forward_im2col<C, H, W, OC, K, S, P, PerSample>(w.data(), b.data(), x.data(), y.data(),
                                                                  scratch.data(), batch);
      Cpu::conv2d_backward_im2col<C, H, W, OC, K, S, P, PerSample, true>(w.data(), x.data(), dy.data(), dw.data(),
                                                                         db.data(), dx.data(), scratch.data(), batch);
      check_backward("im2col, direct weight gradient");
    }
  }(std::bool_constant<true>{});
  [&]<bool PerSample>(std::bool_constant<PerSample>) {
    check_relu(PerSample ? "GEMM per sample, with ReLU" : "one GEMM per batch, with ReLU", [&](double* out, bool relu) {
      Cpu::conv2d_forward_im2col<C, H, W, OC, K, S, P, PerSample>(w.data(), b.data(), x.data(), out, scratch.data(),
                                                                  batch, relu);
    });
    Cpu::conv2d_forward_im2col<C, H, W, OC, K, S, P, PerSample>(w.data(), b.data(), x.data(), y.data(),
                                                                scratch.data(), batch);
    CHECK(max_abs_diff(y, y_ref) < tol);
    Cpu::conv2d_backward_im2col<C, H, W, OC, K, S, P, PerSample, false>(w.data(), x.data(), dy.data(), dw.data(),
                                                                        db.data(), dx.data(), scratch.data(), batch);
    check_backward("im2col, one GEMM per batch");
  }(std::bool_constant<false>{});

  // Stride 1: the wide kernel (no im2col) one image at a time; for an image with at least 64
  // positions, bit for bit the im2col + gemm_broadcast path (the same products in the same order).
  if constexpr (S == 1 && Plan::wide_image <= Plan::scratch) {
    for (std::size_t j = 0; j < batch; ++j) {
      CAPTURE(j);
      const double* xj = x.data() + j * N::in;
      check_relu("wide kernel, with ReLU", [&](double* out, bool relu) {
        std::fill(out, out + y.size(), 0.0);
        Cpu::conv2d_forward_wide<C, H, W, OC, K, P>(w.data(), b.data(), xj, out + j * N::out, scratch.data(), relu);
      });
      std::vector<double> y_wide(N::out, std::nan("")), y_im2col(N::out);
      Cpu::conv2d_forward_wide<C, H, W, OC, K, P>(w.data(), b.data(), xj, y_wide.data(), scratch.data());
      CHECK(max_abs_diff(y_wide, std::vector<double>(y_ref.begin() + j * N::out, y_ref.begin() + (j + 1) * N::out)) <
            tol);
      if constexpr (Plan::gemm_per_sample) {
        Cpu::conv2d_forward_im2col<C, H, W, OC, K, S, P, true>(w.data(), b.data(), xj, y_im2col.data(), scratch.data(),
                                                               1);
        CHECK(std::memcmp(y_wide.data(), y_im2col.data(), N::out * sizeof(double)) == 0);
      }
    }
  }

  Cpu::conv2d_forward_direct<C, H, W, OC, K, S, P>(w.data(), b.data(), x.data(), y.data(), batch);
  CHECK(max_abs_diff(y, y_ref) < tol);
  Cpu::conv2d_backward_direct<C, H, W, OC, K, S, P>(w.data(), x.data(), dy.data(), dw.data(), db.data(), dx.data(),
                                                    batch);
  check_backward("direct");

  // Without dx the parameter gradients are the same.
  Cpu::conv2d_forward<C, H, W, OC, K, S, P>(w.data(), b.data(), x.data(), y.data(), scratch.data(), batch);
  Cpu::conv2d_backward<C, H, W, OC, K, S, P>(w.data(), x.data(), dy.data(), dw.data(), db.data(),
                                             static_cast<double*>(nullptr), scratch.data(), batch);
  CHECK(max_abs_diff(dw, dw_ref) < tol);
  CHECK(max_abs_diff(db, db_ref) < tol);
}

}  // namespace

TEST_CASE("Conv2D kernels match the definition: stride, padding, kernel sizes", "[unit][layers][conv]") {
  check_kernels<1, 6, 5, 3, 3, 1, 0>(3);   // first-layer shape: direct weight gradient
  check_kernels<2, 7, 6, 4, 3, 2, 1>(2);   // stride 2, padding 1, odd sizes
  check_kernels<3, 5, 5, 2, 1, 1, 0>(4);   // 1x1 kernel
  check_kernels<3, 8, 7, 2, 1, 2, 0>(2);   // 1x1 kernel, stride 2
  check_kernels<2, 6, 6, 3, 5, 1, 2>(2);   // "same" 5x5
  check_kernels<2, 9, 8, 3, 5, 2, 0>(3);   // 5x5, stride 2
  check_kernels<1, 3, 4, 2, 5, 3, 2>(2);   // kernel larger than the image, fits the padding
  check_kernels<4, 4, 4, 5, 3, 1, 3>(2);   // padding larger than the kernel reach: zero border outputs
  check_kernels<5, 12, 11, 6, 3, 1, 0>(1); // batch 1, 110 positions (per-sample GEMM)
  check_kernels<8, 10, 10, 4, 3, 1, 1>(5); // 100 positions (per-sample GEMM) with padding
  // Conv2D declares the scratch the CPU kernels use.
  static_assert(Sequential<Input<2, 7, 6>, Conv2D<4, 3, 2, 1>>::Layer<0>::scratch_per_sample ==
                backend::cpu_kernels::ConvPlan<2, 7, 6, 4, 3, 2, 1>::scratch);
  // One image with at least 64 positions: weights times its columns (gemm_broadcast).
  static_assert(backend::cpu_kernels::ConvPlan<5, 12, 11, 6, 3, 1, 0>::broadcast_kernel(1));
  static_assert(!backend::cpu_kernels::ConvPlan<5, 12, 11, 6, 3, 1, 0>::broadcast_kernel(2));
  check_kernels<1, 28, 28, 32, 3, 1, 0>(1);   // the digit CNN's first convolution, 676 positions, 9 taps
  check_kernels<13, 10, 10, 17, 3, 1, 1>(1);  // 100 positions, 117 taps, 17 channels (partial blocks)
  // One image, stride 1, at least as many taps as channels: read from the padded image (no im2col).
  using Digits2 = backend::cpu_kernels::ConvPlan<32, 13, 13, 64, 3, 1, 0>;
  static_assert(Digits2::wide_kernel(1) && !Digits2::wide_kernel(2));
  static_assert(!backend::cpu_kernels::ConvPlan<1, 28, 28, 32, 3, 1, 0>::wide_kernel(1));  // 9 taps, 32 channels
  static_assert(!backend::cpu_kernels::ConvPlan<8, 17, 17, 4, 3, 2, 1>::wide_kernel(1));   // stride 2
  check_kernels<32, 13, 13, 64, 3, 1, 0>(1);  // the digit CNN's second convolution: 11 x 13 wide positions
  check_kernels<4, 9, 8, 5, 5, 1, 2>(1);      // "same" 5x5: wide rows of 12, 4 columns dropped
  check_kernels<8, 9, 9, 7, 1, 1, 0>(1);      // 1x1 kernel: nothing dropped
  check_kernels<3, 11, 9, 2, 3, 1, 1>(2);     // per-sample GEMM for the batch, the wide kernel per image
  // At most 16 positions in the batch: weight rows times position-major columns (gemm_rows).
  static_assert(backend::cpu_kernels::ConvPlan<16, 5, 5, 9, 3, 1, 0>::rows_kernel(1));
  static_assert(!backend::cpu_kernels::ConvPlan<16, 5, 5, 9, 3, 1, 0>::rows_kernel(2));
  check_kernels<16, 5, 5, 9, 3, 1, 0>(1);  // 3x3 positions, 144 taps (whole packets), 9 channels (a partial block)
  check_kernels<3, 4, 4, 7, 3, 1, 0>(4);   // 2x2 positions x 4 samples, 27 taps (a partial packet)
  check_kernels<2, 3, 3, 5, 3, 2, 1>(3);   // stride 2 and padding: 2x2 positions, zeros in the columns
}

TEST_CASE("Conv2D: a batch gives the outputs of its samples run one at a time", "[unit][layers][conv]") {
  using Net = Sequential<Input<3, 12, 12>, Conv2D<8, 3, 1, 1>, ReLU, Conv2D<4, 3, 2>>;
  Network<Net> net(5);
  Columns<float, 432> x = Columns<float, 432>::Random(432, 6);
  const Columns<float, Net::OutputShape::size> all = net.forward(x);
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    const auto one = net.forward(x.col(j).data(), 1);
    CHECK((one - all.col(j)).cwiseAbs().maxCoeff() < 1e-5f);
  }
  // 3x3 outputs: a batch of 1 takes gemm_rows, a batch of 6 one GEMM over the batch.
  using Small = Sequential<Input<24, 5, 5>, Conv2D<10, 3>>;
  static_assert(backend::cpu_kernels::ConvPlan<24, 5, 5, 10, 3, 1, 0>::rows_kernel(1));
  Network<Small> small(6);
  Columns<float, 600> xs = Columns<float, 600>::Random(600, 6);
  const Columns<float, 90> ys = small.forward(xs);
  for (Eigen::Index j = 0; j < xs.cols(); ++j) {
    const auto one = small.forward(xs.col(j).data(), 1);
    CHECK((one - ys.col(j)).cwiseAbs().maxCoeff() < 1e-5f);
  }
}

namespace {
// A stack's Conv2D followed by ReLU runs as one pass (forward_relu); the same stack
// without the ReLU, the ReLU applied by hand, must give the same numbers forward and back.
template <std::size_t C, std::size_t H, std::size_t W, class Conv>
void check_conv_then_relu(std::size_t batch) {
  using Fused = Sequential<Input<C, H, W>, Conv, ReLU>;
  using Plain = Sequential<Input<C, H, W>, Conv>;
  static_assert(detail::StackRunner<Fused, float, backend::Cpu>::template fuses_next_relu<0>);
  constexpr std::size_t in = C * H * W, out = Fused::OutputShape::size;
  CAPTURE(C, H, W, batch);
  Network<Fused> fused(3);
  Network<Plain> plain(3);
  REQUIRE(std::equal(fused.parameters().begin(), fused.parameters().end(), plain.parameters().begin()));
  const Columns<float, in> x = Columns<float, in>::Random(in, static_cast<Eigen::Index>(batch));
  const Columns<float, out> y = fused.forward(x);
  const Columns<float, out> pre = plain.forward(x);
  CHECK((pre.array() <= 0).any());
  CHECK((pre.array() > 0).any());
  CHECK((y.array() == (pre.array() <= 0).select(0.f, pre.array())).all());
  const Columns<float, out> g = Columns<float, out>::Random(out, static_cast<Eigen::Index>(batch));
  fused.output_gradient() = g;
  plain.output_gradient() = (pre.array() <= 0).select(0.f, g.array()).matrix();
  Columns<float, in> dx_fused(in, static_cast<Eigen::Index>(batch)), dx_plain(in, static_cast<Eigen::Index>(batch));
  fused.backward(dx_fused.data());
  plain.backward(dx_plain.data());
  CHECK(std::equal(fused.gradients().begin(), fused.gradients().end(), plain.gradients().begin()));
  CHECK(dx_fused == dx_plain);
}
}  // namespace

TEST_CASE("Conv2D then ReLU in one pass: the numbers of the two layers run apart", "[unit][layers][conv]") {
  check_conv_then_relu<1, 28, 28, Conv2D<8, 3>>(1);     // one image, 676 positions (gemm_broadcast)
  check_conv_then_relu<1, 28, 28, Conv2D<8, 3>>(3);     // GEMM per sample
  check_conv_then_relu<6, 5, 5, Conv2D<7, 3>>(1);       // 9 positions (gemm_rows)
  check_conv_then_relu<6, 5, 5, Conv2D<7, 3>>(4);       // one GEMM over the batch
  check_conv_then_relu<3, 9, 9, Conv2D<5, 3, 2, 1>>(2); // stride 2 and padding
  // Layers other than a convolution before ReLU run their own passes.
  static_assert(!detail::StackRunner<Sequential<Input<4>, Dense<3>, ReLU>, float, backend::Cpu>::fuses_next_relu<0>);
  static_assert(!detail::StackRunner<Sequential<Input<1, 6, 6>, Conv2D<2, 3>, Tanh>, float, backend::Cpu>::fuses_next_relu<0>);
}

TEST_CASE("Conv2D training steps are bit-identical across runs", "[unit][layers][conv]") {
  using Net = Sequential<Input<1, 28, 28>, Conv2D<8, 3>, ReLU, MaxPool<2>, Conv2D<16, 3>, ReLU, Flatten, Dense<10>>;
  auto run = [] {
    Model<Net, loss::CrossEntropy, optim::Adam> m({.optimizer = {.lr = 1e-3}, .seed = 2});
    Columns<float, 784> x(784, 20);
    Columns<float, 1> y(1, 20);
    Rng rng(4);
    for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.normal());
    for (Eigen::Index j = 0; j < y.cols(); ++j) y(0, j) = static_cast<float>(rng.below(10));
    for (int s = 0; s < 3; ++s) m.train_step(x, y);
    const auto p = m.network().parameters();
    return std::vector<float>(p.begin(), p.end());
  };
  CHECK(run() == run());
}
