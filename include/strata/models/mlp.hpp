#pragma once
// Multilayer perceptrons as one alias: Mlp<In, Depth, Width, Act, Out> is
//   Sequential<Input<In>, Dense<Width>, Act, ... (Depth times) ..., Dense<Out>>
// which is what width x depth x activation sweeps compare.
//
// **Example**: `static_assert(std::is_same_v<models::Mlp<2, 2, 16, ReLU, 1>,
//                Sequential<Input<2>, Dense<16>, ReLU, Dense<16>, ReLU, Dense<1>>>);`
#include <cstddef>

#include "../layers/dense.hpp"
#include "../net/sequential.hpp"

namespace strata::models {

namespace detail {

template <std::size_t Depth, std::size_t Width, class Act, std::size_t Out, class... Done>
struct MlpBuilder {
  using type = typename MlpBuilder<Depth - 1, Width, Act, Out, Done..., Dense<Width>, Act>::type;
};
template <std::size_t Width, class Act, std::size_t Out, class... Done>
struct MlpBuilder<0, Width, Act, Out, Done...> {
  using type = Sequential<Done..., Dense<Out>>;
};

}  // namespace detail

template <std::size_t In, std::size_t Depth, std::size_t Width, class Act, std::size_t Out>
using Mlp = typename detail::MlpBuilder<Depth, Width, Act, Out, Input<In>>::type;

}  // namespace strata::models
