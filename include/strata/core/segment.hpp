#pragma once
// The segment table: where each named parameter tensor lives in the flat buffer.
// Used for weight-decay masks, initialisation and serialisation names.
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

  /// PyTorch nn.Sequential state_dict name, e.g. "2.weight".
  [[nodiscard]] std::string name() const { return std::to_string(layer) + "." + std::string(param); }
};

}  // namespace strata
