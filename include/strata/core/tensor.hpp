#pragma once
// Batch-major column views: a batch of B samples of shape S is a column-major
// S::size x B matrix, one sample per column. Layers see raw pointers wrapped in
// Eigen::Map; nothing here owns memory except AlignedVector.
#include <Eigen/Core>
#include <cstddef>
#include <vector>

namespace strata {

/// Owning, 64-byte aligned storage for parameters, gradients and workspaces.
template <class T>
using AlignedVector = std::vector<T, Eigen::aligned_allocator<T>>;

/// One sample per column.
template <class T, std::size_t Rows>
using Columns = Eigen::Matrix<T, static_cast<int>(Rows), Eigen::Dynamic>;
template <class T, std::size_t Rows>
using ColumnsMap = Eigen::Map<Columns<T, Rows>>;
template <class T, std::size_t Rows>
using ConstColumnsMap = Eigen::Map<const Columns<T, Rows>>;

namespace detail {
/// A fixed-size matrix type with the storage order PyTorch uses for weights
/// (row-major [out][in]); Eigen wants vectors in their natural order.
template <class T, std::size_t R, std::size_t C>
using RowMajorMatrix =
    Eigen::Matrix<T, static_cast<int>(R), static_cast<int>(C), (C == 1 && R != 1) ? Eigen::ColMajor : Eigen::RowMajor>;
template <class T, std::size_t N>
using Vector = Eigen::Matrix<T, static_cast<int>(N), 1>;
}  // namespace detail

/// True when the columns of x lie one after another in memory (a plain matrix, a Map,
/// or a block of whole columns), as the kernels read them through a single pointer.
template <class Derived>
bool has_contiguous_columns(const Eigen::MatrixBase<Derived>& x) {
  if (x.rows() == 1) return x.cols() <= 1 || (Derived::IsRowMajor ? x.innerStride() == 1 : x.outerStride() == 1);
  if (Derived::IsRowMajor) return x.cols() == 1 && x.innerStride() == 1;
  return x.innerStride() == 1 && (x.cols() <= 1 || x.outerStride() == x.rows());
}

/// Train or eval: dropout and batch-norm statistics behave differently.
enum class Mode { train, eval };

}  // namespace strata
