// CSV reader: scikit-learn's header forms (committed heads of the real files), plain
// tables, and each malformed input with the file name and line checked in the message.
#include <unistd.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include "support/temp_dir.hpp"
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <strata/data/io/csv.hpp>

using namespace strata;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

using strata::testing::TempDir;

std::string gzip(const std::string& raw) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&zs, raw.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

fs::path fixture(const char* name) { return fs::path(STRATA_TEST_DATA_DIR) / "data/readers" / name; }

}  // namespace

TEST_CASE("read_csv reads sklearn's count line with class names (iris head)", "[unit][data][readers]") {
  // 6,4,setosa,versicolor,virginica / 5.1,3.5,1.4,0.2,0 / ...
  const auto t = data::read_csv(fixture("iris_head.csv"), {.target = -1});
  CHECK(t.rows == 6);
  CHECK(t.cols == 4);
  CHECK(t.class_names == std::vector<std::string>{"setosa", "versicolor", "virginica"});
  CHECK(t.feature_names.empty());
  CHECK(t.target == std::vector<float>{0, 0, 1, 1, 2, 2});
  CHECK(t.feature(0, 0) == 5.1f);
  CHECK(t.feature(5, 3) == 1.9f);
  CHECK(t.features.size() == 24);

  // Without a target every column is a feature; the count line's n_features is still checked.
  const auto all = data::read_csv<double>(fixture("iris_head.csv"));
  CHECK(all.cols == 5);
  CHECK(all.target.empty());
  CHECK(all.feature(2, 4) == 1.0);
}

TEST_CASE("read_csv reads sklearn's count line then a names row (boston head)", "[unit][data][readers]") {
  // 4,13,,,,,,,,,,,, / "CRIM","ZN",...,"MEDV" / 0.00632,18,...,24
  const auto t = data::read_csv(fixture("boston_head.csv"), {.target = "MEDV"});
  CHECK(t.rows == 4);
  CHECK(t.cols == 13);
  CHECK(t.class_names.empty());
  REQUIRE(t.feature_names.size() == 13);
  CHECK(t.feature_names.front() == "CRIM");
  CHECK(t.feature_names.back() == "LSTAT");
  CHECK(t.target_name == "MEDV");
  CHECK(t.target == std::vector<float>{24.0f, 21.6f, 34.7f, 33.4f});
  CHECK(t.feature(0, 0) == 0.00632f);

  // A target in the middle, by name and by index, leaves the other columns in order.
  const auto chas = data::read_csv(fixture("boston_head.csv"), {.target = "CHAS"});
  const auto chas3 = data::read_csv(fixture("boston_head.csv"), {.target = 3});
  CHECK(chas.target_name == "CHAS");
  CHECK(chas.features == chas3.features);
  CHECK(chas.feature_names[3] == "NOX");
  CHECK(chas.feature(0, 3) == 0.538f);
  CHECK(chas.feature(0, 12) == 24.0f);
}

TEST_CASE("read_csv reads whitespace-separated gzip files without a header (diabetes head)", "[unit][data][readers]") {
  const auto t = data::read_csv(fixture("diabetes_head.csv.gz"));
  CHECK(t.rows == 5);
  CHECK(t.cols == 10);
  CHECK(t.feature(0, 0) == 59.0f);
  CHECK(t.feature(4, 9) == 80.0f);
  CHECK(t.feature(0, 8) == 4.8598f);
}

TEST_CASE("read_csv handles plain tables, names, quotes and line endings", "[unit][data][readers]") {
  TempDir tmp;
  const auto plain = tmp.write("plain.csv", "1,2,3\n4,5,6\n\n7,8,9");  // blank line, no final newline
  const auto p = data::read_csv(plain, {.target = 0});
  CHECK(p.rows == 3);
  CHECK(p.cols == 2);
  CHECK(p.target == std::vector<float>{1, 4, 7});
  CHECK(p.features == std::vector<float>{2, 3, 5, 6, 8, 9});

  const auto named = tmp.write("named.csv", "a, \"b, with comma\" ,\"c \"\"q\"\"\"\r\n+1.5, -2e-1 ,\"3\"\r\n");
  const auto n = data::read_csv(named, {.target = "c \"q\""});
  CHECK(n.feature_names == std::vector<std::string>{"a", "b, with comma"});
  CHECK(n.target_name == "c \"q\"");
  CHECK(n.features == std::vector<float>{1.5f, -0.2f});
  CHECK(n.target == std::vector<float>{3});

  // A numeric first row is data unless the caller says it names the columns.
  const auto numeric_names = tmp.write("numeric-names.csv", "1,2\n3,4\n");
  CHECK(data::read_csv(numeric_names).rows == 2);
  const auto h = data::read_csv(numeric_names, {.target = "2", .header = data::CsvHeader::names});
  CHECK(h.rows == 1);
  CHECK(h.target == std::vector<float>{4});

  const auto semi = tmp.write("semi.csv", "1;2\n3;4\n");
  CHECK(data::read_csv(semi, {.delimiter = ';'}).features == std::vector<float>{1, 2, 3, 4});
  const auto tabs = tmp.write("tabs.tsv", "1\t2\n3 \t 4\n");
  CHECK(data::read_csv(tabs, {.delimiter = '\t'}).features == std::vector<float>{1, 2, 3, 4});
}

TEST_CASE("read_csv rejects non-numeric and empty cells", "[unit][data][readers]") {
  TempDir tmp;
  const auto bad = tmp.write("bad-cell.csv", "a,b,c\n1,2,3\n4,abc,6\n");
  CHECK_THROWS_AS(data::read_csv(bad), data_error);
  CHECK_THROWS_WITH(data::read_csv(bad), Contains("bad-cell.csv") && Contains("line 3, column 2 (b)") &&
                                             Contains("expected a finite number, found 'abc'"));

  const auto empty_cell = tmp.write("empty-cell.csv", "1,2,3\n4,,6\n");
  CHECK_THROWS_WITH(data::read_csv(empty_cell),
                    Contains("empty-cell.csv") && Contains("line 2, column 2") && Contains("found an empty cell"));

  const auto trailing_comma = tmp.write("trailing-comma.csv", "1,2,3\n4,5,\n");
  CHECK_THROWS_WITH(data::read_csv(trailing_comma), Contains("line 2, column 3") && Contains("an empty cell"));
  // A first row "1,2," looks like scikit-learn's count line "506,13,,,": the message says so.
  const auto ambiguous = tmp.write("ambiguous.csv", "1,2,\n3,4,5\n6,7,8\n");
  CHECK_THROWS_WITH(data::read_csv(ambiguous), Contains("ambiguous.csv") && Contains("says n_samples = 1") &&
                                                   Contains("line 1 was read as scikit-learn's count line") &&
                                                   Contains("CsvHeader::none"));

  const auto nan = tmp.write("nan.csv", "1,2\n3,nan\n");
  CHECK_THROWS_WITH(data::read_csv(nan), Contains("nan.csv") && Contains("line 2, column 2") && Contains("found 'nan'"));
  const auto inf = tmp.write("inf.csv", "1,inf\n3,4\n");
  CHECK_THROWS_WITH(data::read_csv(inf), Contains("line 1, column 2") && Contains("found 'inf'"));
  const auto suffix = tmp.write("suffix.csv", "1,2\n3,4x\n");
  CHECK_THROWS_WITH(data::read_csv(suffix), Contains("line 2, column 2") && Contains("found '4x'"));

  // Line numbers count every line of the gunzipped text, blank ones included.
  const auto gz = tmp.write("bad.csv.gz", gzip("1 2\n\n3 x\n"));
  CHECK_THROWS_WITH(data::read_csv(gz), Contains("bad.csv.gz") && Contains("line 3 of the gunzipped data, column 2") &&
                                            Contains("found 'x'"));

  const auto quote = tmp.write("quote.csv", "1,\"2\n");
  CHECK_THROWS_WITH(data::read_csv(quote), Contains("quote.csv") && Contains("line 1, character 3") &&
                                               Contains("unterminated quoted field"));
}

TEST_CASE("read_csv rejects ragged rows and inconsistent headers", "[unit][data][readers]") {
  TempDir tmp;
  const auto ragged = tmp.write("ragged.csv", "x,y,z\n1,2,3\n4,5,6\n7,8\n");
  CHECK_THROWS_AS(data::read_csv(ragged), data_error);
  CHECK_THROWS_WITH(data::read_csv(ragged), Contains("ragged.csv") && Contains("line 4: ragged row with 2 fields") &&
                                                Contains("expected 3 as on line 2"));

  const auto names = tmp.write("names.csv", "x,y\n1,2,3\n4,5,6\n");
  CHECK_THROWS_WITH(data::read_csv(names), Contains("names.csv") && Contains("names row on line 1 names 2 columns") &&
                                               Contains("rows have 3 fields"));

  // sklearn's count line promises 5 samples of 2 features (+ target).
  const auto samples = tmp.write("samples.csv", "5,2,no,yes\n1,2,0\n3,4,1\n");
  CHECK_THROWS_WITH(data::read_csv(samples), Contains("samples.csv") && Contains("line 1 says n_samples = 5") &&
                                                 Contains("holds 2 data rows"));
  const auto features = tmp.write("features.csv", "2,3,no,yes\n1,2,0\n3,4,1\n");
  CHECK_THROWS_WITH(data::read_csv(features), Contains("features.csv") && Contains("line 1 says n_features = 3") &&
                                                  Contains("expected rows of 4 fields") && Contains("found 3 on line 2"));
  const auto not_sklearn = tmp.write("not-sklearn.csv", "a,b\n1,2\n");
  CHECK_THROWS_WITH(data::read_csv(not_sklearn, {.header = data::CsvHeader::sklearn}),
                    Contains("not-sklearn.csv") && Contains("line 1: expected scikit-learn's count line") &&
                        Contains("found 'a,b'"));

  const auto empty = tmp.write("empty.csv", "\n  \n");
  CHECK_THROWS_WITH(data::read_csv(empty), Contains("empty.csv") && Contains("the file is empty"));
  const auto header_only = tmp.write("header-only.csv", "a,b\n");
  CHECK_THROWS_WITH(data::read_csv(header_only),
                    Contains("header-only.csv") && Contains("no data rows after the names row on line 1"));
}

TEST_CASE("read_csv rejects a missing target column", "[unit][data][readers]") {
  TempDir tmp;
  const auto named = tmp.write("named.csv", "a,b,c\n1,2,3\n");
  CHECK_THROWS_AS(data::read_csv(named, {.target = "d"}), data_error);
  CHECK_THROWS_WITH(data::read_csv(named, {.target = "d"}),
                    Contains("named.csv") && Contains("names row on line 1 has no column 'd'") &&
                        Contains("found a, b, c"));
  CHECK_THROWS_WITH(data::read_csv(named, {.target = 3}),
                    Contains("named.csv") && Contains("index 3 asked for") && Contains("rows have 3 columns") &&
                        Contains("from line 2"));
  CHECK_THROWS_WITH(data::read_csv(named, {.target = -4}), Contains("index -4"));
  CHECK(data::read_csv(named, {.target = -3}).target == std::vector<float>{1});

  const auto unnamed = tmp.write("unnamed.csv", "1,2,3\n");
  CHECK_THROWS_WITH(data::read_csv(unnamed, {.target = "c"}),
                    Contains("unnamed.csv") && Contains("target column 'c' asked for by name") &&
                        Contains("no names row"));

  // sklearn's real layout, with the wrong name asked for.
  CHECK_THROWS_WITH(data::read_csv(fixture("boston_head.csv"), {.target = "PRICE"}),
                    Contains("boston_head.csv") && Contains("line 2 has no column 'PRICE'") && Contains("MEDV"));
}

TEST_CASE("read_csv reports a truncated gzip file", "[unit][data][readers]") {
  TempDir tmp;
  std::string text;
  for (int i = 0; i < 200; ++i) text += std::to_string(i) + "," + std::to_string(i * i) + "\n";
  const std::string gz = gzip(text);
  const auto cut = tmp.write("cut.csv.gz", gz.substr(0, gz.size() / 2));
  CHECK_THROWS_AS(data::read_csv(cut), data_error);
  CHECK_THROWS_WITH(data::read_csv(cut), Contains("cut.csv.gz") && Contains("truncated gzip file") &&
                                             Contains("ends at byte " + std::to_string(gz.size() / 2)));
  CHECK(data::read_csv(tmp.write("whole.csv.gz", gz)).rows == 200);
}
