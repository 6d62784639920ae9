// The reference reader itself: malformed or missing entries fail loudly, naming the file
// and the entry.
#include "parity/reference.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("strata_parity_" + name + ".txt");
  std::ofstream(path) << text;
  return path.string();
}

}  // namespace

TEST_CASE("parity reference reader: parses entries and rejects bad ones", "[parity][reference]") {
  const auto good = write_temp("good", "# comment\n\na 3 1 -2.5 1e-3\nb 1 0.100000001\n");
  const parity::Reference ref(good);
  CHECK(ref.doubles("a") == std::vector<double>{1.0, -2.5, 1e-3});
  CHECK(ref.floats("b", 1)[0] == 0.1f);
  CHECK(ref.has("a"));
  CHECK_FALSE(ref.has("c"));
  CHECK(ref.names_under("") == std::vector<std::string>{"a", "b"});
  CHECK_THROWS_WITH(ref.doubles("c"), Catch::Contains(good) && Catch::Contains("no entry named 'c'"));
  CHECK_THROWS_WITH(ref.doubles("a", 2), Catch::Contains("entry 'a' has 3 values, the test expects 2"));

  const auto short_line = write_temp("short", "a 3 1 2\n");
  CHECK_THROWS_WITH(parity::Reference(short_line),
                    Catch::Contains(short_line) && Catch::Contains("entry 'a': header says 3 values but the line has 2"));
  const auto bad_count = write_temp("count", "a x 1\n");
  CHECK_THROWS_WITH(parity::Reference(bad_count), Catch::Contains("count 'x' is not a number"));
  const auto duplicate = write_temp("dup", "a 1 1\na 1 2\n");
  CHECK_THROWS_WITH(parity::Reference(duplicate), Catch::Contains("duplicate entry 'a'"));
  const auto bad_value = write_temp("value", "a 2 1 zz\nb 1 nan\n");
  const parity::Reference bad(bad_value);
  CHECK_THROWS_WITH(bad.doubles("a"), Catch::Contains("entry 'a', value 1: 'zz' is not a finite number"));
  CHECK_THROWS_WITH(bad.floats("b"), Catch::Contains("entry 'b', value 0: 'nan' is not a finite number"));
  CHECK_THROWS_WITH(parity::Reference(good + ".missing"), Catch::Contains("cannot open the file"));
  for (const auto& p : {good, short_line, bad_count, duplicate, bad_value}) std::remove(p.c_str());
}
