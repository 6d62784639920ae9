// A 5x5 kernel on the 4x4 maps left after two poolings (no padding): it does not fit.
// expect-error: Conv2D at this layer index: the kernel is larger than its \(padded\) input image
#include <strata/strata.hpp>
using namespace strata;
using Net = Sequential<Input<1, 16, 16>, Conv2D<8, 3, 1, 1>, MaxPool<2>, MaxPool<2>, Conv2D<16, 5>, ReLU, Flatten,
                       Dense<10>>;
[[maybe_unused]] constexpr auto count = Net::parameter_count;
int main() {}
