// The parse-from-bytes entry points (parse_idx, parse_csv, parse_mnist_json,
// parse_safetensors, parse_journal, load_checkpoint from bytes) read exactly what the path
// readers read, and refuse bad bytes with the same message, naming the name they are given.
#include <catch2/catch.hpp>
#include "support/temp_dir.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include <strata/data/io/csv.hpp>
#include <strata/data/io/idx.hpp>
#include <strata/data/io/mnist_json.hpp>
#include <strata/experiment/journal.hpp>
#include <strata/io/safetensors.hpp>
#include <strata/strata.hpp>
#include <strata/train/checkpoint.hpp>

using namespace strata;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

using strata::testing::read_file;
using strata::testing::TempDir;

std::span<const unsigned char> bytes_of(const std::string& s) {
  return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

/// The message of the strata::error `f` throws ("" when it throws nothing).
template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const strata::error& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("parse_idx reads what read_idx reads, plain and gzipped, and fails alike", "[unit][io][bytes]") {
  TempDir tmp;
  std::string idx{'\0', '\0', '\x08', '\x02', '\0', '\0', '\0', '\x02', '\0', '\0', '\0', '\x03'};
  for (int i = 0; i < 6; ++i) idx += static_cast<char>(i * 40);
  const auto file = tmp.write("a.idx", idx);
  const auto a = data::read_idx<float>(file);
  const auto b = data::parse_idx<float>(bytes_of(idx), file);
  CHECK(a.dims == b.dims);
  CHECK(a.data == b.data);
  CHECK(b.data[5] == 200.0f);

  const std::string cut = idx.substr(0, idx.size() - 1);
  const auto cut_file = tmp.write("cut.idx", cut);
  const std::string from_file = message_of([&] { data::read_idx<float>(cut_file); });
  CHECK_THAT(from_file, Contains("truncated IDX data"));
  CHECK(message_of([&] { data::parse_idx<float>(bytes_of(cut), cut_file); }) == from_file);
  // A .gz name on bytes that are not gzip data is refused as from a file.
  CHECK_THAT(message_of([&] { data::parse_idx<float>(bytes_of(idx), "x.idx.gz"); }), Contains("bad gzip magic"));
}

TEST_CASE("parse_csv reads what read_csv reads and names the given name in errors", "[unit][io][bytes]") {
  TempDir tmp;
  const std::string csv = "x,y\n1,2\n3,4\n";
  const auto file = tmp.write("t.csv", csv);
  const auto a = data::read_csv(file, {.target = "y"});
  const auto b = data::parse_csv(bytes_of(csv), file, {.target = "y"});
  CHECK(a.features == b.features);
  CHECK(a.target == b.target);
  CHECK(b.feature_names == std::vector<std::string>{"x"});
  CHECK_THROWS_WITH(data::parse_csv(bytes_of("1,2\n3\n"), "inline.csv"),
                    Contains("'inline.csv'") && Contains("line 2: ragged row"));
}

TEST_CASE("parse_mnist_json reads what read_mnist_json reads", "[unit][io][bytes]") {
  TempDir tmp;
  std::string json = "{\"data\": [";
  for (int i = 0; i < 784; ++i) json += (i ? "," : "") + std::string(i % 7 == 0 ? "1" : "0");
  json += "]}";
  const auto file = tmp.write("3.json", json);
  const auto a = data::read_mnist_json(file);
  const auto b = data::parse_mnist_json(bytes_of(json), file);
  CHECK(b.count == 1);
  CHECK(a.pixels == b.pixels);
  CHECK_THROWS_WITH(data::parse_mnist_json(bytes_of("{\"data\": [2]}"), "d.json"),
                    Contains("'d.json'") && Contains("data[0] is 2, expected a grey level in [0, 1]"));
}

TEST_CASE("parse_safetensors reads what read_safetensors reads", "[unit][io][bytes]") {
  TempDir tmp;
  const std::vector<float> w{1.0f, -2.0f, 0.5f};
  const std::vector<io::TensorRef> tensors{io::tensor_ref("w", std::span<const float>(w))};
  const auto file = tmp / "w.safetensors";
  io::write_safetensors(file, tensors, {{"note", "demo"}});
  const std::string bytes = read_file(file);
  const auto a = io::read_safetensors(file);
  const auto b = io::parse_safetensors(std::as_bytes(std::span(bytes.data(), bytes.size())), file);
  CHECK(a.metadata == b.metadata);
  CHECK(b.tensors.at("w").values<float>() == w);
  const std::string cut = bytes.substr(0, bytes.size() - 1);
  CHECK_THROWS_WITH(io::parse_safetensors(std::as_bytes(std::span(cut.data(), cut.size())), "cut.safetensors"),
                    Contains("safetensors file 'cut.safetensors'"));
}

TEST_CASE("parse_journal reads what Journal::load reads, warnings included", "[unit][io][bytes]") {
  TempDir tmp;
  const std::string text = "{\"params\":{\"lr\":0.1}}\n{\"params\":{\"lr\":0.1}}\n{\"params\":{\"lr\":0.2}}\n{\"par";
  const auto file = tmp.write("j.jsonl", text);
  const experiment::Journal journal(file);
  const auto records = journal.load();
  const auto contents = experiment::parse_journal(text, file);
  REQUIRE(records.size() == 2);
  REQUIRE(contents.records.size() == 2);
  CHECK(contents.records[1].key == records[1].key);
  CHECK(contents.warnings == journal.warnings());
  CHECK(contents.incomplete_tail);
  CHECK_THROWS_WITH(experiment::parse_journal("{\"index\":-1}\n", "r.jsonl"),
                    Contains("results journal 'r.jsonl', line 1: trial record: field 'index'"));
}

TEST_CASE("load_checkpoint from bytes restores what the path form restores", "[unit][io][bytes]") {
  using M = Model<Sequential<Input<3>, Dense<4>, BatchNorm, ReLU, Dense<2>>, loss::CrossEntropy, optim::Adam>;
  TempDir tmp;
  M a;
  a.network().parameters()[0] = 0.25f;
  const auto file = tmp / "c.safetensors";
  save_checkpoint(a, file, {{"strata.epoch", "3"}});
  const std::string bytes = read_file(file);
  M b, c;
  const auto meta_b = load_checkpoint(b, file);
  const auto meta_c = load_checkpoint(c, std::as_bytes(std::span(bytes.data(), bytes.size())), file);
  CHECK(meta_b == meta_c);
  CHECK(meta_c.at("strata.epoch") == "3");
  CHECK(c.network().parameters()[0] == 0.25f);
  for (std::size_t i = 0; i < b.network().parameters().size(); ++i)
    CHECK(b.network().parameters()[i] == c.network().parameters()[i]);
  M d;
  const std::string cut = bytes.substr(0, bytes.size() - 4);
  CHECK_THROWS_WITH(load_checkpoint(d, std::as_bytes(std::span(cut.data(), cut.size())), "cut.safetensors"),
                    Contains("'cut.safetensors'"));
}
