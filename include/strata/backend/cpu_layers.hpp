#pragma once
// CPU kernels for batch normalisation, dropout and residual sums (mixed into backend::Cpu).
//
// Batch norm sees a batch as B samples of C channels of S positions each (S = 1 after a
// dense layer, H * W after a convolution): channel c of sample j is the S contiguous
// scalars at x + (j * C + c) * S. Statistics are per channel over B * S values,
// accumulated in double; each channel is handled by one thread, so results do not depend
// on the thread count.
#include <cmath>
#include <cstddef>

#include "../core/error.hpp"
#include "../core/rng.hpp"

namespace strata::backend::cpu_kernels {

struct CpuLayerKernels {
  /// Training-mode forward. Writes y, the normalised input xhat (for backward), the batch
  /// mean and inv_std per channel, and updates the running statistics (PyTorch: biased
  /// variance to normalise, unbiased variance into running_var).
  template <std::size_t C, std::size_t S, class T>
  static void batch_norm_forward_train(const T* x, T* y, const T* gamma, const T* beta, T* xhat, T* mean_out,
                                       T* inv_std_out, T* running_mean, T* running_var, std::size_t batch,
                                       double momentum, double eps) {
    const std::size_t n = batch * S;
    if (n < 2)
      throw shape_error("strata: BatchNorm in train mode needs more than one value per channel (batch " +
                        std::to_string(batch) + " x " + std::to_string(S) + " positions)");
    const auto channels = static_cast<long>(C);
#pragma omp parallel for schedule(static) if (n * C >= (1u << 15))
    for (long cl = 0; cl < channels; ++cl) {
      const auto c = static_cast<std::size_t>(cl);
      double sum = 0;
      for (std::size_t j = 0; j < batch; ++j) {
        const T* p = x + (j * C + c) * S;
        for (std::size_t s = 0; s < S; ++s) sum += static_cast<double>(p[s]);
      }
      const double mean = sum / static_cast<double>(n);
      double sq = 0;
      for (std::size_t j = 0; j < batch; ++j) {
        const T* p = x + (j * C + c) * S;
        for (std::size_t s = 0; s < S; ++s) {
          const double d = static_cast<double>(p[s]) - mean;
          sq += d * d;
        }
      }
      const double var = sq / static_cast<double>(n);
      const double inv_std = 1.0 / std::sqrt(var + eps);
      const T m = static_cast<T>(mean), is = static_cast<T>(inv_std), g = gamma[c], b = beta[c];
      for (std::size_t j = 0; j < batch; ++j) {
        const std::size_t o = (j * C + c) * S;
        for (std::size_t s = 0; s < S; ++s) {
          const T h = (x[o + s] - m) * is;
          xhat[o + s] = h;
          y[o + s] = g * h + b;
        }
      }
      mean_out[c] = m;
      inv_std_out[c] = is;
      running_mean[c] = static_cast<T>((1.0 - momentum) * static_cast<double>(running_mean[c]) + momentum * mean);
      running_var[c] = static_cast<T>((1.0 - momentum) * static_cast<double>(running_var[c]) +
                                      momentum * var * static_cast<double>(n) / static_cast<double>(n - 1));
    }
  }

  /// Eval-mode forward with the running statistics; writes xhat and inv_std for backward.
  template <std::size_t C, std::size_t S, class T>
  static void batch_norm_forward_eval(const T* x, T* y, const T* gamma, const T* beta, T* xhat, T* inv_std_out,
                                      const T* running_mean, const T* running_var, std::size_t batch, double eps) {
    for (std::size_t c = 0; c < C; ++c)
      inv_std_out[c] = static_cast<T>(1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps));
    for (std::size_t j = 0; j < batch; ++j)
      for (std::size_t c = 0; c < C; ++c) {
        const std::size_t o = (j * C + c) * S;
        const T m = running_mean[c], is = inv_std_out[c], g = gamma[c], b = beta[c];
        for (std::size_t s = 0; s < S; ++s) {
          const T h = (x[o + s] - m) * is;
          xhat[o + s] = h;
          y[o + s] = g * h + b;
        }
      }
  }

  /// Backward. In train mode the batch statistics depend on x:
  ///   dx = gamma inv_std / n (n dy - sum(dy) - xhat sum(dy xhat));
  /// in eval mode they are constants: dx = gamma inv_std dy.
  template <std::size_t C, std::size_t S, class T>
  static void batch_norm_backward(const T* dy, const T* xhat, const T* gamma, const T* inv_std, T* dgamma, T* dbeta,
                                  T* dx, std::size_t batch, bool train) {
    const std::size_t n = batch * S;
    const auto channels = static_cast<long>(C);
#pragma omp parallel for schedule(static) if (n * C >= (1u << 15))
    for (long cl = 0; cl < channels; ++cl) {
      const auto c = static_cast<std::size_t>(cl);
      double sum_dy = 0, sum_dy_xhat = 0;
      for (std::size_t j = 0; j < batch; ++j) {
        const std::size_t o = (j * C + c) * S;
        for (std::size_t s = 0; s < S; ++s) {
          sum_dy += static_cast<double>(dy[o + s]);
          sum_dy_xhat += static_cast<double>(dy[o + s]) * static_cast<double>(xhat[o + s]);
        }
      }
      dgamma[c] = static_cast<T>(sum_dy_xhat);
      dbeta[c] = static_cast<T>(sum_dy);
      if (dx == nullptr) continue;
      const T k = gamma[c] * inv_std[c];
      if (train) {
        const T inv_n = static_cast<T>(1.0 / static_cast<double>(n));
        const T a = static_cast<T>(sum_dy), b = static_cast<T>(sum_dy_xhat);
        for (std::size_t j = 0; j < batch; ++j) {
          const std::size_t o = (j * C + c) * S;
          for (std::size_t s = 0; s < S; ++s)
            dx[o + s] = k * inv_n * (static_cast<T>(n) * dy[o + s] - a - xhat[o + s] * b);
        }
      } else {
        for (std::size_t j = 0; j < batch; ++j) {
          const std::size_t o = (j * C + c) * S;
          for (std::size_t s = 0; s < S; ++s) dx[o + s] = k * dy[o + s];
        }
      }
    }
  }

  /// Inverted dropout: keeps each element with probability 1 - p and scales it by
  /// 1 / (1 - p); the mask (0 or 1 / (1 - p)) is kept for backward. Draws are sequential
  /// from the network's generator, so a seed gives the same masks for any thread count.
  template <class T>
  static void dropout_forward(const T* x, T* y, T* mask, std::size_t n, double p, Rng& rng) {
    const T scale = static_cast<T>(1.0 / (1.0 - p));
    for (std::size_t i = 0; i < n; ++i) {
      mask[i] = rng.uniform() >= p ? scale : T(0);
      y[i] = x[i] * mask[i];
    }
  }
  template <class T>
  static void dropout_backward(const T* dy, const T* mask, T* dx, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) dx[i] = dy[i] * mask[i];
  }

  /// y = a + b over n scalars (residual sums).
  template <class T>
  static void add(const T* a, const T* b, T* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
  }
  /// y += x over n scalars.
  template <class T>
  static void accumulate(const T* x, T* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] += x[i];
  }
};

}  // namespace strata::backend::cpu_kernels
