#pragma once
// An in-memory data set with static per-sample shapes: inputs are InShape::size x N,
// targets TargetShape::size x N, one sample per column.
#include <cmath>
#include <cstddef>
#include <string>

#include "../core/error.hpp"
#include "../core/shape.hpp"
#include "../core/tensor.hpp"

namespace strata {

template <class InShape, class TargetShape, class T = float>
struct Dataset {
  using InputShapeType = InShape;
  using TargetShapeType = TargetShape;
  using Scalar = T;

  Columns<T, InShape::size> x;
  Columns<T, TargetShape::size> y;

  Dataset() = default;
  /// Checks that rows match the static shapes and that x and y hold the same number of
  /// samples; throws strata::shape_error otherwise.
  template <class X, class Y>
  Dataset(const Eigen::MatrixBase<X>& inputs, const Eigen::MatrixBase<Y>& targets) {
    if (static_cast<std::size_t>(inputs.rows()) != InShape::size)
      throw shape_error("strata: data set inputs have " + std::to_string(inputs.rows()) +
                        " rows per sample, but the input shape " + InShape::to_string() + " needs " +
                        std::to_string(InShape::size) + " (one sample per column)");
    if (static_cast<std::size_t>(targets.rows()) != TargetShape::size)
      throw shape_error("strata: data set targets have " + std::to_string(targets.rows()) +
                        " rows per sample, but the target shape " + TargetShape::to_string() + " needs " +
                        std::to_string(TargetShape::size));
    if (inputs.cols() != targets.cols())
      throw shape_error("strata: data set has " + std::to_string(inputs.cols()) + " input samples but " +
                        std::to_string(targets.cols()) + " targets");
    x = inputs.template cast<T>();
    y = targets.template cast<T>();
  }

  std::size_t size() const { return static_cast<std::size_t>(x.cols()); }
};

}  // namespace strata
