#pragma once
// One matrix product for every CPU kernel (dense layers, im2col convolution), BLAS style:
// raw pointers, leading dimensions and the storage order of each operand.
//
// It calls Eigen's GEMM machinery (packing, the register-blocked kernel and its OpenMP
// parallelisation, exactly what `C.noalias() = A * B` runs) below the expression layer. A
// product expression instantiates, for each pair of operand types, the GEMM, two
// matrix-vector fallbacks and a coefficient-based product; Dense and Conv2D used eleven
// such expressions (strided and plain views, transposes), which was most of the compile
// time of a small network. Here every product of a scalar type shares three GEMM
// instantiations (one per storage-order pair) and one matrix-vector product per order.
// Measured with GCC 12 on three float products, compile time above Eigen's own headers:
// 4.7 s -> 1.4 s at -O1, 7.8 s -> 2.3 s at -O3 -march=native.
//
// Numbers: a product with more than one column and row runs Eigen's GEMM with the same
// blocking as the expression, so results (and their dependence on the thread count only)
// are unchanged; a single column runs Eigen's matrix-vector product, as the expression did.
#include <Eigen/Core>

namespace strata::backend::cpu_kernels {

namespace gemm_detail {
template <class T, bool Row>
using Operand = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Row ? Eigen::RowMajor : Eigen::ColMajor>,
                           0, Eigen::OuterStride<>>;
template <class T>
using Result = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>, 0, Eigen::OuterStride<>>;
}  // namespace gemm_detail

/// C = A B, or C += A B when `accumulate`. C is m x n, column-major with leading dimension
/// ldc; A is m x k and B is k x n, each column-major (element (i, j) at i + j * ld) or
/// row-major (at i * ld + j) as ARow / BRow say. C must not overlap A or B.
template <bool ARow, bool BRow, class T>
void gemm(Eigen::Index m, Eigen::Index n, Eigen::Index k, const T* a, Eigen::Index lda, const T* b, Eigen::Index ldb,
          T* c, Eigen::Index ldc, bool accumulate = false) {
  namespace ei = Eigen::internal;
  using A = gemm_detail::Operand<T, ARow>;
  using B = gemm_detail::Operand<T, BRow>;
  using C = gemm_detail::Result<T>;
  if (m == 0 || n == 0) return;
  C dst(c, m, n, Eigen::OuterStride<>(ldc));
  if (!accumulate) dst.setZero();
  if (k == 0) return;
  const A lhs(a, m, k, Eigen::OuterStride<>(lda));
  if (n == 1 && (!BRow || ldb == 1)) {  // one contiguous column: matrix-vector product
    const Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>> x(b, k);
    Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>> y(c, m);
    y.noalias() += lhs * x;
    return;
  }
  const B rhs(b, k, n, Eigen::OuterStride<>(ldb));
  if (m + n + k < 20) {  // Eigen's own threshold for a coefficient-based product
    for (Eigen::Index j = 0; j < n; ++j)
      for (Eigen::Index i = 0; i < m; ++i) {
        T s(0);
        for (Eigen::Index p = 0; p < k; ++p) s += lhs(i, p) * rhs(p, j);
        dst(i, j) += s;
      }
    return;
  }
  using Blocking = ei::gemm_blocking_space<Eigen::ColMajor, T, T, Eigen::Dynamic, Eigen::Dynamic, Eigen::Dynamic>;
  using Product = ei::general_matrix_matrix_product<Eigen::Index, T, ARow ? Eigen::RowMajor : Eigen::ColMajor, false, T,
                                                    BRow ? Eigen::RowMajor : Eigen::ColMajor, false, Eigen::ColMajor, 1>;
  using Functor = ei::gemm_functor<T, Eigen::Index, Product, A, B, C, Blocking>;
  Blocking blocking(m, n, k, 1, true);
  ei::parallelize_gemm<true>(Functor(lhs, rhs, dst, T(1), blocking), m, n, k, false);
}

}  // namespace strata::backend::cpu_kernels
