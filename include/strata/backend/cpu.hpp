#pragma once
// CPU kernels: Eigen's GEMM through one BLAS-style entry point (cpu_gemm.hpp; multi-threaded
// through OpenMP when the product is large enough; each output element is computed by one
// thread, so results are deterministic for a given thread count), plain vectorised loops
// for the rest.
// Layers call these through their Backend policy, so a CUDA backend can replace them
// without touching layer code.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <type_traits>

#include "../core/tensor.hpp"
#include "cpu_conv.hpp"
#include "cpu_gemm.hpp"
#include "cpu_layers.hpp"

namespace strata::backend {

struct Cpu : cpu_kernels::CpuLayerKernels, cpu_kernels::CpuConvKernels {
  static constexpr const char* name = "cpu";

  /// y = W x + b over a batch; W is Out x In row-major (PyTorch's layout).
  template <std::size_t Out, std::size_t In, class T>
  static void linear_forward(const T* w, const T* b, const T* x, T* y, std::size_t batch) {
    const auto n = static_cast<Eigen::Index>(batch);
    Eigen::Map<const detail::RowMajorMatrix<T, Out, In>> W(w);
    Eigen::Map<const detail::Vector<T, Out>> bias(b);
    ConstColumnsMap<T, In> X(x, In, n);
    ColumnsMap<T, Out> Y(y, Out, n);
    if constexpr (fixed_size_product<Out, In, T>) {
      if (small_product<Out, In>(batch)) {
        for (Eigen::Index j = 0; j < n; ++j) Y.col(j) = bias + W.lazyProduct(X.col(j));
        return;
      }
    }
    const auto out = static_cast<Eigen::Index>(Out), in = static_cast<Eigen::Index>(In);
    if (batch == 1 && Out * In >= single_sample_split) {
      // One sample through a large layer: a matrix-vector product bound by reading the
      // weights, its rows split across threads (each reads its share).
      constexpr std::size_t parts = 4;
      parallel_for(parts, Out * In, [&](std::size_t h) {
        const std::size_t r0 = Out * h / parts, r1 = Out * (h + 1) / parts;
        cpu_kernels::gemm<true, false>(static_cast<Eigen::Index>(r1 - r0), 1, in, w + r0 * In, in, x, in, y + r0, out);
      });
    } else {
      // Larger layers: one GEMM shared by every layer size (cpu_gemm.hpp).
      cpu_kernels::gemm<true, false>(out, n, in, w, in, x, in, y, out);
    }
    Y.colwise() += bias;
  }

  /// dW = dY X^T, db = sum over the batch of dY, dX = W^T dY (skipped when dx is null).
  template <std::size_t Out, std::size_t In, class T>
  static void linear_backward(const T* w, const T* x, const T* dy, T* dw, T* db, T* dx, std::size_t batch) {
    const auto n = static_cast<Eigen::Index>(batch);
    Eigen::Map<const detail::RowMajorMatrix<T, Out, In>> W(w);
    Eigen::Map<detail::RowMajorMatrix<T, Out, In>> dW(dw);
    Eigen::Map<detail::Vector<T, Out>> dB(db);
    ConstColumnsMap<T, In> X(x, In, n);
    ConstColumnsMap<T, Out> dY(dy, Out, n);
    if constexpr (fixed_size_product<Out, In, T>) {
      if (small_product<Out, In>(batch)) {
        dW.setZero();
        dB.setZero();
        for (Eigen::Index j = 0; j < n; ++j) {
          dW.noalias() += dY.col(j) * X.col(j).transpose();
          dB += dY.col(j);
        }
        if (dx != nullptr) {
          ColumnsMap<T, In> dX(dx, In, n);
          for (Eigen::Index j = 0; j < n; ++j) dX.col(j).noalias() = W.transpose().lazyProduct(dY.col(j));
        }
        return;
      }
    }
    // dW^T (In x Out, the same memory as row-major dW) = X dY^T; dX = W^T dY.
    const auto out = static_cast<Eigen::Index>(Out), in = static_cast<Eigen::Index>(In);
    cpu_kernels::gemm<false, true>(in, out, n, x, in, dy, out, dw, in);
    dB = dY.rowwise().sum();
    if (dx != nullptr) cpu_kernels::gemm<false, false>(in, n, out, w, in, dy, out, dx, in);
  }

  // Element-wise activations over n contiguous scalars.

  /// Runs f(offset, count) over [0, n) in chunks of elementwise_chunk scalars, across threads
  /// from 2^15 scalars (ReLU after the first convolution of the digit CNN at batch 50 is
  /// 1.08M). The chunks depend on n only, so each scalar takes the same path (a packet or
  /// the scalar tail) whatever the thread count.
  template <class F>
  static void elementwise(std::size_t n, F&& f) {
    const std::size_t chunks = (n + elementwise_chunk - 1) / elementwise_chunk;
    parallel_for(chunks, n, [&](std::size_t c) {
      const std::size_t begin = c * elementwise_chunk;
      f(begin, std::min(elementwise_chunk, n - begin));
    });
  }
  static constexpr std::size_t elementwise_chunk = std::size_t{1} << 14;

  template <class T>
  static auto arr(T* p, std::size_t n) {
    return Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>(p, static_cast<Eigen::Index>(n));
  }
  template <class T>
  static auto arr(const T* p, std::size_t n) {
    return Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(p, static_cast<Eigen::Index>(n));
  }

  template <class T>
  static void relu_forward(const T* x, T* y, std::size_t n) {
    elementwise(n, [&](std::size_t i, std::size_t k) { relu_into(x + i, y + i, k); });
  }
  template <class T>
  static void relu_backward(const T* y, const T* dy, T* dx, std::size_t n) {
    elementwise(n, [&](std::size_t i, std::size_t k) {
      // PyTorch's threshold_backward: no gradient where the output is <= 0
      for (std::size_t e = i; e < i + k; ++e) {
        const T g = dy[e];  // loaded unconditionally, or the loop does not vectorise
        dx[e] = y[e] <= T(0) ? T(0) : g;
      }
    });
  }
  template <class T>
  static void leaky_relu_forward(const T* x, T* y, std::size_t n, T slope) {
    elementwise(n, [&](std::size_t i, std::size_t k) {
      arr(y + i, k) = (arr(x + i, k) > T(0)).select(arr(x + i, k), slope * arr(x + i, k));
    });
  }
  template <class T>
  static void leaky_relu_backward(const T* x, const T* dy, T* dx, std::size_t n, T slope) {
    elementwise(n, [&](std::size_t i, std::size_t k) {
      arr(dx + i, k) = (arr(x + i, k) > T(0)).select(arr(dy + i, k), slope * arr(dy + i, k));
    });
  }
  template <class T>
  static void sigmoid_forward(const T* x, T* y, std::size_t n) {
    elementwise(n, [&](std::size_t i, std::size_t k) { arr(y + i, k) = arr(x + i, k).logistic(); });
  }
  template <class T>
  static void sigmoid_backward(const T* y, const T* dy, T* dx, std::size_t n) {
    elementwise(n, [&](std::size_t i, std::size_t k) {
      arr(dx + i, k) = arr(dy + i, k) * arr(y + i, k) * (T(1) - arr(y + i, k));
    });
  }
  template <class T>
  static void tanh_forward(const T* x, T* y, std::size_t n) {
    elementwise(n, [&](std::size_t i, std::size_t k) { arr(y + i, k) = arr(x + i, k).tanh(); });
  }
  template <class T>
  static void tanh_backward(const T* y, const T* dy, T* dx, std::size_t n) {
    elementwise(n, [&](std::size_t i, std::size_t k) {
      arr(dx + i, k) = arr(dy + i, k) * (T(1) - arr(y + i, k).square());
    });
  }

  /// Softmax over the features of each sample (PyTorch dim=1 on an (N, C) tensor).
  template <std::size_t Rows, class T>
  static void softmax_forward(const T* x, T* y, std::size_t batch) {
    const auto n = static_cast<Eigen::Index>(batch);
    ConstColumnsMap<T, Rows> X(x, Rows, n);
    ColumnsMap<T, Rows> Y(y, Rows, n);
    for (Eigen::Index j = 0; j < n; ++j) {
      const T m = X.col(j).maxCoeff();
      Y.col(j) = (X.col(j).array() - m).exp();
      Y.col(j) /= Y.col(j).sum();
    }
  }
  template <std::size_t Rows, class T>
  static void softmax_backward(const T* y, const T* dy, T* dx, std::size_t batch) {
    const auto n = static_cast<Eigen::Index>(batch);
    ConstColumnsMap<T, Rows> Y(y, Rows, n);
    ConstColumnsMap<T, Rows> dY(dy, Rows, n);
    ColumnsMap<T, Rows> dX(dx, Rows, n);
    for (Eigen::Index j = 0; j < n; ++j) {
      const T s = Y.col(j).dot(dY.col(j));
      dX.col(j) = Y.col(j).cwiseProduct((dY.col(j).array() - s).matrix());
    }
  }

  template <class T>
  static void copy(const T* x, T* y, std::size_t n) {
    std::copy(x, x + n, y);
  }

 private:
  // Per-column coefficient-based products beat Eigen's blocked GEMM when both the
  // weight matrix and the batch are small (packing costs more than it saves). Measured on
  // the 2-16-16-1 MLP, one thread: batch 10, 0.79 us per step vs 0.97 us with GEMM;
  // batch 400, 25 us vs 21 us (so larger batches take the GEMM).
  static constexpr std::size_t small_weights = 512;
  // From this many weights a batch of one splits its matrix-vector product across threads
  // (digit CNN's 1152 -> 100 at batch 1, 2 threads, repeated calls: 6.6-7.2 us against
  // 8.2-9.2 us; about 5 us less per batch-1 forward of the whole CNN).
  static constexpr std::size_t single_sample_split = std::size_t{1} << 16;
  // Fixed-size products for small float layers (the speed above); double, which only the
  // gradient checks and the double parity runs use, always takes the shared GEMM. Only the
  // per-column products are instantiated per layer size: a fixed-size GEMM per size cost
  // seconds of compile time each.
  template <std::size_t Out, std::size_t In, class T>
  static constexpr bool fixed_size_product = Out * In <= small_weights && !std::is_same_v<T, double>;
  template <std::size_t Out, std::size_t In>
  static constexpr bool small_product(std::size_t batch) {
    return Out * In <= small_weights && batch <= 32;
  }
};

}  // namespace strata::backend
