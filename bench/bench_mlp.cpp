// One training step (forward, loss, backward, Adam update) of the MLP cases in
// mlp_cases.hpp. items_per_second is training steps per second.
#include <benchmark/benchmark.h>

#include "mlp_cases.hpp"

namespace {

template <class C>
void train_step(benchmark::State& state) {
  C c(static_cast<std::size_t>(state.range(0)));
  for (int i = 0; i < 10; ++i) c.step();
  for (auto _ : state) benchmark::DoNotOptimize(c.step());
  state.SetItemsProcessed(state.iterations());
  state.counters["samples/s"] = benchmark::Counter(static_cast<double>(state.iterations() * state.range(0)),
                                                   benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK_TEMPLATE(train_step, strata::bench::SmallCase)->Name("mlp_2_16_16_1/train_step")->Arg(10)->Arg(400);
BENCHMARK_TEMPLATE(train_step, strata::bench::MnistCase)->Name("mlp_784_100_50_10/train_step")->Arg(50);

BENCHMARK_MAIN();
