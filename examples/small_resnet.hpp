#pragma once
// What the ResNet-style examples (lr_batch_kernel, schedules) share: the network, and the
// slice of Fashion-MNIST they train on.
#include <CLI/CLI.hpp>
#include <strata/data/datasets.hpp>
#include <strata/data/normalize.hpp>
#include <strata/data/split.hpp>
#include <strata/experiment/search.hpp>
#include <strata/strata.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>

namespace examples {

using namespace strata;

/// A basic block with K x K kernels: conv(stride) - BN - ReLU - conv - BN, plus the shortcut.
template <std::size_t C, std::size_t K, std::size_t Stride>
using Block = Residual<Conv2D<C, K, Stride, K / 2, no_bias>, BatchNorm, ReLU, Conv2D<C, K, 1, K / 2, no_bias>, BatchNorm>;

/// A K x K stem and three basic blocks (16, 32, 64 channels), global average pooling, dense 10.
template <std::size_t K>
using SmallResNet = Sequential<Input<1, 28, 28>, Conv2D<16, K, 1, K / 2, no_bias>, BatchNorm, ReLU,  //
                               Block<16, K, 1>, ReLU,                                            // 16 x 28 x 28
                               Block<32, K, 2>, ReLU,                                            // 32 x 14 x 14
                               Block<64, K, 2>, ReLU,                                            // 64 x 7 x 7
                               GlobalAvgPool, Dense<10>>;

using FashionImages = Dataset<Shape<1, 28, 28>, Shape<1>>;

struct FashionSlice {
  FashionImages train, val, test;
};

/// `train_n` training and train_n / 5 validation images split (stratified, seed 0) from the
/// first train_n * 1.2 of Fashion-MNIST's training set, the first `test_n` test images;
/// inputs standardised with the training slice's statistics.
inline FashionSlice fashion_slice(const std::filesystem::path& dir, std::size_t train_n, std::size_t test_n) {
  const auto fm = data::fashion_mnist(dir);
  const auto n = static_cast<Eigen::Index>(std::min<std::size_t>(train_n + train_n / 5, fm.train.size()));
  const FashionImages pool(fm.train.x.leftCols(n), fm.train.y.leftCols(n));
  const auto parts = data::split(pool, data::SplitFractions{5.0 / 6.0, 1.0 / 6.0, 0.0}, /*seed=*/0, true);
  const auto m = static_cast<Eigen::Index>(std::min<std::size_t>(test_n, fm.test.size()));
  const FashionImages test(fm.test.x.leftCols(m), fm.test.y.leftCols(m));
  const auto scaler = data::fit_inputs(parts.train);
  FashionSlice s{data::transform(parts.train, scaler), data::transform(parts.val, scaler), data::transform(test, scaler)};
  std::cout << "Fashion-MNIST slice: train " << s.train.size() << ", val " << s.val.size() << ", test " << s.test.size()
            << "\n";
  return s;
}

/// The command line both examples take.
struct SliceOptions {
  bool quick = false;
  std::size_t train = 0, epochs = 0, workers = 0;
  std::filesystem::path out, data = data::data_dir();
};

/// Adds --quick, --train, --epochs, --workers, --out and --data to `app`, their defaults
/// those in `o`.
inline void add_slice_options(CLI::App& app, SliceOptions& o, const std::string& quick_help) {
  app.add_flag("--quick", o.quick, quick_help);
  app.add_option("--train", o.train, "training images (from Fashion-MNIST's 60,000)")->capture_default_str();
  app.add_option("--epochs", o.epochs, "epochs per trial")->capture_default_str();
  app.add_option("--workers", o.workers, "trials at once (0: one per core)")->capture_default_str();
  app.add_option("--out", o.out, "output folder")->capture_default_str();
  app.add_option("--data", o.data, "data folder (scripts/fetch-data.sh)")->capture_default_str();
}

/// The base setting the one-factor sweeps vary: SGD with momentum 0.9 at lr 0.05, cosine
/// annealing over the epochs, weight decay 5e-4, the augmentation on.
inline experiment::Config base_setting(std::size_t batch_size, std::size_t epochs) {
  experiment::Config c;
  c.optimizer = "sgd";
  c.momentum = 0.9;
  c.lr = 0.05;
  c.batch_size = batch_size;
  c.epochs = epochs;
  c.schedule = "cosine";
  c.weight_decay = 5e-4;
  c.augment = true;
  return c;
}

}  // namespace examples
