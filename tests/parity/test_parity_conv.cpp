// Convolution and pooling against PyTorch (reference/conv.txt from make_reference.py;
// regenerate with /usr/bin/python3 tests/parity/make_reference.py):
//  a) one forward and backward pass (output, MSE loss, d loss / d input, parameter
//     gradients) of torch.nn.Conv2d with strides 1 and 2, padding 0, 1 and 2 ("same"),
//     kernels 1, 3 and 5, of MaxPool2d and AvgPool2d (2 and 3 with stride 2), and of a
//     global average pool, in float and in double;
//  b) a small CNN, Conv-ReLU-MaxPool-Conv-ReLU-AvgPool-Flatten-Dense, after 5 Adam steps
//     with cross-entropy.
// The settings of each case repeat conv_cases() and cnn_net() there.
#include "parity/parity.hpp"

using namespace strata;

namespace {

const parity::Reference& conv_reference() { return parity::Reference::get("conv.txt"); }

/// Norm-wise relative tolerances, as the other parity tests: float against PyTorch in float
/// (measured worst: 3.4e-7 for one pass, 6e-8 after training), double against PyTorch in
/// double (the same formulas up to summation order; measured worst 5e-16).
constexpr double float_tolerance = parity::tolerance;
constexpr double double_tolerance = parity::double_tolerance;

/// One forward and backward pass of Net in T with MSE, against conv.txt's fwd/<name>/ (float)
/// or fwd64/<name>/ (double); parameters and data come from fwd/<name>/.
template <class Net, class T>
void forward_backward_in(const std::string& name, const std::string& expected, double tol) {
  using In = typename Net::InputShape;
  using Out = typename Net::OutputShape;
  const auto& ref = conv_reference();
  const std::string p = "fwd/" + name + "/";
  const std::string e = expected + name + "/";
  const std::string tag = std::string(" (") + parity::precision_name<T>() + ")";
  const std::string what = name + tag;

  Network<Net, T> net(0);
  parity::load_parameters<Net>(ref, p + "param/", net);
  const auto x = parity::load_as<T>(ref, p + "x");
  REQUIRE(x.size() % In::size == 0);
  const std::size_t batch = x.size() / In::size;
  const auto y = parity::load_as<T>(ref, p + "y", static_cast<std::ptrdiff_t>(Out::size * batch));

  const auto out = net.forward(x.data(), batch);
  PARITY_CHECK_CLOSE("conv a) forward output" + tag, what + ": output", std::span<const T>(out.data(), out.size()),
                     ref.doubles(e + "out", static_cast<std::ptrdiff_t>(Out::size * batch)), tol);
  const ConstColumnsMap<T, Out::size> target(y.data(), Out::size, static_cast<Eigen::Index>(batch));
  const double value = loss::MSE{}.value_and_gradient(out, target, net.output_gradient().data());
  PARITY_CHECK_CLOSE("conv a) loss value" + tag, what + ": loss", std::array{value}, ref.doubles(e + "loss", 1), tol);

  std::vector<T> dx(x.size());
  net.backward(dx.data());
  PARITY_CHECK_CLOSE("conv a) input gradient" + tag, what + ": d loss / d input", dx,
                     ref.doubles(e + "dx", static_cast<std::ptrdiff_t>(x.size())), tol);
  for (const auto& s : Net::segments)
    PARITY_CHECK_CLOSE("conv a) parameter gradients" + tag, what + ": d loss / d " + s.name(),
                       std::span<const T>(net.gradients(s.name())),
                       ref.doubles(e + "grad/" + s.name(), static_cast<std::ptrdiff_t>(s.size)), tol);
}

template <class Net>
void check_forward_backward(const std::string& name) {
  forward_backward_in<Net, float>(name, "fwd/", float_tolerance);
  forward_backward_in<Net, double>(name, "fwd64/", double_tolerance);
}

/// cnn_net() in make_reference.py.
using Cnn = Sequential<Input<1, 14, 14>, Conv2D<4, 3>, ReLU, MaxPool<2>, Conv2D<6, 3>, ReLU, AvgPool<2>, Flatten,
                       Dense<5>>;

template <class T>
void cnn_training_in(const std::string& expected, double tol) {
  using M = Model<Cnn, loss::CrossEntropy, optim::Adam, schedule::Constant, backend::Cpu, T>;
  const auto& ref = conv_reference();
  const std::string c = expected + "cnn_adam/";
  const std::string tag = std::string(" (") + parity::precision_name<T>() + ")";

  M model({.optimizer = {.lr = 0.01}, .seed = 0});
  parity::load_parameters<Cnn>(ref, "data/cnn/init/", model.network());
  std::vector<double> losses;
  for (std::size_t step = 0; ref.has("data/cnn/x/" + std::to_string(step)); ++step) {
    const auto x = parity::load_as<T>(ref, "data/cnn/x/" + std::to_string(step));
    REQUIRE(x.size() % Cnn::InputShape::size == 0);
    const std::size_t batch = x.size() / Cnn::InputShape::size;
    const auto y = parity::load_as<T>(ref, "data/cnn/y/" + std::to_string(step), static_cast<std::ptrdiff_t>(batch));
    const auto r = model.train_step(x.data(), y.data(), batch);
    REQUIRE(r.finite);
    losses.push_back(r.loss);
  }
  REQUIRE(losses.size() == 5);
  for (const auto& s : Cnn::segments)
    PARITY_CHECK_CLOSE("conv b) CNN after 5 Adam steps" + tag, "cnn_adam" + tag + ": final " + s.name(),
                       std::span<const T>(model.network().parameters(s.name())),
                       ref.doubles(c + "final/" + s.name(), static_cast<std::ptrdiff_t>(s.size)), tol);
  PARITY_CHECK_CLOSE("conv b) CNN loss per step" + tag, "cnn_adam" + tag + ": loss per step", losses,
                     ref.doubles(c + "loss", 5), tol);
}

}  // namespace

TEST_CASE("parity conv: Conv2d kernel 3, stride 1, padding 0", "[parity][conv]") {
  check_forward_backward<Sequential<Input<3, 6, 5>, Conv2D<4, 3>, Flatten>>("k3_s1_p0");
}

TEST_CASE("parity conv: Conv2d kernel 3, stride 2, padding 1 and 0", "[parity][conv]") {
  check_forward_backward<Sequential<Input<2, 7, 6>, Conv2D<5, 3, 2, 1>, Flatten>>("k3_s2_p1");
  check_forward_backward<Sequential<Input<2, 7, 8>, Conv2D<3, 3, 2>, Flatten>>("k3_s2_p0");
}

TEST_CASE("parity conv: Conv2d kernel 1, strides 1 and 2", "[parity][conv]") {
  check_forward_backward<Sequential<Input<4, 4, 5>, Conv2D<3, 1>, Flatten>>("k1_s1_p0");
  check_forward_backward<Sequential<Input<3, 5, 5>, Conv2D<2, 1, 2, 1>, Flatten>>("k1_s2_p1");
}

TEST_CASE("parity conv: Conv2d kernel 5, same padding and stride 2", "[parity][conv]") {
  check_forward_backward<Sequential<Input<2, 6, 7>, Conv2D<3, 5, 1, same_padding>, Flatten>>("k5_s1_p2");
  check_forward_backward<Sequential<Input<3, 9, 8>, Conv2D<4, 5, 2, 1>, Flatten>>("k5_s2_p1");
}

TEST_CASE("parity conv: Conv2d on the per-sample GEMM and direct weight-gradient paths", "[parity][conv]") {
  static_assert(backend::cpu_kernels::ConvPlan<3, 8, 8, 4, 3, 1, 1>::gemm_per_sample);
  static_assert(backend::cpu_kernels::ConvPlan<1, 10, 10, 4, 3, 1, 0>::direct_weight_gradient);
  check_forward_backward<Sequential<Input<3, 8, 8>, Conv2D<4, 3, 1, 1>, Flatten>>("k3_s1_p1_wide");
  check_forward_backward<Sequential<Input<1, 10, 10>, Conv2D<4, 3>, Flatten>>("k3_one_channel");
}

TEST_CASE("parity conv: MaxPool2d(2) after a convolution, MaxPool2d(3, 2) alone", "[parity][conv][pool]") {
  check_forward_backward<Sequential<Input<3, 6, 6>, Conv2D<4, 3, 1, 1>, MaxPool<2>, Flatten>>("maxpool2");
  check_forward_backward<Sequential<Input<2, 7, 7>, MaxPool<3, 2>, Flatten>>("maxpool3_s2");
}

TEST_CASE("parity conv: AvgPool2d(2) after a convolution, AvgPool2d(3, 2) alone", "[parity][conv][pool]") {
  check_forward_backward<Sequential<Input<3, 6, 6>, Conv2D<4, 3, 1, 1>, AvgPool<2>, Flatten>>("avgpool2");
  check_forward_backward<Sequential<Input<2, 7, 7>, AvgPool<3, 2>, Flatten>>("avgpool3_s2");
}

TEST_CASE("parity conv: global average pool between a convolution and Dense", "[parity][conv][pool]") {
  check_forward_backward<Sequential<Input<3, 6, 5>, Conv2D<6, 3>, ReLU, GlobalAvgPool, Dense<3>>>("global_avg_pool");
}

TEST_CASE("parity conv: Conv-ReLU-MaxPool-Conv-ReLU-AvgPool-Flatten-Dense after 5 Adam steps",
          "[parity][conv][training]") {
  cnn_training_in<float>("train/", float_tolerance);
  cnn_training_in<double>("train64/", double_tolerance);
}
