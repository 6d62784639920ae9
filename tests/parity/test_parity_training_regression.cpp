// b) Parameters after 10 train_step calls of every optimizer against PyTorch, for the
// regression-style losses (reference/training.txt; see make_reference.py).
#include "parity/parity.hpp"

using namespace strata;

TEST_CASE("parity training: every optimizer, MSE", "[parity][training]") {
  parity::check_every_optimizer<3>("mse", loss::MSE{});
}

TEST_CASE("parity training: every optimizer, MSE on one-hot targets", "[parity][training]") {
  parity::check_every_optimizer<4>("mse_onehot", loss::MSE{});
}

TEST_CASE("parity training: every optimizer, BCEWithLogits", "[parity][training]") {
  parity::check_every_optimizer<3>("bce", loss::BCEWithLogits{});
}

TEST_CASE("parity training: every optimizer, GaussianNLL", "[parity][training]") {
  parity::check_every_optimizer<4>("gnll", loss::GaussianNLL{.eps = 1e-6});
}
