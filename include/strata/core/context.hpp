#pragma once
// What a layer kernel needs besides its parameters and activations.
#include <cstddef>

#include "rng.hpp"
#include "tensor.hpp"

namespace strata {

/// Passed to every layer's forward and backward. `scratch` points at the layer's own
/// `scratch_per_sample * batch` scalars in the workspace (null when it asked for none).
template <class T, class Backend>
struct Context {
  using Scalar = T;
  using BackendType = Backend;
  Mode mode = Mode::train;
  std::size_t batch = 0;
  T* scratch = nullptr;
  Rng* rng = nullptr;
};

}  // namespace strata
