// LibTorch peer for the strata CNN training benchmark (bench/peers/run_cnn.sh).
//
// The digit CNN on the first N Fashion-MNIST training images, batch 50, Adam lr 1e-3,
// cross-entropy on logits, float32.  One step = grads set to undefined (like PyTorch's
// zero_grad(set_to_none=True)) + forward + loss + backward + torch::optim::Adam step.
// Prints  RESULT libtorch cnn_train_b50 <samples/s>
//         RESULT libtorch cnn_infer_b1_us <median us of one eval-mode batch-1 forward>
// Env: see cnn_common.hpp; STRATA_BENCH_THREADS -> at::set_num_threads.
#include <torch/torch.h>

#include <cstdio>
#include <exception>
#include <vector>

#include "cnn_common.hpp"

int main() try {
    using cnn_bench::Settings;
    namespace nn = torch::nn;
    const Settings s;
    at::set_num_threads(s.threads);
    torch::manual_seed(0);

    auto d = cnn_bench::load_fashion(s);
    const auto x = torch::from_blob(d.images.data(), {d.n, 1, 28, 28}, torch::kFloat32);
    const auto y = torch::from_blob(d.labels.data(), {d.n}, torch::kInt64);
    std::vector<torch::Tensor> xs, ys;
    for (long i = 0; i < d.n; i += Settings::batch) {
        xs.push_back(x.slice(0, i, i + Settings::batch).clone());
        ys.push_back(y.slice(0, i, i + Settings::batch).clone());
    }

    nn::Sequential model(nn::Conv2d(nn::Conv2dOptions(1, 32, 3)), nn::ReLU(), nn::MaxPool2d(2),
                         nn::Conv2d(nn::Conv2dOptions(32, 64, 3)), nn::ReLU(), nn::MaxPool2d(2),
                         nn::Conv2d(nn::Conv2dOptions(64, 128, 3)), nn::ReLU(), nn::Flatten(),
                         nn::Linear(1152, 100), nn::ReLU(), nn::Linear(100, 50), nn::ReLU(), nn::Linear(50, 10),
                         nn::BatchNorm1d(10));
    auto params = model->parameters();
    torch::optim::Adam opt(params, torch::optim::AdamOptions(1e-3));
    std::printf("# libtorch %s threads=%d samples=%ld warmup=%ld batches=%ld\n", TORCH_VERSION,
                at::get_num_threads(), d.n, s.warmup, s.batches);
    std::fflush(stdout);

    model->train();
    torch::Tensor last;
    const double sps = cnn_bench::time_training(s, [&](long k) {
        const auto i = static_cast<std::size_t>(k) % xs.size();
        for (auto& p : params) p.mutable_grad() = torch::Tensor();  // set_to_none
        auto loss = torch::cross_entropy_loss(model->forward(xs[i]), ys[i]);
        loss.backward();
        opt.step();
        last = loss.detach();
    });
    std::printf("# libtorch last training loss %.4f\n", last.item<float>());
    std::printf("RESULT libtorch cnn_train_b50 %.1f\n", sps);
    std::fflush(stdout);

    model->eval();
    std::vector<torch::Tensor> singles;
    for (long i = 0; i < std::min<long>(d.n, 1000); ++i) singles.push_back(x.slice(0, i, i + 1).clone());
    torch::InferenceMode guard;
    const double us = cnn_bench::time_inference(s, [&](long i) {
        auto out = model->forward(singles[static_cast<std::size_t>(i) % singles.size()]);
        (void)out;
    });
    std::printf("RESULT libtorch cnn_infer_b1_us %.1f\n", us);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "cnn_libtorch: %s\n", e.what());
    return 1;
}
