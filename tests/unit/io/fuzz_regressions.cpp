// Inputs the libFuzzer targets (fuzz/) found to crash a reader, each now refused with a
// strata::data_error that names the file and says what was wrong. The crash inputs are kept
// in fuzz/regressions/<target>/; the last test replays all of them through every reader.
#include <catch2/catch.hpp>
#include "support/temp_dir.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <strata/data/io/csv.hpp>
#include <strata/data/io/idx.hpp>
#include <strata/data/io/mnist_json.hpp>
#include <strata/experiment/journal.hpp>
#include <strata/io/safetensors.hpp>

using namespace strata;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

using strata::testing::read_file;
using strata::testing::TempDir;

std::span<const unsigned char> bytes_of(std::string_view s) {
  return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

/// A safetensors file with header `json` and no data.
std::string safetensors_with_header(const std::string& json) {
  std::string s(8, '\0');
  for (std::size_t k = 0; k < 8; ++k) s[k] = static_cast<char>(std::uint64_t{json.size()} >> (8 * k));
  return s + json;
}

std::span<const std::byte> as_bytes(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

fs::path regressions_dir() { return fs::path(STRATA_TEST_DATA_DIR) / ".." / "fuzz" / "regressions"; }

}  // namespace

// fuzz/regressions/csv/count_line_overflow.csv: std::stoull threw std::out_of_range.
TEST_CASE("fuzz regression: a scikit-learn count over 2^64 is a data_error, not std::out_of_range",
          "[unit][io][fuzz][csv]") {
  TempDir tmp;
  const std::string text = "99999999999999999999999,4,setosa\n1,2,3,4,5\n";
  const auto file = tmp.write("counts.csv", text);
  CHECK_THROWS_AS(data::read_csv(file), data_error);
  CHECK_THROWS_WITH(data::read_csv(file),
                    Contains("counts.csv") && Contains("line 1: n_samples = 99999999999999999999999") &&
                        Contains("is too large, expected a count of at most 18446744073709551615") &&
                        Contains("if it is data, pass .header = CsvHeader::none"));
  CHECK_THROWS_WITH(data::read_csv(tmp.write("f.csv", "5,99999999999999999999999\n1,2\n"),
                                   {.header = data::CsvHeader::sklearn}),
                    Contains("line 1: n_features = 99999999999999999999999 in scikit-learn's count line") &&
                        !Contains("CsvHeader::none"));
  // The largest count still reads, and its n_features + 1 is said without wrapping to 0.
  CHECK_THROWS_WITH(data::read_csv(tmp.write("max.csv", "1,18446744073709551615,a\n1,2\n")),
                    Contains("says n_features = 18446744073709551615, expected rows of 2^64 fields"));
}

// fuzz/regressions/csv/float_out_of_range.csv: "1e39" read as float became an infinity,
// although every cell of a table is documented to be finite.
TEST_CASE("fuzz regression: a number finite as double but not as float is refused by read_csv<float>",
          "[unit][io][fuzz][csv]") {
  TempDir tmp;
  const auto file = tmp.write("big.csv", "a,b\n1,2\n3,1e39\n");
  CHECK_THROWS_AS(data::read_csv<float>(file), data_error);
  CHECK_THROWS_WITH(data::read_csv<float>(file),
                    Contains("big.csv") && Contains("line 3, column 2 (b): expected a finite number, found '1e39'") &&
                        Contains("out of the range of float (magnitude at most 3.40282e+38); read the file as double"));
  const auto t = data::read_csv<double>(file);
  CHECK(t.features[3] == 1e39);
  // The largest float itself is fine.
  CHECK(data::read_csv<float>(tmp.write("max.csv", "3.4028234e38\n")).features[0] == std::numeric_limits<float>::max());
}

// fuzz/regressions/safetensors/number_overflow: nlohmann's out_of_range (406, number
// overflow) escaped read_safetensors, which caught only parse_error.
TEST_CASE("fuzz regression: a header number too large for a double is a data_error", "[unit][io][fuzz][safetensors]") {
  TempDir tmp;
  const std::string file = safetensors_with_header(R"({"__metadata__":{"a":1e400}})");
  const auto p = tmp.write("overflow.safetensors", file);
  CHECK_THROWS_AS(io::read_safetensors(p), data_error);
  CHECK_THROWS_WITH(io::read_safetensors(p), Contains("overflow.safetensors") &&
                                                 Contains("invalid JSON in the header (bytes 8 to 36)") &&
                                                 Contains("number overflow parsing '1e400'"));
  CHECK_THROWS_WITH(io::parse_safetensors(as_bytes(file), "in-memory"),
                    Contains("'in-memory'") && Contains("number overflow"));
}

// fuzz/regressions/safetensors/nested_70_levels (and 200,000 levels here): the messages
// dump() the offending value, which recursed once per level and overflowed the stack.
TEST_CASE("fuzz regression: a deeply nested safetensors header is refused, not a stack overflow",
          "[unit][io][fuzz][safetensors]") {
  TempDir tmp;
  for (const std::size_t depth : {std::size_t{70}, std::size_t{200'000}}) {
    const auto p = tmp.write("deep.safetensors", safetensors_with_header(R"({"w":{"dtype":"U8","shape":)" +
                                                                         nested(depth) + R"(,"data_offsets":[0,0]}})"));
    CHECK_THROWS_AS(io::read_safetensors(p), data_error);
    CHECK_THROWS_WITH(io::read_safetensors(p), Contains("deep.safetensors") &&
                                                   Contains("nests arrays and objects more than 64 levels deep"));
  }
  // 64 levels is the limit: the header below nests 3 and reads.
  const std::string ok = safetensors_with_header(R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}})");
  CHECK(io::parse_safetensors(as_bytes(ok), "ok").tensors.at("w").shape == std::vector<std::size_t>{0});
}

// fuzz/regressions/journal/number_overflow.jsonl: out_of_range (406) escaped the journal
// reader, which caught only parse_error.
TEST_CASE("fuzz regression: a journal number too large for a double is a data_error naming the line",
          "[unit][io][fuzz][journal]") {
  TempDir tmp;
  const auto p = tmp.write("j.jsonl", "{\"params\":{\"lr\":0.1}}\n{\"params\":{\"lr\":1e400}}\n");
  CHECK_THROWS_AS(experiment::Journal(p), data_error);
  CHECK_THROWS_WITH(experiment::Journal(p), Contains("results journal '" + p.string() + "', line 2: not valid JSON") &&
                                                Contains("number overflow parsing '1e400'") &&
                                                Contains("fix or delete that line"));
}

// fuzz/regressions/journal/nested_300_levels.jsonl (and 200,000 levels here): reading a
// record recursed once per level (copies, decode_non_finite, canonical_key's dump).
TEST_CASE("fuzz regression: a deeply nested journal line is refused, not a stack overflow",
          "[unit][io][fuzz][journal]") {
  TempDir tmp;
  for (const std::size_t depth : {std::size_t{300}, std::size_t{200'000}}) {
    const auto p = tmp.write("deep.jsonl", "{\"params\":{\"lr\":0.1}}\n{\"params\":{\"a\":" + nested(depth) + "}}\n");
    CHECK_THROWS_AS(experiment::Journal(p), data_error);
    CHECK_THROWS_WITH(experiment::Journal(p), Contains("deep.jsonl', line 2: arrays and objects nested more than 256 "
                                                       "levels deep"));
  }
  // Up to the limit a record reads (the params object is level 1, so 254 more fit).
  const std::string line = "{\"params\":{\"a\":" + nested(254) + "}}\n";
  const auto contents = experiment::parse_journal(line, "ok.jsonl");
  REQUIRE(contents.records.size() == 1);
  CHECK(contents.records[0].params.at("a").is_array());
}

// Every kept crash input, through the reader it crashed and the others: read, or refused
// with a strata::error; nothing else escapes.
TEST_CASE("fuzz regression: every input in fuzz/regressions is read or refused with a strata::error",
          "[unit][io][fuzz]") {
  const fs::path dir = regressions_dir();
  REQUIRE(fs::is_directory(dir));
  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    const std::string text = read_file(entry.path());
    const auto name = entry.path().filename();
    INFO(entry.path().string());
    auto read_or_refuse = [](auto&& f) {
      try {
        f();
      } catch (const strata::error&) {
      }
    };
    CHECK_NOTHROW(read_or_refuse([&] { data::parse_csv<float>(bytes_of(text), name); }));
    CHECK_NOTHROW(read_or_refuse([&] {
      data::parse_csv<float>(bytes_of(text), name, {.header = data::CsvHeader::sklearn});
    }));
    CHECK_NOTHROW(read_or_refuse([&] { data::parse_idx<float>(bytes_of(text), name); }));
    CHECK_NOTHROW(read_or_refuse([&] { data::parse_mnist_json<float>(bytes_of(text), name); }));
    CHECK_NOTHROW(read_or_refuse([&] { io::parse_safetensors(as_bytes(text), name); }));
    CHECK_NOTHROW(read_or_refuse([&] { experiment::parse_journal(text, name); }));
  }
  CHECK(files >= 6);
}
