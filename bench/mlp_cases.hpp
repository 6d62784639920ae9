#pragma once
// The MLP training-step cases shared by bench/bench_mlp.cpp (Google Benchmark) and
// bench/peers/mlp_strata.cpp (side by side with PyTorch, LibTorch and dlib):
//   mlp_small_b10   MLP 2-16-16-1 (ReLU), MSE, Adam 1e-3, batch 10
//   mlp_small_b400  the same at batch 400
//   mlp_784_b50     MLP 784-100-50-10 (ReLU), cross-entropy, Adam 1e-3, batch 50
// Each step draws the next batch from a pool of 64 fixed random batches.
#include <strata/strata.hpp>

#include <cstddef>
#include <vector>

namespace strata::bench {

using SmallMlp = Sequential<Input<2>, Dense<16>, ReLU, Dense<16>, ReLU, Dense<1>>;
using MnistMlp = Sequential<Input<784>, Dense<100>, ReLU, Dense<50>, ReLU, Dense<10>>;

template <class Net, class Loss>
struct Case {
  using ModelType = Model<Net, Loss, optim::Adam>;
  static constexpr std::size_t in = Net::InputShape::size;
  static constexpr std::size_t tgt = ModelType::TargetShape::size;
  static constexpr std::size_t pool = 64;

  ModelType model{{.optimizer = {.lr = 1e-3}, .seed = 0}};
  std::size_t batch;
  Columns<float, in> x;
  Columns<float, tgt> y;
  std::size_t next = 0;

  explicit Case(std::size_t b) : batch(b) {
    const auto n = static_cast<Eigen::Index>(b * pool);
    Rng rng(1);
    x.resize(in, n);
    y.resize(tgt, n);
    for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.normal());
    for (Eigen::Index i = 0; i < y.size(); ++i) {
      if constexpr (tgt == 1 && Net::OutputShape::size > 1)
        y.data()[i] = static_cast<float>(rng.below(Net::OutputShape::size));
      else
        y.data()[i] = static_cast<float>(rng.normal());
    }
  }

  /// One training step on the next pooled batch; returns the loss.
  double step() {
    const std::size_t k = next++ % pool;
    return model.train_step(x.data() + k * batch * in, y.data() + k * batch * tgt, batch).loss;
  }
};

using SmallCase = Case<SmallMlp, loss::MSE>;
using MnistCase = Case<MnistMlp, loss::CrossEntropy>;

}  // namespace strata::bench
