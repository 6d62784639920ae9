// backend/cpu.hpp: the element-wise activations, which split large arrays into chunks run
// across threads. Every scalar against a plain loop, on arrays shorter than one chunk, of
// whole chunks and of chunks plus a tail; the same bits for 1 and 2 threads; nothing
// written past the end.
#include <catch2/catch.hpp>
#include <strata/backend/cpu.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

using Cpu = strata::backend::Cpu;

std::vector<float> values(std::size_t n, std::uint32_t seed) {
  std::vector<float> v(n);
  std::uint32_t s = seed;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<float>(static_cast<int>(s >> 8) % 20001 - 10000) / 2500.f;  // [-4, 4], zeros included
  }
  return v;
}

// Runs op on (a, b) into an output with a guard scalar past its end, with `threads`
// threads; checks the guard.
std::vector<float> run(const std::function<void(const float*, const float*, float*, std::size_t)>& op,
                       const std::vector<float>& a, const std::vector<float>& b, int threads) {
#ifdef _OPENMP
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
#else
  (void)threads;
#endif
  const std::size_t n = a.size();
  std::vector<float> out(n + 1, std::numeric_limits<float>::quiet_NaN());
  out[n] = 12345.f;
  op(a.data(), b.data(), out.data(), n);
#ifdef _OPENMP
  omp_set_num_threads(before);
#endif
  CHECK(out[n] == 12345.f);
  out.pop_back();
  return out;
}

struct Case {
  const char* name;
  std::function<void(const float*, const float*, float*, std::size_t)> op;
  std::function<double(double, double)> reference;  // of (a[i], b[i])
  double tolerance;                                  // relative; 0: exact
};

}  // namespace

TEST_CASE("element-wise activations: every scalar as a plain loop, any chunking, any thread count", "[backend]") {
  const float slope = 0.2f;
  const std::vector<Case> cases = {
      {"relu_forward", [](const float* x, const float*, float* y, std::size_t n) { Cpu::relu_forward(x, y, n); },
       [](double x, double) { return x > 0 ? x : 0.0; }, 0},
      {"relu_backward",
       [](const float* y, const float* dy, float* dx, std::size_t n) { Cpu::relu_backward(y, dy, dx, n); },
       [](double y, double dy) { return y > 0 ? dy : 0.0; }, 0},
      {"leaky_relu_forward",
       [&](const float* x, const float*, float* y, std::size_t n) { Cpu::leaky_relu_forward(x, y, n, slope); },
       [&](double x, double) { return x > 0 ? x : static_cast<double>(slope * static_cast<float>(x)); }, 0},
      {"leaky_relu_backward",
       [&](const float* x, const float* dy, float* dx, std::size_t n) { Cpu::leaky_relu_backward(x, dy, dx, n, slope); },
       [&](double x, double dy) { return x > 0 ? dy : static_cast<double>(slope * static_cast<float>(dy)); }, 0},
      {"sigmoid_forward", [](const float* x, const float*, float* y, std::size_t n) { Cpu::sigmoid_forward(x, y, n); },
       [](double x, double) { return 1.0 / (1.0 + std::exp(-x)); }, 1e-6},
      {"sigmoid_backward",
       [](const float* y, const float* dy, float* dx, std::size_t n) { Cpu::sigmoid_backward(y, dy, dx, n); },
       [](double y, double dy) { return dy * y * (1 - y); }, 1e-5},
      {"tanh_forward", [](const float* x, const float*, float* y, std::size_t n) { Cpu::tanh_forward(x, y, n); },
       [](double x, double) { return std::tanh(x); }, 1e-6},
      {"tanh_backward",
       [](const float* y, const float* dy, float* dx, std::size_t n) { Cpu::tanh_backward(y, dy, dx, n); },
       [](double y, double dy) { return dy * (1 - y * y); }, 1e-5},
  };
  constexpr std::size_t chunk = Cpu::elementwise_chunk;
  for (const std::size_t n : {std::size_t{1}, std::size_t{37}, chunk - 1, chunk, 3 * chunk, 3 * chunk + 37}) {
    const auto a = values(n, 1), b = values(n, 2);
    for (const auto& c : cases) {
      CAPTURE(c.name, n);
      const auto one = run(c.op, a, b, 1);
      const auto two = run(c.op, a, b, 2);
      CHECK(std::memcmp(one.data(), two.data(), n * sizeof(float)) == 0);
      std::size_t wrong = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double want = c.reference(a[i], b[i]);
        const bool ok = c.tolerance == 0 ? static_cast<double>(two[i]) == want
                                         : std::abs(two[i] - want) <= c.tolerance * std::max(1.0, std::abs(want));
        wrong += !ok;
      }
      CHECK(wrong == 0);
    }
  }
}

TEST_CASE("ReLU as torch.relu on signed zeros, infinities and NaN, forward and back", "[backend]") {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {-0.f, 0.f, -1.f, 2.f, -inf, inf, nan};
  std::vector<float> y(x.size()), dx(x.size());
  Cpu::relu_forward(x.data(), y.data(), x.size());
  // torch.relu: -0 -> -0, NaN -> NaN, negatives -> +0
  CHECK(std::signbit(y[0]));
  CHECK((y[1] == 0.f && !std::signbit(y[1])));
  CHECK((y[2] == 0.f && !std::signbit(y[2])));
  CHECK(y[3] == 2.f);
  CHECK((y[4] == 0.f && !std::signbit(y[4])));
  CHECK(y[5] == inf);
  CHECK(std::isnan(y[6]));
  // threshold_backward(grad, output, 0): 0 where the output is <= 0, the gradient elsewhere
  const std::vector<float> dy(x.size(), 3.f);
  Cpu::relu_backward(y.data(), dy.data(), dx.data(), x.size());
  CHECK(dx == std::vector<float>{0.f, 0.f, 0.f, 3.f, 0.f, 3.f, 3.f});
}
