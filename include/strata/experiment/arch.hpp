#pragma once
// What a sweep table says about a network type: its layer list, and the columns people
// compare architectures by (hidden layers, neurons, activation; conv layers and kernel
// size for CNNs), read from the bound layers of the Sequential.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace strata::experiment {

namespace detail {

template <class Net, std::size_t... I>
std::vector<std::string> layer_names(std::index_sequence<I...>) {
  return {Net::template Layer<I>::name()...};
}

inline bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

/// The first number after `prefix` in `s` ("Dense<16>" -> 16, "Conv2D<32,3>" with skip 1 -> 3).
inline long number_in(const std::string& s, std::size_t skip) {
  std::size_t pos = s.find('<');
  for (std::size_t k = 0; k < skip && pos != std::string::npos; ++k) pos = s.find(',', pos + 1);
  if (pos == std::string::npos) return -1;
  return std::strtol(s.c_str() + pos + 1, nullptr, 10);
}

/// "16" when every value is the same, else "32/16/8".
inline nlohmann::ordered_json same_or_list(const std::vector<long>& v) {
  if (v.empty()) return 0;
  bool same = true;
  for (long x : v) same = same && x == v.front();
  if (same) return v.front();
  std::string s;
  for (long x : v) s += (s.empty() ? "" : "/") + std::to_string(x);
  return s;
}

inline std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace detail

/// The network's layers as one string: "Dense<16> ReLU Dense<16> ReLU Dense<1>".
template <class Net>
std::string layer_list() {
  std::string s;
  for (const auto& n : detail::layer_names<Net>(std::make_index_sequence<Net::layer_count>{}))
    s += (s.empty() ? "" : " ") + n;
  return s;
}

/// Table columns for a network type. For an MLP: hidden_layers (dense layers before the
/// last), neurons ("16" or "32/16"), activation (the first activation, lower case). For a
/// CNN, also conv_layers (those inside residual blocks included), channels and kernel, and
/// residual_blocks where there are any. Unknown layers are simply not counted.
template <class Net>
nlohmann::ordered_json describe_architecture() {
  const auto names = detail::layer_names<Net>(std::make_index_sequence<Net::layer_count>{});
  std::vector<long> dense, conv_width, kernels;
  std::size_t blocks = 0;
  std::string activation = "none";
  for (const auto& n : names) {
    if (detail::starts_with(n, "Dense<")) dense.push_back(detail::number_in(n, 0));
    else if (detail::starts_with(n, "Conv2D<")) {
      conv_width.push_back(detail::number_in(n, 0));
      kernels.push_back(detail::number_in(n, 1));
    } else if (detail::starts_with(n, "Residual[")) {
      // The convolutions of the block's body count as conv layers (a projection does not).
      ++blocks;
      for (auto pos = n.find("Conv2D<"); pos != std::string::npos; pos = n.find("Conv2D<", pos + 1)) {
        const std::string conv = n.substr(pos);
        conv_width.push_back(detail::number_in(conv, 0));
        kernels.push_back(detail::number_in(conv, 1));
      }
    } else if (activation == "none" &&
               (n == "ReLU" || n == "Tanh" || n == "Sigmoid" || detail::starts_with(n, "LeakyReLU")))
      activation = detail::lower(n.substr(0, n.find('(')));
  }
  nlohmann::ordered_json j;
  if (!conv_width.empty()) {
    j["conv_layers"] = conv_width.size();
    if (blocks > 0) j["residual_blocks"] = blocks;
    j["channels"] = detail::same_or_list(conv_width);
    j["kernel"] = detail::same_or_list(kernels);
  }
  if (!dense.empty()) dense.pop_back();  // the output layer
  j["hidden_layers"] = dense.size();
  j["neurons"] = dense.empty() ? nlohmann::ordered_json(0) : detail::same_or_list(dense);
  j["activation"] = activation;
  return j;
}

}  // namespace strata::experiment
