// Counts heap allocations made during training steps of a CNN: after the first step of a
// given batch size, a step must allocate nothing. The im2col columns and transposed output
// gradients of Conv2D live in the layer's workspace scratch (scratch_per_sample).
//
// A program of its own: it replaces the global operator new, as tests/unit/train/allocations.cpp
// does inside the unit-test program, and a program can have only one replacement.
#include <catch2/catch.hpp>
#include <strata/strata.hpp>

#include "support/counting_new.hpp"

using namespace strata;
using strata::testing::allocations_in_steps;

TEST_CASE("A CNN training step allocates nothing after the first of its batch size",
          "[unit][layers][conv][allocations]") {
  // The digit CNN: every Conv2D kernel path (GEMM per sample with a direct weight gradient,
  // GEMM per sample, one GEMM per batch), both pools and a global average pool.
  using Cnn = Sequential<Input<1, 28, 28>, Conv2D<32, 3>, ReLU, MaxPool<2>, Conv2D<64, 3>, ReLU, MaxPool<2>,
                         Conv2D<128, 3, 1, same_padding>, ReLU, AvgPool<2, 1>, Conv2D<16, 1>, GlobalAvgPool, Dense<10>>;
  Model<Cnn, loss::CrossEntropy, optim::Adam> cnn;
  CHECK(allocations_in_steps(cnn, 50, 3) == 0);
  // A smaller batch reuses the workspace of the larger one.
  CHECK(allocations_in_steps(cnn, 7, 3) == 0);
}
