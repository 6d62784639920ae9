// Damaged checkpoints met on resume: cut short at every length, or with one bit flipped at
// every byte. Each is refused with strata::data_error naming the file; fit never starts
// afresh over it, and the model is left as it was.
//
// The reader's own checks are tested in tests/unit/io/safetensors.cpp ("a truncated file is
// refused at every length" at chosen lengths, "a flipped byte is caught by the checksum or
// the header checks" at chosen bytes) and load_checkpoint's in tests/unit/train/checkpoint.cpp
// ("a corrupt file": one data byte). This file sweeps every length and every byte through
// the path a resumed fit takes (checkpoints()'s restore).
#include "faults/support.hpp"
#include "support/temp_dir.hpp"

#include <strata/strata.hpp>
#include <strata/train/checkpoint.hpp>

#include <map>
#include <sstream>

using namespace strata;
using namespace strata::faults;
using strata::testing::TempDir;
namespace fs = std::filesystem;

namespace {

using Net = Sequential<Input<2>, Dense<6>, Tanh, Dense<2>>;
using M = Model<Net, loss::CrossEntropy, optim::Adam>;

std::vector<float> params_of(const M& m) {
  const auto p = m.network().parameters();
  return {p.begin(), p.end()};
}

/// A checkpoint written by fit after 2 epochs (with early-stopping state, so that it holds
/// fit.state and fit.best_parameters too), as bytes.
std::string fit_checkpoint(const TempDir& dir) {
  const auto file = dir / "good.safetensors";
  M model({.seed = 4});
  const auto d = data::spirals(20, 2, 0.05, 1);
  fit(model, d, d,
      {.epochs = 2, .batch_size = 8, .progress = Progress::none, .early_stopping = {.patience = 5},
       .checkpoint = checkpoints(model, file)});
  return read_file(file);
}

std::uint64_t header_length(const std::string& b) {
  std::uint64_t n = 0;
  for (int k = 0; k < 8; ++k) n |= std::uint64_t{static_cast<unsigned char>(b[static_cast<std::size_t>(k)])} << (8 * k);
  return n;
}

/// Runs checkpoints()'s restore, as fit does before its first epoch, on `bytes`: the
/// what() of the data_error it throws, or "" when it accepted the file. The model must be
/// untouched after a refusal.
std::string refusal(const fs::path& file, const std::string& bytes) {
  spill(file, bytes);
  M model({.seed = 7});
  const auto fresh = params_of(model);
  FitState state;
  try {
    checkpoints(model, file).restore(state);
  } catch (const data_error& e) {
    if (params_of(model) != fresh || model.steps() != 0) return std::string("MODEL CHANGED: ") + e.what();
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("Resuming from a checkpoint cut short at any length is refused, and fit does not start afresh",
          "[faults][checkpoint][corrupt]") {
  TempDir dir;
  const std::string good = fit_checkpoint(dir);
  const auto file = dir / "ckpt.safetensors";
  std::size_t accepted = 0;
  for (std::size_t len = 0; len < good.size(); ++len) {
    const std::string why = refusal(file, good.substr(0, len));
    if (why.empty() || why.rfind("MODEL CHANGED", 0) == 0 || why.find("ckpt.safetensors") == std::string::npos) {
      ++accepted;
      FAIL_CHECK("cut at " << len << " of " << good.size() << " bytes: " << (why.empty() ? "accepted" : why));
    }
  }
  CHECK(accepted == 0);
  CHECK(refusal(file, good).empty());  // the whole file is fine

  // Through fit itself: the error comes out of fit, before any training.
  spill(file, good.substr(0, good.size() / 2));
  M model({.seed = 7});
  const auto fresh = params_of(model);
  const auto d = data::spirals(20, 2, 0.05, 1);
  CHECK_THROWS_WITH(fit(model, d, {.epochs = 4, .batch_size = 8, .progress = Progress::none,
                                   .checkpoint = checkpoints(model, file)}),
                    Catch::Contains("ckpt.safetensors") && Catch::Contains("truncated"));
  CHECK(params_of(model) == fresh);
  CHECK(model.steps() == 0);
}

namespace {

/// The bytes of a checkpoint that no checksum covers and whose damage can go unnoticed: the
/// metadata object and the names of the trainer's own "fit.*" tensors (which load_checkpoint
/// leaves alone, so that a misspelt one is just absent). [begin, end) ranges.
std::vector<std::pair<std::size_t, std::size_t>> metadata_ranges(const std::string& good) {
  const std::string header = good.substr(8, header_length(good));
  const std::size_t meta = header.find("\"__metadata__\"");
  std::vector<std::pair<std::size_t, std::size_t>> out{{8 + meta, 8 + header.find("},\"", meta) + 1}};
  for (std::size_t at = header.find("\"fit.", out[0].second - 8); at != std::string::npos;
       at = header.find("\"fit.", at + 1))
    out.emplace_back(8 + at, 8 + header.find('"', at + 1) + 1);
  return out;
}

bool in_ranges(std::size_t at, const std::vector<std::pair<std::size_t, std::size_t>>& ranges) {
  return std::any_of(ranges.begin(), ranges.end(), [&](const auto& r) { return at >= r.first && at < r.second; });
}

}  // namespace

TEST_CASE("A checkpoint with one bit flipped in its length, tensor index or data is refused at every byte",
          "[faults][checkpoint][corrupt]") {
  TempDir dir;
  const std::string good = fit_checkpoint(dir);
  const auto file = dir / "ckpt.safetensors";
  const std::size_t data_start = 8 + header_length(good);
  const auto unchecked = metadata_ranges(good);  // the next test's
  REQUIRE(unchecked.size() == 2);                 // the metadata and "fit.best_parameters"
  std::size_t tried = 0, accepted = 0, by_checksum = 0;
  for (std::size_t at = 0; at < good.size(); ++at) {
    if (in_ranges(at, unchecked)) continue;
    std::string b = good;
    b[at] = static_cast<char>(b[at] ^ (1 << (at % 8)));  // every bit position, across the bytes
    const std::string why = refusal(file, b);
    ++tried;
    by_checksum += why.find("checksum mismatch") != std::string::npos;
    if (why.empty() || why.rfind("MODEL CHANGED", 0) == 0) {
      ++accepted;
      FAIL_CHECK("bit " << at % 8 << " of byte " << at << " flipped: " << (why.empty() ? "accepted" : why));
    }
  }
  INFO(tried << " flips, " << by_checksum << " caught by the checksum");
  CHECK(accepted == 0);
  CHECK(by_checksum >= good.size() - data_start);  // every flip in the data section
}

// The metadata (the trainer's state "fit.state": epoch, history, early-stopping counters;
// the optimizer's and the schedule's step counters; the scalar type) and the tensor names
// are covered by "strata.header_crc32", checked before anything is loaded: a flip there is
// refused with the model untouched. Lists what got through if anything does.
TEST_CASE("A checkpoint with one bit flipped in its metadata or a fit.* tensor name is refused at every byte",
          "[faults][checkpoint][corrupt]") {
  TempDir dir;
  const std::string good = fit_checkpoint(dir);
  const auto file = dir / "ckpt.safetensors";
  std::map<std::string, std::size_t> accepted;  // metadata key -> flips that got through
  std::size_t total = 0;
  const auto unchecked = metadata_ranges(good);
  for (std::size_t at = 0; at < good.size(); ++at) {
    if (!in_ranges(at, unchecked)) continue;
    std::string b = good;
    b[at] = static_cast<char>(b[at] ^ (1 << (at % 8)));
    const std::string why = refusal(file, b);
    const bool changed = why.rfind("MODEL CHANGED", 0) == 0;  // refused, but after loading the model
    if (!why.empty() && !changed) continue;
    // The key whose entry holds this byte: the last "strata. or "fit. before it.
    const std::size_t k = std::max(good.rfind("\"strata.", at) == std::string::npos ? 0 : good.rfind("\"strata.", at),
                                   good.rfind("\"fit.", at) == std::string::npos ? 0 : good.rfind("\"fit.", at));
    accepted[good.substr(k + 1, good.find('"', k + 1) - k - 1) + (changed ? " (refused after the model was loaded)" : "")]++;
    ++total;
  }
  std::ostringstream o;
  for (const auto& [key, n] : accepted) o << "  " << key << ": " << n << " flipped bytes\n";
  INFO("flips in the metadata that loaded without an error, or were refused only after the model was changed:\n"
       << o.str());
  CHECK(total == 0);
}
