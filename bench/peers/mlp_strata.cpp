// strata's side of bench/peers/run_mlp.sh: prints "RESULT strata <case> <steps/s>".
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <omp.h>

#include "../mlp_cases.hpp"

namespace {

template <class C>
void run(const char* name, std::size_t batch) {
  C c(batch);
  using clock = std::chrono::steady_clock;
  const auto warm_end = clock::now() + std::chrono::milliseconds(300);
  while (clock::now() < warm_end) c.step();
  std::size_t steps = 0;
  const auto t0 = clock::now();
  double elapsed = 0;
  double sink = 0;
  do {
    for (int i = 0; i < 64; ++i) sink += c.step();
    steps += 64;
    elapsed = std::chrono::duration<double>(clock::now() - t0).count();
  } while (elapsed < 2.0);
  std::printf("RESULT strata %s %.1f\n", name, static_cast<double>(steps) / elapsed);
  if (sink == 12345.678) std::puts("");
}

}  // namespace

int main() {
  const char* env = std::getenv("STRATA_BENCH_THREADS");
  omp_set_num_threads(env ? std::atoi(env) : 2);
  run<strata::bench::SmallCase>("mlp_small_b10", 10);
  run<strata::bench::SmallCase>("mlp_small_b400", 400);
  run<strata::bench::MnistCase>("mlp_784_b50", 50);
}
