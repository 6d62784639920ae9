#pragma once
// Shared settings of the C++ peers of bench/peers/run_cnn.sh (LibTorch, dlib, tiny-dnn):
// environment, Fashion-MNIST loading (gzip IDX through zlib) and the timing rules.
// strata's peer (cnn_strata.cpp) reads the data with strata's own data::read_idx instead.
//
// Env (same names and defaults in cnn_torch.py and cnn_strata.cpp):
//   STRATA_BENCH_THREADS       threads (default 2)
//   STRATA_BENCH_FASHION_DIR   directory of the IDX files (default /usr/share/datasets/fashion-mnist)
//   STRATA_BENCH_SAMPLES       first N training images used (default 10000)
//   STRATA_BENCH_WARMUP        untimed training batches first (default 10)
//   STRATA_BENCH_BATCHES       timed training batches (default 100)
//   STRATA_BENCH_INFER_CALLS   timed batch-1 inference calls, median reported (default 500)
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace cnn_bench {

inline long env_long(const char* name, long def) {
    const char* v = std::getenv(name);
    return (v && *v) ? std::strtol(v, nullptr, 10) : def;
}
inline std::string env_str(const char* name, const char* def) {
    const char* v = std::getenv(name);
    return (v && *v) ? std::string(v) : std::string(def);
}

struct Settings {
    int threads = static_cast<int>(env_long("STRATA_BENCH_THREADS", 2));
    std::string dir = env_str("STRATA_BENCH_FASHION_DIR", "/usr/share/datasets/fashion-mnist");
    long samples = env_long("STRATA_BENCH_SAMPLES", 10000);
    long warmup = env_long("STRATA_BENCH_WARMUP", 10);
    long batches = env_long("STRATA_BENCH_BATCHES", 100);
    long infer_calls = env_long("STRATA_BENCH_INFER_CALLS", 500);
    static constexpr long batch = 50;
    static constexpr long infer_warmup = 20;
};

/// The whole gunzipped file.
inline std::vector<unsigned char> gunzip(const std::string& path) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) throw std::runtime_error("cannot open " + path);
    std::vector<unsigned char> out;
    unsigned char buf[1 << 16];
    int n;
    while ((n = gzread(f, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + n);
    gzclose(f);
    if (n < 0) throw std::runtime_error("gzip read error in " + path);
    return out;
}

inline std::uint32_t be32(const unsigned char* p) {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

/// First n images (pixels / 255, image after image, 784 floats each) and their labels.
struct Data {
    std::vector<float> images;
    std::vector<std::int64_t> labels;
    long n = 0;
};

inline Data load_fashion(const Settings& s) {
    const auto img = gunzip(s.dir + "/train-images-idx3-ubyte.gz");
    const auto lab = gunzip(s.dir + "/train-labels-idx1-ubyte.gz");
    if (img.size() < 16 || be32(img.data()) != 0x803 || be32(img.data() + 8) != 28 || be32(img.data() + 12) != 28)
        throw std::runtime_error("bad IDX image file");
    if (lab.size() < 8 || be32(lab.data()) != 0x801) throw std::runtime_error("bad IDX label file");
    const long avail = std::min<long>(be32(img.data() + 4), be32(lab.data() + 4));
    Data d;
    d.n = std::min(s.samples, avail);
    d.n -= d.n % Settings::batch;  // whole batches only
    if (d.n <= 0) throw std::runtime_error("STRATA_BENCH_SAMPLES must be >= 50");
    if (img.size() < 16 + static_cast<std::size_t>(d.n) * 784 || lab.size() < 8 + static_cast<std::size_t>(d.n))
        throw std::runtime_error("truncated IDX file");
    d.images.resize(static_cast<std::size_t>(d.n) * 784);
    for (std::size_t i = 0; i < d.images.size(); ++i) d.images[i] = img[16 + i] / 255.0f;
    d.labels.resize(static_cast<std::size_t>(d.n));
    for (long i = 0; i < d.n; ++i) d.labels[i] = lab[8 + i];
    return d;
}

using clk = std::chrono::steady_clock;

/// Runs `warmup` untimed then `batches` timed calls of step(k) (k = batch index, counting
/// on from the warm-up); returns samples per second.
template <class Step>
double time_training(const Settings& s, Step&& step) {
    long k = 0;
    for (long i = 0; i < s.warmup; ++i) step(k++);
    const auto t0 = clk::now();
    for (long i = 0; i < s.batches; ++i) step(k++);
    const double el = std::chrono::duration<double>(clk::now() - t0).count();
    return static_cast<double>(s.batches * Settings::batch) / el;
}

/// Median over `infer_calls` timed calls of infer(i) (after a few untimed ones), microseconds.
template <class Infer>
double time_inference(const Settings& s, Infer&& infer) {
    for (long i = 0; i < Settings::infer_warmup; ++i) infer(i);
    std::vector<double> us(static_cast<std::size_t>(s.infer_calls));
    for (long i = 0; i < s.infer_calls; ++i) {
        const auto t0 = clk::now();
        infer(i);
        us[static_cast<std::size_t>(i)] = std::chrono::duration<double, std::micro>(clk::now() - t0).count();
    }
    std::nth_element(us.begin(), us.begin() + static_cast<long>(us.size() / 2), us.end());
    return us[us.size() / 2];
}

}  // namespace cnn_bench
