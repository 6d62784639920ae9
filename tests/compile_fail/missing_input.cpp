// A stack must start with its input shape.
// expect-error: the first type must be the input shape
#include <strata/strata.hpp>
using namespace strata;
using Net = Sequential<Dense<3>, ReLU>;
[[maybe_unused]] constexpr auto count = Net::parameter_count;
int main() {}
