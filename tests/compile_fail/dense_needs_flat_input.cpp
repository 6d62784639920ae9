// A Dense layer directly after an image input: the shapes do not fit.
// expect-error: Dense<N> at this layer index takes a flat input \(rank 1\).*insert Flatten before it
#include <strata/strata.hpp>
using namespace strata;
using Net = Sequential<Input<1, 28, 28>, Dense<10>, ReLU>;
[[maybe_unused]] constexpr auto count = Net::parameter_count;
int main() {}
