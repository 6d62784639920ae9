// backend/cpu_gemm.hpp: every path of the shared product (one column, tiny sizes, the blocked
// GEMM single- and multi-threaded) for each storage-order pair, with leading dimensions larger
// than the matrices, against a plain triple loop in double.
#include <catch2/catch.hpp>
#include <strata/backend/cpu_gemm.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace {

using Index = Eigen::Index;

// Element (i, j) of a matrix stored column- or row-major with leading dimension ld.
template <class T>
T& at(std::vector<T>& v, bool row, Index ld, Index i, Index j) {
  return v[static_cast<std::size_t>(row ? i * ld + j : i + j * ld)];
}
template <class T>
T at(const std::vector<T>& v, bool row, Index ld, Index i, Index j) {
  return v[static_cast<std::size_t>(row ? i * ld + j : i + j * ld)];
}

template <class T>
std::vector<T> filled(std::size_t n, std::uint32_t seed) {
  std::vector<T> v(n);
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<T>(static_cast<double>(seed >> 8) / double(1u << 24) - 0.5);
  }
  return v;
}

template <bool ARow, bool BRow, class T>
void check_product(Index m, Index n, Index k, bool accumulate) {
  const Index pad = 3;  // leading dimensions past the matrices: strided views
  const Index lda = (ARow ? k : m) + pad, ldb = (BRow ? n : k) + pad, ldc = m + pad;
  auto a = filled<T>(static_cast<std::size_t>(lda * (ARow ? m : k)), 1u);
  auto b = filled<T>(static_cast<std::size_t>(ldb * (BRow ? k : n)), 2u);
  auto c = filled<T>(static_cast<std::size_t>(ldc * n), 3u);
  const auto c0 = c;
  strata::backend::cpu_kernels::gemm<ARow, BRow>(m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc, accumulate);
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  // The worst element relative to its tolerance, and whether the padding rows were left alone.
  double worst = 0;
  Index wi = 0, wj = 0;
  bool padding_kept = true;
  for (Index j = 0; j < n; ++j)
    for (Index i = 0; i < ldc; ++i) {
      const T got = at(c, false, ldc, i, j);
      const T before = c0[static_cast<std::size_t>(i + j * ldc)];
      if (i >= m) {
        padding_kept = padding_kept && got == before;
        continue;
      }
      double want = accumulate ? static_cast<double>(before) : 0.0;
      double scale = std::abs(want);
      for (Index p = 0; p < k; ++p) {
        const double t = static_cast<double>(at(a, ARow, lda, i, p)) * static_cast<double>(at(b, BRow, ldb, p, j));
        want += t;
        scale += std::abs(t);
      }
      const double r = std::abs(static_cast<double>(got) - want) / (tol * (scale + 1.0));
      if (!(r <= worst)) {  // NaN counts as worst
        worst = r;
        wi = i;
        wj = j;
      }
    }
  INFO("m=" << m << " n=" << n << " k=" << k << " ARow=" << ARow << " BRow=" << BRow << " accumulate=" << accumulate
            << ": worst element (" << wi << ", " << wj << ") at " << worst << " x its tolerance");
  CHECK(worst <= 1.0);
  CHECK(padding_kept);
}

template <class T>
void check_all_orders(Index m, Index n, Index k, bool accumulate) {
  check_product<false, false, T>(m, n, k, accumulate);
  check_product<true, false, T>(m, n, k, accumulate);
  check_product<false, true, T>(m, n, k, accumulate);
  check_product<true, true, T>(m, n, k, accumulate);
}

}  // namespace

TEST_CASE("gemm equals the triple loop on every path, storage order and leading dimension", "[backend][gemm]") {
  struct Size {
    Index m, n, k;
  };
  // one column (matrix-vector), one row, tiny (coefficient loop), blocked GEMM (Eigen's
  // kernels, split across threads when large enough), and sizes that are not multiples of
  // the kernel's register blocks.
  const Size sizes[] = {{7, 1, 5},  {64, 1, 300}, {1, 9, 13},   {3, 4, 5},    {2, 2, 2},
                        {33, 17, 9}, {121, 64, 288}, {9, 128, 576}, {300, 200, 150}};
  for (const auto& s : sizes)
    for (bool accumulate : {false, true}) {
      check_all_orders<float>(s.m, s.n, s.k, accumulate);
      check_all_orders<double>(s.m, s.n, s.k, accumulate);
    }
}

TEST_CASE("gemm with an empty inner dimension writes zeros or leaves C, and empty C is a no-op", "[backend][gemm]") {
  for (bool accumulate : {false, true}) {
    check_all_orders<float>(5, 4, 0, accumulate);
    check_all_orders<float>(0, 4, 3, accumulate);
    check_all_orders<float>(5, 0, 3, accumulate);
  }
}

namespace {

/// C (m x n, row-major, ldc) after a kernel computed C = A B + bias: A is m x k row-major,
/// B is k x n stored row-major (`b_row`) or column-major (B^T's rows contiguous). Against
/// the triple loop in double; C's padding column n must equal c0's.
template <class T>
void check_row_major_result(const char* kernel, Index m, Index n, Index k, const std::vector<T>& a, Index lda,
                            const std::vector<T>& b, bool b_row, Index ldb, const T* bias, const std::vector<T>& c,
                            const std::vector<T>& c0, Index ldc) {
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  double worst = 0;
  bool padding_kept = true;
  for (Index i = 0; i < m; ++i) {
    padding_kept = padding_kept && c[static_cast<std::size_t>(i * ldc + n)] == c0[static_cast<std::size_t>(i * ldc + n)];
    for (Index j = 0; j < n; ++j) {
      double want = bias != nullptr ? static_cast<double>(bias[i]) : 0.0;
      double scale = std::abs(want);
      for (Index p = 0; p < k; ++p) {
        const double t = static_cast<double>(at(a, true, lda, i, p)) * static_cast<double>(at(b, b_row, ldb, p, j));
        want += t;
        scale += std::abs(t);
      }
      const double r = std::abs(static_cast<double>(c[static_cast<std::size_t>(i * ldc + j)]) - want) /
                       (tol * (scale + 1.0));
      if (!(r <= worst)) worst = r;
    }
  }
  INFO(kernel << " m=" << m << " n=" << n << " k=" << k << " bias=" << (bias != nullptr) << ": worst " << worst
              << " x its tolerance");
  CHECK(worst <= 1.0);
  CHECK(padding_kept);
}

/// gemm_rows (C = A B^T + bias, all row-major) with leading dimensions past the rows and a
/// padding column in C that must stay untouched.
template <class T>
void check_rows_product(Index m, Index n, Index k, bool with_bias) {
  const Index pad = 5, lda = k + pad, ldb = k + pad, ldc = n + 1;
  const auto a = filled<T>(static_cast<std::size_t>(lda * m), 4u);
  const auto b = filled<T>(static_cast<std::size_t>(ldb * n), 5u);
  const auto bias = filled<T>(static_cast<std::size_t>(m), 6u);
  auto c = filled<T>(static_cast<std::size_t>(ldc * m), 7u);
  const auto c0 = c;
  const T* bp = with_bias ? bias.data() : nullptr;
  strata::backend::cpu_kernels::gemm_rows(m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc, bp);
  check_row_major_result("gemm_rows", m, n, k, a, lda, b, false, ldb, bp, c, c0, ldc);  // B^T's rows are b's rows
}

}  // namespace

TEST_CASE("gemm_rows equals the triple loop: whole and partial blocks, packets and bias", "[backend][gemm]") {
  // m around the 4-row block, n around the 3-column block, k around whole packets (16
  // floats or 8 doubles with AVX-512, fewer elsewhere) and below one packet.
  for (const Index m : {1, 3, 4, 7, 9})
    for (const Index n : {1, 2, 3, 5, 9})
      for (const Index k : {1, 7, 16, 27, 64})
        for (const bool with_bias : {false, true}) {
          check_rows_product<float>(m, n, k, with_bias);
          check_rows_product<double>(m, n, k, with_bias);
        }
  check_rows_product<float>(128, 9, 576, true);  // the digit CNN's last convolution at batch 1
}

namespace {

/// gemm_broadcast (C = A B + bias, all row-major, B's rows padded). B's padding holds NaN:
/// padding products must be dropped, never stored. C has a padding column that must stay
/// untouched.
template <class T>
void check_broadcast_product(Index m, Index n, Index k, bool with_bias) {
  using strata::backend::cpu_kernels::gemm_broadcast_row_pad;
  const Index lda = k + 2, ldb = (n + gemm_broadcast_row_pad - 1) / gemm_broadcast_row_pad * gemm_broadcast_row_pad,
              ldc = n + 1;
  const auto a = filled<T>(static_cast<std::size_t>(lda * m), 8u);
  auto b = filled<T>(static_cast<std::size_t>(ldb * k), 9u);
  for (Index p = 0; p < k; ++p)
    for (Index j = n; j < ldb; ++j) b[static_cast<std::size_t>(p * ldb + j)] = std::numeric_limits<T>::quiet_NaN();
  const auto bias = filled<T>(static_cast<std::size_t>(m), 10u);
  auto c = filled<T>(static_cast<std::size_t>(ldc * m), 11u);
  const auto c0 = c;
  const T* bp = with_bias ? bias.data() : nullptr;
  strata::backend::cpu_kernels::gemm_broadcast(m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc, bp);
  check_row_major_result("gemm_broadcast", m, n, k, a, lda, b, true, ldb, bp, c, c0, ldc);

  // With relu: relu of the same values bit for bit (0 where negative), a NaN row (from a NaN
  // in A) kept NaN, the padding column untouched.
  auto a_nan = a;
  a_nan[0] = std::numeric_limits<T>::quiet_NaN();
  auto plain = c0, relu = c0;
  strata::backend::cpu_kernels::gemm_broadcast(m, n, k, a_nan.data(), lda, b.data(), ldb, plain.data(), ldc, bp);
  strata::backend::cpu_kernels::gemm_broadcast(m, n, k, a_nan.data(), lda, b.data(), ldb, relu.data(), ldc, bp, true);
  std::size_t wrong = 0, negative = 0, nan = 0;
  for (Index i = 0; i < m; ++i) {
    const auto row = static_cast<std::size_t>(i * ldc);
    wrong += relu[row + static_cast<std::size_t>(n)] != c0[row + static_cast<std::size_t>(n)];
    for (Index j = 0; j < n; ++j) {
      const T v = plain[row + static_cast<std::size_t>(j)], r = relu[row + static_cast<std::size_t>(j)];
      negative += v < T(0);
      nan += std::isnan(r);
      const T want = v < T(0) ? T(0) : v;
      wrong += std::isnan(v) ? !std::isnan(r) : r != want || std::signbit(r) != std::signbit(want);
    }
  }
  INFO("gemm_broadcast with relu, m=" << m << " n=" << n << " k=" << k);
  CHECK(wrong == 0);
  CHECK(nan == static_cast<std::size_t>(n));
  if ((m - 1) * n >= 8) CHECK(negative > 0);  // rows besides the NaN one
}

}  // namespace

TEST_CASE("gemm_broadcast equals the triple loop: row blocks, column blocks, padded rows and bias",
          "[backend][gemm]") {
  // m around the row blocks (12 or 6, then 4, then single rows), n around whole packets and
  // the two-packet column block, padding read but never stored.
  for (const Index m : {1, 3, 4, 5, 11, 12, 17, 29})
    for (const Index n : {1, 7, 8, 16, 17, 33, 40})
      for (const Index k : {1, 9, 30})
        for (const bool with_bias : {false, true}) {
          check_broadcast_product<float>(m, n, k, with_bias);
          check_broadcast_product<double>(m, n, k, with_bias);
        }
  check_broadcast_product<float>(64, 121, 288, true);  // the digit CNN's second convolution at batch 1
}
