// libFuzzer target: the safetensors reader (io/safetensors.hpp) through parse_safetensors;
// every tensor read back is checked against its shape and dtype.
#include <cstdint>

#include <strata/io/safetensors.hpp>

#include "fuzz.hpp"

namespace {

template <class T>
void values_if(const strata::io::Tensor& t) {
  if (t.dtype != strata::io::dtype_of<T>()) return;
  strata::fuzz::check(t.template values<T>().size() == t.element_count(), "Tensor: values().size() != element_count()");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  strata::fuzz::expect_ok_or_strata_error([&] {
    const auto f = strata::io::parse_safetensors(std::as_bytes(std::span(data, size)), "fuzz-input.safetensors");
    std::size_t total = 0;
    for (const auto& [name, t] : f.tensors) {
      strata::fuzz::check(t.bytes.size() == t.element_count() * strata::io::dtype_size(t.dtype),
                          "Tensor: bytes.size() != element_count() * dtype_size");
      values_if<float>(t);
      values_if<double>(t);
      values_if<std::int64_t>(t);
      values_if<std::uint8_t>(t);
      total += t.bytes.size();
    }
    strata::fuzz::check(total <= size, "SafetensorsFile: the tensors hold more bytes than the input");
  });
  return 0;
}
