#pragma once
// Model<Net, Loss, Optimizer, Schedule, Backend, T>: a network with its loss, optimizer
// (and its state) and learning-rate schedule. One train_step is forward, loss, backward,
// optional clipping, and one fused optimizer pass over the flat parameter buffer.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/concepts.hpp"
#include "../core/denormals.hpp"
#include "../core/error.hpp"
#include "../net/network.hpp"
#include "../optim/clip.hpp"
#include "../schedule/constant.hpp"

namespace strata {

namespace detail {
/// Fires when a batch's target rows do not fit the loss; the template arguments name
/// the loss, the network output and the target shape the loss expects.
template <class Loss, class OutShape, std::size_t ExpectedRows, int GivenRows>
constexpr void check_target_rows() {
  static_assert(GivenRows == Eigen::Dynamic || GivenRows == static_cast<int>(ExpectedRows),
                "the targets do not fit the loss: Loss::For<net output shape>::TargetShape gives the rows each "
                "target column must have (one class index per sample for CrossEntropy)");
}
/// A loss bound to the network's output shape: the loss itself, or Loss::Bound<Out> for
/// losses that need the shape's structure (loss::PerHead).
template <class Loss, class Out>
struct BindLoss {
  using type = Loss;
};
template <class Loss, class Out>
  requires requires { typename Loss::template Bound<Out>; }
struct BindLoss<Loss, Out> {
  using type = typename Loss::template Bound<Out>;
};

/// Whether a (bound) loss defines accuracy for these output and target rows.
template <class Loss, std::size_t OutRows, std::size_t TargetRows>
inline constexpr bool has_accuracy_v = requires(const Loss& l, ConstColumnsMap<float, OutRows> o,
                                                ConstColumnsMap<float, TargetRows> t) { l.count_correct(o, t); };
}  // namespace detail

/// Result of one training step.
struct StepResult {
  double loss = 0;       ///< mean loss of the batch (before the update)
  bool finite = true;    ///< false when the loss was NaN or infinite; parameters were then left untouched
  double grad_norm = -1; ///< global gradient norm before clipping, when clipping is on
};

/// Loss (and accuracy where the loss defines one) over a data set.
struct Evaluation {
  double loss = 0;
  std::optional<double> accuracy;
  std::size_t samples = 0;
};

template <class Net, Loss LossT, Optimizer Opt, Schedule Sched = schedule::Constant, class Backend = backend::Cpu,
          class T = float>
class Model {
 public:
  using NetworkType = Network<Net, T, Backend>;
  using InputShape = typename Net::InputShape;
  using OutputShape = typename Net::OutputShape;
  using TargetShape = typename LossT::template For<OutputShape>::TargetShape;
  using Scalar = T;
  using LossType = LossT;
  /// The loss as used: LossT bound to OutputShape (LossT itself for ordinary losses).
  using BoundLoss = typename detail::BindLoss<LossT, OutputShape>::type;
  using OptimizerType = Opt;
  using ScheduleType = Sched;
  static constexpr bool has_accuracy = detail::has_accuracy_v<BoundLoss, OutputShape::size, TargetShape::size>;

  struct Config {
    Opt optimizer{};
    Sched schedule{};
    LossT loss{};
    std::uint64_t seed = 0;
    double clip_grad_norm = 0;  ///< 0: no clipping
    bool decay_biases = true;   ///< false: weight decay skips segments marked is_bias
    bool flush_denormals = true;  ///< FTZ/DAZ inside train_step (see core/denormals.hpp)
    double dropout = 0.0;         ///< rate of every `Dropout` layer (runtime hyperparameter)
  };

  /// Validates every setting (throws strata::option_error) and initialises the network
  /// from config.seed as PyTorch would.
  explicit Model(Config config = {}) : config_(std::move(config)), net_(config_.seed), loss_(config_.loss) {
    config_.optimizer.validate();
    config_.schedule.validate();
    config_.loss.validate();
    if (!(config_.clip_grad_norm >= 0 && std::isfinite(config_.clip_grad_norm)))
      throw option_error("strata: clip_grad_norm must be finite and >= 0 (0 disables clipping)");
    net_.set_dropout_rate(config_.dropout);
    config_.optimizer.init_state(state_, NetworkType::parameter_count);
    build_decay_runs();
  }

  NetworkType& network() { return net_; }
  const NetworkType& network() const { return net_; }
  const Config& config() const { return config_; }
  const Opt& optimizer() const { return config_.optimizer; }
  const BoundLoss& loss() const { return loss_; }
  const typename Opt::template State<T>& optimizer_state() const { return state_; }
  /// The optimizer state, writable: for restoring a checkpoint (see train/checkpoint.hpp).
  /// Arrays must keep the sizes init_state gave them.
  typename Opt::template State<T>& optimizer_state_mut() { return state_; }

  /// The learning rate the next step uses: schedule(base lr, schedule steps so far).
  double lr() const { return config_.schedule.lr(config_.optimizer.lr, schedule_steps_); }
  /// Sets the base learning rate (validated).
  void set_lr(double lr) {
    Opt o = config_.optimizer;
    o.lr = lr;
    o.validate();
    config_.optimizer = o;
  }
  /// Advances the schedule by one step (call per epoch or per batch).
  void step_schedule() { ++schedule_steps_; }
  std::size_t schedule_steps() const { return schedule_steps_; }
  std::size_t steps() const { return steps_; }
  /// Sets the train-step and schedule-step counters, as when resuming from a checkpoint.
  void restore_counters(std::size_t steps, std::size_t schedule_steps) {
    steps_ = steps;
    schedule_steps_ = schedule_steps;
  }

  /// One step on a batch: x is InputShape::size x B, y is TargetShape::size x B.
  template <class X, class Y>
  StepResult train_step(const Eigen::MatrixBase<X>& x, const Eigen::MatrixBase<Y>& y) {
    detail::check_target_rows<LossT, OutputShape, TargetShape::size, Y::RowsAtCompileTime>();
    NetworkType::check_input(x);
    check_targets(y, x.cols());
    return train_step(x.derived().data(), y.derived().data(), static_cast<std::size_t>(x.cols()));
  }

  /// The same on raw contiguous columns.
  StepResult train_step(const T* x, const T* y, std::size_t batch) {
    if (batch == 0) throw option_error("strata: batch size must be > 0");
    const ScopedFlushDenormals ftz(config_.flush_denormals);
    net_.set_mode(Mode::train);
    const auto out = net_.forward(x, batch);
    const ConstColumnsMap<T, TargetShape::size> target(y, TargetShape::size, static_cast<Eigen::Index>(batch));
    T* grad = net_.output_gradient().data();
    StepResult r;
    r.loss = loss_.value_and_gradient(out, target, grad);
    r.finite = std::isfinite(r.loss);
    if (!r.finite) return r;
    net_.backward();
    if (config_.clip_grad_norm > 0) r.grad_norm = optim::clip_grad_norm(net_.gradients(), config_.clip_grad_norm);
    apply_update();
    ++steps_;
    return r;
  }

  /// Applies one optimizer update from the gradients currently in network().gradients().
  void apply_update() {
    const double lr_now = lr();
    config_.optimizer.begin_step(state_);
    T* p = net_.parameters().data();
    const T* g = net_.gradients().data();
    for (const auto& run : decay_runs_)
      config_.optimizer.step(state_, run.offset, p + run.offset, g + run.offset, run.size, lr_now, run.weight_decay);
  }

  /// Outputs in eval mode, batch by batch; x is InputShape::size x N.
  template <class X>
  Columns<T, OutputShape::size> predict(const Eigen::MatrixBase<X>& x, std::size_t batch_size = 256) {
    NetworkType::check_input(x);
    if (batch_size == 0) throw option_error("strata: batch size must be > 0");
    const auto n = static_cast<std::size_t>(x.cols());
    Columns<T, OutputShape::size> out(OutputShape::size, static_cast<Eigen::Index>(n));
    const Mode before = net_.mode();
    net_.set_mode(Mode::eval);
    for (std::size_t s = 0; s < n; s += batch_size) {
      const std::size_t b = std::min(batch_size, n - s);
      out.middleCols(static_cast<Eigen::Index>(s), static_cast<Eigen::Index>(b)) =
          net_.forward(x.derived().data() + s * InputShape::size, b);
    }
    net_.set_mode(before);
    return out;
  }

  /// Mean loss and, where the loss defines it, accuracy over (x, y) in eval mode.
  template <class X, class Y>
  Evaluation evaluate(const Eigen::MatrixBase<X>& x, const Eigen::MatrixBase<Y>& y, std::size_t batch_size = 256) {
    detail::check_target_rows<LossT, OutputShape, TargetShape::size, Y::RowsAtCompileTime>();
    NetworkType::check_input(x);
    check_targets(y, x.cols());
    if (batch_size == 0) throw option_error("strata: batch size must be > 0");
    const auto n = static_cast<std::size_t>(x.cols());
    const Mode before = net_.mode();
    net_.set_mode(Mode::eval);
    double loss_sum = 0;
    std::size_t correct = 0;
    for (std::size_t s = 0; s < n; s += batch_size) {
      const std::size_t b = std::min(batch_size, n - s);
      const auto out = net_.forward(x.derived().data() + s * InputShape::size, b);
      const ConstColumnsMap<T, TargetShape::size> target(y.derived().data() + s * TargetShape::size,
                                                         TargetShape::size, static_cast<Eigen::Index>(b));
      loss_sum += loss_.value_and_gradient(out, target, static_cast<T*>(nullptr)) * static_cast<double>(b);
      if constexpr (has_accuracy) correct += loss_.count_correct(out, target);
    }
    net_.set_mode(before);
    Evaluation e;
    e.samples = n;
    e.loss = n ? loss_sum / static_cast<double>(n) : 0.0;
    if constexpr (has_accuracy) {
      e.accuracy = n ? static_cast<double>(correct) / static_cast<double>(n * accuracy_units_per_sample()) : 0.0;
    }
    return e;
  }

  /// Number of decisions count_correct makes per sample (1 for argmax, R for element-wise).
  static constexpr std::size_t accuracy_units_per_sample() {
    if constexpr (requires { BoundLoss::template accuracy_units<OutputShape>(); })
      return BoundLoss::template accuracy_units<OutputShape>();
    else
      return 1;
  }

 private:
  template <class Y>
  static void check_targets(const Eigen::MatrixBase<Y>& y, Eigen::Index samples) {
    static_assert(std::is_same_v<typename Y::Scalar, T>, "target scalar type differs from the model's");
    if (static_cast<std::size_t>(y.rows()) != TargetShape::size)
      throw shape_error("strata: targets have " + std::to_string(y.rows()) + " rows per sample, but " +
                        std::string(LossT::name) + " on output " + OutputShape::to_string() + " needs " +
                        std::to_string(TargetShape::size));
    if (y.cols() != samples)
      throw shape_error("strata: " + std::to_string(samples) + " input samples but " + std::to_string(y.cols()) +
                        " targets");
    if (!has_contiguous_columns(y))
      throw shape_error("strata: target columns must be contiguous (pass a matrix or a block of whole columns)");
  }

  struct DecayRun {
    std::size_t offset, size;
    double weight_decay;
  };
  // Adjacent segments with the same weight decay are merged, so the default setting is one
  // fused pass over the whole buffer.
  void build_decay_runs() {
    decay_runs_.clear();
    for (const auto& s : Net::segments) {
      const double wd = (s.is_bias && !config_.decay_biases) ? 0.0 : config_.optimizer.weight_decay;
      if (!decay_runs_.empty() && decay_runs_.back().weight_decay == wd &&
          decay_runs_.back().offset + decay_runs_.back().size == s.offset)
        decay_runs_.back().size += s.size;
      else
        decay_runs_.push_back({s.offset, s.size, wd});
    }
  }

  Config config_;
  NetworkType net_;
  BoundLoss loss_;
  typename Opt::template State<T> state_;
  std::vector<DecayRun> decay_runs_;
  std::size_t steps_ = 0;
  std::size_t schedule_steps_ = 0;
};

}  // namespace strata
