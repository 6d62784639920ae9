// A strata checkpoint read by PyTorch: reference/checkpoint_cnn.safetensors (written by the
// hidden test case "[.generate]" below) loaded into the equivalent torch.nn.Sequential by
// tests/parity/checkpoint_to_torch.py with a strict load_state_dict, which wrote its eval-mode
// outputs on fixed inputs to reference/checkpoint_cnn_outputs.txt and its state_dict, saved
// as PyTorch users save one, to reference/checkpoint_cnn_torch.safetensors. Here strata loads
// the checkpoint with load_parameters and must give the same outputs (norm-wise relative
// error < 1e-5), and must read PyTorch's file into the same tensors.
//
// Regenerate (only when the format or the net changes):
//   strata_parity_tests "[.generate]"                    # rewrites the checkpoint
//   /usr/bin/python3 tests/parity/checkpoint_to_torch.py # rewrites the outputs
#include <strata/train/checkpoint.hpp>

#include "parity/parity.hpp"

using namespace strata;

namespace {

/// The net of checkpoint_to_torch.py's build_cnn(): keep both in step.
using CheckpointCnn = Sequential<Input<1, 8, 8>, Conv2D<4, 3>, ReLU, MaxPool<2>, BatchNorm, Flatten, Dense<5>>;

std::string checkpoint_path() { return std::string(STRATA_TEST_DATA_DIR) + "/parity/reference/checkpoint_cnn.safetensors"; }

}  // namespace

TEST_CASE("parity checkpoint: write the reference checkpoint (a small CNN after 20 Adam steps)", "[.generate]") {
  Model<CheckpointCnn, loss::CrossEntropy, optim::Adam> model({.optimizer = {.lr = 1e-2}, .seed = 2024});
  Rng rng(7);
  Eigen::MatrixXf x(CheckpointCnn::InputShape::size, 16), y(1, 16);
  for (int step = 0; step < 20; ++step) {
    for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.normal());
    for (Eigen::Index i = 0; i < y.size(); ++i) y.data()[i] = static_cast<float>(rng.below(5));
    model.train_step(x, y);
  }
  save_checkpoint(model, checkpoint_path(), {{"strata.note", "tests/parity/test_parity_checkpoint.cpp [.generate]"}});
  WARN("wrote " << checkpoint_path() << "; now run /usr/bin/python3 tests/parity/checkpoint_to_torch.py");
}

TEST_CASE("parity checkpoint: a checkpoint loaded by PyTorch gives strata's eval-mode outputs", "[parity][checkpoint]") {
  Network<CheckpointCnn> net(0);
  const auto meta = load_parameters(net, checkpoint_path());
  CHECK(meta.at("strata.format") == checkpoint_format);
  // The running statistics moved away from their initial values, so eval mode tests them.
  CHECK(net.buffers("3.running_mean")[0] != 0.0f);
  CHECK(net.buffers("3.num_batches_tracked")[0] == 20.0f);

  const auto& ref = parity::Reference::get("checkpoint_cnn_outputs.txt");
  const auto x = ref.floats("ckpt_cnn/x");
  REQUIRE(x.size() % CheckpointCnn::InputShape::size == 0);
  const std::size_t batch = x.size() / CheckpointCnn::InputShape::size;
  net.set_mode(Mode::eval);
  const auto out = net.forward(x.data(), batch);
  PARITY_CHECK_CLOSE("checkpoint read by PyTorch", "eval-mode outputs",
                     std::span<const float>(out.data(), static_cast<std::size_t>(out.size())),
                     ref.doubles("ckpt_cnn/out", static_cast<std::ptrdiff_t>(5 * batch)), parity::tolerance);

  // The same state_dict saved by PyTorch's side (int64 num_batches_tracked, no strata
  // metadata or checksum) loads into the same tensors, bit for bit.
  Network<CheckpointCnn> from_torch(1);
  const auto torch_meta = load_parameters(
      from_torch, std::string(STRATA_TEST_DATA_DIR) + "/parity/reference/checkpoint_cnn_torch.safetensors");
  CHECK(torch_meta.count("strata.format") == 0);
  const auto& a = std::as_const(net);
  const auto& b = std::as_const(from_torch);
  CHECK(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin(), b.parameters().end()));
  CHECK(std::equal(a.buffers().begin(), a.buffers().end(), b.buffers().begin(), b.buffers().end()));
}
