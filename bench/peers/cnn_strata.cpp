// strata's side of bench/peers/run_cnn.sh: the digit CNN on Fashion-MNIST.
// Prints "RESULT strata cnn_train_b50 <samples/s>" and "RESULT strata cnn_infer_b1_us <us>".
// Same env and timing rules as the other peers (see cnn_common.hpp); the data is read with
// strata's own gzip IDX reader (strata/data/io/idx.hpp).
#include <strata/strata.hpp>
#include <strata/data/io/idx.hpp>

#include <cstdio>
#include <exception>
#include <vector>

#include <omp.h>

#include "cnn_common.hpp"

namespace {

using Cnn = strata::Sequential<strata::Input<1, 28, 28>, strata::Conv2D<32, 3>, strata::ReLU, strata::MaxPool<2>,
                               strata::Conv2D<64, 3>, strata::ReLU, strata::MaxPool<2>, strata::Conv2D<128, 3>,
                               strata::ReLU, strata::Flatten, strata::Dense<100>, strata::ReLU, strata::Dense<50>,
                               strata::ReLU, strata::Dense<10>, strata::BatchNorm>;

}  // namespace

int main() try {
    using cnn_bench::Settings;
    const Settings s;
    omp_set_num_threads(s.threads);

    const std::string dir = s.dir;
    auto images = strata::data::read_idx<float>(dir + "/train-images-idx3-ubyte.gz", {.dims = {0, 28, 28}});
    auto labels = strata::data::read_idx<float>(dir + "/train-labels-idx1-ubyte.gz", {.rank = 1});
    long n = std::min<long>(s.samples, static_cast<long>(images.dims[0]));
    n -= n % Settings::batch;
    if (n <= 0) throw std::runtime_error("STRATA_BENCH_SAMPLES must be >= 50");
    std::vector<float>& x = images.data;  // 784 x N, one image per column
    x.resize(static_cast<std::size_t>(n) * 784);
    for (float& v : x) v /= 255.0f;
    const std::vector<float>& y = labels.data;  // class index per sample, as float

    strata::Model<Cnn, strata::loss::CrossEntropy, strata::optim::Adam> model({.optimizer = {.lr = 1e-3}, .seed = 0});
    std::printf("# strata threads=%d samples=%ld warmup=%ld batches=%ld\n", s.threads, n, s.warmup, s.batches);
    std::fflush(stdout);

    const long per_epoch = n / Settings::batch;
    double loss = 0;
    const double sps = cnn_bench::time_training(s, [&](long k) {
        const std::size_t off = static_cast<std::size_t>((k % per_epoch) * Settings::batch);
        loss = model.train_step(x.data() + off * 784, y.data() + off, Settings::batch).loss;
    });
    std::printf("# strata last training loss %.4f\n", loss);
    std::printf("RESULT strata cnn_train_b50 %.1f\n", sps);
    std::fflush(stdout);

    auto& net = model.network();
    net.set_mode(strata::Mode::eval);
    float sink = 0;
    const double us = cnn_bench::time_inference(s, [&](long i) {
        const auto out = net.forward(x.data() + static_cast<std::size_t>(i % n) * 784, 1);
        sink += out(0, 0);
    });
    std::printf("RESULT strata cnn_infer_b1_us %.1f\n", us);
    if (sink == 12345.678f) std::puts("");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "cnn_strata: %s\n", e.what());
    return 1;
}
