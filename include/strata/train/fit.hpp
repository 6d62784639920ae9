#pragma once
// The trainer: epochs of shuffled mini-batches over an in-memory data set, with optional
// augmentation and mixup, a validation set evaluated after each epoch, per-epoch history
// (train and val loss and metric, lr, seconds), early stopping, callbacks, a progress bar,
// divergence detection, and checkpoints that resume exactly.
//
// Every random choice of epoch e (shuffling order, augmentation, mixup, dropout masks) is
// drawn from generators derived from (options.seed, model seed, e) alone, so that a fit
// resumed from a checkpoint after epoch e continues bit for bit as if it had not stopped.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iomanip>
#include <limits>
#include <numeric>
#include <optional>
#include <ostream>
#include <span>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../data/augment.hpp"
#include "../data/dataset.hpp"
#include "../data/mixup.hpp"
#include "metrics.hpp"
#include "model.hpp"
#include "progress.hpp"

namespace strata {

enum class ScheduleStep { per_epoch, per_batch };

/// What early stopping watches.
enum class Monitor { val_loss, val_metric, train_loss };

struct EarlyStopping {
  std::size_t patience = 0;  ///< epochs without improvement before stopping; 0 turns early stopping off
  double min_delta = 0.0;    ///< an improvement must beat the best value by more than this
  Monitor monitor = Monitor::val_loss;
  bool restore_best = true;  ///< at the end, put back the parameters (and buffers) of the best epoch
};

struct EpochRecord {
  std::size_t epoch = 0;  ///< 1-based
  double train_loss = 0;  ///< mean over the epoch's samples (train mode, after augmentation and mixup)
  std::optional<double> train_metric = {};
  std::optional<double> val_loss = {};  ///< eval mode, when a validation set is given
  std::optional<double> val_metric = {};
  double lr = 0;             ///< learning rate used by the epoch's first step
  double seconds = 0;        ///< the whole epoch, validation included
  double train_seconds = 0;  ///< the training steps alone
};

/// One record per finished epoch.
using History = std::vector<EpochRecord>;

/// Writes a history as CSV: epoch,train_loss,train_<metric>,val_loss,val_<metric>,lr,seconds
/// (empty fields where a value was not measured).
inline void write_csv(std::ostream& os, const History& h, const std::string& metric_name = "metric") {
  os << "epoch,train_loss,train_" << metric_name << ",val_loss,val_" << metric_name << ",lr,seconds,train_seconds\n";
  auto opt = [&](const std::optional<double>& v) {
    if (v) os << *v;
  };
  os << std::setprecision(9);
  for (const auto& r : h) {
    os << r.epoch << ',' << r.train_loss << ',';
    opt(r.train_metric);
    os << ',';
    opt(r.val_loss);
    os << ',';
    opt(r.val_metric);
    os << ',' << r.lr << ',' << r.seconds << ',' << r.train_seconds << '\n';
  }
}

/// Lets a callback stop training after the epoch it is called for.
struct FitControl {
  bool stop = false;
  std::string reason;
};
using Callback = std::function<void(const EpochRecord&, FitControl&)>;

/// Everything besides the model that a resumed fit needs: the epochs done, their history,
/// and the early-stopping state (best value, its epoch, epochs waited, best parameters).
struct FitState {
  std::size_t epoch = 0;  ///< epochs finished
  History history;
  double best = std::numeric_limits<double>::quiet_NaN();
  std::size_t best_epoch = 0;
  std::size_t wait = 0;
  std::vector<double> best_parameters, best_buffers;  ///< only with early stopping and restore_best
};

/// Saving and restoring checkpoints, set by train/checkpoint.hpp (strata::checkpoints): fit
/// calls `restore` once before the first epoch (true: the model and the state were loaded)
/// and `save` after every `every` epochs and after the last one.
struct CheckpointHook {
  std::function<void(const FitState&)> save;
  std::function<bool(FitState&)> restore;
  std::size_t every = 1;
};

struct FitOptions {
  std::size_t epochs = 10;
  std::size_t batch_size = 32;
  bool shuffle = true;
  std::uint64_t seed = 0;  ///< shuffling, augmentation, mixup and dropout draws
  ScheduleStep schedule_step = ScheduleStep::per_epoch;
  std::ostream* log = nullptr;  ///< progress and one line per epoch, when set
  Progress progress = Progress::automatic;
  metric::Metric metric = {};   ///< reported for train and val; automatic: accuracy or RMSE by the loss
  augment::Pipeline augment = {};  ///< applied to each training batch (inputs of rank 3: C x H x W)
  double mixup_alpha = 0.0;     ///< > 0: mixup with Beta(alpha, alpha); needs SoftCrossEntropy or MSE over classes
  EarlyStopping early_stopping = {};
  std::vector<Callback> callbacks = {};
  CheckpointHook checkpoint = {};
  std::size_t eval_batch_size = 256;
};

enum class FitStatus { completed, diverged, stopped_early, stopped_by_callback };

struct FitResult {
  FitStatus status = FitStatus::completed;
  std::size_t diverged_step = 0;   ///< global step (1-based) whose loss, gradients or updated parameters were not finite
  std::size_t diverged_epoch = 0;  ///< 1-based
  /// What was not finite when training diverged: "loss" (the training loss; that step was
  /// not taken), "gradient" (a finite loss but non-finite gradients, which the step carried
  /// into the parameters), "parameter" (finite loss and gradients, but the update overflowed)
  /// or "val_loss" (the validation loss after an epoch). Empty unless diverged.
  std::string diverged_reason;
  std::string message;             ///< why training stopped, when it did not complete
  History history;
  std::string metric_name;         ///< the metric in history (e.g. "accuracy", "rmse")
  std::size_t best_epoch = 0;      ///< with early stopping: the epoch whose parameters the model holds
  std::size_t resumed_after = 0;   ///< epochs restored from a checkpoint (0: fresh start)
  bool diverged() const { return status == FitStatus::diverged; }
  bool stopped_early() const { return status == FitStatus::stopped_early; }
};

namespace detail {

/// Whether class-index targets (one row) may be expanded to one-hot rows for loss L on
/// Out: SoftCrossEntropy, or MSE over K >= 2 outputs (as people use it for classification).
template <class L, class Out, std::size_t ModelTargetRows>
inline constexpr bool one_hot_targets_v =
    (std::is_same_v<L, loss::SoftCrossEntropy> || std::is_same_v<L, loss::MSE>) && Out::rank == 1 &&
    Out::size >= 2 && ModelTargetRows == Out::size;

template <class M, class DataTargetShape>
constexpr bool expand_labels() {
  constexpr std::size_t mt = M::TargetShape::size;
  if constexpr (DataTargetShape::size == 1 && mt > 1)
    return one_hot_targets_v<typename M::LossType, typename M::OutputShape, mt>;
  return false;
}

template <class M, class DataTargetShape>
constexpr void check_fit_data() {
  if constexpr (!expand_labels<M, DataTargetShape>())
    check_target_rows<typename M::LossType, typename M::OutputShape, M::TargetShape::size,
                      static_cast<int>(DataTargetShape::size)>();
}

inline std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b) {
  return a ^ (b * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL + (a << 6) + (a >> 2));
}

template <class M>
using MetricOf = metric::Accumulator<typename M::BoundLoss, M::OutputShape::size, M::TargetShape::size,
                                     M::has_accuracy>;

/// Mean loss of `model` over (x, y) in eval mode, feeding `acc` on the way.
template <class M, class X, class Y, class Acc>
double evaluate_with(M& model, const X& x, const Y& y, std::size_t batch_size, Acc& acc) {
  using T = typename M::Scalar;
  constexpr std::size_t in_rows = M::InputShape::size, t_rows = M::TargetShape::size;
  auto& net = model.network();
  const auto n = static_cast<std::size_t>(x.cols());
  const Mode before = net.mode();
  net.set_mode(Mode::eval);
  double loss_sum = 0;
  acc.reset();
  for (std::size_t s = 0; s < n; s += batch_size) {
    const std::size_t b = std::min(batch_size, n - s);
    const auto out = net.forward(x.data() + s * in_rows, b);
    const ConstColumnsMap<T, t_rows> target(y.data() + s * t_rows, t_rows, static_cast<Eigen::Index>(b));
    loss_sum += model.loss().value_and_gradient(out, target, static_cast<T*>(nullptr)) * static_cast<double>(b);
    acc.add(out, target);
  }
  net.set_mode(before);
  return n ? loss_sum / static_cast<double>(n) : 0.0;
}

/// Class-index rows expanded to one-hot columns.
template <std::size_t Classes, class T, int Rows>
Columns<T, Classes> one_hot_columns(const Eigen::Matrix<T, Rows, Eigen::Dynamic>& labels) {
  Columns<T, Classes> out(Classes, labels.cols());
  data::one_hot(labels.data(), static_cast<std::size_t>(labels.cols()), Classes, out.data());
  return out;
}

inline std::string format_record(const EpochRecord& r, std::size_t epochs, const std::string& metric_name) {
  std::ostringstream o;
  o << "epoch " << r.epoch << '/' << epochs << "  loss " << std::setprecision(5) << r.train_loss;
  if (r.train_metric) o << "  " << metric_name << ' ' << *r.train_metric;
  if (r.val_loss) o << "  val_loss " << *r.val_loss;
  if (r.val_metric) o << "  val_" << metric_name << ' ' << *r.val_metric;
  o << "  lr " << std::setprecision(4) << r.lr << "  " << std::setprecision(3) << r.seconds << " s";
  return o.str();
}

template <class T>
std::vector<double> snapshot(std::span<const T> s) {
  return std::vector<double>(s.begin(), s.end());
}
template <class T>
void restore(std::span<T> dst, const std::vector<double>& src) {
  for (std::size_t i = 0; i < dst.size(); ++i) dst[i] = static_cast<T>(src[i]);
}

/// Whether every value in `v` is finite, in one vectorised pass over the buffer: x * 0 is 0
/// for a finite x and NaN for an infinite or NaN one, and a NaN survives the sum. Costs
/// about one memory read of the buffer (see fit: checked after every step).
template <class T>
bool all_finite(std::span<const T> v) {
  const Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> a(v.data(), static_cast<Eigen::Index>(v.size()));
  return (a * T(0)).sum() == T(0);
}

/// The trainer behind both fit overloads; `val` may be null.
template <class M, class InShape, class TargetShape, class T>
FitResult fit_impl(M& model, const Dataset<InShape, TargetShape, T>& train, const Dataset<InShape, TargetShape, T>* val,
                   const FitOptions& options) {
  static_assert(std::is_same_v<InShape, typename M::InputShape>,
                "fit: the data set's input shape differs from the network's input shape");
  static_assert(std::is_same_v<T, typename M::Scalar>, "fit: the data set's scalar type differs from the model's");
  check_fit_data<M, TargetShape>();
  constexpr bool expand = expand_labels<M, TargetShape>();
  constexpr std::size_t in_rows = InShape::size;
  constexpr std::size_t d_rows = TargetShape::size;       // target rows in the data
  constexpr std::size_t t_rows = M::TargetShape::size;    // target rows the loss takes

  if (options.batch_size == 0) throw option_error("strata: fit batch_size must be > 0");
  if (options.eval_batch_size == 0) throw option_error("strata: fit eval_batch_size must be > 0");
  if (!(options.mixup_alpha >= 0 && std::isfinite(options.mixup_alpha)))
    throw option_error("strata: fit mixup_alpha must be finite and >= 0, got " + std::to_string(options.mixup_alpha));
  if (options.mixup_alpha > 0 && !expand)
    throw option_error(std::string("strata: mixup needs soft targets: use loss::SoftCrossEntropy (or MSE over the "
                                   "classes) with class-index data; the model's loss is ") +
                       M::LossType::name + " with " + std::to_string(t_rows) + " target rows");
  if (!options.augment.empty() && InShape::rank != 3)
    throw option_error("strata: fit augmentation needs image inputs (C x H x W); the input shape is " +
                       InShape::to_string());
  const auto& es = options.early_stopping;
  if (es.patience > 0 && es.monitor != Monitor::train_loss && val == nullptr)
    throw option_error("strata: early stopping on validation needs a validation set: call fit(model, train, val, "
                       "options), or set early_stopping.monitor = Monitor::train_loss");
  if (!(es.min_delta >= 0 && std::isfinite(es.min_delta)))
    throw option_error("strata: early_stopping.min_delta must be finite and >= 0");
  if (options.checkpoint.every == 0) throw option_error("strata: checkpoint.every must be >= 1");
  const std::size_t n = train.size();
  if (n == 0) throw data_error("strata: fit got an empty training set");
  if (val != nullptr && val->size() == 0) throw data_error("strata: fit got an empty validation set");

  MetricOf<M> train_acc(options.metric, model.loss(), static_cast<double>(M::accuracy_units_per_sample()));
  MetricOf<M> val_acc = train_acc;
  const std::string metric_name = train_acc.metric().name();
  if (es.patience > 0 && es.monitor == Monitor::val_metric && !train_acc.enabled())
    throw option_error("strata: early stopping monitors val_metric, but no metric applies to this loss");

  // Validation targets as the loss takes them.
  Columns<T, t_rows> val_y;
  if (val != nullptr) {
    if constexpr (expand) val_y = one_hot_columns<t_rows>(val->y);
    else val_y = val->y;
  }

  const std::size_t cap = std::min(options.batch_size, n);
  const auto capi = static_cast<Eigen::Index>(cap);
  Columns<T, in_rows> xb(in_rows, capi), mix_scratch;
  Columns<T, d_rows> yb(d_rows, capi);
  Columns<T, t_rows> yt;
  if constexpr (expand) yt.resize(t_rows, capi);
  if (options.mixup_alpha > 0) mix_scratch.resize(in_rows, capi);
  std::vector<T> augment_workspace;
  if constexpr (InShape::rank == 3)
    if (!options.augment.empty())
      augment_workspace.resize(std::min(augment::Pipeline::workspace_size(InShape::dims[0], InShape::dims[1],
                                                                          InShape::dims[2]),
                                        in_rows * cap));
  std::vector<std::size_t> order(n);
  const std::size_t batches_per_epoch = (n + options.batch_size - 1) / options.batch_size;
  const Rng base(mix_seed(options.seed, model.config().seed));
  const std::uint64_t augment_seed = mix_seed(options.seed, 0x61756700ULL);

  FitResult result;
  result.metric_name = metric_name;
  FitState state;
  if (options.checkpoint.restore && options.checkpoint.restore(state)) {
    result.resumed_after = state.epoch;
    result.history = state.history;
  }
  const bool track_best = es.patience > 0;
  const bool lower_better = es.monitor != Monitor::val_metric || !train_acc.metric().higher_is_better();
  detail::ProgressBar progress(options.log, options.progress);
  if (result.resumed_after > 0)
    progress.message("resumed after epoch " + std::to_string(result.resumed_after) + " of " +
                     std::to_string(options.epochs));

  auto save_checkpoint = [&] {
    if (options.checkpoint.save) options.checkpoint.save(state);
  };
  // Whether finish puts back the best epoch's parameters: when the model moved on from them
  // (a later epoch, or a diverged step inside the epoch after the best one).
  auto restores_best = [&](FitStatus status) {
    return track_best && es.restore_best && state.best_epoch > 0 && !state.best_parameters.empty() &&
           (state.best_epoch != state.epoch || status == FitStatus::diverged);
  };
  auto finish = [&](FitStatus status, std::string message) {
    result.status = status;
    result.message = std::move(message);
    if (restores_best(status)) {
      restore(model.network().parameters(), state.best_parameters);
      restore(model.network().buffers(), state.best_buffers);
    }
    result.best_epoch = track_best ? state.best_epoch : 0;
    if (!result.message.empty()) progress.message(result.message);
    return result;
  };

  // `now`: what the parameters are unless those of the best epoch are put back.
  auto diverged = [&](std::size_t step, std::size_t epoch, const char* reason, const std::string& what,
                      const std::string& now) {
    result.diverged_step = step;
    result.diverged_epoch = epoch;
    result.diverged_reason = reason;
    const std::string params = restores_best(FitStatus::diverged)
                                   ? "the parameters of the best epoch (" + std::to_string(state.best_epoch) +
                                         ") are restored"
                                   : now;
    return finish(FitStatus::diverged, "strata: training diverged: " + what + "; " + params +
                                           ". Lower the learning rate or clip gradients.");
  };

  // A fit that stopped early and saved its last checkpoint is over: run again (after a kill
  // between that save and the end of the process), it ends the same way instead of training on.
  if (result.resumed_after > 0 && track_best && state.wait >= es.patience)
    return finish(FitStatus::stopped_early, "early stopping after epoch " + std::to_string(state.epoch) +
                                                ": no improvement for " + std::to_string(es.patience) +
                                                " epochs; best epoch " + std::to_string(state.best_epoch));

  for (std::size_t epoch = state.epoch + 1; epoch <= options.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    const Rng er = base.fork(epoch);
    Rng shuffle_rng = er.fork(0), mix_rng = er.fork(1);
    model.network().rng() = er.fork(2);
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (options.shuffle) shuffle(order.begin(), order.end(), shuffle_rng);

    EpochRecord rec;
    rec.epoch = epoch;
    rec.lr = model.lr();
    double loss_sum = 0;
    train_acc.reset();
    progress.start_epoch(epoch, options.epochs, n);
    std::size_t batch_index = (epoch - 1) * batches_per_epoch;
    for (std::size_t s = 0; s < n; s += options.batch_size, ++batch_index) {
      const std::size_t b = std::min(options.batch_size, n - s);
      for (std::size_t k = 0; k < b; ++k) {
        const auto src = static_cast<Eigen::Index>(order[s + k]);
        xb.col(static_cast<Eigen::Index>(k)) = train.x.col(src);
        yb.col(static_cast<Eigen::Index>(k)) = train.y.col(src);
      }
      if (!options.augment.empty()) {
        if constexpr (InShape::rank == 3)
          options.augment.apply_batch(xb.data(), b, InShape::dims[0], InShape::dims[1], InShape::dims[2],
                                      augment_seed, batch_index, augment_workspace.data(),
                                      augment_workspace.size());
      }
      const T* y_used = yb.data();
      if constexpr (expand) {
        if (options.mixup_alpha > 0)
          data::mixup(xb.data(), in_rows, yb.data(), t_rows, yt.data(), b, options.mixup_alpha, mix_rng,
                      mix_scratch.data());
        else
          data::one_hot(yb.data(), b, t_rows, yt.data());
        y_used = yt.data();
      }
      const StepResult r = model.train_step(xb.data(), y_used, b);
      if (!r.finite) {
        const std::size_t step = model.steps() + 1;
        return diverged(step, epoch, "loss",
                        "loss is " + std::to_string(r.loss) + " at step " + std::to_string(step) + " (epoch " +
                            std::to_string(epoch) + ")",
                        "parameters are those before that step");
      }
      // A finite loss does not make a finite step: a NaN can reach the gradients (from a
      // backward pass that is less stable than its forward pass, say) or the update can
      // overflow (a huge learning rate). Either shows in the parameters now, checked in one
      // pass over the flat buffer; the gradients, still in place, tell which.
      if (!all_finite(std::span<const T>(model.network().parameters()))) {
        const bool gradient = !all_finite(std::span<const T>(model.network().gradients()));
        const std::string at = " at step " + std::to_string(model.steps()) + " (epoch " + std::to_string(epoch) + ")";
        return diverged(model.steps(), epoch, gradient ? "gradient" : "parameter",
                        (gradient ? "the gradients are not finite" + at + " although the loss is " +
                                        std::to_string(r.loss) + ", and the step made the parameters non-finite"
                                  : "the update" + at + " made the parameters non-finite (loss " +
                                        std::to_string(r.loss) + " and gradients finite)"),
                        "the parameters are not finite (resume from a checkpoint, or use early stopping with "
                        "restore_best)");
      }
      loss_sum += r.loss * static_cast<double>(b);
      if (train_acc.enabled()) {
        const ConstColumnsMap<T, t_rows> target(y_used, t_rows, static_cast<Eigen::Index>(b));
        train_acc.add(model.network().output(), target);
      }
      if (options.schedule_step == ScheduleStep::per_batch) model.step_schedule();
      progress.update(s + b, loss_sum / static_cast<double>(s + b));
    }
    if (options.schedule_step == ScheduleStep::per_epoch) model.step_schedule();
    rec.train_loss = loss_sum / static_cast<double>(n);
    if (train_acc.enabled()) rec.train_metric = train_acc.value();
    rec.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (val != nullptr) {
      rec.val_loss = evaluate_with(model, val->x, val_y, options.eval_batch_size, val_acc);
      if (val_acc.enabled()) rec.val_metric = val_acc.value();
    }
    rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    result.history.push_back(rec);
    state.epoch = epoch;
    state.history = result.history;
    progress.end_epoch(format_record(rec, options.epochs, metric_name));

    if (rec.val_loss && !std::isfinite(*rec.val_loss))
      return diverged(model.steps(), epoch, "val_loss",
                      "validation loss is " + std::to_string(*rec.val_loss) + " after epoch " + std::to_string(epoch),
                      "the parameters are those of that epoch");

    // Early stopping.
    bool stop_early = false;
    if (track_best) {
      const double v = es.monitor == Monitor::train_loss ? rec.train_loss
                       : es.monitor == Monitor::val_loss ? *rec.val_loss
                                                         : rec.val_metric.value_or(std::nan(""));
      const bool improved = state.best_epoch == 0 || (lower_better ? v < state.best - es.min_delta
                                                                    : v > state.best + es.min_delta);
      if (improved) {
        state.best = v;
        state.best_epoch = epoch;
        state.wait = 0;
        if (es.restore_best) {
          state.best_parameters = snapshot(std::span<const T>(model.network().parameters()));
          state.best_buffers = snapshot(std::span<const T>(model.network().buffers()));
        }
      } else {
        stop_early = ++state.wait >= es.patience;
      }
    }
    FitControl control;
    for (const auto& cb : options.callbacks) cb(rec, control);

    const bool last = epoch == options.epochs || stop_early || control.stop;
    if (epoch % options.checkpoint.every == 0 || last) save_checkpoint();
    if (stop_early)
      return finish(FitStatus::stopped_early,
                    "early stopping after epoch " + std::to_string(epoch) + ": no improvement for " +
                        std::to_string(es.patience) + " epochs; best epoch " + std::to_string(state.best_epoch));
    if (control.stop)
      return finish(FitStatus::stopped_by_callback,
                    "stopped by a callback after epoch " + std::to_string(epoch) +
                        (control.reason.empty() ? std::string() : ": " + control.reason));
  }
  return finish(FitStatus::completed, "");
}

}  // namespace detail

/// Trains `model` on `train` for options.epochs epochs.
///
/// **Example**:
/// ```
/// auto result = fit(model, data::spirals(500), {.epochs = 200, .batch_size = 32});
/// if (result.diverged()) std::cerr << result.message << "\n";
/// ```
template <class M, class InShape, class TargetShape, class T>
FitResult fit(M& model, const Dataset<InShape, TargetShape, T>& train, const FitOptions& options) {
  return detail::fit_impl(model, train, static_cast<const Dataset<InShape, TargetShape, T>*>(nullptr), options);
}

/// The same with a validation set evaluated (eval mode) after every epoch.
///
/// **Example**:
/// ```
/// auto r = fit(model, split.train, split.val,
///              {.epochs = 100, .batch_size = 50, .log = &std::cout,
///               .augment = augment::rotate(45) | augment::shear(20, 0.4),
///               .early_stopping = {.patience = 10}});
/// ```
template <class M, class InShape, class TargetShape, class T>
FitResult fit(M& model, const Dataset<InShape, TargetShape, T>& train, const Dataset<InShape, TargetShape, T>& val,
              const FitOptions& options) {
  return detail::fit_impl(model, train, &val, options);
}

/// Loss and metric of `model` on a data set, in eval mode.
struct Report {
  double loss = 0;
  std::optional<double> metric;
  std::string metric_name;
  std::size_t samples = 0;
};

/// Loss and accuracy of `model` on a data set, in eval mode.
template <class M, class InShape, class TargetShape, class T>
Evaluation evaluate(M& model, const Dataset<InShape, TargetShape, T>& data, std::size_t batch_size = 256) {
  return model.evaluate(data.x, data.y, batch_size);
}

/// Loss and `metric` (e.g. metric::top_k(5), metric::rmse(target_std)) of `model` on a data
/// set, in eval mode; class-index targets are expanded to one-hot rows where the loss takes them.
template <class M, class InShape, class TargetShape, class T>
Report evaluate(M& model, const Dataset<InShape, TargetShape, T>& data, metric::Metric m,
                std::size_t batch_size = 256) {
  static_assert(std::is_same_v<InShape, typename M::InputShape>,
                "evaluate: the data set's input shape differs from the network's input shape");
  detail::check_fit_data<M, TargetShape>();
  if (batch_size == 0) throw option_error("strata: batch size must be > 0");
  detail::MetricOf<M> acc(m, model.loss(), static_cast<double>(M::accuracy_units_per_sample()));
  Report r;
  r.samples = data.size();
  r.metric_name = acc.metric().name();
  if constexpr (detail::expand_labels<M, TargetShape>()) {
    const auto y = detail::one_hot_columns<M::TargetShape::size>(data.y);
    r.loss = detail::evaluate_with(model, data.x, y, batch_size, acc);
  } else {
    r.loss = detail::evaluate_with(model, data.x, data.y, batch_size, acc);
  }
  if (acc.enabled() && data.size() > 0) r.metric = acc.value();
  return r;
}

}  // namespace strata
