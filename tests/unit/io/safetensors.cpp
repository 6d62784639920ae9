// io/safetensors.hpp: the byte layout of the format, round trips of several dtypes, a
// data_error with a useful message for every kind of damaged file, and atomic writes.
#include <catch2/catch.hpp>
#include "support/temp_dir.hpp"
#include <strata/io/safetensors.hpp>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using namespace strata;
namespace fs = std::filesystem;

namespace {

using strata::testing::TempDir;

std::vector<unsigned char> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_bytes(const fs::path& p, const std::vector<unsigned char>& b) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

/// A file built by hand: 8-byte length, `header` as is, then `data`.
std::vector<unsigned char> raw_file(const std::string& header, const std::vector<unsigned char>& data) {
  std::vector<unsigned char> b(8);
  const std::uint64_t n = header.size();
  for (int k = 0; k < 8; ++k) b[k] = static_cast<unsigned char>(n >> (8 * k));
  b.insert(b.end(), header.begin(), header.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

std::uint32_t crc_of(const unsigned char* p, std::size_t n) {
  return static_cast<std::uint32_t>(crc32(crc32(0, nullptr, 0), p, static_cast<uInt>(n)));
}

/// A valid two-tensor file written by strata: "a" F32 [2, 2], "b" F64 [3].
fs::path write_sample(const TempDir& dir, const std::string& name = "sample.safetensors") {
  static const std::vector<float> a{1.f, 2.f, 3.f, 4.f};
  static const std::vector<double> b{0.5, -1.5, 2.25};
  const std::vector<io::TensorRef> t{io::tensor_ref("a", std::span<const float>(a), {2, 2}),
                                     io::tensor_ref("b", std::span<const double>(b))};
  const auto p = dir / name;
  io::write_safetensors(p, t, {{"note", "sample"}});
  return p;
}

std::uint64_t header_length(const std::vector<unsigned char>& b) {
  std::uint64_t n = 0;
  for (int k = 0; k < 8; ++k) n |= std::uint64_t{b[k]} << (8 * k);
  return n;
}

}  // namespace

TEST_CASE("safetensors: the header is laid out as the format specifies, byte for byte", "[unit][io][safetensors]") {
  TempDir dir;
  const std::vector<float> w{1.0f, -2.0f};
  const std::vector<io::TensorRef> t{io::tensor_ref("w", std::span<const float>(w))};
  const auto p = dir / "tiny.safetensors";
  io::write_safetensors(p, t, {});
  const auto b = read_bytes(p);

  unsigned char data[8];
  std::memcpy(data, w.data(), 8);
  char crc[9];
  std::snprintf(crc, sizeof crc, "%08x", static_cast<unsigned>(crc_of(data, 8)));
  std::string json = std::string(R"({"__metadata__":{"strata.crc32":")") + crc +
                     R"(","strata.header_crc32":"00000000"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  json.append((8 - json.size() % 8) % 8, ' ');
  // The header checksum: the length prefix and the header with its own value as 00000000.
  std::string prefixed(8, '\0');
  for (std::size_t k = 0; k < 8; ++k) prefixed[k] = static_cast<char>(std::uint64_t{json.size()} >> (8 * k));
  prefixed += json;
  char header_crc[9];
  std::snprintf(header_crc, sizeof header_crc, "%08x",
                static_cast<unsigned>(crc_of(reinterpret_cast<const unsigned char*>(prefixed.data()), prefixed.size())));
  json.replace(json.find("00000000"), 8, header_crc);

  REQUIRE(b.size() == 8 + json.size() + 8);
  CHECK(header_length(b) == json.size());
  CHECK(json.size() % 8 == 0);
  CHECK(std::string(b.begin() + 8, b.begin() + 8 + static_cast<std::ptrdiff_t>(json.size())) == json);
  CHECK(std::memcmp(b.data() + 8 + json.size(), data, 8) == 0);
  // Little-endian float32: 1.0f is 00 00 80 3f.
  CHECK(b[8 + json.size() + 3] == 0x3f);
  CHECK(b[8 + json.size() + 2] == 0x80);
}

TEST_CASE("safetensors: tensors of several dtypes and shapes and the metadata round-trip", "[unit][io][safetensors]") {
  TempDir dir;
  const std::vector<float> f32{1.5f, -0.25f, 3e-38f, 1e30f, 0.f, -0.f};
  const std::vector<double> f64{3.141592653589793, -1e-300};
  const std::int64_t i64 = -1234567890123LL;
  const std::vector<std::uint64_t> u64{0, 1, ~std::uint64_t{0}, 42};
  const std::vector<std::int32_t> i32{-7, 7};
  const std::vector<float> empty;
  const std::vector<io::TensorRef> t{
      io::tensor_ref("layer.0.weight", std::span<const float>(f32), {2, 3}),
      io::tensor_ref("double", std::span<const double>(f64)),
      io::tensor_ref("count", std::span<const std::int64_t>(&i64, 1), {}),
      io::tensor_ref("u64", std::span<const std::uint64_t>(u64), {2, 1, 2}),
      io::tensor_ref("i32", std::span<const std::int32_t>(i32)),
      io::tensor_ref("empty", std::span<const float>(empty), {0, 3}),
  };
  const std::map<std::string, std::string> meta{{"format", "pt"}, {"text", "spaces, \"quotes\" and ü"}, {"empty", ""}};
  const auto p = dir / "all.safetensors";
  io::write_safetensors(p, t, meta);
  const auto f = io::read_safetensors(p);

  REQUIRE(f.tensors.size() == t.size());
  for (const auto& ref : t) {
    INFO(ref.name);
    const auto& got = f.tensors.at(ref.name);
    CHECK(got.dtype == ref.dtype);
    CHECK(got.shape == ref.shape);
    REQUIRE(got.bytes.size() == ref.bytes.size());
    // (memcmp on the null data of an empty tensor is undefined even for 0 bytes.)
    CHECK((ref.bytes.empty() || std::memcmp(got.bytes.data(), ref.bytes.data(), ref.bytes.size()) == 0));
  }
  CHECK(f.tensors.at("double").values<double>() == f64);
  CHECK(f.tensors.at("count").values<std::int64_t>() == std::vector<std::int64_t>{i64});
  CHECK(f.tensors.at("count").element_count() == 1);
  CHECK(f.tensors.at("u64").values<std::uint64_t>() == u64);
  CHECK_THROWS_WITH(f.tensors.at("double").values<float>(), Catch::Contains("dtype F64 read as F32"));
  for (const auto& [k, v] : meta) CHECK(f.metadata.at(k) == v);
  CHECK(f.metadata.size() == meta.size() + 2);
  CHECK(f.metadata.at("strata.crc32").size() == 8);
  CHECK(f.metadata.at("strata.header_crc32").size() == 8);
}

TEST_CASE("safetensors: files from other writers (no checksum, any key order, padding) are read",
          "[unit][io][safetensors]") {
  TempDir dir;
  const std::vector<unsigned char> data{0, 0, 128, 63, 7, 0, 0, 0, 0, 0, 0, 0};  // 1.0f, int64 7
  const std::string header =
      R"({"n":{"dtype":"I64","shape":[],"data_offsets":[4,12]},"x":{"data_offsets":[0,4],"shape":[1],"dtype":"F32"}})"
      "    ";
  write_bytes(dir / "torch.safetensors", raw_file(header, data));
  const auto f = io::read_safetensors(dir / "torch.safetensors");
  CHECK(f.metadata.empty());
  CHECK(f.tensors.at("x").values<float>() == std::vector<float>{1.0f});
  CHECK(f.tensors.at("n").values<std::int64_t>() == std::vector<std::int64_t>{7});
  CHECK(f.tensors.at("n").shape.empty());
}

TEST_CASE("safetensors: a truncated file is refused at every length", "[unit][io][safetensors][errors]") {
  TempDir dir;
  const auto good = read_bytes(write_sample(dir));
  const std::size_t n = header_length(good);
  const auto p = dir / "cut.safetensors";
  const auto cut = [&](std::size_t len) {
    write_bytes(p, std::vector<unsigned char>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len)));
  };
  for (std::size_t len : {0, 1, 7}) {
    cut(len);
    INFO("length " << len);
    CHECK_THROWS_AS(io::read_safetensors(p), data_error);
    CHECK_THROWS_WITH(io::read_safetensors(p), Catch::Contains("cut.safetensors") &&
                                                   Catch::Contains(std::to_string(len) + " bytes long") &&
                                                   Catch::Contains("shorter than the 8-byte header length"));
  }
  for (std::size_t len : {std::size_t{8}, std::size_t{9}, 8 + n / 2, 8 + n - 1}) {
    cut(len);
    INFO("length " << len);
    CHECK_THROWS_WITH(io::read_safetensors(p),
                      Catch::Contains("header length at byte 0 is " + std::to_string(n) + " bytes, but only " +
                                      std::to_string(len - 8) + " bytes follow") &&
                          Catch::Contains("truncated"));
  }
  for (std::size_t len : {8 + n, 8 + n + 1, good.size() - 1}) {
    cut(len);
    INFO("length " << len);
    CHECK_THROWS_WITH(io::read_safetensors(p), Catch::Contains("run past the end of the data section") &&
                                                   Catch::Contains("truncated or corrupt"));
  }
  cut(good.size());
  CHECK_NOTHROW(io::read_safetensors(p));
}

TEST_CASE("safetensors: a flipped byte is caught by the checksum or the header checks",
          "[unit][io][safetensors][errors]") {
  TempDir dir;
  const auto good = read_bytes(write_sample(dir));
  const std::size_t data_start = 8 + header_length(good);
  const auto p = dir / "flip.safetensors";

  for (std::size_t at : {data_start, data_start + 5, good.size() - 1}) {
    auto b = good;
    b[at] ^= 0x10;
    write_bytes(p, b);
    INFO("byte " << at);
    CHECK_THROWS_AS(io::read_safetensors(p), data_error);
    CHECK_THROWS_WITH(io::read_safetensors(p), Catch::Contains("checksum mismatch: the file is corrupt") &&
                                                   Catch::Contains("from byte " + std::to_string(data_start)));
  }

  // In the header: the first '{', a ':' (invalid JSON), the dtype, a shape digit, the checksum.
  const std::string header(good.begin() + 8, good.begin() + static_cast<std::ptrdiff_t>(data_start));
  const auto flip_at = [&](std::size_t pos, char to) {
    auto b = good;
    b[8 + pos] = static_cast<unsigned char>(to);
    write_bytes(p, b);
  };
  flip_at(0, '[');
  CHECK_THROWS_WITH(io::read_safetensors(p), Catch::Contains("JSON object starting with '{', found '['"));
  flip_at(header.find(':'), ';');
  CHECK_THROWS_WITH(io::read_safetensors(p), Catch::Contains("invalid JSON in the header") &&
                                                 Catch::Contains("near byte " + std::to_string(8 + header.find(':'))));
  flip_at(header.find("F64") + 2, '5');
  CHECK_THROWS_WITH(io::read_safetensors(p), Catch::Contains("tensor 'b': unknown dtype \"F65\""));
  flip_at(header.find("\"shape\":[2,2]") + 9, '3');
  CHECK_THROWS_WITH(io::read_safetensors(p), Catch::Contains("tensor 'a': shape [3, 2] of F32 needs 24 bytes") &&
                                                 Catch::Contains("hold 16"));
  // Either checksum's digits: the header checksum sees the change (and upper case, which
  // strata never writes, is a change too).
  for (const char* key : {"strata.crc32\":\"", "strata.header_crc32\":\""}) {
    const std::size_t crc_pos = header.find(key) + std::strlen(key);
    flip_at(crc_pos, header[crc_pos] == '0' ? '1' : '0');
    CHECK_THROWS_WITH(io::read_safetensors(p), Catch::Contains("checksum mismatch: the header is corrupt"));
    const std::size_t letter = header.find_first_of("abcdef", crc_pos);
    if (letter < crc_pos + 8) {
      flip_at(letter, static_cast<char>(header[letter] - 'a' + 'A'));
      CHECK_THROWS_WITH(io::read_safetensors(p), Catch::Contains("checksum mismatch: the header is corrupt") ||
                                                     Catch::Contains("8 lower-case hex digits"));
    }
    flip_at(crc_pos, 'g');
    CHECK_THROWS_WITH(io::read_safetensors(p), Catch::Contains("must be 8 lower-case hex digits"));
  }
}

TEST_CASE("safetensors: every malformed header is refused with what was expected and found",
          "[unit][io][safetensors][errors]") {
  TempDir dir;
  const auto p = dir / "bad.safetensors";
  const std::vector<unsigned char> eight(8, 0);
  const auto check = [&](const std::string& header, const std::vector<unsigned char>& data, const std::string& what) {
    write_bytes(p, raw_file(header, data));
    INFO("header " << header);
    CHECK_THROWS_AS(io::read_safetensors(p), data_error);
    CHECK_THROWS_WITH(io::read_safetensors(p), Catch::Contains("bad.safetensors") && Catch::Contains(what));
  };
  const std::string x = R"("x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";

  check("", {}, "found an empty header");
  check("{\"x\":", eight, "invalid JSON in the header");
  check("{" + x + ",}", eight, "invalid JSON in the header");
  check("{" + x + "} trailing", eight, "invalid JSON in the header");
  check("{" + x + "," + x + "}", eight, "the key 'x' appears twice");
  check(R"({"x":[1,2]})", {}, "tensor 'x': expected an object with \"dtype\", \"shape\" and \"data_offsets\", found array");
  check(R"({"x":{"shape":[2],"data_offsets":[0,8]}})", eight, "tensor 'x': missing \"dtype\"");
  check(R"({"x":{"dtype":"F32","data_offsets":[0,8]}})", eight, "tensor 'x': missing \"shape\"");
  check(R"({"x":{"dtype":"F32","shape":[2]}})", eight, "tensor 'x': missing \"data_offsets\"");
  check(R"({"x":{"dtype":32,"shape":[2],"data_offsets":[0,8]}})", eight, "\"dtype\" must be a string");
  check(R"({"x":{"dtype":"float32","shape":[2],"data_offsets":[0,8]}})", eight,
        "unknown dtype \"float32\" (expected one of BOOL, U8");
  check(R"({"x":{"dtype":"F32","shape":"2","data_offsets":[0,8]}})", eight, "\"shape\" must be an array");
  check(R"({"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", eight,
        "\"shape\" must hold non-negative integers, found -2");
  check(R"({"x":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", eight, "non-negative integers, found 2.0");
  check(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8,16]}})", eight,
        "\"data_offsets\" must be two non-negative integers [begin, end], found [0,8,16]");
  check(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", eight, "data_offsets [8, 0] end before they begin");
  check(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,100]}})", eight,
        "data_offsets [0, 100] run past the end of the data section (8 bytes");
  check(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight,
        "shape [3] of F32 needs 12 bytes, but data_offsets [0, 8] hold 8");
  check(R"({"x":{"dtype":"F32","shape":[4611686018427387904,8],"data_offsets":[0,8]}})", eight,
        "needs more than 2^64 bytes");
  check(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
        std::vector<unsigned char>(12), "tensors 'a' [0, 8] and 'b' [4, 12] overlap");
  check(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
        std::vector<unsigned char>(12), "bytes [4, 8) of the data section");
  check("{" + x + "}", std::vector<unsigned char>(10), "the data section is 10 bytes");
  check(R"({"__metadata__":{"k":1},)" + x + "}", eight, "metadata 'k' must be a string, found number");
  check(R"({"__metadata__":[],)" + x + "}", eight, "\"__metadata__\" must be an object of strings, found array");

  // An absurd header length.
  auto b = raw_file("{}", {});
  b[5] = 1;  // 2^40 + 2
  write_bytes(p, b);
  CHECK_THROWS_WITH(io::read_safetensors(p), Catch::Contains("header length at byte 0 is 1099511627778, over the limit"));
  // A file that is not there, and a directory.
  CHECK_THROWS_AS(io::read_safetensors(dir / "missing.safetensors"), io_error);
  CHECK_THROWS_WITH(io::read_safetensors(dir / "missing.safetensors"),
                    Catch::Contains("missing.safetensors") && Catch::Contains("No such file or directory"));
  CHECK_THROWS_AS(io::read_safetensors(dir.path), io_error);
}

TEST_CASE("safetensors: bad tensors to write are refused before anything is written", "[unit][io][safetensors][errors]") {
  TempDir dir;
  const std::vector<float> v(4, 1.0f);
  const auto p = dir / "w.safetensors";
  const auto write = [&](std::vector<io::TensorRef> t) { io::write_safetensors(p, t, {}); };
  CHECK_THROWS_AS(write({io::tensor_ref("a", std::span<const float>(v), {3})}), shape_error);
  CHECK_THROWS_WITH(write({io::tensor_ref("a", std::span<const float>(v), {3})}),
                    Catch::Contains("tensor 'a': shape [3] of F32 needs 12 bytes, but 16 were given"));
  CHECK_THROWS_WITH(write({io::tensor_ref("a", std::span<const float>(v)), io::tensor_ref("a", std::span<const float>(v))}),
                    Catch::Contains("tensor 'a': the name appears twice"));
  CHECK_THROWS_WITH(write({io::tensor_ref("__metadata__", std::span<const float>(v))}), Catch::Contains("reserved"));
  CHECK_THROWS_WITH(write({io::tensor_ref("", std::span<const float>(v))}), Catch::Contains("empty name"));
  CHECK(dir.entries().empty());
}

TEST_CASE("safetensors: writes are atomic: a failed write leaves the old file and no temporary file",
          "[unit][io][safetensors][atomic]") {
  TempDir dir;
  const auto target = write_sample(dir, "model.safetensors");
  const auto before = read_bytes(target);
  const std::vector<double> other{9.0, 8.0};
  const std::vector<io::TensorRef> t{io::tensor_ref("other", std::span<const double>(other))};

  SECTION("the parent directory does not exist") {
    const auto p = dir / "no/such/dir/model.safetensors";
    CHECK_THROWS_AS(io::write_safetensors(p, t, {}), io_error);
    CHECK_THROWS_WITH(io::write_safetensors(p, t, {}), Catch::Contains("no/such/dir/model.safetensors") &&
                                                           Catch::Contains("No such file or directory"));
    CHECK(!fs::exists(dir / "no"));
  }
  SECTION("the target is a directory: the rename fails after the data was written") {
    fs::create_directory(dir / "taken.safetensors");
    CHECK_THROWS_WITH(io::write_safetensors(dir / "taken.safetensors", t, {}),
                      Catch::Contains("cannot rename the temporary file over it") &&
                          Catch::Contains("Is a directory") && Catch::Contains("previous file is unchanged"));
    CHECK(fs::is_directory(dir / "taken.safetensors"));
  }
  SECTION("the directory is not writable") {
    if (::geteuid() == 0) {
      WARN("skipped: running as root, which can write into a read-only directory");
    } else {
      fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec, fs::perm_options::replace);
      CHECK_THROWS_AS(io::write_safetensors(target, t, {}), io_error);
      CHECK_THROWS_WITH(io::write_safetensors(target, t, {}), Catch::Contains("model.safetensors") &&
                                                                  Catch::Contains("Permission denied"));
      fs::permissions(dir.path, fs::perms::owner_all, fs::perm_options::replace);
    }
  }
  SECTION("a successful write replaces the file") {
    io::write_safetensors(target, t, {});
    CHECK(io::read_safetensors(target).tensors.count("other") == 1);
  }
  // Whatever happened, only the files the test made are there: no temporary file.
  for (const auto& e : dir.entries()) {
    INFO(e);
    CHECK((e == "model.safetensors" || e == "taken.safetensors"));
  }
  if (io::read_safetensors(target).tensors.count("other") == 0) CHECK(read_bytes(target) == before);
}
