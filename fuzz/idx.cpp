// libFuzzer target: the IDX reader (data/io/idx.hpp), plain and gzipped, through parse_idx
// with the element types and options the data sets use.
#include <cmath>
#include <cstdint>

#include <strata/data/io/idx.hpp>

#include "fuzz.hpp"

namespace {

template <class T>
void parse(std::span<const unsigned char> bytes, const strata::data::IdxOptions& options) {
  strata::fuzz::expect_ok_or_strata_error([&] {
    const auto a = strata::data::parse_idx<T>(bytes, "fuzz-input.idx", options);
    std::size_t count = 1;
    for (auto d : a.dims) count *= d;
    strata::fuzz::check(!a.dims.empty() && a.data.size() == count, "IdxArray: data.size() != product(dims)");
    strata::fuzz::check(a.sample_size() * a.dims[0] == count, "IdxArray: sample_size() * dims[0] != size()");
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = strata::fuzz::bytes_of(data, size);
  parse<float>(bytes, {});
  parse<double>(bytes, {.dims = {0, 28, 28}});
  parse<std::uint8_t>(bytes, {.rank = 1});
  parse<std::int32_t>(bytes, {});
  return 0;
}
