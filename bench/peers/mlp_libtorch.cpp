// LibTorch peer for the strata MLP training-step benchmark.
//
// One step = zero grads (set to undefined, like PyTorch's zero_grad(set_to_none=True))
//          + forward + loss + backward + torch::optim::Adam step.
// Prints one line per case:  RESULT libtorch <case> <steps_per_sec>
//
// Env: STRATA_BENCH_THREADS (default 2) -> at::set_num_threads,
//      STRATA_BENCH_SECONDS (default 2), STRATA_BENCH_POOL (default 64),
//      STRATA_BENCH_FTZ=1 -> at::globalContext().setFlushDenormal(true) (default off).
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using clk = std::chrono::steady_clock;

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

// Time-based measurement: warm-up, then chunks of steps until kSeconds elapsed.
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

torch::nn::Sequential make_mlp(std::int64_t in, std::int64_t h1, std::int64_t h2, std::int64_t out) {
    return torch::nn::Sequential(torch::nn::Linear(in, h1), torch::nn::ReLU(),
                                 torch::nn::Linear(h1, h2), torch::nn::ReLU(),
                                 torch::nn::Linear(h2, out));
}

double run_case(const std::string& name) {
    const bool small = name.rfind("mlp_small", 0) == 0;
    const std::int64_t batch = name == "mlp_small_b10" ? 10 : name == "mlp_small_b400" ? 400 : 50;
    auto model = small ? make_mlp(2, 16, 16, 1) : make_mlp(784, 100, 50, 10);

    std::vector<torch::Tensor> xs, ys;
    for (long i = 0; i < kPool; ++i) {
        if (small) {
            xs.push_back(torch::randn({batch, 2}));
            ys.push_back(torch::randn({batch, 1}));
        } else {
            xs.push_back(torch::randn({batch, 784}));
            ys.push_back(torch::randint(0, 10, {batch}, torch::kLong));
        }
    }

    auto params = model->parameters();
    torch::optim::Adam opt(params, torch::optim::AdamOptions(1e-3));
    long i = 0;
    auto step = [&] {
        const auto& x = xs[i];
        const auto& y = ys[i];
        i = (i + 1) % kPool;
        for (auto& p : params) p.mutable_grad() = torch::Tensor();  // set_to_none
        auto out = model->forward(x);
        auto loss = small ? torch::mse_loss(out, y) : torch::cross_entropy_loss(out, y);
        loss.backward();
        opt.step();
    };
    return measure(step);
}

}  // namespace

int main(int argc, char** argv) {
    at::set_num_threads(static_cast<int>(env_long("STRATA_BENCH_THREADS", 2)));
    const bool ftz = env_long("STRATA_BENCH_FTZ", 0) != 0;
    if (ftz) at::globalContext().setFlushDenormal(true);
    torch::manual_seed(0);
    std::vector<std::string> cases;
    for (int a = 1; a < argc; ++a) cases.emplace_back(argv[a]);
    if (cases.empty()) cases = {"mlp_small_b10", "mlp_small_b400", "mlp_784_b50"};
    std::printf("# libtorch %s threads=%d ftz=%d\n", TORCH_VERSION, at::get_num_threads(), ftz ? 1 : 0);
    std::fflush(stdout);
    for (const auto& c : cases) {
        std::printf("RESULT libtorch %s %.1f\n", c.c_str(), run_case(c));
        std::fflush(stdout);
    }
}
