#pragma once
// What a layer kernel needs besides its parameters and activations.
#include <cstddef>

#include "rng.hpp"
#include "tensor.hpp"

namespace strata {

/// Passed to every layer's forward and backward. `scratch` points at the layer's own
/// `scratch_per_sample * batch` scalars in the workspace (null when it asked for none);
/// `buffers` at its persistent non-trainable state (batch-norm running statistics), null
/// when it has none.
template <class T, class Backend>
struct Context {
  using Scalar = T;
  using BackendType = Backend;
  Mode mode = Mode::train;
  std::size_t batch = 0;
  T* scratch = nullptr;
  T* buffers = nullptr;
  Rng* rng = nullptr;
  double dropout_rate = 0.0;  ///< the network's runtime rate for `Dropout` layers
};

}  // namespace strata
