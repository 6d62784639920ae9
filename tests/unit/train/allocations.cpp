// Counts heap allocations made during training steps: after the first step of a given
// batch size, a step must allocate nothing.
#include <catch2/catch.hpp>
#include <strata/strata.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace strata;

template <class M, std::size_t In, std::size_t Tgt>
long allocations_in_steps(M& model, long batch, int steps) {
  Columns<float, In> x = Columns<float, In>::Random(In, batch);
  Columns<float, Tgt> y = Columns<float, Tgt>::Zero(Tgt, batch);
  model.train_step(x, y);  // first step of this batch size may allocate
  allocations = 0;
  counting = true;
  for (int i = 0; i < steps; ++i) model.train_step(x, y);
  counting = false;
  return allocations.load();
}

TEST_CASE("A training step allocates nothing after the first of its batch size", "[unit][train][allocations]") {
  using Small = Sequential<Input<2>, Dense<16>, ReLU, Dense<16>, ReLU, Dense<1>>;
  Model<Small, loss::MSE, optim::Adam> small;
  CHECK(allocations_in_steps<decltype(small), 2, 1>(small, 10, 20) == 0);

  using Mnist = Sequential<Input<784>, Dense<100>, ReLU, Dense<50>, ReLU, Dense<10>>;
  Model<Mnist, loss::CrossEntropy, optim::SGD> mnist({.optimizer = {.lr = 0.01, .momentum = 0.9}});
  CHECK(allocations_in_steps<decltype(mnist), 784, 1>(mnist, 50, 5) == 0);
}
