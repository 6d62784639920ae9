#pragma once
// A minimal trainer over an in-memory data set: epochs of shuffled mini-batches, the
// schedule stepped per epoch or per batch, per-epoch history, and divergence detection
// (a NaN or infinite loss stops training with a status that names the step).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../data/dataset.hpp"
#include "model.hpp"

namespace strata {

enum class ScheduleStep { per_epoch, per_batch };

struct FitOptions {
  std::size_t epochs = 10;
  std::size_t batch_size = 32;
  bool shuffle = true;
  std::uint64_t seed = 0;  ///< shuffling order
  ScheduleStep schedule_step = ScheduleStep::per_epoch;
  std::ostream* log = nullptr;  ///< one line per epoch when set
};

struct EpochRecord {
  std::size_t epoch = 0;  ///< 1-based
  double train_loss = 0;  ///< mean over the epoch's batches, weighted by batch size
  std::optional<double> train_accuracy;
  double lr = 0;  ///< learning rate used by the epoch's first step
  double seconds = 0;
};

enum class FitStatus { completed, diverged };

struct FitResult {
  FitStatus status = FitStatus::completed;
  std::size_t diverged_step = 0;   ///< global step (1-based) whose loss was not finite
  std::size_t diverged_epoch = 0;  ///< 1-based
  std::string message;
  std::vector<EpochRecord> history;
  bool diverged() const { return status == FitStatus::diverged; }
};

/// Trains `model` on `train` for options.epochs epochs.
///
/// **Example**:
/// ```
/// auto result = fit(model, data::spirals(500), {.epochs = 200, .batch_size = 32});
/// if (result.diverged()) std::cerr << result.message << "\n";
/// ```
template <class M, class InShape, class TargetShape, class T>
FitResult fit(M& model, const Dataset<InShape, TargetShape, T>& train, const FitOptions& options) {
  static_assert(std::is_same_v<InShape, typename M::InputShape>,
                "fit: the data set's input shape differs from the network's input shape");
  detail::check_target_rows<typename M::LossType, typename M::OutputShape, M::TargetShape::size,
                            static_cast<int>(TargetShape::size)>();
  static_assert(std::is_same_v<T, typename M::Scalar>, "fit: the data set's scalar type differs from the model's");
  if (options.batch_size == 0) throw option_error("strata: fit batch_size must be > 0");
  const std::size_t n = train.size();
  if (n == 0) throw data_error("strata: fit got an empty training set");

  constexpr std::size_t in_rows = InShape::size;
  constexpr std::size_t t_rows = TargetShape::size;
  const std::size_t cap = std::min(options.batch_size, n);
  Columns<T, in_rows> xb(in_rows, static_cast<Eigen::Index>(cap));
  Columns<T, t_rows> yb(t_rows, static_cast<Eigen::Index>(cap));
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  Rng rng(options.seed);

  FitResult result;
  for (std::size_t epoch = 1; epoch <= options.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    if (options.shuffle) shuffle(order.begin(), order.end(), rng);
    EpochRecord rec;
    rec.epoch = epoch;
    rec.lr = model.lr();
    double loss_sum = 0;
    std::size_t correct = 0;
    for (std::size_t s = 0; s < n; s += options.batch_size) {
      const std::size_t b = std::min(options.batch_size, n - s);
      for (std::size_t k = 0; k < b; ++k) {
        const auto src = static_cast<Eigen::Index>(order[s + k]);
        xb.col(static_cast<Eigen::Index>(k)) = train.x.col(src);
        yb.col(static_cast<Eigen::Index>(k)) = train.y.col(src);
      }
      const StepResult r = model.train_step(xb.data(), yb.data(), b);
      if (!r.finite) {
        result.status = FitStatus::diverged;
        result.diverged_step = model.steps() + 1;
        result.diverged_epoch = epoch;
        result.message = "strata: training diverged: loss is " + std::to_string(r.loss) + " at step " +
                         std::to_string(result.diverged_step) + " (epoch " + std::to_string(epoch) +
                         "); parameters are those before that step. Lower the learning rate or clip gradients.";
        if (options.log) *options.log << result.message << "\n";
        return result;
      }
      loss_sum += r.loss * static_cast<double>(b);
      if constexpr (M::has_accuracy) {
        const auto out = model.network().output();
        const ConstColumnsMap<T, t_rows> target(yb.data(), t_rows, static_cast<Eigen::Index>(b));
        correct += model.loss().count_correct(out, target);
      }
      if (options.schedule_step == ScheduleStep::per_batch) model.step_schedule();
    }
    if (options.schedule_step == ScheduleStep::per_epoch) model.step_schedule();
    rec.train_loss = loss_sum / static_cast<double>(n);
    if constexpr (M::has_accuracy)
      rec.train_accuracy = static_cast<double>(correct) / static_cast<double>(n * M::accuracy_units_per_sample());
    rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    result.history.push_back(rec);
    if (options.log) {
      *options.log << "epoch " << epoch << "/" << options.epochs << "  loss " << rec.train_loss;
      if (rec.train_accuracy) *options.log << "  accuracy " << *rec.train_accuracy;
      *options.log << "  lr " << rec.lr << "  " << rec.seconds << " s\n";
    }
  }
  return result;
}

/// Loss and accuracy of `model` on a data set, in eval mode.
template <class M, class InShape, class TargetShape, class T>
Evaluation evaluate(M& model, const Dataset<InShape, TargetShape, T>& data, std::size_t batch_size = 256) {
  return model.evaluate(data.x, data.y, batch_size);
}

}  // namespace strata
