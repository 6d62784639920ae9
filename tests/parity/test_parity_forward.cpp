// a) Forward output, loss, input gradient and parameter gradients against PyTorch
// (reference/forward.txt from make_reference.py; regenerate with
// /usr/bin/python3 tests/parity/make_reference.py). The nets mirror forward_cases()
// there and together cover every layer: Dense, ReLU, LeakyReLU (0.01 and 0.2), Sigmoid,
// Tanh, Softmax and Flatten.
#include "parity/parity.hpp"

using namespace strata;
using parity::check_forward_backward;

TEST_CASE("parity forward: Flatten-Dense-ReLU-Dense-LeakyReLU-Dense, MSE", "[parity][forward]") {
  check_forward_backward<Sequential<Input<2, 3>, Flatten, Dense<8>, ReLU, Dense<7>, LeakyReLU, Dense<3>>>(
      "mse", loss::MSE{});
}

TEST_CASE("parity forward: Dense-Sigmoid-Dense-Softmax, MSE on one-hot targets", "[parity][forward]") {
  check_forward_backward<Sequential<Input<5>, Dense<6>, Sigmoid, Dense<4>, Softmax>>("mse_onehot", loss::MSE{});
}

TEST_CASE("parity forward: Dense-Tanh-Dense-LeakyReLU(0.2)-Dense, CrossEntropy", "[parity][forward]") {
  check_forward_backward<Sequential<Input<5>, Dense<8>, Tanh, Dense<6>, LeakyReLUWith<0.2>, Dense<4>>>(
      "ce", loss::CrossEntropy{});
}

TEST_CASE("parity forward: Dense-ReLU-Dense, CrossEntropy(label_smoothing=0.1)", "[parity][forward]") {
  check_forward_backward<Sequential<Input<5>, Dense<8>, ReLU, Dense<4>>>("ce_ls",
                                                                         loss::CrossEntropy{.label_smoothing = 0.1});
}

TEST_CASE("parity forward: Dense-LeakyReLU(0.2)-Dense, SoftCrossEntropy", "[parity][forward]") {
  check_forward_backward<Sequential<Input<5>, Dense<7>, LeakyReLUWith<0.2>, Dense<4>>>("soft_ce",
                                                                                       loss::SoftCrossEntropy{});
}

TEST_CASE("parity forward: Flatten-Dense-Sigmoid-Dense, SoftCrossEntropy(label_smoothing=0.1)", "[parity][forward]") {
  check_forward_backward<Sequential<Input<2, 3>, Flatten, Dense<7>, Sigmoid, Dense<5>>>(
      "soft_ce_ls", loss::SoftCrossEntropy{.label_smoothing = 0.1});
}

TEST_CASE("parity forward: Dense-Tanh-Dense, BCEWithLogits", "[parity][forward]") {
  check_forward_backward<Sequential<Input<5>, Dense<6>, Tanh, Dense<3>>>("bce", loss::BCEWithLogits{});
}

TEST_CASE("parity forward: Dense-Tanh-Dense, GaussianNLL", "[parity][forward]") {
  check_forward_backward<Sequential<Input<5>, Dense<8>, Tanh, Dense<6>>>("gnll", loss::GaussianNLL{.eps = 1e-6});
}

TEST_CASE("parity forward: GaussianNLL with some variances clamped at eps", "[parity][forward]") {
  check_forward_backward<Sequential<Input<5>, Dense<8>, Tanh, Dense<4>>>("gnll_clamp", loss::GaussianNLL{.eps = 1e-6});
}
