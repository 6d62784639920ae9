#pragma once
// The segment table: where each named parameter tensor lives in the flat buffer.
// Used for weight-decay masks, initialisation and serialisation names.
#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace strata {

struct Segment {
  std::size_t layer = 0;        ///< index of the layer spec in the stack (Input not counted)
  std::string_view param;       ///< "weight", "bias", ...
  std::size_t offset = 0;       ///< first element in the flat parameter buffer
  std::size_t size = 0;         ///< number of elements
  bool is_bias = false;         ///< biases (and norm shifts) are usually excluded from weight decay
  std::size_t fan_in = 0;       ///< for initialisation
  /// Nested stacks (a residual body, a head): scope names and sub-layer indices between
  /// the layer index and the parameter name, outermost first; an empty scope name prints
  /// only its index.
  static constexpr std::size_t max_depth = 4;
  std::array<std::string_view, max_depth> scope{};
  std::array<std::size_t, max_depth> scope_index{};
  std::size_t depth = 0;
  /// The tensor's shape as PyTorch gives it, outermost first: [out, in] for a Linear
  /// weight, [out, in, k, k] for a Conv2d weight, [] (rank 0) for a scalar such as
  /// num_batches_tracked. The product of dims[0, rank) is `size`.
  static constexpr std::size_t max_rank = 4;
  std::array<std::size_t, max_rank> dims{};
  std::size_t rank = 0;

  /// This segment with shape `d` (outermost first), e.g. `Segment{...}.shaped({Out, In})`.
  template <std::size_t R>
  [[nodiscard]] constexpr Segment shaped(const std::size_t (&d)[R]) const {
    static_assert(R <= max_rank, "Segment::shaped: at most max_rank dimensions");
    Segment s = *this;
    for (std::size_t k = 0; k < R; ++k) s.dims[k] = d[k];
    for (std::size_t k = R; k < max_rank; ++k) s.dims[k] = 0;
    s.rank = R;
    return s;
  }
  /// A rank-0 (scalar) segment.
  [[nodiscard]] constexpr Segment scalar() const {
    Segment s = *this;
    s.dims = {};
    s.rank = 0;
    return s;
  }
  /// The number of elements the shape describes (1 for rank 0); equals `size`.
  [[nodiscard]] constexpr std::size_t shape_size() const {
    std::size_t n = 1;
    for (std::size_t k = 0; k < rank; ++k) n *= dims[k];
    return n;
  }

  /// PyTorch nn.Sequential state_dict name, e.g. "2.weight" or "4.body.0.weight".
  [[nodiscard]] std::string name() const {
    std::string s = std::to_string(layer);
    for (std::size_t k = 0; k < depth; ++k) {
      if (!scope[k].empty()) {
        s += '.';
        s += scope[k];
      }
      s += '.';
      s += std::to_string(scope_index[k]);
    }
    s += '.';
    s += param;
    return s;
  }

  /// This segment seen from one level up: inside scope `name` of a composite layer, moved
  /// by `offset_shift` in the composite's buffer.
  [[nodiscard]] constexpr Segment nested(std::string_view name, std::size_t offset_shift) const {
    Segment s = *this;
    for (std::size_t k = max_depth - 1; k > 0; --k) {
      s.scope[k] = scope[k - 1];
      s.scope_index[k] = scope_index[k - 1];
    }
    s.scope[0] = name;
    s.scope_index[0] = layer;
    s.depth = depth + 1;
    s.layer = 0;
    s.offset = offset + offset_shift;
    return s;
  }
};

}  // namespace strata
