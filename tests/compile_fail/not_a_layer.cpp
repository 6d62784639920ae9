// A type that is not a layer spec inside a stack.
// expect-error: the type at this layer index is not a layer spec
#include <strata/strata.hpp>
using namespace strata;
using Net = Sequential<Input<4>, Dense<3>, int, ReLU>;
[[maybe_unused]] constexpr auto count = Net::parameter_count;
int main() {}
