// libFuzzer target: load_checkpoint (train/checkpoint.hpp) from bytes into a small fixed
// model (Adam, for optimizer tensors and counters), then, as fit's resume does, the trainer
// state in metadata "fit.state".
//
// The model has a BatchNorm, so that its buffers (running statistics and the I64 batch
// count) are read too.
#include <cstdint>

#include <strata/strata.hpp>
#include <strata/train/checkpoint.hpp>

#include "fuzz.hpp"

namespace {

using Net = strata::Sequential<strata::Input<2>, strata::Dense<3>, strata::BatchNorm, strata::ReLU, strata::Dense<2>>;
using FuzzModel = strata::Model<Net, strata::loss::CrossEntropy, strata::optim::Adam>;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  strata::fuzz::expect_ok_or_strata_error([&] {
    FuzzModel model;
    const auto meta = strata::load_checkpoint(model, bytes, "fuzz-input.safetensors");
    if (const auto it = meta.find("fit.state"); it != meta.end()) {
      const auto state = strata::detail::parse_fit_state("fuzz-input.safetensors", it->second);
      strata::fuzz::check(state.history.size() == state.epoch, "FitState: history.size() != epoch");
    }
  });
  return 0;
}
