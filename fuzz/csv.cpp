// libFuzzer target: the CSV reader (data/io/csv.hpp) through parse_csv, with each header
// mode, delimiter and kind of target column.
#include <cmath>
#include <cstdint>

#include <strata/data/io/csv.hpp>

#include "fuzz.hpp"

namespace {

template <class T>
void parse(std::span<const unsigned char> bytes, const strata::data::CsvOptions& options) {
  strata::fuzz::expect_ok_or_strata_error([&] {
    const auto t = strata::data::parse_csv<T>(bytes, "fuzz-input.csv", options);
    using strata::fuzz::check;
    check(t.rows > 0, "CsvTable: a table without rows was returned");
    check(t.features.size() == t.rows * t.cols, "CsvTable: features.size() != rows * cols");
    check(t.target.size() == (options.target.empty() ? 0 : t.rows), "CsvTable: target.size() != rows");
    check(t.feature_names.empty() || t.feature_names.size() == t.cols, "CsvTable: feature_names.size() != cols");
    for (T v : t.features) check(std::isfinite(v), "CsvTable: a feature is not finite");
    for (T v : t.target) check(std::isfinite(v), "CsvTable: a target is not finite");
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using strata::data::CsvHeader;
  const auto bytes = strata::fuzz::bytes_of(data, size);
  for (auto header : {CsvHeader::automatic, CsvHeader::none, CsvHeader::names, CsvHeader::sklearn})
    parse<float>(bytes, {.header = header});
  parse<float>(bytes, {.target = -1});
  parse<double>(bytes, {.target = 0, .delimiter = ' '});
  parse<float>(bytes, {.target = "MEDV", .delimiter = ';'});
  return 0;
}
