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
