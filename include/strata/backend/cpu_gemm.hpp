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
#include <algorithm>

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

namespace gemm_detail {
/// Pins a loaded packet to a register for the rest of its use. Without it GCC 12 folds the
/// load into every multiply-add that reads the packet (a memory operand each time), so the
/// tiles below issued one load per multiply-add instead of (RM + RN) per RM x RN: rows_tile
/// for conv3 at batch 1 (128 x 9 x 576, one thread) 35-36 us against 15 us with the packets
/// pinned; broadcast_tile, whose A entries are broadcast from memory anyway, 47-48 against
/// 45 us (conv2, one image) and 7.8-7.9 against 7.0 us (conv1). The empty asm makes the
/// value opaque, so the compiler cannot re-read it; the numbers do not change.
template <class P>
inline void keep_in_register(P& p) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  asm("" : "+v"(p));
#elif defined(__GNUC__) && defined(__aarch64__)
  asm("" : "+w"(p));
#else
  (void)p;
#endif
}

/// An RM x RN block of C = A B^T + bias: each entry the dot product of a row of A and a row
/// of B, RM * RN packet accumulators along k, reduced at the end (the last k % packet
/// entries added in scalar order).
template <int RM, int RN, class T>
[[gnu::noinline]] void rows_tile(Eigen::Index k, const T* a, Eigen::Index lda, const T* b, Eigen::Index ldb, T* c,
                      Eigen::Index ldc, const T* bias) {
  namespace ei = Eigen::internal;
  using P = typename ei::packet_traits<T>::type;
  constexpr Eigen::Index L = ei::packet_traits<T>::size;
  P acc[RM][RN];
  for (int i = 0; i < RM; ++i)
    for (int j = 0; j < RN; ++j) acc[i][j] = ei::pset1<P>(T(0));
  Eigen::Index p = 0;
  for (; p + L <= k; p += L) {
    P av[RM];
    for (int i = 0; i < RM; ++i) {
      av[i] = ei::ploadu<P>(a + i * lda + p);
      keep_in_register(av[i]);
    }
    for (int j = 0; j < RN; ++j) {
      P bv = ei::ploadu<P>(b + j * ldb + p);
      keep_in_register(bv);
      for (int i = 0; i < RM; ++i) acc[i][j] = ei::pmadd(av[i], bv, acc[i][j]);
    }
  }
  for (int i = 0; i < RM; ++i)
    for (int j = 0; j < RN; ++j) {
      T s = ei::predux(acc[i][j]);
      // fewer than L left (a loop with a constant bound: GCC 12 warns falsely on `q < k`)
      for (Eigen::Index q = 0; q < L - 1 && p + q < k; ++q) s += a[i * lda + p + q] * b[j * ldb + p + q];
      c[i * ldc + j] = bias != nullptr ? s + bias[i] : s;
    }
}
}  // namespace gemm_detail

/// Rows per block of gemm_rows (the unit a caller may split across threads).
inline constexpr Eigen::Index gemm_rows_block = 4;

/// C = A B^T (+ bias per row of C) for a B of few rows: C is m x n row-major (element
/// (i, j) at i * ldc + j), A is m x k and B is n x k, both row-major, so every entry is the
/// dot product of two contiguous rows. Nothing is packed: for a convolution over a few
/// output positions (the last 3x3 convolution of the digit CNN at batch 1: 128 x 9 x 576)
/// Eigen's GEMM spends more time packing the weights than multiplying (38 us against
/// 22 us here, one thread; 15 us since the packets are kept in registers). Blocks of 4
/// rows of A by 3 rows of B (12 accumulators); 2 x 9, 3 x 9 and 6 x 3 ran as fast, 2, 3
/// or 4 x 5 30-40% slower (conv3 at batch 1).
/// Numbers depend only on k and the packet size (no threads inside).
template <class T>
void gemm_rows(Eigen::Index m, Eigen::Index n, Eigen::Index k, const T* a, Eigen::Index lda, const T* b,
               Eigen::Index ldb, T* c, Eigen::Index ldc, const T* bias = nullptr) {
  using gemm_detail::rows_tile;
  constexpr int RM = gemm_rows_block, RN = 3;
  // Remainder loops have constant bounds (fewer than RM rows, RN columns left): with
  // `j < n`, GCC 12 warns falsely of undefined behaviour at iteration 2^62.
  const auto row_block = [&]<int R>(Eigen::Index i) {
    const T* bi = bias != nullptr ? bias + i : nullptr;
    Eigen::Index j = 0;
    for (; j + RN <= n; j += RN) rows_tile<R, RN>(k, a + i * lda, lda, b + j * ldb, ldb, c + i * ldc + j, ldc, bi);
    for (int r = 0; r < RN - 1 && j < n; ++r, ++j)
      rows_tile<R, 1>(k, a + i * lda, lda, b + j * ldb, ldb, c + i * ldc + j, ldc, bi);
  };
  Eigen::Index i = 0;
  for (; i + RM <= m; i += RM) row_block.template operator()<RM>(i);
  for (int r = 0; r < RM - 1 && i < m; ++r, ++i) row_block.template operator()<1>(i);
}

namespace gemm_detail {
/// An RM x (RV packets) block of C = A B + bias with A's entries broadcast and B's rows
/// loaded a packet at a time; `cols` of the block's columns are stored (the rest of the last
/// packet is computed from B's row padding and dropped). B's row p = (ch, kh, kw), with
/// p = (ch * K + kh) * K + kw over `channels` x K x K rows, starts at
/// b + ch * plane + kh * row + kw: for K = 1 an ordinary row-major B (plane = its leading
/// dimension), for K > 1 the taps of a stride-1 convolution read straight from a padded
/// image (conv2d_forward_wide). With LDA > 0, A's leading dimension is LDA (the lda
/// argument is ignored): the RM rows of A are then addressed from one register, where a
/// run-time lda takes one register per row and (RM = 8, K = 3) spilled the row pointers to
/// the stack (conv 32 -> 64 channels on 13x13, one image: 46 us against 36 us). Out of
/// line: inlined into a caller's loop, GCC 12 kept the accumulators in memory (2x slower).
/// With `relu`, stores relu(A B + bias) (0 where negative; -0 and NaN pass).
template <int RM, int RV, int K, Eigen::Index LDA, class T>
[[gnu::noinline]] void broadcast_tile(Eigen::Index channels, const T* a, Eigen::Index lda, const T* b,
                                      Eigen::Index plane, Eigen::Index row, T* c, Eigen::Index ldc, Eigen::Index cols,
                                      const T* bias, bool relu) {
  namespace ei = Eigen::internal;
  using P = typename ei::packet_traits<T>::type;
  constexpr Eigen::Index L = ei::packet_traits<T>::size;
  if constexpr (LDA > 0) lda = LDA;
  P acc[RM][RV];
  for (int i = 0; i < RM; ++i)
    for (int v = 0; v < RV; ++v) acc[i][v] = ei::pset1<P>(T(0));
  for (Eigen::Index ch = 0; ch < channels; ++ch) {
    const T* bc = b + ch * plane;
    const T* ac = a + ch * K * K;
#pragma GCC unroll 16
    for (int kh = 0; kh < K; ++kh)
#pragma GCC unroll 16
      for (int kw = 0; kw < K; ++kw) {
        P bv[RV];
        for (int v = 0; v < RV; ++v) {
          bv[v] = ei::ploadu<P>(bc + kh * row + kw + v * L);
          keep_in_register(bv[v]);
        }
        for (int i = 0; i < RM; ++i) {
          const P av = ei::pset1<P>(ac[i * lda + kh * K + kw]);
          for (int v = 0; v < RV; ++v) acc[i][v] = ei::pmadd(av, bv[v], acc[i][v]);
        }
      }
  }
  for (int i = 0; i < RM; ++i)
    for (int v = 0; v < RV; ++v) {
      P r = bias != nullptr ? ei::padd(acc[i][v], ei::pset1<P>(bias[i])) : acc[i][v];
      if (relu) r = ei::pselect(ei::pcmp_lt(r, ei::pzero(r)), ei::pzero(r), r);
      const Eigen::Index left = cols - v * L;
      if (left >= L) {
        ei::pstoreu(c + i * ldc + v * L, r);
      } else if (left > 0) {
        alignas(64) T tmp[L];
        ei::pstoreu(tmp, r);
        for (Eigen::Index q = 0; q < L - 1 && q < left; ++q) c[i * ldc + v * L + q] = tmp[q];
      }
    }
}
}  // namespace gemm_detail

/// Rows of C per block of broadcast_tile with RV packets of columns: the accumulators
/// (rows x RV packets) plus RV loaded packets and a broadcast fill the vector registers.
template <int RV>
inline constexpr Eigen::Index broadcast_block_rows = (EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS >= 32 ? 24 : 12) / RV;
/// Block sizes of gemm_broadcast: rows of C per block and columns per block (2 packets),
/// the units a caller may split across threads.
inline constexpr Eigen::Index gemm_broadcast_rows = broadcast_block_rows<2>;
template <class T>
inline constexpr Eigen::Index gemm_broadcast_cols = 2 * Eigen::internal::packet_traits<T>::size;
/// Every row of B passed to gemm_broadcast must be readable up to the next multiple of this
/// many scalars past its n columns (padding whose products are dropped): a column block, 2
/// packets of at most 16 scalars (AVX-512 floats).
inline constexpr Eigen::Index gemm_broadcast_row_pad = 32;

/// C = A B (+ bias per row of C; relu(A B + bias) with `relu`), C m x n row-major (ldc) and
/// A m x (channels K K) row-major (lda), in blocks of broadcast_block_rows<RV> rows by RV
/// packets of columns; B's rows are broadcast_tile's (b, plane, row), read up to the next
/// multiple of RV packets past column n. LDA > 0 fixes lda at compile time (broadcast_tile).
/// Numbers depend only on the length of A's rows and the packet size.
template <int K, int RV, Eigen::Index LDA = 0, class T>
void broadcast_product(Eigen::Index m, Eigen::Index n, Eigen::Index channels, const T* a, Eigen::Index lda, const T* b,
                       Eigen::Index plane, Eigen::Index row, T* c, Eigen::Index ldc, const T* bias, bool relu) {
  using gemm_detail::broadcast_tile;
  constexpr int RM = static_cast<int>(broadcast_block_rows<RV>);
  constexpr Eigen::Index NB = RV * Eigen::internal::packet_traits<T>::size;
  for (Eigen::Index j = 0; j < n; j += NB) {
    const Eigen::Index cols = std::min(NB, n - j);
    const auto tile = [&]<int R>(Eigen::Index i) {
      broadcast_tile<R, RV, K, LDA>(channels, a + i * lda, lda, b + j, plane, row, c + i * ldc + j, ldc, cols,
                               bias != nullptr ? bias + i : nullptr, relu);
    };
    Eigen::Index i = 0;
    for (; i + RM <= m; i += RM) tile.template operator()<RM>(i);
    // fewer than RM rows left: blocks of 4, then single rows (constant-bound loops)
    for (int r = 0; r < RM / 4 && i + 4 <= m; ++r, i += 4) tile.template operator()<4>(i);
    for (int r = 0; r < 3 && i < m; ++r, ++i) tile.template operator()<1>(i);
  }
}

/// C = A B (+ bias per row of C; relu(A B + bias) with `relu`), everything row-major: C m x n
/// (ldc), A m x k (lda), B k x n (ldb), where each row of B can be read up to a multiple of
/// gemm_broadcast_row_pad.
/// Each entry of A is broadcast and multiplies a packet of a row of B; no packing. For a
/// convolution of one image (weights times its im2col columns, the output in channel-major
/// order) this beats Eigen's GEMM, which packs both operands for a product used once
/// (digit CNN at batch 1, one thread: 32x9 weights times 9x676 columns and 64x288 times
/// 288x121; measurements in ConvPlan). Numbers depend only on k and the packet size.
template <class T>
void gemm_broadcast(Eigen::Index m, Eigen::Index n, Eigen::Index k, const T* a, Eigen::Index lda, const T* b,
                    Eigen::Index ldb, T* c, Eigen::Index ldc, const T* bias = nullptr, bool relu = false) {
  static_assert(gemm_broadcast_row_pad % gemm_broadcast_cols<T> == 0, "a column block reads past the row padding");
  broadcast_product<1, 2>(m, n, k, a, lda, b, ldb, 0, c, ldc, bias, relu);
}

}  // namespace strata::backend::cpu_kernels

// Separately compiled kernels (optional). The float products above are most of the
// optimiser's work in a small program (GCC 12, -O3 -march=native: the training step of a
// 3-layer MLP compiles in 9 s instead of 14 s without them). With STRATA_SEPARATE_KERNELS
// defined, they are declared here as explicit instantiations compiled elsewhere: once, in
// src/cpu_kernels.cpp (CMake target strata::kernels, which defines the macro for the
// programs that link it). Compile that file with the same flags as the program. Other
// scalar types are instantiated where used, as without the macro.
#define STRATA_CPU_KERNEL_INSTANCES(prefix)                                                                         \
  prefix template void gemm<false, false, float>(Eigen::Index, Eigen::Index, Eigen::Index, const float*,            \
                                                 Eigen::Index, const float*, Eigen::Index, float*, Eigen::Index,   \
                                                 bool);                                                            \
  prefix template void gemm<true, false, float>(Eigen::Index, Eigen::Index, Eigen::Index, const float*, Eigen::Index, \
                                                const float*, Eigen::Index, float*, Eigen::Index, bool);            \
  prefix template void gemm<false, true, float>(Eigen::Index, Eigen::Index, Eigen::Index, const float*, Eigen::Index, \
                                                const float*, Eigen::Index, float*, Eigen::Index, bool);            \
  prefix template void gemm<true, true, float>(Eigen::Index, Eigen::Index, Eigen::Index, const float*, Eigen::Index,  \
                                               const float*, Eigen::Index, float*, Eigen::Index, bool);             \
  prefix template void gemm_rows<float>(Eigen::Index, Eigen::Index, Eigen::Index, const float*, Eigen::Index,         \
                                        const float*, Eigen::Index, float*, Eigen::Index, const float*);            \
  prefix template void gemm_broadcast<float>(Eigen::Index, Eigen::Index, Eigen::Index, const float*, Eigen::Index,    \
                                             const float*, Eigen::Index, float*, Eigen::Index, const float*, bool);

#if defined(STRATA_SEPARATE_KERNELS) && !defined(STRATA_COMPILING_KERNELS)
namespace strata::backend::cpu_kernels {
STRATA_CPU_KERNEL_INSTANCES(extern)
}  // namespace strata::backend::cpu_kernels
#endif
