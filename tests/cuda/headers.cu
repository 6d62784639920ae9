// strata's headers must compile under nvcc (the CUDA backend will include them from .cu
// files), which also means no Boost.Hana in them. This translation unit instantiates a
// model on the host; it launches nothing, so it runs without a GPU.
#include <strata/strata.hpp>

#ifdef BOOST_HANA_CONFIG_HPP
#error "a strata header included by CUDA code pulled in Boost.Hana, which nvcc does not support"
#endif

using Net = strata::Sequential<strata::Input<2>, strata::Dense<4>, strata::ReLU, strata::Dense<1>>;
static_assert(Net::parameter_count == 17);

int main() {
  strata::Model<Net, strata::loss::MSE, strata::optim::Adam> model;
  Eigen::Matrix<float, 2, 3> x = Eigen::Matrix<float, 2, 3>::Ones();
  Eigen::Matrix<float, 1, 3> y = Eigen::Matrix<float, 1, 3>::Zero();
  return model.train_step(x, y).finite ? 0 : 1;
}
