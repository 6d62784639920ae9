#pragma once
// Network<Net, T, Backend>: the run-time side of a Sequential. Owns the flat parameter
// buffer, the flat gradient buffer and the workspace, and runs forward and backward.
//
// Besides parameters and gradients, a network holds `Net::buffer_count` scalars of
// persistent non-trainable state (batch-norm running statistics), and a workspace of
// Net::workspace_per_sample scalars per sample (layout in net/stack.hpp), allocated once
// for the largest batch seen; smaller batches reuse it, so a training loop allocates
// nothing after its first step.
#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include "../backend/cpu.hpp"
#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"
#include "sequential.hpp"
#include "stack.hpp"

namespace strata {

template <class Net, class T = float, class Backend = backend::Cpu>
class Network {
  static_assert(is_sequential_v<Net>, "Network<Net, ...>: Net must be a Sequential<Input<...>, layers...>");
  static_assert(std::is_floating_point_v<T>, "Network<Net, T>: the scalar type must be float or double");

 public:
  using NetType = Net;
  using Scalar = T;
  using BackendType = Backend;
  using InputShape = typename Net::InputShape;
  using OutputShape = typename Net::OutputShape;
  static constexpr std::size_t parameter_count = Net::parameter_count;
  static constexpr std::size_t layer_count = Net::layer_count;

  /// Parameters initialised as PyTorch does by default, from `seed`.
  explicit Network(std::uint64_t seed = 0)
      : params_(parameter_count), grads_(parameter_count), buffers_(Net::buffer_count) {
    initialize(seed);
  }

  /// Re-draws every parameter. Layer i draws from its own stream, so adding a layer
  /// does not change the initial values of the others.
  void initialize(std::uint64_t seed) {
    const Rng base(seed);
    detail::init_stack<Net>(params_.data(), base, 0);
    detail::init_stack_buffers<Net>(buffers_.data());
    std::fill(grads_.begin(), grads_.end(), T(0));
    rng_ = base.fork(~std::uint64_t{0});
  }

  std::span<T> parameters() { return {params_.data(), params_.size()}; }
  std::span<const T> parameters() const { return {params_.data(), params_.size()}; }
  std::span<T> gradients() { return {grads_.data(), grads_.size()}; }
  std::span<const T> gradients() const { return {grads_.data(), grads_.size()}; }

  /// The parameters of one named tensor, e.g. parameters("0.weight").
  std::span<T> parameters(std::string_view name) { return slice(params_, Net::segments, name, "parameter"); }
  std::span<T> gradients(std::string_view name) { return slice(grads_, Net::segments, name, "parameter"); }

  /// Persistent non-trainable state (batch-norm running statistics), one flat array.
  std::span<T> buffers() { return {buffers_.data(), buffers_.size()}; }
  std::span<const T> buffers() const { return {buffers_.data(), buffers_.size()}; }
  std::span<T> buffers(std::string_view name) { return slice(buffers_, Net::buffer_segments, name, "buffer"); }

  /// The drop probability of every `Dropout` layer (a runtime hyperparameter), in [0, 1).
  void set_dropout_rate(double p) {
    if (!(p >= 0.0 && p < 1.0)) throw option_error("strata: dropout rate must be in [0, 1), got " + std::to_string(p));
    dropout_rate_ = p;
  }
  double dropout_rate() const { return dropout_rate_; }

  Mode mode() const { return mode_; }
  void set_mode(Mode m) { mode_ = m; }
  Rng& rng() { return rng_; }

  /// Makes room for batches of up to `batch` samples (the only allocation a step can make).
  void reserve(std::size_t batch) {
    if (batch <= capacity_) return;
    workspace_.resize(Net::workspace_per_sample * batch);
    capacity_ = batch;
  }
  std::size_t capacity() const { return capacity_; }

  /// Runs the stack on `batch` samples stored as contiguous columns at `x`
  /// (InputShape::size rows). `x` must stay alive until backward() returns.
  ConstColumnsMap<T, OutputShape::size> forward(const T* x, std::size_t batch) {
    if (batch == 0) throw option_error("strata: batch size must be > 0");
    reserve(batch);
    batch_ = batch;
    input_ = x;
    Runner::forward(memory(), x);
    return output();
  }
  template <class Derived>
  ConstColumnsMap<T, OutputShape::size> forward(const Eigen::MatrixBase<Derived>& x) {
    check_input(x);
    return forward(x.derived().data(), static_cast<std::size_t>(x.cols()));
  }

  /// The output of the last forward().
  ConstColumnsMap<T, OutputShape::size> output() const {
    return {workspace_.data() + batch_ * Net::activation_offsets[layer_count - 1], OutputShape::size,
            static_cast<Eigen::Index>(batch_)};
  }

  /// Where the caller writes d loss / d output (OutputShape::size x batch) before backward().
  ColumnsMap<T, OutputShape::size> output_gradient() {
    return {Runner::grad_buffer(memory(), 1), OutputShape::size, static_cast<Eigen::Index>(batch_)};
  }

  /// Back-propagates output_gradient() through the stack of the last forward(). Overwrites
  /// gradients() and, when `input_gradient` is non-null, writes d loss / d input there.
  void backward(T* input_gradient = nullptr) {
    const auto m = memory();
    Runner::backward(m, input_, Runner::grad_buffer(m, 1), input_gradient);
  }

  std::size_t batch() const { return batch_; }

  template <class Derived>
  static void check_input(const Eigen::MatrixBase<Derived>& x) {
    static_assert(std::is_same_v<typename Derived::Scalar, T>, "input scalar type differs from the network's");
    static_assert(Derived::RowsAtCompileTime == Eigen::Dynamic ||
                      Derived::RowsAtCompileTime == static_cast<int>(InputShape::size),
                  "input rows (features per sample) differ from the network's input shape size");
    if (static_cast<std::size_t>(x.rows()) != InputShape::size)
      throw shape_error("strata: input has " + std::to_string(x.rows()) + " rows per sample but the network's input " +
                        InputShape::to_string() + " needs " + std::to_string(InputShape::size) +
                        " (one sample per column)");
    if (!has_contiguous_columns(x))
      throw shape_error("strata: input columns must be contiguous (pass a matrix or a block of whole columns)");
  }

 private:
  template <class Table>
  static std::span<T> slice(AlignedVector<T>& v, const Table& table, std::string_view name, const char* kind) {
    for (const auto& s : table)
      if (s.name() == name) return {v.data() + s.offset, s.size};
    throw error("strata: no " + std::string(kind) + " tensor named '" + std::string(name) + "'");
  }

  using Runner = detail::StackRunner<Net, T, Backend>;

  detail::StackMemory<T> memory() {
    detail::StackMemory<T> m;
    m.params = params_.data();
    m.grads = grads_.data();
    m.buffers = buffers_.data();
    m.workspace = workspace_.data();
    m.batch = batch_;
    m.mode = mode_;
    m.rng = &rng_;
    m.dropout_rate = dropout_rate_;
    return m;
  }

  AlignedVector<T> params_, grads_, buffers_;
  AlignedVector<T> workspace_;
  std::size_t capacity_ = 0;
  std::size_t batch_ = 0;
  const T* input_ = nullptr;
  Mode mode_ = Mode::train;
  double dropout_rate_ = 0.0;
  Rng rng_;
};

}  // namespace strata
