// train/checkpoint.hpp: the segment table's tensor shapes, bit-identical save/load of a
// Model (parameters, buffers, optimizer state, counters) so that training resumes exactly,
// and a clear data_error for every checkpoint that does not fit the model.
#include <catch2/catch.hpp>
#include "support/temp_dir.hpp"
#include <strata/models/resnet.hpp>
#include <strata/strata.hpp>
#include <strata/train/checkpoint.hpp>
#include <unistd.h>

#include <atomic>
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

using Mlp = Sequential<Input<3>, Dense<8>, Tanh, Dense<6>, ReLU, Dense<4>>;
using BnNet = Sequential<Input<1, 6, 6>, Conv2D<3, 3>, BatchNorm, ReLU, MaxPool<2>, Flatten, Dense<5>, BatchNorm,
                         Dense<4>>;
using DigitCnn = Sequential<Input<1, 16, 16>, Conv2D<32, 3, 1, same_padding>, ReLU, MaxPool<2>,
                            Conv2D<64, 3, 1, same_padding>, ReLU, MaxPool<2>, Conv2D<128, 3, 1, same_padding>, ReLU,
                            Flatten, Dense<100>, ReLU, Dense<50>, ReLU, Dense<10>, BatchNorm>;
using HeadsNet = Sequential<Input<1, 8, 8>, Conv2D<4, 3>, ReLU, Flatten, Dense<16>, ReLU,
                            Heads<Head<Dense<10>>, Head<Dense<8>, BatchNorm, ReLU, GaussianHead<1>>>>;
using ResidualMlp = Sequential<Input<6>, Residual<Dense<6>, ReLU, Dense<6>>, Residual<Dense<4>, Tanh>, Dense<2>>;

/// Every segment's shape describes exactly its size (rank 0: one element).
template <class Net>
constexpr bool shapes_match_sizes() {
  for (const auto& s : Net::segments)
    if (s.shape_size() != s.size || s.rank == 0) return false;
  for (const auto& s : Net::buffer_segments)
    if (s.shape_size() != s.size) return false;
  return true;
}

template <class Net>
const Segment& find_segment(const std::string& name) {
  for (const auto& s : Net::segments)
    if (s.name() == name) return s;
  for (const auto& s : Net::buffer_segments)
    if (s.name() == name) return s;
  throw std::runtime_error("no segment " + name);
}
std::vector<std::size_t> shape_of(const Segment& s) {
  return std::vector<std::size_t>(s.dims.begin(), s.dims.begin() + static_cast<std::ptrdiff_t>(s.rank));
}

/// A fixed random batch: inputs in [-1, 1), class indices below `classes`.
template <class M>
std::pair<Eigen::Matrix<typename M::Scalar, Eigen::Dynamic, Eigen::Dynamic>,
          Eigen::Matrix<typename M::Scalar, Eigen::Dynamic, Eigen::Dynamic>>
batch(std::size_t n, std::uint64_t seed, std::size_t classes) {
  using T = typename M::Scalar;
  Rng rng(seed);
  Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> x(M::InputShape::size, n), y(1, n);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<T>(rng.uniform(-1, 1));
  for (Eigen::Index i = 0; i < y.size(); ++i) y.data()[i] = static_cast<T>(rng.below(classes));
  return {x, y};
}

template <class T>
bool same_bits(std::span<const T> a, std::span<const T> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

/// Trains `a` a few steps, saves it, loads it into a fresh model `b` (another seed), and
/// checks that everything is bit-identical, before and after one more step on both.
template <class M>
void check_resume(const typename M::Config& config, std::size_t classes) {
  TempDir dir;
  M a(config);
  for (std::uint64_t s = 0; s < 4; ++s) {
    auto [x, y] = batch<M>(8, 100 + s, classes);
    a.train_step(x, y);
    if (s % 2) a.step_schedule();
  }
  const auto file = dir / "model.safetensors";
  save_checkpoint(a, file, {{"strata.epoch", "7"}});

  auto other = config;
  other.seed = config.seed + 99;
  M b(other);
  const auto meta = load_checkpoint(b, file);
  CHECK(meta.at("strata.epoch") == "7");
  CHECK(meta.at("strata.format") == "strata-checkpoint-1");
  CHECK(meta.at("strata.optimizer") == a.optimizer().describe());
  CHECK(meta.at("strata.optimizer_steps") == "4");
  CHECK(meta.at("strata.steps") == "4");
  CHECK(meta.at("strata.schedule_steps") == "2");

  using T = typename M::Scalar;
  const auto& ca = std::as_const(a);
  const auto& cb = std::as_const(b);
  CHECK(same_bits(ca.network().parameters(), cb.network().parameters()));
  CHECK(same_bits(ca.network().buffers(), cb.network().buffers()));
  CHECK(a.steps() == b.steps());
  CHECK(a.schedule_steps() == b.schedule_steps());
  std::vector<std::span<const T>> sa, sb;
  ca.optimizer_state().for_each_array([&](const char*, const AlignedVector<T>& v) { sa.emplace_back(v); });
  cb.optimizer_state().for_each_array([&](const char*, const AlignedVector<T>& v) { sb.emplace_back(v); });
  REQUIRE(sa.size() == sb.size());
  std::size_t used = 0;
  for (std::size_t k = 0; k < sa.size(); ++k) {
    CHECK(same_bits(sa[k], sb[k]));
    used += !sa[k].empty();
  }
  CHECK(used > 0);
  CHECK(ca.optimizer_state().steps == cb.optimizer_state().steps);

  auto [x, y] = batch<M>(8, 999, classes);
  const auto ra = a.train_step(x, y);
  const auto rb = b.train_step(x, y);
  CHECK(ra.loss == rb.loss);
  CHECK(same_bits(ca.network().parameters(), cb.network().parameters()));
  CHECK(same_bits(ca.network().buffers(), cb.network().buffers()));
}

std::vector<unsigned char> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Rewrites `file` after `edit` changed its tensors or metadata (the checksum is redone).
template <class F>
void rewrite(const fs::path& file, F&& edit) {
  auto f = io::read_safetensors(file);
  edit(f);
  std::vector<io::TensorRef> refs;
  for (const auto& [name, t] : f.tensors) refs.push_back({name, t.dtype, t.shape, t.bytes});
  f.metadata.erase(io::crc32_key);
  io::write_safetensors(file, refs, f.metadata);
}

}  // namespace

TEST_CASE("Segments carry PyTorch's tensor shapes", "[unit][train][checkpoint]") {
  STATIC_REQUIRE(shapes_match_sizes<Mlp>());
  STATIC_REQUIRE(shapes_match_sizes<BnNet>());
  STATIC_REQUIRE(shapes_match_sizes<DigitCnn>());
  STATIC_REQUIRE(shapes_match_sizes<models::ResNet18<3, 32, 10>>());
  STATIC_REQUIRE(shapes_match_sizes<HeadsNet>());
  STATIC_REQUIRE(shapes_match_sizes<ResidualMlp>());

  using V = std::vector<std::size_t>;
  CHECK(shape_of(find_segment<Mlp>("0.weight")) == V{8, 3});
  CHECK(shape_of(find_segment<Mlp>("0.bias")) == V{8});
  CHECK(shape_of(find_segment<DigitCnn>("3.weight")) == V{64, 32, 3, 3});
  CHECK(shape_of(find_segment<DigitCnn>("3.bias")) == V{64});
  CHECK(shape_of(find_segment<DigitCnn>("14.running_var")) == V{10});
  CHECK(shape_of(find_segment<DigitCnn>("14.num_batches_tracked")).empty());
  CHECK(shape_of(find_segment<BnNet>("1.weight")) == V{3});
  using R = models::ResNet18<3, 32, 10>;
  CHECK(shape_of(find_segment<R>("0.weight")) == V{64, 3, 3, 3});
  CHECK(shape_of(find_segment<R>("7.body.0.weight")) == V{128, 64, 3, 3});
  CHECK(shape_of(find_segment<R>("7.shortcut.0.weight")) == V{128, 64, 1, 1});
  CHECK(shape_of(find_segment<R>("7.shortcut.1.running_mean")) == V{128});
  CHECK(shape_of(find_segment<R>("20.weight")) == V{10, 512});
  CHECK(shape_of(find_segment<HeadsNet>("5.head.1.0.weight")) == V{8, 16});
  CHECK(shape_of(find_segment<HeadsNet>("5.head.1.3.weight")) == V{2, 8});  // GaussianHead<1> = Dense<2>
  CHECK(shape_of(find_segment<HeadsNet>("5.head.1.1.num_batches_tracked")).empty());
  CHECK(shape_of(find_segment<ResidualMlp>("1.shortcut.0.weight")) == V{4, 6});
}

TEST_CASE("A checkpoint restores an MLP trained with Adam bit for bit", "[unit][train][checkpoint]") {
  using M = Model<Mlp, loss::CrossEntropy, optim::Adam, schedule::Step>;
  check_resume<M>({.optimizer = {.lr = 1e-2, .weight_decay = 1e-3}, .schedule = {.step_size = 1, .gamma = 0.5},
                   .seed = 3},
                  4);
}

TEST_CASE("A checkpoint restores a net with batch norm (AMSGrad, in double) bit for bit", "[unit][train][checkpoint]") {
  using M = Model<BnNet, loss::CrossEntropy, optim::Adam, schedule::Constant, backend::Cpu, double>;
  check_resume<M>({.optimizer = {.lr = 1e-2, .amsgrad = true}, .seed = 5}, 4);
  using F = Model<BnNet, loss::CrossEntropy, optim::AdamW>;
  check_resume<F>({.optimizer = {.lr = 1e-2}, .seed = 5}, 4);
}

TEST_CASE("A checkpoint restores SGD with momentum and RMSprop (centered) bit for bit", "[unit][train][checkpoint]") {
  using S = Model<BnNet, loss::CrossEntropy, optim::SGD>;
  check_resume<S>({.optimizer = {.lr = 0.05, .momentum = 0.9, .nesterov = true}, .seed = 1}, 4);
  using R = Model<Mlp, loss::CrossEntropy, optim::RMSprop>;
  check_resume<R>({.optimizer = {.lr = 1e-3, .momentum = 0.5, .centered = true}, .seed = 2}, 4);
  using RB = Model<BnNet, loss::CrossEntropy, optim::RMSprop>;
  check_resume<RB>({.optimizer = {.lr = 1e-3, .centered = true}, .seed = 2}, 4);
}

TEST_CASE("Checkpoint tensors use state_dict names, PyTorch shapes and an int64 num_batches_tracked",
          "[unit][train][checkpoint]") {
  TempDir dir;
  Model<BnNet, loss::CrossEntropy, optim::Adam> m;
  auto [x, y] = batch<decltype(m)>(4, 1, 4);
  m.train_step(x, y);
  save_checkpoint(m, dir / "c.safetensors");
  const auto f = io::read_safetensors(dir / "c.safetensors");
  using V = std::vector<std::size_t>;
  CHECK(f.tensors.at("0.weight").shape == V{3, 1, 3, 3});
  CHECK(f.tensors.at("0.weight").dtype == io::Dtype::F32);
  CHECK(f.tensors.at("1.running_var").shape == V{3});
  CHECK(f.tensors.at("1.num_batches_tracked").dtype == io::Dtype::I64);
  CHECK(f.tensors.at("1.num_batches_tracked").shape.empty());
  CHECK(f.tensors.at("1.num_batches_tracked").values<std::int64_t>() == std::vector<std::int64_t>{1});
  CHECK(f.tensors.at("5.weight").shape == V{5, 12});
  CHECK(f.tensors.at("optimizer.m").shape == V{BnNet::parameter_count});
  CHECK(f.tensors.count("optimizer.v_max") == 0);  // not AMSGrad
  CHECK(f.metadata.at("strata.network") == BnNet::summary());
  CHECK(f.metadata.at("strata.parameter_count") == std::to_string(BnNet::parameter_count));
  CHECK(f.metadata.at("strata.optimizer_type") == "adam");
  CHECK(f.metadata.at("strata.loss") == m.config().loss.describe());
  CHECK(f.metadata.at("strata.scalar") == "F32");
  CHECK(f.tensors.size() == BnNet::segments.size() + BnNet::buffer_segments.size() + 2);

  CHECK_THROWS_AS(save_checkpoint(m, dir / "d.safetensors", {{"strata.steps", "1"}}), option_error);
  CHECK_THROWS_WITH(save_checkpoint(m, dir / "d.safetensors", {{"strata.crc32", "1"}}),
                    Catch::Contains("written by save_checkpoint itself"));
}

TEST_CASE("load_checkpoint refuses a file that does not fit the model, and changes nothing",
          "[unit][train][checkpoint][errors]") {
  TempDir dir;
  using M = Model<Mlp, loss::CrossEntropy, optim::Adam>;
  M a({.seed = 1});
  auto [x, y] = batch<M>(8, 1, 4);
  a.train_step(x, y);
  const auto file = dir / "mlp.safetensors";
  save_checkpoint(a, file);

  M b({.seed = 2});
  const auto before = std::vector<float>(b.network().parameters().begin(), b.network().parameters().end());
  const auto unchanged = [&] {
    CHECK(std::equal(before.begin(), before.end(), b.network().parameters().begin()));
    CHECK(b.steps() == 0);
    CHECK(b.optimizer_state().steps == 0);
  };
  const auto p = dir / "edited.safetensors";
  const auto edited = [&](auto&& edit) {
    fs::copy_file(file, p, fs::copy_options::overwrite_existing);
    rewrite(p, edit);
  };

  SECTION("a missing tensor") {
    edited([](io::SafetensorsFile& f) { f.tensors.erase("2.bias"); });
    CHECK_THROWS_AS(load_checkpoint(b, p), data_error);
    CHECK_THROWS_WITH(load_checkpoint(b, p), Catch::Contains("edited.safetensors") &&
                                                 Catch::Contains("no tensor '2.bias'") &&
                                                 Catch::Contains("shape [6]"));
  }
  SECTION("a tensor of another shape") {
    edited([](io::SafetensorsFile& f) { f.tensors.at("0.weight").shape = {3, 8}; });
    CHECK_THROWS_WITH(load_checkpoint(b, p),
                      Catch::Contains("tensor '0.weight' has shape [3, 8], but the model's parameter has shape [8, 3]"));
  }
  SECTION("a tensor of another dtype") {
    edited([](io::SafetensorsFile& f) {
      auto& t = f.tensors.at("4.bias");
      t.dtype = io::Dtype::I32;  // same byte size
    });
    CHECK_THROWS_WITH(load_checkpoint(b, p), Catch::Contains("tensor '4.bias' has dtype I32, but the model's "
                                                             "parameter is F32"));
  }
  SECTION("an unknown tensor") {
    edited([](io::SafetensorsFile& f) { f.tensors["6.weight"] = f.tensors.at("4.bias"); });
    CHECK_THROWS_WITH(load_checkpoint(b, p), Catch::Contains("tensor '6.weight' [4] has no counterpart in this model"));
  }
  SECTION("a corrupt file") {
    auto bytes = read_bytes(file);
    bytes[bytes.size() - 3] ^= 1;
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                             static_cast<std::streamsize>(bytes.size()));
    CHECK_THROWS_WITH(load_checkpoint(b, p), Catch::Contains("checksum mismatch: the file is corrupt"));
  }
  SECTION("a file that is not a strata checkpoint") {
    edited([](io::SafetensorsFile& f) { f.metadata.erase("strata.format"); });
    CHECK_THROWS_WITH(load_checkpoint(b, p), Catch::Contains("not a strata checkpoint") &&
                                                 Catch::Contains("load_parameters"));
  }
  SECTION("bad counters") {
    edited([](io::SafetensorsFile& f) { f.metadata["strata.steps"] = "-3"; });
    CHECK_THROWS_WITH(load_checkpoint(b, p), Catch::Contains("\"strata.steps\" must be an unsigned integer, found \"-3\""));
  }
  SECTION("another architecture") {
    Model<Sequential<Input<3>, Dense<8>, Tanh, Dense<4>>, loss::CrossEntropy, optim::Adam> small;
    CHECK_THROWS_WITH(load_checkpoint(small, file),
                      Catch::Contains("the checkpoint's network has 114 parameters, this model's 68: a different "
                                      "architecture") &&
                          Catch::Contains("Dense<6>"));
    // The same tensors, but another activation: the network summaries differ.
    Model<Sequential<Input<3>, Dense<8>, Sigmoid, Dense<6>, ReLU, Dense<4>>, loss::CrossEntropy, optim::Adam> other;
    CHECK_THROWS_WITH(load_checkpoint(other, file),
                      Catch::Contains("the checkpoint's network differs from this model's at line 3") &&
                          Catch::Contains("\"  1: Tanh -> 8 (0 params)\"") &&
                          Catch::Contains("\"  1: Sigmoid -> 8 (0 params)\""));
    CHECK_NOTHROW(load_parameters(other, file));
    Model<Sequential<Input<3>, Dense<8>, Tanh, Dense<6>, ReLU, Dense<4>, ReLU, Dense<1>, ReLU>, loss::MSE, optim::Adam>
        deeper;
    CHECK_THROWS_WITH(load_checkpoint(deeper, file), Catch::Contains("a different architecture"));
  }
  SECTION("another optimizer") {
    Model<Mlp, loss::CrossEntropy, optim::SGD> sgd({.optimizer = {.momentum = 0.9}});
    CHECK_THROWS_AS(load_checkpoint(sgd, file), data_error);
    CHECK_THROWS_WITH(load_checkpoint(sgd, file), Catch::Contains("the checkpoint's optimizer is \"adam\" (Adam(") &&
                                                      Catch::Contains("this model's is \"sgd\""));
    Model<Mlp, loss::CrossEntropy, optim::AdamW> adamw;
    CHECK_THROWS_WITH(load_checkpoint(adamw, file), Catch::Contains("this model's is \"adamw\""));
    M ams({.optimizer = {.amsgrad = true}});
    CHECK_THROWS_WITH(load_checkpoint(ams, file), Catch::Contains("no tensor 'optimizer.v_max'") &&
                                                      Catch::Contains("settings differ"));
  }
  SECTION("optimizer state the model's settings do not keep") {
    Model<Mlp, loss::CrossEntropy, optim::SGD> with({.optimizer = {.momentum = 0.9}});
    with.train_step(x, y);
    save_checkpoint(with, p);
    Model<Mlp, loss::CrossEntropy, optim::SGD> without;
    CHECK_THROWS_WITH(load_checkpoint(without, p),
                      Catch::Contains("tensor 'optimizer.momentum_buffer' is optimizer state that this model's "
                                      "optimizer (SGD(") &&
                          Catch::Contains("does not keep"));
  }
  SECTION("another scalar type") {
    Model<Mlp, loss::CrossEntropy, optim::Adam, schedule::Constant, backend::Cpu, double> d;
    CHECK_THROWS_WITH(load_checkpoint(d, file),
                      Catch::Contains("tensor '0.weight' has dtype F32, but the model's parameter is F64"));
  }
  unchanged();
}

TEST_CASE("load_parameters reads parameters and buffers alone, into a Network or a Model",
          "[unit][train][checkpoint]") {
  TempDir dir;
  using M = Model<BnNet, loss::CrossEntropy, optim::RMSprop>;
  M a({.seed = 4});
  for (std::uint64_t s = 0; s < 3; ++s) {
    auto [x, y] = batch<M>(8, s, 4);
    a.train_step(x, y);
  }
  save_checkpoint(a, dir / "c.safetensors");

  Network<BnNet> net(77);
  load_parameters(net, dir / "c.safetensors");
  CHECK(same_bits(std::as_const(net).parameters(), std::as_const(a).network().parameters()));
  CHECK(same_bits(std::as_const(net).buffers(), std::as_const(a).network().buffers()));

  // Another optimizer is fine: its state is ignored and left fresh.
  Model<BnNet, loss::CrossEntropy, optim::SGD> sgd({.optimizer = {.momentum = 0.9}});
  const auto meta = load_parameters(sgd, dir / "c.safetensors");
  CHECK(meta.at("strata.optimizer_type") == "rmsprop");
  CHECK(same_bits(std::as_const(sgd).network().parameters(), std::as_const(a).network().parameters()));
  CHECK(sgd.steps() == 0);

  // A parameters-only file written elsewhere (no checksum, no strata metadata).
  {
    std::vector<io::TensorRef> refs;
    const auto params = std::as_const(a).network().parameters();
    for (const auto& s : BnNet::segments)
      refs.push_back(io::tensor_ref(s.name(), params.subspan(s.offset, s.size), shape_of(s)));
    const auto bufs = std::as_const(a).network().buffers();
    std::vector<std::int64_t> counts;
    counts.reserve(BnNet::buffer_segments.size());
    for (const auto& s : BnNet::buffer_segments) {
      if (s.param == "num_batches_tracked") {
        counts.push_back(static_cast<std::int64_t>(bufs[s.offset]));
        refs.push_back(io::tensor_ref(s.name(), std::span<const std::int64_t>(&counts.back(), 1), {}));
      } else {
        refs.push_back(io::tensor_ref(s.name(), bufs.subspan(s.offset, s.size), shape_of(s)));
      }
    }
    io::write_safetensors(dir / "state_dict.safetensors", refs, {{"format", "pt"}});
  }
  Network<BnNet> net2(5);
  load_parameters(net2, dir / "state_dict.safetensors");
  CHECK(same_bits(std::as_const(net2).parameters(), std::as_const(a).network().parameters()));
  CHECK(same_bits(std::as_const(net2).buffers(), std::as_const(a).network().buffers()));
  M c;
  CHECK_THROWS_WITH(load_checkpoint(c, dir / "state_dict.safetensors"), Catch::Contains("not a strata checkpoint"));

  Network<Mlp> wrong;
  CHECK_THROWS_AS(load_parameters(wrong, dir / "c.safetensors"), data_error);
  CHECK_THROWS_WITH(load_parameters(wrong, dir / "c.safetensors"),
                    Catch::Contains("c.safetensors") && Catch::Contains("tensor '0.weight' has shape [3, 1, 3, 3], "
                                                                        "but the model's parameter has shape [8, 3]"));
}
