// A residual body that flattens its input: no 1x1 projection maps <4, 8, 8> to <3>.
// expect-error: Residual at this layer index: the body's output shape cannot be projected from its input
#include <strata/strata.hpp>
using namespace strata;
using Net = Sequential<Input<4, 8, 8>, Residual<Flatten, Dense<3>>, Dense<2>>;
[[maybe_unused]] constexpr auto count = Net::parameter_count;
int main() {}
