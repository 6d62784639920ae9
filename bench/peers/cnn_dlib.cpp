// dlib peer for the strata CNN training benchmark (bench/peers/run_cnn.sh).
//
// The digit CNN: con_<N,3,3,1,1,0,0> (3x3, stride 1, no padding) + relu + max_pool<2,2,2,2>
// three times (no pool after the third), fc 100/50/10 with relu, bn_fc (batch norm over
// the 10 logits), loss_multiclass_log (softmax cross-entropy on logits).  dlib's own
// parameter initialisation.  One step = compute_parameter_gradients (forward + loss +
// backward) + update_parameters (adam, lr 1e-3, betas 0.9/0.999, weight decay 0), driving
// the net directly, without dnn_trainer and its background thread.  Batches are turned into
// tensors once (to_tensor), outside the timing; batch-1 inference is net.forward on a
// prepared 1-sample tensor (dlib's bn_ uses its running statistics when a batch has one sample).
// Prints  RESULT dlib cnn_train_b50 <samples/s>
//         RESULT dlib cnn_infer_b1_us <median us>
//
// Threads: dlib's CPU tensor code is single-threaded; its gemm (convolutions are im2col +
// gemm) goes to whatever BLAS libdlib was linked against (Debian: libblas.so.3), which takes
// OPENBLAS_NUM_THREADS / OMP_NUM_THREADS from the runner.
// Env: see cnn_common.hpp; STRATA_BENCH_FTZ=1 sets FTZ/DAZ (MXCSR) first (default off).
#include <dlib/dnn.h>
#include <dlib/revision.h>

#include <cstdio>
#include <exception>
#include <vector>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "cnn_common.hpp"

namespace {

using namespace dlib;

template <long N, typename SUBNET>
using conv3 = add_layer<con_<N, 3, 3, 1, 1, 0, 0>, SUBNET>;
template <typename SUBNET>
using pool2 = max_pool<2, 2, 2, 2, SUBNET>;

using net_type = loss_multiclass_log<bn_fc<fc<10, relu<fc<50, relu<fc<100,
    relu<conv3<128, pool2<relu<conv3<64, pool2<relu<conv3<32, input<matrix<float>>>>>>>>>>>>>>>>>;

}  // namespace

int main() try {
    using cnn_bench::Settings;
    const Settings s;
    const bool ftz = cnn_bench::env_long("STRATA_BENCH_FTZ", 0) != 0;
#if defined(__SSE__)
    if (ftz) _mm_setcsr(_mm_getcsr() | 0x8040);  // FTZ | DAZ
#endif
    auto d = cnn_bench::load_fashion(s);

    net_type net;
    std::vector<matrix<float>> images(static_cast<std::size_t>(d.n));
    for (long i = 0; i < d.n; ++i) {
        images[i].set_size(28, 28);
        std::copy_n(d.images.data() + i * 784, 784, &images[i](0, 0));
    }
    std::vector<resizable_tensor> xs(static_cast<std::size_t>(d.n / Settings::batch));
    std::vector<std::vector<unsigned long>> ys(xs.size());
    for (std::size_t b = 0; b < xs.size(); ++b) {
        const auto first = images.begin() + static_cast<long>(b) * Settings::batch;
        net.to_tensor(first, first + Settings::batch, xs[b]);
        for (long j = 0; j < Settings::batch; ++j) ys[b].push_back(static_cast<unsigned long>(d.labels[b * Settings::batch + j]));
    }
    std::printf("# dlib %d.%d threads=1 (dlib CPU code is single-threaded; BLAS may use more) ftz=%d samples=%ld warmup=%ld batches=%ld\n",
                DLIB_MAJOR_VERSION, DLIB_MINOR_VERSION, ftz ? 1 : 0, d.n, s.warmup, s.batches);
    std::fflush(stdout);

    std::vector<adam> solvers(net_type::num_computational_layers, adam(0.0f, 0.9f, 0.999f));
    double loss = 0;
    const double sps = cnn_bench::time_training(s, [&](long k) {
        const auto i = static_cast<std::size_t>(k) % xs.size();
        loss = net.compute_parameter_gradients(xs[i], ys[i].begin());
        net.update_parameters(solvers, 1e-3);
    });
    std::printf("# dlib last training loss %.4f\n", loss);
    std::printf("RESULT dlib cnn_train_b50 %.1f\n", sps);
    std::fflush(stdout);

    std::vector<resizable_tensor> singles(static_cast<std::size_t>(std::min<long>(d.n, 1000)));
    for (std::size_t i = 0; i < singles.size(); ++i) net.to_tensor(images.begin() + static_cast<long>(i), images.begin() + static_cast<long>(i) + 1, singles[i]);
    float sink = 0;
    const double us = cnn_bench::time_inference(s, [&](long i) {
        const tensor& out = net.forward(singles[static_cast<std::size_t>(i) % singles.size()]);
        sink += out.host()[0];
    });
    std::printf("RESULT dlib cnn_infer_b1_us %.1f\n", us);
    if (sink == 12345.678f) std::puts("");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "cnn_dlib: %s\n", e.what());
    return 1;
}
