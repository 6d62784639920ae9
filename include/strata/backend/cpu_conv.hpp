#pragma once
// CPU kernels for 2-D convolution and pooling (mixed into backend::Cpu).
//
// A batch of B images is B channel-first samples <C, H, W>, one per column: sample j is
// the C*H*W contiguous scalars at x + j*C*H*W (PyTorch's NCHW memory). Convolution weights
// are PyTorch's: weight [OC][C][K][K] (a row-major OC x C*K*K matrix), then bias [OC].
//
// Threads: every parallel loop runs over samples (or over output channels for a weight
// gradient), so each output scalar is computed by one thread in a fixed order and results
// are deterministic for a given thread count. Eigen's GEMM parallelises its own products the
// same way. Worker threads inherit the caller's floating-point mode (MXCSR), so the
// flush-to-zero that train_step sets applies to them too.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>

#include "../core/denormals.hpp"
#include "../core/tensor.hpp"
#include "cpu_gemm.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace strata::backend::cpu_kernels {

/// Sizes of a convolution or pooling window sliding over a <C, H, W> image with stride S
/// and zero padding P (none for pooling): output size, and for each kernel tap the range of
/// output rows / columns whose tap falls inside the image (outside it lies the padding).
template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t S, std::size_t P>
struct WindowGeometry {
  static_assert(K > 0 && S > 0 && K <= H + 2 * P && K <= W + 2 * P, "strata internal: invalid window geometry");
  static constexpr std::size_t out_h = (H + 2 * P - K) / S + 1;
  static constexpr std::size_t out_w = (W + 2 * P - K) / S + 1;
  static constexpr std::size_t positions = out_h * out_w;  ///< P = OH * OW output positions per channel
  static constexpr std::size_t patch = C * K * K;          ///< one im2col column: C * K * K taps
  static constexpr std::size_t image = C * H * W;

  /// First output index o (at most `out`) whose input index o * S + k - P is >= 0.
  static constexpr std::size_t first(std::size_t k, std::size_t out) {
    return std::min(out, k >= P ? 0 : (P - k + S - 1) / S);
  }
  /// One past the last output index o (< out) whose input index o * S + k - P is < n;
  /// never below first(k, out).
  static constexpr std::size_t last(std::size_t k, std::size_t n, std::size_t out) {
    if (n + P <= k) return first(k, out);
    return std::max(first(k, out), std::min(out, (n - 1 + P - k) / S + 1));
  }
  static constexpr std::size_t col_begin(std::size_t kw) { return first(kw, out_w); }
  static constexpr std::size_t col_end(std::size_t kw) { return last(kw, W, out_w); }
  static constexpr std::size_t row_begin(std::size_t kh) { return first(kh, out_h); }
  static constexpr std::size_t row_end(std::size_t kh) { return last(kh, H, out_h); }
};

/// How the CPU backend computes one convolution, chosen at compile time from its sizes by
/// measurement on the digit CNN (28x28 inputs, batch 50; numbers in docs/design.md, re-run
/// with bench/bench_layers.cpp):
///  - always im2col + a GEMM: the direct loops (conv2d_forward_direct, kept as a
///    reference) were 1.6x slower at 1 -> 32 channels and 6-20x slower at 32 -> 64 and 64 -> 128;
///    Eigen's GEMM, except for the forward pass of very small batches (rows_kernel and
///    broadcast_kernel below, chosen by batch size at run time);
///  - `gemm_per_sample`: one GEMM per sample with OpenMP across samples when a sample has
///    many output positions (26x26, 11x11: no transposes, caches stay warm), one GEMM over the
///    whole batch when it has few (3x3: per-sample products of 9 rows run at half speed);
///  - `direct_weight_gradient`: for patches of a few taps (1x3x3) the weight gradient is a
///    9 x OC GEMM output that Eigen cannot split across threads; accumulating it per output
///    channel in vectorised loops is faster (2.4x with 2 threads).
template <std::size_t C, std::size_t H, std::size_t W, std::size_t OC, std::size_t K, std::size_t S, std::size_t P>
struct ConvPlan {
  using Geometry = WindowGeometry<C, H, W, K, S, P>;
  static constexpr bool gemm_per_sample = Geometry::positions >= 64;
  static constexpr bool direct_weight_gradient = Geometry::patch <= 16 && Geometry::patch * Geometry::out_w <= 4096;

  /// Forward over at most 16 output positions in all (the 3x3 output of the digit CNN's last
  /// convolution at batch 1): dot products of weight rows and position-major columns
  /// (gemm_rows) instead of Eigen's GEMM, which would pack the whole weight matrix for a
  /// product of a few columns. Measured, one thread, 128 x 576 weights: 9 positions 22 us
  /// against Eigen's 38 us (packing included); 18 positions 61 us against 55 us. Those
  /// figures predate keep_in_register, which took 9 positions from 35-36 to 15 us on
  /// another machine; 18 positions may now favour gemm_rows too (not measured).
  static constexpr bool rows_kernel(std::size_t batch) { return !gemm_per_sample && batch * Geometry::positions <= 16; }
  /// Forward of one image with many output positions (the first two convolutions of the
  /// digit CNN at batch 1): weights times its columns with gemm_broadcast (no packing), its
  /// column rows padded to `padded_positions`; split across threads by blocks of output
  /// channels and positions. Measured (forward with im2col, best of 5 runs), against
  /// Eigen's GEMM: 1 -> 32 channels on 28x28, 1 thread 7.2 us against 10.4, 2 threads 9.1
  /// against 17.1; 32 -> 64 on 13x13, 1 thread 49.0 against 53.0, 2 threads 38.6 against 50.1.
  static constexpr bool broadcast_kernel(std::size_t batch) { return gemm_per_sample && batch == 1; }
  static constexpr std::size_t padded_positions =
      (Geometry::positions + gemm_broadcast_row_pad - 1) / gemm_broadcast_row_pad * gemm_broadcast_row_pad;
  /// Forward of one image by a stride-1 convolution with at least as many taps as output
  /// channels (the digit CNN's second convolution: 288 taps, 64 channels), without im2col
  /// (conv2d_forward_wide): the image is copied with its zero border (rows of `wide_width`
  /// = W + 2P scalars) and each tap's row of the product is read straight from the copy at
  /// the tap's offset, over "wide" output rows of wide_width positions whose last K - 1 are
  /// computed and dropped. im2col writes patch values per position, the wide form copies OC
  /// outputs per position and computes (K - 1) / wide_width more: hence taps >= channels.
  /// Taken only when parallel_for has threads: the copy is cheap where im2col runs on one
  /// thread before the threaded product, but the product is wider. Measured (bench_layers
  /// conv*/forward_one_image, medians of 5): 32 -> 64 channels on 13x13, 2 threads 30.2-31.0
  /// us against 36.8-42.6 with im2col and gemm_broadcast, 1 thread 49.6-50.4 against
  /// 45.5-46.0; 1 -> 32 on 28x28 (not taken: taps < channels) 12.5 against 7.7-7.9.
  static constexpr std::size_t wide_width = W + 2 * P;
  static constexpr std::size_t wide_plane = (H + 2 * P) * wide_width;
  static constexpr std::size_t wide_positions = Geometry::out_h * wide_width;
  /// Column blocks of the wide product: 3 packets (8 rows of accumulators with 32 vector
  /// registers: 11 loads per 24 multiply-adds, against 14 with 2 packets) unless 2 packets
  /// leave fewer padding columns.
  template <class T>
  static constexpr int wide_packets = [] {
    constexpr std::size_t l = Eigen::internal::packet_traits<T>::size;
    constexpr auto padded = [](std::size_t block) { return (wide_positions + block - 1) / block * block; };
    return padded(3 * l) <= padded(2 * l) ? 3 : 2;
  }();
  /// The padded copy and the zeros that the last column block reads past it (at most 64:
  /// 3 packets of at most 16 scalars).
  static constexpr std::size_t wide_image = C * wide_plane + K - 1 + 64;
  static constexpr bool wide_kernel(std::size_t batch) {
    return broadcast_kernel(batch) && S == 1 && Geometry::patch >= OC && wide_image <= scratch;
  }
  /// Scratch per sample: the columns (C*K*K x P, kept from forward to backward; rows padded
  /// for one image) and the output gradient in channel-major order (OC x P). Conv2D
  /// declares this much.
  static constexpr std::size_t scratch = Geometry::patch * padded_positions + OC * Geometry::positions;
};

struct CpuConvKernels {
  /// y = conv(x, w) + b over a batch (im2col + GEMM); `b == nullptr` means no bias.
  /// `scratch` holds ConvPlan::scratch * batch scalars; conv2d_backward reads the columns
  /// forward leaves there. With `relu`, y = relu(conv(x, w) + b) instead (0 where negative;
  /// -0 and NaN pass), applied as each block or sample is stored: the ReLU that follows a
  /// convolution in a stack, whose input nothing else reads. Digit CNN (2 threads): training
  /// step, batch 50, 2,567-2,717 samples/s against 2,434-2,654 with the ReLU as a pass of
  /// its own.
  template <std::size_t C, std::size_t H, std::size_t W, std::size_t OC, std::size_t K, std::size_t S,
            std::size_t P, class T>
  static void conv2d_forward(const T* w, const T* b, const T* x, T* y, T* scratch, std::size_t batch,
                             bool relu = false) {
    using Plan = ConvPlan<C, H, W, OC, K, S, P>;
    if (Plan::wide_kernel(batch) && threads_available()) {
      if constexpr (S == 1) conv2d_forward_wide<C, H, W, OC, K, P>(w, b, x, y, scratch, relu);
      return;
    }
    conv2d_forward_im2col<C, H, W, OC, K, S, P, Plan::gemm_per_sample>(w, b, x, y, scratch, batch, relu);
  }

  /// out = relu(y) for n scalars as torch.relu computes it: 0 where y < 0, y elsewhere
  /// (-0 and NaN pass through).
  template <class T>
  static void relu_into(const T* __restrict y, T* __restrict out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) out[i] = y[i] < T(0) ? T(0) : y[i];
  }
  /// y = relu(y), as relu_into.
  template <class T>
  static void relu_in_place(T* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = y[i] < T(0) ? T(0) : y[i];
  }

  /// Overwrites dw and db with d loss / d weight and bias (db only when non-null: a
  /// convolution without bias); writes dx when non-null. Must follow conv2d_forward on the
  /// same batch and scratch.
  template <std::size_t C, std::size_t H, std::size_t W, std::size_t OC, std::size_t K, std::size_t S,
            std::size_t P, class T>
  static void conv2d_backward(const T* w, const T* x, const T* dy, T* dw, T* db, T* dx, T* scratch,
                              std::size_t batch) {
    using Plan = ConvPlan<C, H, W, OC, K, S, P>;
    conv2d_backward_im2col<C, H, W, OC, K, S, P, Plan::gemm_per_sample, Plan::direct_weight_gradient>(
        w, x, dy, dw, db, dx, scratch, batch);
  }

  // ---- im2col + GEMM -------------------------------------------------------------------
  // With P output positions per sample and N = B * P, the columns matrix has C*K*K rows of
  // N entries, batch-interleaved ([C*K*K][B][P]): row k = (c, kh, kw) holds, for every sample
  // and output position, the input pixel under tap k (0 in the padding). Sample j's block
  // (rows j*P .. j*P + P - 1 of the column-major N x CKK matrix) is its own P x CKK matrix,
  // and the whole batch is one matrix for the weight gradient. Weights [OC][CKK] row-major
  // are a column-major CKK x OC matrix W^T; a sample's output [OC][P] is a P x OC matrix.
  //   forward   per sample:  Y_j (P x OC) = Cols_j W^T + bias
  //             or batched:  Yt (N x OC) = Cols W^T, then y[j][oc][p] = Yt[oc][j][p] + bias[oc]
  //   backward  dW^T (CKK x OC) = Cols^T dYt with dYt = dy transposed to [OC][B][P]
  //             (or accumulated directly from x and dy for tiny patches), db = sums of dy
  //             per sample:  dCols_j = dY_j W over Cols_j, then col2im into dx_j
  //             or batched:  dCols = dYt W, then col2im

  template <std::size_t C, std::size_t H, std::size_t W, std::size_t OC, std::size_t K, std::size_t S,
            std::size_t P, bool PerSample, class T>
  static void conv2d_forward_im2col(const T* w, const T* b, const T* x, T* y, T* scratch, std::size_t batch,
                                    bool relu = false) {
    using G = WindowGeometry<C, H, W, K, S, P>;
    using Plan = ConvPlan<C, H, W, OC, K, S, P>;
    using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    constexpr std::size_t np = G::positions;
    constexpr auto rows = static_cast<Eigen::Index>(np), patch = static_cast<Eigen::Index>(G::patch),
                   oc = static_cast<Eigen::Index>(OC);
    const std::size_t n = batch * np;
    const auto ni = static_cast<Eigen::Index>(n);
    T* cols = scratch;
    if constexpr (PerSample) {
      const Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>> bias(b, OC);
      if (Plan::broadcast_kernel(batch)) {
        // One image: Y (OC x P, its output) = W (OC x CKK) Cols (CKK x P, rows padded to
        // Plan::padded_positions) + bias, blocks of channels x positions across threads
        constexpr std::size_t ld = Plan::padded_positions;
        im2col<C, H, W, K, S, P>(x, cols, ld);
        for (std::size_t k = 0; k < G::patch; ++k) std::fill(cols + k * ld + np, cols + (k + 1) * ld, T(0));
        constexpr std::size_t rb = gemm_broadcast_rows, cb = gemm_broadcast_cols<T>;
        constexpr std::size_t row_blocks = (OC + rb - 1) / rb, col_blocks = (np + cb - 1) / cb;
        // Threads from half a million multiply-adds: the first convolution of the digit CNN
        // (195k) ran in 9.1 us on 2 threads against 7.2 us on one.
        constexpr std::size_t work = G::patch * np * OC;
        parallel_for(row_blocks * col_blocks, work >= (std::size_t{1} << 19) ? work : 0, [&](std::size_t t) {
          const std::size_t o = t % row_blocks * rb, p = t / row_blocks * cb;
          broadcast_product<1, 2, patch>(static_cast<Eigen::Index>(std::min(rb, OC - o)),
                                          static_cast<Eigen::Index>(std::min(cb, np - p)), patch, w + o * G::patch, patch,
                                          cols + p, static_cast<Eigen::Index>(ld), 0, y + o * np + p, rows,
                                          b != nullptr ? b + o : nullptr, relu);
        });
        return;
      }
      parallel_for(batch, batch * G::patch * np * OC, [&](std::size_t j) {
        im2col<C, H, W, K, S, P>(x + j * G::image, cols + j * np, n);
        // Y_j (P x OC) = Cols_j (P x CKK, inside the N x CKK columns) W^T (CKK x OC)
        gemm<false, false>(rows, oc, patch, cols + j * np, ni, w, patch, y + j * OC * np, rows);
        if (b != nullptr) Eigen::Map<Mat>(y + j * OC * np, rows, OC).rowwise() += bias;
        if (relu) relu_in_place(y + j * OC * np, OC * np);  // still in cache
      });
    } else if (Plan::rows_kernel(batch)) {
      // Y_j (OC x P) = W (OC x CKK) Rows_j^T + bias: dot products of contiguous rows, no
      // packing; blocks of output channels across threads
      constexpr std::size_t blocks = (OC + gemm_rows_block - 1) / gemm_rows_block;
      for (std::size_t j = 0; j < batch; ++j) im2row<C, H, W, K, S, P>(x + j * G::image, cols + j * np * G::patch);
      parallel_for(blocks * batch, batch * G::patch * np * OC, [&](std::size_t t) {
        const std::size_t j = t / blocks, o = t % blocks * gemm_rows_block;
        const auto rows_here = static_cast<Eigen::Index>(std::min<std::size_t>(gemm_rows_block, OC - o));
        gemm_rows(rows_here, rows, patch, w + o * G::patch, patch, cols + j * np * G::patch, patch,
                  y + (j * OC + o) * np, rows, b != nullptr ? b + o : nullptr);
      });
      if (relu) relu_in_place(y, batch * OC * np);  // at most 16 positions per channel
    } else {
      T* yt = scratch + G::patch * n;
      parallel_for(batch, batch * G::patch * np, [&](std::size_t j) {
        im2col<C, H, W, K, S, P>(x + j * G::image, cols + j * np, n);
      });
      gemm<false, false>(ni, oc, patch, cols, ni, w, patch, yt, ni);  // Yt = Cols W^T
      parallel_for(batch, batch * OC * np, [&](std::size_t j) {
        for (std::size_t oc = 0; oc < OC; ++oc) {
          const T* src = yt + oc * n + j * np;
          T* dst = y + (j * OC + oc) * np;
          const T bias = b != nullptr ? b[oc] : T(0);
          for (std::size_t p = 0; p < np; ++p) dst[p] = src[p] + bias;
          if (relu) relu_in_place(dst, np);
        }
      });
    }
  }

  /// conv2d_forward of one image by a stride-1 convolution without im2col (ConvPlan::wide_kernel):
  /// Y (OC x wide positions) = W (OC x CKK) times the rows of the padded image at each tap's
  /// offset, in blocks of channels x positions across threads; each block is stored in a
  /// local buffer and its positions inside the output's width copied to y. The same
  /// multiply-adds in the same order as im2col + gemm_broadcast, so the same numbers.
  /// Needs ConvPlan::wide_image scalars of scratch; leaves no columns for backward.
  template <std::size_t C, std::size_t H, std::size_t W, std::size_t OC, std::size_t K, std::size_t P, class T>
  static void conv2d_forward_wide(const T* w, const T* b, const T* x, T* y, T* scratch, bool relu = false) {
    using G = WindowGeometry<C, H, W, K, 1, P>;
    using Plan = ConvPlan<C, H, W, OC, K, 1, P>;
    constexpr int rv = Plan::template wide_packets<T>;
    constexpr std::size_t wp = Plan::wide_width, plane = Plan::wide_plane, nw = Plan::wide_positions;
    constexpr std::size_t rb = broadcast_block_rows<rv>, cb = rv * Eigen::internal::packet_traits<T>::size;
    static_assert(cb <= 64, "strata internal: a wide column block reads past the padded image's slack");
    T* image = scratch;
    if constexpr (P == 0) {
      std::memcpy(image, x, C * H * W * sizeof(T));
      std::fill(image + C * H * W, image + Plan::wide_image, T(0));
    } else {
      std::fill(image, image + Plan::wide_image, T(0));
      for (std::size_t c = 0; c < C; ++c)
        for (std::size_t r = 0; r < H; ++r)
          std::memcpy(image + c * plane + (r + P) * wp + P, x + (c * H + r) * W, W * sizeof(T));
    }
    constexpr std::size_t row_blocks = (OC + rb - 1) / rb, col_blocks = (nw + cb - 1) / cb;
    constexpr std::size_t work = G::patch * nw * OC;  // threads from half a million multiply-adds
    parallel_for(row_blocks * col_blocks, work >= (std::size_t{1} << 19) ? work : 0, [&](std::size_t t) {
      const std::size_t o = t % row_blocks * rb, p = t / row_blocks * cb;
      const std::size_t rows = std::min(rb, OC - o), end = std::min(nw, p + cb);
      alignas(64) T block[rb * cb];
      broadcast_product<K, rv, G::patch>(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cb),
                               static_cast<Eigen::Index>(C), w + o * G::patch, static_cast<Eigen::Index>(G::patch),
                               image + p, static_cast<Eigen::Index>(plane), static_cast<Eigen::Index>(wp), block,
                               static_cast<Eigen::Index>(cb), b != nullptr ? b + o : nullptr, relu);
      // wide positions p .. end - 1 lie on output rows q / wp; those in the first out_w columns are outputs
      for (std::size_t q = p; q < end; q = q / wp * wp + wp) {
        const std::size_t oh = q / wp, ow = q % wp, stop = std::min(end, oh * wp + G::out_w);
        if (ow >= G::out_w) continue;
        for (std::size_t i = 0; i < rows; ++i)
          std::copy(block + i * cb + (q - p), block + i * cb + (stop - p), y + (o + i) * G::positions + oh * G::out_w + ow);
      }
    });
  }

  template <std::size_t C, std::size_t H, std::size_t W, std::size_t OC, std::size_t K, std::size_t S,
            std::size_t P, bool PerSample, bool DirectWeightGradient, class T>
  static void conv2d_backward_im2col(const T* w, const T* x, const T* dy, T* dw, T* db, T* dx, T* scratch,
                                     std::size_t batch) {
    using G = WindowGeometry<C, H, W, K, S, P>;
    using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    constexpr std::size_t np = G::positions;
    constexpr auto rows = static_cast<Eigen::Index>(np), patch = static_cast<Eigen::Index>(G::patch),
                   oc = static_cast<Eigen::Index>(OC);
    const std::size_t n = batch * np;
    const auto ni = static_cast<Eigen::Index>(n);
    T* cols = scratch;
    T* dyt = scratch + G::patch * n;
    if (ConvPlan<C, H, W, OC, K, S, P>::rows_kernel(batch) ||
        ConvPlan<C, H, W, OC, K, S, P>::broadcast_kernel(batch))  // forward left the columns in its own layout
      parallel_for(batch, batch * G::patch * np, [&](std::size_t j) {
        im2col<C, H, W, K, S, P>(x + j * G::image, cols + j * np, n);
      });
    const bool need_dyt = !DirectWeightGradient || (dx != nullptr && !PerSample);
    if (need_dyt)
      parallel_for(batch, batch * OC * np, [&](std::size_t j) {
        for (std::size_t oc = 0; oc < OC; ++oc) std::copy_n(dy + (j * OC + oc) * np, np, dyt + oc * n + j * np);
      });
    const Eigen::Map<const Mat> dYt(dyt, static_cast<Eigen::Index>(n), OC);
    if constexpr (DirectWeightGradient) {
      conv2d_weight_gradient_direct<C, H, W, OC, K, S, P>(x, dy, dw, db, batch);
    } else {
      gemm<true, false>(patch, oc, ni, cols, ni, dyt, ni, dw, patch);  // dW^T = Cols^T dYt
      if (db != nullptr) Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>(db, OC) = dYt.colwise().sum();
    }
    if (dx == nullptr) return;
    if constexpr (PerSample) {
      // The columns are dead once dW is formed: sample j's dCols_j (P x CKK) takes the
      // contiguous block j of their scratch, which stays in cache while it is zeroed,
      // accumulated and scattered (in the batch-interleaved layout, conv2 of the digit CNN
      // at batch 50 has 288 rows of 121 scalars 24 KB apart; backward, 2 threads: 6.9-7.5 ms
      // with them, 5.9-6.4 ms with the block)
      parallel_for(batch, batch * G::patch * np * OC, [&](std::size_t j) {
        T* dcols = cols + j * np * G::patch;
        gemm<false, true>(rows, patch, oc, dy + j * OC * np, rows, w, patch, dcols, rows);  // dY_j W
        col2im<C, H, W, K, S, P>(dcols, np, dx + j * G::image);
      });
    } else {
      gemm<false, true>(ni, patch, oc, dyt, ni, w, patch, cols, ni);  // dCols = dYt W
      parallel_for(batch, batch * G::patch * np, [&](std::size_t j) {
        col2im<C, H, W, K, S, P>(cols + j * np, n, dx + j * G::image);
      });
    }
  }

  /// dW and db straight from x and dy, for patches of a few taps. Output channels in
  /// parallel; each keeps one running sum per tap and output column (vectorised along the
  /// row), adds samples and rows in order, and reduces the columns at the end.
  template <std::size_t C, std::size_t H, std::size_t W, std::size_t OC, std::size_t K, std::size_t S,
            std::size_t P, class T>
  static void conv2d_weight_gradient_direct(const T* x, const T* dy, T* dw, T* db, std::size_t batch) {
    using G = WindowGeometry<C, H, W, K, S, P>;
    constexpr std::size_t np = G::positions, ow = G::out_w;
    static_assert(G::patch * ow <= 4096, "strata internal: direct weight gradient accumulators too large");
    parallel_for(OC, batch * OC * np * G::patch, [&](std::size_t oc) {
      T acc[G::patch][ow] = {};
      T bias_acc[ow] = {};
      for (std::size_t j = 0; j < batch; ++j) {
        const T* xj = x + j * G::image;
        const T* g = dy + (j * OC + oc) * np;
        for (std::size_t oh = 0; oh < G::out_h; ++oh) {
          const T* go = g + oh * ow;
          for (std::size_t o = 0; o < ow; ++o) bias_acc[o] += go[o];
          for (std::size_t c = 0; c < C; ++c)
            for (std::size_t kh = 0; kh < K; ++kh) {
              if (oh < G::row_begin(kh) || oh >= G::row_end(kh)) continue;
              const T* in = xj + (c * H + oh * S + kh - P) * W;
              for (std::size_t kw = 0; kw < K; ++kw) {
                T* a = acc[(c * K + kh) * K + kw];
                for (std::size_t o = G::col_begin(kw); o < G::col_end(kw); ++o) a[o] += go[o] * in[o * S + kw - P];
              }
            }
        }
      }
      for (std::size_t k = 0; k < G::patch; ++k) {
        T s = 0;
        for (std::size_t o = 0; o < ow; ++o) s += acc[k][o];
        dw[oc * G::patch + k] = s;
      }
      if (db != nullptr) {
        T s = 0;
        for (std::size_t o = 0; o < ow; ++o) s += bias_acc[o];
        db[oc] = s;
      }
    });
  }

  /// Unfolds one image into its columns: row k = (c, kh, kw) of `cols` (rows `stride`
  /// scalars apart) gets the OH*OW input pixels under tap k, 0 where the tap is in the padding.
  /// Kept out of line (as col2im): inlined into the per-sample loop, GCC 12 compiled it
  /// 15% slower (conv 32x13x13 -> 64 forward, batch 50).
  template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t S, std::size_t P, class T>
  [[gnu::noinline]] static void im2col(const T* x, T* cols, std::size_t stride) {
    using G = WindowGeometry<C, H, W, K, S, P>;
    constexpr std::size_t ow = G::out_w;
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t kh = 0; kh < K; ++kh)
        for (std::size_t kw = 0; kw < K; ++kw) {
          T* row = cols + ((c * K + kh) * K + kw) * stride;
          const std::size_t rb = G::row_begin(kh), re = G::row_end(kh);
          const std::size_t cb = G::col_begin(kw), ce = G::col_end(kw);
          std::fill(row, row + rb * ow, T(0));
          for (std::size_t oh = rb; oh < re; ++oh) {
            T* out = row + oh * ow;
            const T* in = x + (c * H + oh * S + kh - P) * W;  // input row of output row oh
            std::fill(out, out + cb, T(0));
            if constexpr (S == 1 && P == 0)
              std::memcpy(out, in + kw, ow * sizeof(T));  // a fixed size, copied inline (no memmove call)
            else if constexpr (S == 1)
              std::copy(in + (cb + kw - P), in + (ce + kw - P), out + cb);
            else
              for (std::size_t o = cb; o < ce; ++o) out[o] = in[o * S + kw - P];
            std::fill(out + ce, out + ow, T(0));
          }
          std::fill(row + re * ow, row + G::positions, T(0));
        }
  }

  /// Unfolds one image position-major: row p = (oh, ow) of `rows` (C*K*K scalars each,
  /// contiguous) gets the input pixels under the window at p in (c, kh, kw) order, 0 in the
  /// padding: the transpose of im2col's layout, for gemm_rows.
  template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t S, std::size_t P, class T>
  [[gnu::noinline]] static void im2row(const T* x, T* rows) {
    using G = WindowGeometry<C, H, W, K, S, P>;
    for (std::size_t oh = 0; oh < G::out_h; ++oh)
      for (std::size_t ow = 0; ow < G::out_w; ++ow) {
        T* r = rows + (oh * G::out_w + ow) * G::patch;
        for (std::size_t c = 0; c < C; ++c)
          for (std::size_t kh = 0; kh < K; ++kh) {
            T* out = r + (c * K + kh) * K;
            if (oh < G::row_begin(kh) || oh >= G::row_end(kh)) {
              std::fill(out, out + K, T(0));
              continue;
            }
            const T* in = x + (c * H + oh * S + kh - P) * W;
            for (std::size_t kw = 0; kw < K; ++kw)
              out[kw] = ow >= G::col_begin(kw) && ow < G::col_end(kw) ? in[ow * S + kw - P] : T(0);
          }
      }
  }

  /// The adjoint of im2col: dx = sum over taps of the columns scattered back (padding dropped).
  template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t S, std::size_t P, class T>
  [[gnu::noinline]] static void col2im(const T* cols, std::size_t stride, T* dx) {
    using G = WindowGeometry<C, H, W, K, S, P>;
    constexpr std::size_t ow = G::out_w;
    std::fill(dx, dx + G::image, T(0));
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t kh = 0; kh < K; ++kh)
        for (std::size_t kw = 0; kw < K; ++kw) {
          const T* row = cols + ((c * K + kh) * K + kw) * stride;
          const std::size_t cb = G::col_begin(kw), ce = G::col_end(kw);
          for (std::size_t oh = G::row_begin(kh); oh < G::row_end(kh); ++oh) {
            const T* src = row + oh * ow;
            T* out = dx + (c * H + oh * S + kh - P) * W;
            for (std::size_t o = cb; o < ce; ++o) out[o * S + kw - P] += src[o];
          }
        }
  }

  // ---- Direct convolution (reference) -------------------------------------------------------
  // Plain loops over taps, no scratch. Slower than im2col + GEMM at every size measured (see
  // ConvPlan); kept as an independent implementation the unit tests compare against, and
  // for bench/bench_layers.cpp to re-measure the choice.
  // forward:  y[oc] = b[oc] + sum over (c, kh, kw) of w * (the input plane shifted by the tap),
  //           each tap one pass along output rows (vectorised for stride 1); samples in parallel
  // backward: dW, db per output channel (channels in parallel, samples summed in order);
  //           dx per sample (samples in parallel)

  template <std::size_t C, std::size_t H, std::size_t W, std::size_t OC, std::size_t K, std::size_t S,
            std::size_t P, class T>
  static void conv2d_forward_direct(const T* w, const T* b, const T* x, T* y, std::size_t batch) {
    using G = WindowGeometry<C, H, W, K, S, P>;
    constexpr std::size_t np = G::positions, ow = G::out_w;
    parallel_for(batch, batch * OC * np * G::patch, [&](std::size_t j) {
      const T* xj = x + j * G::image;
      for (std::size_t oc = 0; oc < OC; ++oc) {
        T* yp = y + (j * OC + oc) * np;
        std::fill(yp, yp + np, b != nullptr ? b[oc] : T(0));
        const T* wo = w + oc * G::patch;
        for (std::size_t c = 0; c < C; ++c)
          for (std::size_t kh = 0; kh < K; ++kh)
            for (std::size_t kw = 0; kw < K; ++kw) {
              const T wv = wo[(c * K + kh) * K + kw];
              const std::size_t cb = G::col_begin(kw), ce = G::col_end(kw);
              for (std::size_t oh = G::row_begin(kh); oh < G::row_end(kh); ++oh) {
                const T* in = xj + (c * H + oh * S + kh - P) * W;
                T* out = yp + oh * ow;
                for (std::size_t o = cb; o < ce; ++o) out[o] += wv * in[o * S + kw - P];
              }
            }
      }
    });
  }

  template <std::size_t C, std::size_t H, std::size_t W, std::size_t OC, std::size_t K, std::size_t S,
            std::size_t P, class T>
  static void conv2d_backward_direct(const T* w, const T* x, const T* dy, T* dw, T* db, T* dx, std::size_t batch) {
    using G = WindowGeometry<C, H, W, K, S, P>;
    constexpr std::size_t np = G::positions, ow = G::out_w;
    parallel_for(OC, batch * OC * np * G::patch, [&](std::size_t oc) {
      T* wo = dw + oc * G::patch;
      std::fill(wo, wo + G::patch, T(0));
      T bsum = 0;
      for (std::size_t j = 0; j < batch; ++j) {
        const T* xj = x + j * G::image;
        const T* g = dy + (j * OC + oc) * np;
        T s = 0;
        for (std::size_t p = 0; p < np; ++p) s += g[p];
        bsum += s;
        for (std::size_t c = 0; c < C; ++c)
          for (std::size_t kh = 0; kh < K; ++kh)
            for (std::size_t kw = 0; kw < K; ++kw) {
              const std::size_t cb = G::col_begin(kw), ce = G::col_end(kw);
              T acc = 0;
              for (std::size_t oh = G::row_begin(kh); oh < G::row_end(kh); ++oh) {
                const T* in = xj + (c * H + oh * S + kh - P) * W;
                const T* go = g + oh * ow;
                for (std::size_t o = cb; o < ce; ++o) acc += go[o] * in[o * S + kw - P];
              }
              wo[(c * K + kh) * K + kw] += acc;
            }
      }
      if (db != nullptr) db[oc] = bsum;
    });
    if (dx == nullptr) return;
    parallel_for(batch, batch * OC * np * G::patch, [&](std::size_t j) {
      T* dxj = dx + j * G::image;
      std::fill(dxj, dxj + G::image, T(0));
      for (std::size_t oc = 0; oc < OC; ++oc) {
        const T* g = dy + (j * OC + oc) * np;
        const T* wo = w + oc * G::patch;
        for (std::size_t c = 0; c < C; ++c)
          for (std::size_t kh = 0; kh < K; ++kh)
            for (std::size_t kw = 0; kw < K; ++kw) {
              const T wv = wo[(c * K + kh) * K + kw];
              const std::size_t cb = G::col_begin(kw), ce = G::col_end(kw);
              for (std::size_t oh = G::row_begin(kh); oh < G::row_end(kh); ++oh) {
                T* out = dxj + (c * H + oh * S + kh - P) * W;
                const T* go = g + oh * ow;
                for (std::size_t o = cb; o < ce; ++o) out[o * S + kw - P] += wv * go[o];
              }
            }
      }
    });
  }

  // ---- Pooling (no padding, floor mode: PyTorch's MaxPool2d / AvgPool2d defaults) ----------

  /// y = max over each K x K window, as PyTorch's CPU kernel computes it: the window scanned
  /// in row-major order from -inf, a value replacing the running maximum when it is greater
  /// or NaN (so a NaN propagates). The scan runs along each output row; GCC vectorises it
  /// across output columns for 2x2 windows with stride 2 (max_pool_forward_2x2), not in the
  /// general loop. No index of the chosen element is stored: backward runs the scan again.
  /// (Storing one per output made this pass 5-8x slower: the index select chain did not
  /// vectorise.)
  template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t S, class T>
  static void max_pool_forward(const T* x, T* y, std::size_t batch) {
    using G = WindowGeometry<C, H, W, K, S, 0>;
    constexpr std::size_t ow_n = G::out_w;
    parallel_for(batch * C, batch * C * G::positions * K * K, [&](std::size_t plane) {
      const T* in = x + plane * H * W;
      T* out = y + plane * G::positions;
      if constexpr (K == 2 && S == 2) {
        max_pool_forward_2x2<H, W>(in, out);
        return;
      }
      for (std::size_t oh = 0; oh < G::out_h; ++oh) {
        T* o = out + oh * ow_n;
        std::fill(o, o + ow_n, -std::numeric_limits<T>::infinity());
        for (std::size_t kh = 0; kh < K; ++kh) {
          const T* r = in + (oh * S + kh) * W;
          for (std::size_t ow = 0; ow < ow_n; ++ow) {
            T m = o[ow];
#pragma GCC unroll 16
            for (std::size_t kw = 0; kw < K; ++kw) {
              const T v = r[ow * S + kw];
              m = v > m ? v : m;
              m = v != v ? v : m;
            }
            o[ow] = m;
          }
        }
      }
    });
  }

  /// dx = dy routed to each window's chosen element: forward's scan run again, keeping the
  /// tap where the maximum was last replaced (the first of equal maxima, the last NaN, as
  /// PyTorch). Windows that overlap add up, in output order. Overwrites dx.
  template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t S, class T>
  static void max_pool_backward(const T* x, const T* dy, T* dx, std::size_t batch) {
    using G = WindowGeometry<C, H, W, K, S, 0>;
    constexpr std::size_t ow_n = G::out_w;
    static_assert(K * K <= std::size_t{1} << 30, "MaxPool: window too large");
    parallel_for(batch * C, batch * C * (G::positions * K * K + H * W), [&](std::size_t plane) {
      const T* in = x + plane * H * W;
      const T* g = dy + plane * G::positions;
      T* d = dx + plane * H * W;
      if constexpr (K == 2 && S == 2) {
        max_pool_backward_2x2<H, W>(in, g, d);
        return;
      }
      if constexpr (S != K) std::fill(d, d + H * W, T(0));
      for (std::size_t oh = 0; oh < G::out_h; ++oh) {
        T m[ow_n];
        int tap[ow_n];  // the chosen element of window (oh, ow) as kh * K + kw
        std::fill(m, m + ow_n, -std::numeric_limits<T>::infinity());
        std::fill(tap, tap + ow_n, 0);
        for (std::size_t kh = 0; kh < K; ++kh) {
          const T* r = in + (oh * S + kh) * W;
          for (std::size_t ow = 0; ow < ow_n; ++ow) {
            T mm = m[ow];
            int t = tap[ow];
#pragma GCC unroll 16
            for (std::size_t kw = 0; kw < K; ++kw) {
              const T v = r[ow * S + kw];
              t = (v > mm) | (v != v) ? static_cast<int>(kh * K + kw) : t;
              mm = (v > mm) | (v != v) ? v : mm;
            }
            m[ow] = mm;
            tap[ow] = t;
          }
        }
        const T* go = g + oh * ow_n;
        if constexpr (S == K) {  // the windows tile the image: every pixel written once
          for (std::size_t kh = 0; kh < K; ++kh) {
            T* row = d + (oh * S + kh) * W;
            for (std::size_t ow = 0; ow < ow_n; ++ow) {
              const T gv = go[ow];
              const int tv = tap[ow];
#pragma GCC unroll 16
              for (std::size_t kw = 0; kw < K; ++kw) row[ow * S + kw] = tv == static_cast<int>(kh * K + kw) ? gv : T(0);
            }
            std::fill(row + ow_n * S, row + W, T(0));  // columns no window covers (floor mode)
          }
        } else {
          for (std::size_t ow = 0; ow < ow_n; ++ow)
            d[(oh * S + static_cast<std::size_t>(tap[ow]) / K) * W + ow * S + static_cast<std::size_t>(tap[ow]) % K] += go[ow];
        }
      }
      if constexpr (S == K) std::fill(d + G::out_h * S * W, d + H * W, T(0));  // rows no window covers
    });
  }

  /// A value replaces the running maximum of max pooling's scan when it is greater or NaN.
  template <class T>
  static bool max_pool_takes(T v, T m) {
    return std::isgreater(v, m) || std::isunordered(v, v);
  }

  /// max_pool_forward of one H x W plane for 2 x 2 windows with stride 2: the scan written
  /// out for the four taps, vectorised by GCC across a row of windows (the general loop
  /// compiled to scalar compare-and-move chains). Digit CNN at batch 1, one thread: the
  /// first pooling 5.2-6.3 us -> 2.3-3.7 us, the second 8.1 us -> 1.9-2.2 us.
  template <std::size_t H, std::size_t W, class T>
  static void max_pool_forward_2x2(const T* __restrict in, T* __restrict out) {
    constexpr std::size_t out_h = H / 2, out_w = W / 2;
    for (std::size_t oh = 0; oh < out_h; ++oh) {
      const T* r0 = in + 2 * oh * W;
      const T* r1 = r0 + W;
      T* o = out + oh * out_w;
#pragma GCC unroll 1  // (a fully unrolled loop is not vectorised)
      for (std::size_t ow = 0; ow < out_w; ++ow) {
        const T v0 = r0[2 * ow], v1 = r0[2 * ow + 1], v2 = r1[2 * ow], v3 = r1[2 * ow + 1];
        // from -inf the first tap is always the maximum so far (-inf itself, or NaN)
        const T m1 = max_pool_takes(v1, v0) ? v1 : v0;
        const T m2 = max_pool_takes(v2, m1) ? v2 : m1;
        o[ow] = max_pool_takes(v3, m2) ? v3 : m2;
      }
    }
  }

  /// max_pool_backward of one H x W plane for 2 x 2 windows with stride 2 (MaxPool<2>, the
  /// common case): the same scan written out for the four taps, with the tap held as a
  /// scalar of T, so that GCC vectorises the loop over a row of windows (the general loop
  /// above does not vectorise). Digit CNN, batch 50, 2 threads (bench/bench_layers.cpp):
  /// the first pooling's backward (32 x 26 x 26) 1,886-1,923 us -> 400-432 us, the second's
  /// (64 x 11 x 11) 880-975 us -> 205-213 us.
  template <std::size_t H, std::size_t W, class T>
  static void max_pool_backward_2x2(const T* __restrict in, const T* __restrict g, T* __restrict d) {
    constexpr std::size_t out_h = H / 2, out_w = W / 2;
    for (std::size_t oh = 0; oh < out_h; ++oh) {
      const T* r0 = in + 2 * oh * W;
      const T* r1 = r0 + W;
      T* d0 = d + 2 * oh * W;
      T* d1 = d0 + W;
      const T* go = g + oh * out_w;
#pragma GCC unroll 1  // (a fully unrolled loop is not vectorised)
      for (std::size_t ow = 0; ow < out_w; ++ow) {
        const T v0 = r0[2 * ow], v1 = r0[2 * ow + 1], v2 = r1[2 * ow], v3 = r1[2 * ow + 1];
        // from -inf the first tap is taken unless it is -inf, and then tap 0 stands anyway
        const bool k1 = max_pool_takes(v1, v0);
        const T m1 = k1 ? v1 : v0, t1 = k1 ? T(1) : T(0);
        const bool k2 = max_pool_takes(v2, m1);
        const T m2 = k2 ? v2 : m1, t2 = k2 ? T(2) : t1;
        const T t = max_pool_takes(v3, m2) ? T(3) : t2;
        const T gv = go[ow];
        d0[2 * ow] = t == T(0) ? gv : T(0);
        d0[2 * ow + 1] = t == T(1) ? gv : T(0);
        d1[2 * ow] = t == T(2) ? gv : T(0);
        d1[2 * ow + 1] = t == T(3) ? gv : T(0);
      }
      if constexpr (W % 2 != 0) d0[W - 1] = d1[W - 1] = T(0);  // the column no window covers
    }
    if constexpr (H % 2 != 0) std::fill(d + (H - 1) * W, d + H * W, T(0));  // the row no window covers
  }

  /// y = mean over each K x K window (sum, then divided by K*K as PyTorch does).
  template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t S, class T>
  static void avg_pool_forward(const T* x, T* y, std::size_t batch) {
    using G = WindowGeometry<C, H, W, K, S, 0>;
    constexpr T area = static_cast<T>(K * K);
    parallel_for(batch * C, batch * C * G::positions * K * K, [&](std::size_t plane) {
      const T* in = x + plane * H * W;
      T* out = y + plane * G::positions;
      for (std::size_t oh = 0; oh < G::out_h; ++oh)
        for (std::size_t ow = 0; ow < G::out_w; ++ow) {
          T s = 0;
          for (std::size_t kh = 0; kh < K; ++kh)
            for (std::size_t kw = 0; kw < K; ++kw) s += in[(oh * S + kh) * W + ow * S + kw];
          out[oh * G::out_w + ow] = s / area;
        }
    });
  }

  template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t S, class T>
  static void avg_pool_backward(const T* dy, T* dx, std::size_t batch) {
    using G = WindowGeometry<C, H, W, K, S, 0>;
    constexpr T area = static_cast<T>(K * K);
    parallel_for(batch * C, batch * C * G::positions * K * K, [&](std::size_t plane) {
      const T* g = dy + plane * G::positions;
      T* out = dx + plane * H * W;
      std::fill(out, out + H * W, T(0));
      for (std::size_t oh = 0; oh < G::out_h; ++oh)
        for (std::size_t ow = 0; ow < G::out_w; ++ow) {
          const T v = g[oh * G::out_w + ow] / area;
          for (std::size_t kh = 0; kh < K; ++kh)
            for (std::size_t kw = 0; kw < K; ++kw) out[(oh * S + kh) * W + ow * S + kw] += v;
        }
    });
  }

  /// y[c] = mean of channel c's Area values (AdaptiveAvgPool2d(1) then Flatten).
  template <std::size_t C, std::size_t Area, class T>
  static void global_avg_pool_forward(const T* x, T* y, std::size_t batch) {
    parallel_for(batch, batch * C * Area, [&](std::size_t j) {
      for (std::size_t c = 0; c < C; ++c) {
        const T* in = x + (j * C + c) * Area;
        T s = 0;
        for (std::size_t i = 0; i < Area; ++i) s += in[i];
        y[j * C + c] = s / static_cast<T>(Area);
      }
    });
  }

  template <std::size_t C, std::size_t Area, class T>
  static void global_avg_pool_backward(const T* dy, T* dx, std::size_t batch) {
    parallel_for(batch, batch * C * Area, [&](std::size_t j) {
      for (std::size_t c = 0; c < C; ++c) {
        const T v = dy[j * C + c] / static_cast<T>(Area);
        std::fill_n(dx + (j * C + c) * Area, Area, v);
      }
    });
  }

 protected:
  /// Whether parallel_for may run on more than one thread (OpenMP with more than one thread,
  /// outside a parallel region).
  static bool threads_available() {
#ifdef _OPENMP
    return omp_get_max_threads() > 1 && !omp_in_parallel();
#else
    return false;
#endif
  }

  /// Runs f(i) for i in [0, n): across OpenMP threads (static schedule, so each i has a fixed
  /// thread for a given thread count) when `work` (about the number of scalar operations) is
  /// large enough to pay for the fork, otherwise on the calling thread. Workers run with the
  /// caller's MXCSR (flush-to-zero), restored afterwards.
  template <class F>
  static void parallel_for(std::size_t n, std::size_t work, F&& f) {
#ifdef _OPENMP
    if (n > 1 && work >= kParallelWork && threads_available()) {
#ifdef STRATA_HAS_MXCSR
      const unsigned csr = _mm_getcsr();
#endif
      const auto count = static_cast<std::ptrdiff_t>(n);
#pragma omp parallel
      {
#ifdef STRATA_HAS_MXCSR
        const unsigned own = _mm_getcsr();
        _mm_setcsr(csr);
#endif
#pragma omp for schedule(static)
        for (std::ptrdiff_t i = 0; i < count; ++i) f(static_cast<std::size_t>(i));
#ifdef STRATA_HAS_MXCSR
        _mm_setcsr(own);
#endif
      }
      return;
    }
#endif
    (void)work;
    for (std::size_t i = 0; i < n; ++i) f(i);
  }

  /// Below this many scalar operations a loop runs on one thread (an OpenMP fork and join
  /// costs a few microseconds).
  static constexpr std::size_t kParallelWork = std::size_t{1} << 15;
};

}  // namespace strata::backend::cpu_kernels
