// SGEMM ceiling for bench/peers/run_cnn.sh: C = A * B (float32, square, column-major) via
// cblas_sgemm from whatever libblas.so.3 the dynamic linker finds -- the same library the
// torch and dlib peers load (with STRATA_BENCH_OPENBLAS=1 the runner puts OpenBLAS's
// pthread build first on LD_LIBRARY_PATH).  OpenBLAS takes its thread count from
// OPENBLAS_NUM_THREADS, which the runner sets to STRATA_BENCH_THREADS (2).
// Prints  RESULT sgemm sgemm_<n>_gflops <best GFLOP/s over >= 3 calls and >= 1 s>
// for n in argv (default 256 512 1024).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

extern "C" void cblas_sgemm(int order, int transa, int transb, int m, int n, int k, float alpha, const float* a,
                            int lda, const float* b, int ldb, float beta, float* c, int ldc);

int main(int argc, char** argv) {
    constexpr int kColMajor = 102, kNoTrans = 111;
    std::vector<int> sizes;
    for (int i = 1; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
    if (sizes.empty()) sizes = {256, 512, 1024};
    using clk = std::chrono::steady_clock;
    for (int n : sizes) {
        const std::size_t nn = static_cast<std::size_t>(n) * n;
        std::vector<float> a(nn), b(nn), c(nn);
        for (std::size_t i = 0; i < nn; ++i) {
            a[i] = static_cast<float>((i * 7 + 3) % 13) / 13.0f - 0.5f;
            b[i] = static_cast<float>((i * 5 + 1) % 11) / 11.0f - 0.5f;
        }
        auto call = [&] {
            cblas_sgemm(kColMajor, kNoTrans, kNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
        };
        call();  // warm-up (thread pool start, page faults)
        double best = 1e30, total = 0;
        int calls = 0;
        while (calls < 3 || total < 1.0) {
            const auto t0 = clk::now();
            call();
            const double el = std::chrono::duration<double>(clk::now() - t0).count();
            best = std::min(best, el);
            total += el;
            ++calls;
        }
        std::printf("RESULT sgemm sgemm_%d_gflops %.2f\n", n, 2.0 * n * n * static_cast<double>(n) / best / 1e9);
        std::fflush(stdout);
    }
    return 0;
}
