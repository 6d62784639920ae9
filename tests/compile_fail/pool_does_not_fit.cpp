// MaxPool<3> on the 2x2 maps a 3x3 convolution leaves of a 4x4 input: the window does not fit.
// expect-error: MaxPool at this layer index: the pooling window does not fit in its input image
#include <strata/strata.hpp>
using namespace strata;
using Net = Sequential<Input<3, 4, 4>, Conv2D<8, 3>, MaxPool<3>, Flatten, Dense<2>>;
[[maybe_unused]] constexpr auto count = Net::parameter_count;
int main() {}
