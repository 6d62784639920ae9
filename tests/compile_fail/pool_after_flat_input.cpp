// Pooling needs a channel-first image <C, H, W>, not a flat vector.
// expect-error: AvgPool at this layer index takes a channel-first image <C, H, W> \(rank 3\)
#include <strata/strata.hpp>
using namespace strata;
using Net = Sequential<Input<16>, Dense<8>, AvgPool<2>, Dense<3>>;
[[maybe_unused]] constexpr auto count = Net::parameter_count;
int main() {}
