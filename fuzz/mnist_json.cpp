// libFuzzer target: the MNIST JSON reader (data/io/mnist_json.hpp) through parse_mnist_json.
#include <cstdint>

#include <strata/data/io/mnist_json.hpp>

#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  strata::fuzz::expect_ok_or_strata_error([&] {
    const auto d = strata::data::parse_mnist_json<float>(strata::fuzz::bytes_of(data, size), "fuzz-input.json");
    using strata::fuzz::check;
    check(d.pixels.size() == d.count * 784, "MnistDigits: pixels.size() != count * 784");
    for (float v : d.pixels) check(v >= 0.0f && v <= 1.0f, "MnistDigits: a grey level outside [0, 1]");
  });
  return 0;
}
