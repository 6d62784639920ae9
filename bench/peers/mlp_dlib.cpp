// dlib peer for the strata MLP training-step benchmark.
//
// One step = compute_parameter_gradients (forward + loss + backward) + update_parameters
// (adam, lr 1e-3, betas 0.9/0.999, weight decay 0), driving the net directly, i.e. without
// dnn_trainer and its background thread.  Input batches are converted to dlib tensors once
// (to_tensor) when the pool is built, outside the timed region.
// Prints one line per case:  RESULT dlib <case> <steps_per_sec>
//
// Threads: dlib's CPU tensor code is single-threaded; its gemm goes to whatever BLAS
// libdlib was linked against (Debian: libblas.so.3 alternative).  STRATA_BENCH_THREADS is
// not used here (OMP_NUM_THREADS/OPENBLAS_NUM_THREADS from the runner apply to the BLAS).
// Env: STRATA_BENCH_SECONDS (default 2), STRATA_BENCH_POOL (default 64),
//      STRATA_BENCH_FTZ=1 sets flush-to-zero/denormals-are-zero (MXCSR) first (default off).
#include <dlib/dnn.h>
#include <dlib/revision.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace {

using clk = std::chrono::steady_clock;
using namespace dlib;

long env_long(const char* name, long def) {
    const char* v = std::getenv(name);
    return (v && *v) ? std::strtol(v, nullptr, 10) : def;
}
double env_double(const char* name, double def) {
    const char* v = std::getenv(name);
    return (v && *v) ? std::strtod(v, nullptr) : def;
}

const double kSeconds = env_double("STRATA_BENCH_SECONDS", 2.0);
const long kPool = env_long("STRATA_BENCH_POOL", 64);
constexpr double kWarmupSeconds = 0.3;

template <class Step>
double measure(Step&& step) {
    auto t0 = clk::now();
    long n = 0;
    double el = 0;
    for (;;) {
        step();
        ++n;
        el = std::chrono::duration<double>(clk::now() - t0).count();
        if (el >= kWarmupSeconds && n >= 10) break;
    }
    const long chunk = std::max(1L, static_cast<long>(n / el * kSeconds / 200));
    long steps = 0;
    t0 = clk::now();
    for (;;) {
        for (long i = 0; i < chunk; ++i) step();
        steps += chunk;
        el = std::chrono::duration<double>(clk::now() - t0).count();
        if (el >= kSeconds) break;
    }
    return steps / el;
}

using small_net = loss_mean_squared<fc<1, relu<fc<16, relu<fc<16, input<matrix<float, 0, 1>>>>>>>>;
using mnist_net = loss_multiclass_log<fc<10, relu<fc<50, relu<fc<100, input<matrix<float, 0, 1>>>>>>>>;

std::mt19937 rng(0);

// PyTorch default nn.Linear init: W and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
// dlib fc_ params are a (fan_in + 1) x fan_out tensor, weights first, bias row last.
template <class Net>
void torch_like_init(Net& net) {
    visit_layer_parameters(net, [](tensor& p) {
        if (p.size() == 0) return;
        const float bound = 1.0f / std::sqrt(static_cast<float>(p.num_samples() - 1));
        std::uniform_real_distribution<float> u(-bound, bound);
        float* d = p.host();
        for (size_t i = 0; i < p.size(); ++i) d[i] = u(rng);
    });
}

template <class Net, class Label, class MakeLabel>
double run(long batch, long in_dim, MakeLabel make_label) {
    Net net;
    std::normal_distribution<float> nd(0.f, 1.f);
    std::vector<resizable_tensor> xs(kPool);
    std::vector<std::vector<Label>> ys(kPool);
    for (long b = 0; b < kPool; ++b) {
        std::vector<matrix<float, 0, 1>> samples(batch);
        for (auto& s : samples) {
            s.set_size(in_dim);
            for (long j = 0; j < in_dim; ++j) s(j) = nd(rng);
        }
        net.to_tensor(samples.begin(), samples.end(), xs[b]);
        ys[b].resize(batch);
        for (auto& y : ys[b]) y = make_label();
    }
    net.forward(xs[0]);  // allocates parameters
    torch_like_init(net);

    std::vector<adam> solvers(Net::num_computational_layers, adam(0.0f, 0.9f, 0.999f));
    long i = 0;
    auto step = [&] {
        net.compute_parameter_gradients(xs[i], ys[i].begin());
        net.update_parameters(solvers, 1e-3);
        i = (i + 1) % kPool;
    };
    return measure(step);
}

double run_case(const std::string& name) {
    if (name == "mlp_small_b10" || name == "mlp_small_b400") {
        std::normal_distribution<float> nd(0.f, 1.f);
        return run<small_net, float>(name == "mlp_small_b10" ? 10 : 400, 2, [&] { return nd(rng); });
    }
    std::uniform_int_distribution<unsigned long> cls(0, 9);
    return run<mnist_net, unsigned long>(50, 784, [&] { return cls(rng); });
}

}  // namespace

int main(int argc, char** argv) {
    const bool ftz = env_long("STRATA_BENCH_FTZ", 0) != 0;
#if defined(__SSE__)
    if (ftz) _mm_setcsr(_mm_getcsr() | 0x8040);  // FTZ | DAZ
#endif
    std::vector<std::string> cases;
    for (int a = 1; a < argc; ++a) cases.emplace_back(argv[a]);
    if (cases.empty()) cases = {"mlp_small_b10", "mlp_small_b400", "mlp_784_b50"};
    std::printf("# dlib %d.%d threads=1 (dlib CPU code is single-threaded) ftz=%d\n",
                DLIB_MAJOR_VERSION, DLIB_MINOR_VERSION, ftz ? 1 : 0);
    std::fflush(stdout);
    for (const auto& c : cases) {
        std::printf("RESULT dlib %s %.1f\n", c.c_str(), run_case(c));
        std::fflush(stdout);
    }
}
