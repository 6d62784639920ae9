// A convolution after Flatten: it needs a channel-first image <C, H, W>.
// expect-error: Conv2D at this layer index takes a channel-first image <C, H, W> \(rank 3\)
#include <strata/strata.hpp>
using namespace strata;
using Net = Sequential<Input<1, 8, 8>, Flatten, Conv2D<4, 3>, ReLU, MaxPool<2>, Dense<3>>;
[[maybe_unused]] constexpr auto count = Net::parameter_count;
int main() {}
