// IDX reader: good files (plain, gzip, every element type) and each malformed input,
// with the error message checked for the file name and the byte offset.
#include <unistd.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include "support/temp_dir.hpp"
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <strata/data/io/idx.hpp>

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

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// An IDX header: 00 00 type rank, then the dimensions.
std::string header(std::uint8_t type, const std::vector<std::uint32_t>& dims) {
  std::string h{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (auto d : dims) h += be32(d);
  return h;
}

// 2 images of 3x4, pixel value = index.
std::string small_images() {
  std::string s = header(0x08, {2, 3, 4});
  for (int i = 0; i < 24; ++i) s += static_cast<char>(i * 10);
  return s;
}

}  // namespace

TEST_CASE("read_idx reads an unsigned byte file, plain and gzipped", "[unit][data][readers]") {
  TempDir tmp;
  for (const bool gz : {false, true}) {
    const auto file = gz ? tmp.write("images.gz", gzip(small_images())) : tmp.write("images", small_images());
    const auto a = data::read_idx<std::uint8_t>(file, {.dims = {0, 3, 4}});
    CHECK(a.stored == data::IdxType::u8);
    CHECK(a.dims == std::vector<std::size_t>{2, 3, 4});
    CHECK(a.sample_size() == 12);
    REQUIRE(a.size() == 24);
    CHECK(a.data[0] == 0);
    CHECK(a.data[13] == 130);
    CHECK(a.data[23] == 230);
    const auto f = data::read_idx<float>(file);
    CHECK(f.data[23] == 230.0f);
  }
}

TEST_CASE("read_idx reads the committed Fashion-MNIST label head", "[unit][data][readers]") {
  const fs::path file = fs::path(STRATA_TEST_DATA_DIR) / "data/readers/t10k-labels-head-idx1-ubyte.gz";
  const auto labels = data::read_idx<std::uint8_t>(file, {.rank = 1});
  CHECK(labels.dims == std::vector<std::size_t>{10});
  CHECK(labels.sample_size() == 1);
  CHECK(labels.data == std::vector<std::uint8_t>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7});
}

TEST_CASE("read_idx decodes big-endian elements of every type", "[unit][data][readers]") {
  TempDir tmp;
  // int16 -2 and 258, int32 -70000, float32 1.5, float64 -0.25, signed byte -3.
  const auto i16 = tmp.write("i16", header(0x0b, {2}) + std::string("\xff\xfe\x01\x02", 4));
  const auto i32 = tmp.write("i32", header(0x0c, {1}) + be32(static_cast<std::uint32_t>(-70000)));
  const auto f32 = tmp.write("f32", header(0x0d, {1}) + std::string("\x3f\xc0\x00\x00", 4));
  const auto f64 = tmp.write("f64", header(0x0e, {1, 1}) + std::string("\xbf\xd0\0\0\0\0\0\0", 8));
  const auto i8 = tmp.write("i8", header(0x09, {1}) + std::string("\xfd", 1));

  CHECK(data::read_idx<std::int16_t>(i16).data == std::vector<std::int16_t>{-2, 258});
  CHECK(data::read_idx<std::int32_t>(i32).data == std::vector<std::int32_t>{-70000});
  CHECK(data::read_idx<float>(f32).data == std::vector<float>{1.5f});
  CHECK(data::read_idx<double>(f64).data == std::vector<double>{-0.25});
  CHECK(data::read_idx<std::int8_t>(i8).data == std::vector<std::int8_t>{-3});
  // float and double convert from every type.
  CHECK(data::read_idx<double>(i16).data == std::vector<double>{-2.0, 258.0});
  CHECK(data::read_idx<float>(i32).data == std::vector<float>{-70000.0f});
  CHECK(data::read_idx<double>(f32).stored == data::IdxType::f32);
  CHECK(data::read_idx<float>(tmp.write("empty", header(0x08, {0, 28, 28}))).size() == 0);
}

TEST_CASE("read_idx rejects a bad magic number or element type", "[unit][data][readers]") {
  TempDir tmp;
  const auto bad = tmp.write("bad-magic-idx3-ubyte", "\x01\x02\x08\x03" + be32(1) + be32(1) + be32(1) + "x");
  CHECK_THROWS_AS(data::read_idx(bad), data_error);
  CHECK_THROWS_WITH(data::read_idx(bad), Contains("bad-magic-idx3-ubyte") && Contains("bad IDX magic at byte 0") &&
                                             Contains("expected 00 00 <type> <rank>") && Contains("found 01 02 08 03"));

  const auto short_file = tmp.write("short", std::string("\0\0", 2));
  CHECK_THROWS_WITH(data::read_idx(short_file),
                    Contains("short") && Contains("byte 0") && Contains("found 00 00") && Contains("2 bytes long"));

  // A gzip file gunzipped twice over: the inner bytes are gzip again, not IDX.
  const auto double_gz = tmp.write("twice.gz", gzip(gzip(small_images())));
  CHECK_THROWS_WITH(data::read_idx(double_gz),
                    Contains("twice.gz") && Contains("byte 0 of the gunzipped data") && Contains("found 1f 8b"));

  const auto type = tmp.write("type07", std::string("\0\0\x07\x01", 4) + be32(1) + "x");
  CHECK_THROWS_WITH(data::read_idx<float>(type), Contains("type07") && Contains("unknown IDX element type at byte 2") &&
                                                     Contains("found 07"));

  const auto f32 = tmp.write("floats", header(0x0d, {1}) + be32(0));
  CHECK_THROWS_WITH(data::read_idx<std::uint8_t>(f32), Contains("floats") && Contains("byte 2 is float32") &&
                                                           Contains("expected unsigned byte") &&
                                                           Contains("read it as float or double"));
}

TEST_CASE("read_idx rejects wrong ranks and dimensions", "[unit][data][readers]") {
  TempDir tmp;
  const auto images = tmp.write("images-idx3-ubyte", small_images());
  CHECK_THROWS_AS(data::read_idx(images, {.rank = 1}), data_error);
  CHECK_THROWS_WITH(data::read_idx(images, {.rank = 1}),
                    Contains("images-idx3-ubyte") && Contains("IDX rank at byte 3 is 3 dimensions, expected 1"));
  CHECK_THROWS_WITH(data::read_idx(images, {.dims = {0, 28, 28}}),
                    Contains("images-idx3-ubyte") && Contains("dimension 1 at byte 8 is 3, expected 28"));
  CHECK_THROWS_WITH(data::read_idx(images, {.dims = {5, 3, 4}}),
                    Contains("dimension 0 at byte 4 is 2, expected 5"));

  const auto rank0 = tmp.write("rank0", header(0x08, {}));
  CHECK_THROWS_WITH(data::read_idx(rank0), Contains("rank0") && Contains("rank at byte 3 is 0"));

  // Rank 3 says 12 header bytes follow the magic; the file stops inside the second one.
  const auto cut_header = tmp.write("cut-header", header(0x08, {2, 3, 4}).substr(0, 10));
  CHECK_THROWS_WITH(data::read_idx(cut_header), Contains("cut-header") && Contains("ends at byte 10") &&
                                                    Contains("inside the IDX header") && Contains("bytes 4 to 15"));
}

TEST_CASE("read_idx rejects data whose length does not match the dimensions", "[unit][data][readers]") {
  TempDir tmp;
  const std::string good = small_images();  // 16 header bytes + 24 data bytes
  const auto truncated = tmp.write("truncated", good.substr(0, 30));
  CHECK_THROWS_AS(data::read_idx(truncated), data_error);
  CHECK_THROWS_WITH(data::read_idx(truncated),
                    Contains("truncated") && Contains("truncated IDX data") && Contains("2x3x4 unsigned byte") &&
                        Contains("need 24 bytes of data at bytes 16 to 39") && Contains("ends at byte 30") &&
                        Contains("10 bytes short"));

  const auto longer = tmp.write("longer", good + "abc");
  CHECK_THROWS_WITH(data::read_idx(longer), Contains("longer") && Contains("data longer than its dimensions") &&
                                                Contains("3 more bytes follow up to byte 43"));

  // The same inside a gzip file: offsets refer to the gunzipped data.
  const auto truncated_gz = tmp.write("truncated.gz", gzip(good.substr(0, 30)));
  CHECK_THROWS_WITH(data::read_idx(truncated_gz),
                    Contains("truncated.gz") && Contains("ends at byte 30 of the gunzipped data"));

  const auto wide = tmp.write("i32-short", header(0x0c, {3}) + be32(1) + be32(2) + "\x01\x02");
  CHECK_THROWS_WITH(data::read_idx<float>(wide), Contains("i32-short") && Contains("3 int32 elements need 12 bytes") &&
                                                     Contains("bytes 8 to 19") && Contains("ends at byte 18") &&
                                                     Contains("2 bytes short"));
}

TEST_CASE("read_idx rejects truncated and corrupt gzip files", "[unit][data][readers]") {
  TempDir tmp;
  const std::string gz = gzip(small_images());
  REQUIRE(gz.size() > 20);

  const auto cut = tmp.write("cut-idx3-ubyte.gz", gz.substr(0, gz.size() - 5));
  CHECK_THROWS_AS(data::read_idx(cut), data_error);
  CHECK_THROWS_WITH(data::read_idx(cut), Contains("cut-idx3-ubyte.gz") && Contains("truncated gzip file") &&
                                             Contains("ends at byte " + std::to_string(gz.size() - 5)) &&
                                             Contains("fetch it again"));

  const auto cut_early = tmp.write("cut-early.gz", gz.substr(0, 12));
  CHECK_THROWS_WITH(data::read_idx(cut_early), Contains("cut-early.gz") && Contains("truncated gzip file") &&
                                                   Contains("ends at byte 12"));

  // A flipped bit in the CRC-32 of the trailer.
  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 8] = static_cast<char>(bad_crc[bad_crc.size() - 8] ^ 1);
  const auto crc = tmp.write("crc.gz", bad_crc);
  CHECK_THROWS_WITH(data::read_idx(crc), Contains("crc.gz") && Contains("corrupt gzip data near compressed byte") &&
                                             Contains("incorrect data check"));

  const auto trailing = tmp.write("trailing.gz", gz + "junk");
  CHECK_THROWS_WITH(data::read_idx(trailing),
                    Contains("trailing.gz") && Contains("ends at compressed byte " + std::to_string(gz.size())) &&
                        Contains("4 more bytes follow") && Contains("found 6a 75 6e 6b"));

  const auto not_gz = tmp.write("plain.gz", small_images());
  CHECK_THROWS_WITH(data::read_idx(not_gz), Contains("plain.gz") && Contains("bad gzip magic at byte 0") &&
                                                Contains("expected 1f 8b, found 00 00"));

  // Concatenated gzip members are one stream (what `cat a.gz b.gz` makes).
  const std::string s = small_images();
  const auto multi = tmp.write("multi.gz", gzip(s.substr(0, 7)) + gzip(s.substr(7)));
  CHECK(data::read_idx(multi).data == data::read_idx(tmp.write("one", s)).data);
}

TEST_CASE("read_idx names a missing file and a directory", "[unit][data][readers]") {
  TempDir tmp;
  CHECK_THROWS_AS(data::read_idx(tmp.path / "absent-idx1-ubyte.gz"), data_error);
  CHECK_THROWS_WITH(data::read_idx(tmp.path / "absent-idx1-ubyte.gz"),
                    Contains("absent-idx1-ubyte.gz") && Contains("no such file") && Contains("fetch-data.sh"));
  CHECK_THROWS_WITH(data::read_idx(tmp.path), Contains("is a directory"));
}
