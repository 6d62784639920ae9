// same_padding pads (K - 1) / 2 on every side, which keeps the size only for odd kernels.
// expect-error: Conv2D with same_padding needs an odd kernel
#include <strata/strata.hpp>
using namespace strata;
using Net = Sequential<Input<1, 8, 8>, Conv2D<4, 2, 1, same_padding>, Flatten, Dense<3>>;
[[maybe_unused]] constexpr auto count = Net::parameter_count;
int main() {}
