#pragma once
// Shared pieces of the PyTorch parity tests: loading reference parameters into a
// strata network by state_dict name, and the forward/backward and training checks.
// The reference values come from tests/parity/make_reference.py
// (regenerate: /usr/bin/python3 tests/parity/make_reference.py); the settings of each
// case below must match the ones there.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <set>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <strata/strata.hpp>

#include "parity/reference.hpp"

namespace parity {

/// Norm-wise relative tolerance for float32 results.
inline constexpr double tolerance = 1e-5;

/// The state_dict names strata gives the network's tensors must be exactly those PyTorch
/// wrote under `prefix` (same layer numbering).
template <class Net>
void check_names(const Reference& ref, const std::string& prefix) {
  std::set<std::string> ours;
  for (const auto& s : Net::segments) ours.insert(s.name());
  const auto v = ref.names_under(prefix);
  const std::set<std::string> theirs(v.begin(), v.end());
  INFO("parameter names under " << prefix);
  REQUIRE(ours == theirs);
}

/// Copies PyTorch's tensors `prefix + <state_dict name>` into the flat parameter buffer.
template <class Net, class Params>
void load_parameters(const Reference& ref, const std::string& prefix, Params&& network) {
  check_names<Net>(ref, prefix);
  std::size_t loaded = 0;
  for (const auto& s : Net::segments) {
    const auto v = ref.floats(prefix + s.name(), static_cast<std::ptrdiff_t>(s.size));
    auto dst = network.parameters(s.name());
    REQUIRE(dst.size() == v.size());
    std::copy(v.begin(), v.end(), dst.begin());
    loaded += v.size();
  }
  REQUIRE(loaded == Net::parameter_count);
}

/// Norm-wise relative tolerance for double results against PyTorch in double: the
/// formulas must agree up to rounding.
inline constexpr double double_tolerance = 1e-12;

template <class T>
const char* precision_name() {
  return std::is_same_v<T, float> ? "float" : "double";
}

/// Reads a float32 entry in T (exactly: the values were float32 in PyTorch too).
template <class T>
std::vector<T> load_as(const Reference& ref, const std::string& name, std::ptrdiff_t expected = -1) {
  const auto v = ref.floats(name, expected);
  return std::vector<T>(v.begin(), v.end());
}

/// One forward and backward pass in T against the entries under `expected` (fwd/<name>/
/// for float, fwd64/<name>/ for double); parameters and data come from fwd/<name>/.
template <class Net, class LossT, class T>
void forward_backward_in(const std::string& name, LossT loss, const std::string& expected, double tol) {
  using In = typename Net::InputShape;
  using Out = typename Net::OutputShape;
  using Target = typename LossT::template For<Out>::TargetShape;
  const auto& ref = Reference::get("forward.txt");
  const std::string p = "fwd/" + name + "/";
  const std::string e = expected + name + "/";
  const std::string tag = std::string(" (") + precision_name<T>() + ")";
  const std::string what = name + tag;

  strata::Network<Net, T> net(0);
  load_parameters<Net>(ref, p + "param/", net);

  const auto x = load_as<T>(ref, p + "x");
  REQUIRE(x.size() % In::size == 0);
  const std::size_t batch = x.size() / In::size;
  const auto y = load_as<T>(ref, p + "y", static_cast<std::ptrdiff_t>(Target::size * batch));

  const auto out = net.forward(x.data(), batch);
  PARITY_CHECK_CLOSE("a) forward output" + tag, what + ": output", std::span<const T>(out.data(), out.size()),
                     ref.doubles(e + "out", static_cast<std::ptrdiff_t>(Out::size * batch)), tol);

  const strata::ConstColumnsMap<T, Target::size> target(y.data(), Target::size, static_cast<Eigen::Index>(batch));
  const double value = loss.value_and_gradient(out, target, net.output_gradient().data());
  PARITY_CHECK_CLOSE("a) loss value" + tag, what + ": loss", std::array{value}, ref.doubles(e + "loss", 1), tol);
  if constexpr (std::is_same_v<LossT, strata::loss::GaussianNLL>) {
    if (ref.has(e + "loss_full")) {
      LossT full = loss;
      full.full = true;
      const double v = full.value_and_gradient(out, target, static_cast<T*>(nullptr));
      PARITY_CHECK_CLOSE("a) loss value" + tag, what + ": loss (full = true)", std::array{v},
                         ref.doubles(e + "loss_full", 1), tol);
    }
  }

  std::vector<T> dx(x.size());
  net.backward(dx.data());
  PARITY_CHECK_CLOSE("a) input gradient" + tag, what + ": d loss / d input", dx,
                     ref.doubles(e + "dx", static_cast<std::ptrdiff_t>(x.size())), tol);
  for (const auto& s : Net::segments) {
    PARITY_CHECK_CLOSE("a) parameter gradients" + tag, what + ": d loss / d " + s.name(),
                       std::span<const T>(net.gradients(s.name())),
                       ref.doubles(e + "grad/" + s.name(), static_cast<std::ptrdiff_t>(s.size)), tol);
  }
}

/// a) One forward and backward pass of `Net` with `loss` on reference case fwd/<name>:
/// output, loss, d loss / d input and every parameter gradient, in float (tolerance
/// 1e-5) and in double against PyTorch in double (tolerance 1e-12).
template <class Net, class LossT>
void check_forward_backward(const std::string& name, LossT loss) {
  forward_backward_in<Net, LossT, float>(name, loss, "fwd/", tolerance);
  forward_backward_in<Net, LossT, double>(name, loss, "fwd64/", double_tolerance);
}

/// b) The training net: 5-8-6-K with Tanh and ReLU.
template <std::size_t K>
using TrainNet = strata::Sequential<strata::Input<5>, strata::Dense<8>, strata::Tanh, strata::Dense<6>, strata::ReLU,
                                    strata::Dense<K>>;

/// Runs every step of reference data data/<data>/ through strata's Model<..., T>::train_step
/// and compares the final parameters (and each step's loss) with <expected><case_name>/.
template <class T, std::size_t K, class LossT, class Opt, class Sched>
void training_in(const std::string& case_name, const std::string& data, LossT loss, Opt opt, double clip,
                 Sched sched, bool step_schedule, const std::string& expected, double tol) {
  using Net = TrainNet<K>;
  using M = strata::Model<Net, LossT, Opt, Sched, strata::backend::Cpu, T>;
  using Target = typename M::TargetShape;
  const auto& ref = Reference::get("training.txt");
  const std::string d = "data/" + data + "/";
  const std::string c = expected + case_name + "/";
  const std::string tag = std::string(" (") + precision_name<T>() + ")";
  const std::string what = case_name + tag;
  const std::string group = "b) training: " + case_name.substr(0, case_name.find('/')) + tag;

  M model({.optimizer = opt, .schedule = sched, .loss = loss, .seed = 0, .clip_grad_norm = clip});
  load_parameters<Net>(ref, d + "init/", model.network());

  std::vector<double> losses, norms, lrs;
  for (std::size_t step = 0; ref.has(d + "x/" + std::to_string(step)); ++step) {
    const auto x = load_as<T>(ref, d + "x/" + std::to_string(step));
    REQUIRE(x.size() % 5 == 0);
    const std::size_t batch = x.size() / 5;
    const auto y = load_as<T>(ref, d + "y/" + std::to_string(step), static_cast<std::ptrdiff_t>(Target::size * batch));
    lrs.push_back(model.lr());
    const auto r = model.train_step(x.data(), y.data(), batch);
    REQUIRE(r.finite);
    losses.push_back(r.loss);
    norms.push_back(r.grad_norm);
    if (step_schedule) model.step_schedule();
  }
  REQUIRE(losses.size() == ref.doubles(c + "loss").size());

  for (const auto& s : Net::segments) {
    PARITY_CHECK_CLOSE(group, what + ": final " + s.name(), std::span<const T>(model.network().parameters(s.name())),
                       ref.doubles(c + "final/" + s.name(), static_cast<std::ptrdiff_t>(s.size)), tol);
  }
  PARITY_CHECK_CLOSE("b) training: loss per step" + tag, what + ": loss per step", losses, ref.doubles(c + "loss"),
                     tol);
  if (clip > 0) {
    PARITY_CHECK_CLOSE("b) training: gradient norm before clipping" + tag, what + ": gradient norm per step", norms,
                       ref.doubles(c + "grad_norm"), tol);
  }
  if (step_schedule) {
    PARITY_CHECK_CLOSE("b) training: lr per step", what + ": lr per step", lrs, ref.doubles(c + "lr"),
                       double_tolerance);
  }
}

/// b) Training case train/<case_name>/ in float (tolerance 1e-5) and, where the reference
/// has train64/<case_name>/, in double (tolerance 1e-12). With `clip` > 0 the Model clips
/// the global gradient norm (compared per step too); with `step_schedule` the schedule is
/// stepped after every batch (lr compared per step).
template <std::size_t K, class LossT, class Opt, class Sched = strata::schedule::Constant>
void check_training(const std::string& case_name, const std::string& data, LossT loss, Opt opt, double clip = 0,
                    Sched sched = {}, bool step_schedule = false) {
  training_in<float, K>(case_name, data, loss, opt, clip, sched, step_schedule, "train/", tolerance);
  if (Reference::get("training.txt").has("train64/" + case_name + "/loss"))
    training_in<double, K>(case_name, data, loss, opt, clip, sched, step_schedule, "train64/", double_tolerance);
}

/// b) Every optimizer setting of make_reference.py's OPTIMIZERS on one loss, one section each.
template <std::size_t K, class LossT>
void check_every_optimizer(const std::string& loss_name, LossT loss) {
  namespace optim = strata::optim;
  SECTION("SGD(lr=0.1)") { check_training<K>("sgd/" + loss_name, loss_name, loss, optim::SGD{.lr = 0.1}); }
  SECTION("SGD(lr=0.05, momentum=0.9, nesterov, weight_decay=1e-2)") {
    check_training<K>("sgd_nesterov/" + loss_name, loss_name, loss,
                      optim::SGD{.lr = 0.05, .momentum = 0.9, .nesterov = true, .weight_decay = 1e-2});
  }
  SECTION("SGD(lr=0.05, momentum=0.9, dampening=0.1)") {
    check_training<K>("sgd_dampening/" + loss_name, loss_name, loss,
                      optim::SGD{.lr = 0.05, .momentum = 0.9, .dampening = 0.1});
  }
  SECTION("Adam(lr=0.01)") { check_training<K>("adam/" + loss_name, loss_name, loss, optim::Adam{.lr = 0.01}); }
  SECTION("Adam(lr=0.01, betas=(0.9, 0.95), amsgrad, weight_decay=1e-2)") {
    check_training<K>("adam_amsgrad/" + loss_name, loss_name, loss,
                      optim::Adam{.lr = 0.01, .beta2 = 0.95, .weight_decay = 1e-2, .amsgrad = true});
  }
  SECTION("AdamW(lr=0.01, weight_decay=1e-2)") {
    check_training<K>("adamw/" + loss_name, loss_name, loss, optim::AdamW{.lr = 0.01, .weight_decay = 1e-2});
  }
  SECTION("RMSprop(lr=0.01)") {
    check_training<K>("rmsprop/" + loss_name, loss_name, loss, optim::RMSprop{.lr = 0.01});
  }
  SECTION("RMSprop(lr=0.01, centered, momentum=0.9, weight_decay=1e-2)") {
    check_training<K>("rmsprop_centered/" + loss_name, loss_name, loss,
                      optim::RMSprop{.lr = 0.01, .weight_decay = 1e-2, .momentum = 0.9, .centered = true});
  }
}

}  // namespace parity
