// b) Parameters after 10 train_step calls of every optimizer against PyTorch, for the
// cross-entropy losses (reference/training.txt; see make_reference.py).
#include "parity/parity.hpp"

using namespace strata;

TEST_CASE("parity training: every optimizer, CrossEntropy", "[parity][training]") {
  parity::check_every_optimizer<4>("ce", loss::CrossEntropy{});
}

TEST_CASE("parity training: every optimizer, CrossEntropy(label_smoothing=0.1)", "[parity][training]") {
  parity::check_every_optimizer<4>("ce_ls", loss::CrossEntropy{.label_smoothing = 0.1});
}

TEST_CASE("parity training: every optimizer, SoftCrossEntropy", "[parity][training]") {
  parity::check_every_optimizer<4>("soft_ce", loss::SoftCrossEntropy{});
}

TEST_CASE("parity training: every optimizer, SoftCrossEntropy(label_smoothing=0.1)", "[parity][training]") {
  parity::check_every_optimizer<4>("soft_ce_ls", loss::SoftCrossEntropy{.label_smoothing = 0.1});
}
