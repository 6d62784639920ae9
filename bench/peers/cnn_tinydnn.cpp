// tiny-dnn peer for the strata CNN training benchmark (bench/peers/run_cnn.sh).
//
// tiny-dnn 1.0.0a3 (Debian package tiny-dnn) has no separate activation layers: the ReLUs
// are the layers' Activation template arguments (conv<relu> then max_pool equals Conv2d,
// ReLU, MaxPool2d).  BatchNorm1d(10) is batch_normalization_layer(spatial 1, channels 10).
// It has no softmax-cross-entropy-on-logits loss, so the net ends in
// linear_layer<softmax>(10) and trains with cross_entropy_multiclass (the same function).
// Optimizer: tiny_dnn::adam (alpha 1e-3, betas 0.9/0.999).  Default weight init
// (xavier).  float32 (tiny-dnn's float_t without CNN_USE_DOUBLE).
//
// Training goes through network::train (its fit() resets the optimizer and switches the
// phase, so it is called once with all warm-up + timed batches); the on-batch callback
// records the time after the warm-up batches and after the last one.  Samples of a batch
// are spread over n_threads = STRATA_BENCH_THREADS tasks; tiny-dnn's default parallel_for
// runs std::thread::hardware_concurrency() threads (2 on the 2-core test machine).  Built
// with CNN_USE_AVX (its AVX conv/fc kernels) and without CNN_USE_OMP: the OpenMP build was
// ~3x slower in training and ~17x slower at batch 1 here.
// Batch-1 inference: network::predict(vec_t) in test phase.
// Prints  RESULT tiny-dnn cnn_train_b50 <samples/s>
//         RESULT tiny-dnn cnn_infer_b1_us <median us>
#include <tiny_dnn/tiny_dnn.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <thread>
#include <vector>

#include "cnn_common.hpp"

int main() try {
    using cnn_bench::Settings;
    using namespace tiny_dnn;
    using namespace tiny_dnn::activation;
    const Settings s;
    auto d = cnn_bench::load_fashion(s);

    std::vector<vec_t> images(static_cast<std::size_t>(d.n));
    std::vector<label_t> labels(static_cast<std::size_t>(d.n));
    for (long i = 0; i < d.n; ++i) {
        images[i].assign(d.images.begin() + i * 784, d.images.begin() + (i + 1) * 784);
        labels[i] = static_cast<label_t>(d.labels[i]);
    }
    // Warm-up + timed batches, cycling through the first n images.
    const long total = s.warmup + s.batches;
    std::vector<vec_t> xs;
    std::vector<label_t> ys;
    for (long k = 0; k < total * Settings::batch; ++k) {
        xs.push_back(images[static_cast<std::size_t>(k % d.n)]);
        ys.push_back(labels[static_cast<std::size_t>(k % d.n)]);
    }

    network<sequential> net;
    net << convolutional_layer<relu>(28, 28, 3, 1, 32) << max_pooling_layer<identity>(26, 26, 32, 2)
        << convolutional_layer<relu>(13, 13, 3, 32, 64) << max_pooling_layer<identity>(11, 11, 64, 2)
        << convolutional_layer<relu>(5, 5, 3, 64, 128)
        << fully_connected_layer<relu>(1152, 100) << fully_connected_layer<relu>(100, 50)
        << fully_connected_layer<identity>(50, 10)
        << batch_normalization_layer(1, 10)
        << linear_layer<softmax>(10);
    adam opt;
    opt.alpha = float_t(1e-3);
    std::printf("# tiny-dnn 1.0.0a3 n_threads=%d hardware_concurrency=%u avx=%d samples=%ld warmup=%ld batches=%ld\n",
                s.threads, std::thread::hardware_concurrency(), core::default_engine() == core::backend_t::avx ? 1 : 0, d.n, s.warmup, s.batches);
    std::fflush(stdout);

    long done = 0;
    cnn_bench::clk::time_point t0 = cnn_bench::clk::now(), t1 = t0;
    net.train<cross_entropy_multiclass>(
        opt, xs, ys, Settings::batch, 1,
        [&] {
            ++done;
            if (done == s.warmup) t0 = cnn_bench::clk::now();
            if (done == total) t1 = cnn_bench::clk::now();
        },
        [] {}, false, s.threads);
    const double el = std::chrono::duration<double>(t1 - t0).count();
    if (s.warmup == 0) throw std::runtime_error("STRATA_BENCH_WARMUP must be >= 1 for tiny-dnn");
    std::printf("RESULT tiny-dnn cnn_train_b50 %.1f\n", static_cast<double>(s.batches * Settings::batch) / el);
    std::fflush(stdout);

    net.set_netphase(net_phase::test);
    float_t sink = 0;
    const double us = cnn_bench::time_inference(s, [&](long i) {
        const vec_t out = net.predict(images[static_cast<std::size_t>(i % d.n)]);
        sink += out[0];
    });
    std::printf("RESULT tiny-dnn cnn_infer_b1_us %.1f\n", us);
    if (sink == float_t(12345.678)) std::puts("");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "cnn_tinydnn: %s\n", e.what());
    return 1;
}
