#pragma once
// GaussianHead<K>: the output layer of a regression net that predicts its own uncertainty:
// K means followed by K log-variances (log sigma^2), the layout loss::GaussianNLL expects.
// It is one Dense<2K> (a mean head and a log-variance head side by side share the input
// and are independent affine maps, which is what one Dense of twice the width computes).
// loss::gaussian_mean / loss::gaussian_sigma read predictions back.
//
// **Example**:
//   using Net = Sequential<Input<13>, Dense<64>, ReLU, Dense<64>, ReLU, GaussianHead<1>>;
//   Model<Net, loss::GaussianNLL, optim::Adam> model({.optimizer = {.lr = 1e-3}});
//   auto out = model.predict(x);                  // 2 x B
//   auto sigma = loss::gaussian_sigma(out);       // 1 x B, sqrt(max(exp(s), eps))
#include <cstddef>

#include "dense.hpp"

namespace strata {

template <std::size_t K = 1>
using GaussianHead = Dense<2 * K>;

}  // namespace strata
