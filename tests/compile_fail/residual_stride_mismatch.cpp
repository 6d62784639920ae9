// 8x3 pooled by 2 is 4x1: the height needs stride 2, the width stride 3, so no 1x1 conv projects it.
// expect-error: Residual at this layer index: the body's output shape cannot be projected from its input
#include <strata/strata.hpp>
using namespace strata;
using Net = Sequential<Input<2, 8, 3>, Residual<Conv2D<4, 1, 1>, MaxPool<2>>, Flatten, Dense<2>>;
[[maybe_unused]] constexpr auto count = Net::parameter_count;
int main() {}
