// Image augmentation: golden images (hand-derived, and from PyTorch's grid_sample and
// interpolate), identities, and seeded determinism independent of the thread count.
#include <catch2/catch.hpp>
#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <vector>

#include <strata/data/augment.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace strata;

namespace {

// 1x5x5: pixel (y, x) holds 5y + x.
std::vector<double> image_a() {
  std::vector<double> a(25);
  for (std::size_t i = 0; i < 25; ++i) a[i] = static_cast<double>(i);
  return a;
}

// 2x4x6: pixel i holds ((7 i) mod 13) / 4 (exact in binary).
std::vector<double> image_b() {
  std::vector<double> b(48);
  for (std::size_t i = 0; i < 48; ++i) b[i] = static_cast<double>((i * 7) % 13) / 4.0;
  return b;
}

std::vector<float> random_images(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(rng.uniform(0.1, 1.0));
  return v;
}

template <class T>
void check_close(const std::vector<T>& got, const std::vector<double>& want, double tol) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("element " << i);
    CHECK(static_cast<double>(got[i]) == Approx(want[i]).margin(tol));
  }
}

// Bilinear read with zero padding, written out independently of the library: the four
// pixels around (sx, sy), each weighted by the area of the opposite sub-rectangle.
double bilinear_at(const std::vector<double>& img, std::size_t h, std::size_t w, double sx, double sy) {
  double v = 0;
  const double x0 = std::floor(sx), y0 = std::floor(sy);
  for (int j = 0; j < 2; ++j)
    for (int i = 0; i < 2; ++i) {
      const double px = x0 + i, py = y0 + j;
      const double weight = (1 - std::abs(sx - px)) * (1 - std::abs(sy - py));
      if (px >= 0 && py >= 0 && px < static_cast<double>(w) && py < static_cast<double>(h))
        v += weight * img[static_cast<std::size_t>(py) * w + static_cast<std::size_t>(px)];
    }
  return v;
}

}  // namespace

TEST_CASE("augment: hflip golden and flip twice is the identity", "[unit][data][augment]") {
  const auto a = image_a();
  auto img = a;
  std::vector<double> scratch(48);  // big enough for both images
  Rng rng(1);
  const augment::Pipeline flip = augment::hflip(1.0);
  flip.apply(img.data(), 1, 5, 5, rng, scratch.data());
  CHECK(img == std::vector<double>{4,  3,  2,  1,  0,  9,  8,  7,  6,  5,  14, 13, 12,
                                   11, 10, 19, 18, 17, 16, 15, 24, 23, 22, 21, 20});
  flip.apply(img.data(), 1, 5, 5, rng, scratch.data());
  CHECK(img == a);

  // Every channel's rows flip; (hflip | hflip) with p = 1 is the identity in one call.
  auto b = image_b();
  (augment::hflip(1.0) | augment::hflip(1.0)).apply(b.data(), 2, 4, 6, rng, scratch.data());
  CHECK(b == image_b());
  b = image_b();
  augment::Pipeline(augment::hflip(1.0)).apply(b.data(), 2, 4, 6, rng, scratch.data());
  const auto ref = image_b();
  for (std::size_t c = 0; c < 2; ++c)
    for (std::size_t y = 0; y < 4; ++y)
      for (std::size_t x = 0; x < 6; ++x) CHECK(b[(c * 4 + y) * 6 + x] == ref[(c * 4 + y) * 6 + (5 - x)]);
}

TEST_CASE("augment: pad_crop golden for a known seed, and always a shifted copy", "[unit][data][augment]") {
  // Rng(2) draws top = 0 then left = 2 from [0, 2]: with pad 1 the output pixel (y, x) is the
  // input's (y - 1, x + 1): the image moves down one row and left one column.
  auto img = image_a();
  std::vector<double> scratch(25);
  Rng rng(2);
  augment::Pipeline(augment::pad_crop(1)).apply(img.data(), 1, 5, 5, rng, scratch.data());
  CHECK(img == std::vector<double>{0,  0,  0,  0,  0, 1,  2,  3,  4,  0, 6,  7,  8,
                                   9,  0, 11, 12, 13, 14, 0, 16, 17, 18, 19, 0});

  // For many seeds, the output of a 2x4x6 image is the input shifted by some (dy, dx) in
  // [-pad, pad]^2 with zeros shifted in; the shape stays 2x4x6.
  const std::size_t pad = 2;
  const auto b = image_b();
  int distinct_shifts = 0;
  std::vector<int> seen(25, 0);
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    std::vector<double> out(b.size() + 1, -1.0);  // one guard element past the image
    std::copy(b.begin(), b.end(), out.begin());
    std::vector<double> s(48);
    Rng r(seed);
    augment::Pipeline(augment::pad_crop(pad)).apply(out.data(), 2, 4, 6, r, s.data());
    CHECK(out.back() == -1.0);
    int matches = 0;
    for (int dy = -2; dy <= 2; ++dy)
      for (int dx = -2; dx <= 2; ++dx) {
        bool same = true;
        for (int c = 0; c < 2; ++c)
          for (int y = 0; y < 4; ++y)
            for (int x = 0; x < 6; ++x) {
              const int sy = y + dy, sx = x + dx;
              const double want = (sy >= 0 && sy < 4 && sx >= 0 && sx < 6) ? b[static_cast<std::size_t>((c * 4 + sy) * 6 + sx)] : 0.0;
              same = same && out[static_cast<std::size_t>((c * 4 + y) * 6 + x)] == want;
            }
        if (same) {
          ++matches;
          if (!seen[static_cast<std::size_t>((dy + 2) * 5 + dx + 2)]++) ++distinct_shifts;
        }
      }
    CHECK(matches == 1);
  }
  CHECK(distinct_shifts == 25);  // 200 draws reach every one of the 25 shifts, edges included
}

TEST_CASE("augment: fixed rotations, shears and zooms match PyTorch's grid_sample", "[unit][data][augment]") {
  // References: torch.nn.functional.grid_sample(mode="bilinear", padding_mode="zeros",
  // align_corners=False) on the inverse affine grid torchvision builds (rotation about the
  // centre (W-1)/2, (H-1)/2; counter-clockwise for positive angles).
  const auto a = image_a();
  const auto b = image_b();
  std::vector<double> out_a(25), out_b(48);
  augment::rotate_image(a.data(), 1, 5, 5, out_a.data(), 30.0);
  check_close(out_a, {0.339745962156, 1.638784067832, 4.339745962156, 7.70577136594, 2.770526580503,
                      1.437822173509, 4.803847577293, 8.169872981078, 11.535898384862, 11.265717108886,
                      5.267949192431, 8.633974596216, 12.0, 15.366025403784, 18.732050807569,
                      7.165063509461, 12.464101615138, 15.830127018922, 19.196152422707, 22.562177826491,
                      3.660254037844, 16.29422863406, 19.660254037844, 16.791996550515, 6.091034656191},
              1e-9);
  augment::rotate_image(a.data(), 1, 5, 5, out_a.data(), 90.0);  // the right column becomes the top row
  check_close(out_a, {4, 9, 14, 19, 24, 3, 8, 13, 18, 23, 2, 7, 12, 17, 22, 1, 6, 11, 16, 21, 0, 5, 10, 15, 20},
              1e-9);
  augment::rotate_image(b.data(), 2, 4, 6, out_b.data(), -50.0);
  check_close(out_b, {1.367553165614, 1.079617569442, 2.394821309555, 0.856106562686, 0.309962641054, 0.0,
                      1.34581790441,  0.51314828172,  1.354726342046, 1.613838250945, 1.900415858403, 0.240855535704,
                      0.324913972882, 2.335816764443, 1.060869394728, 1.6386800779,   1.23343990099,  1.230264877086,
                      0.0,            0.569558772954, 1.458830231779, 2.009175216391, 1.931478777004, 1.980286234359,
                      1.181562087838, 1.690479798997, 2.144821309555, 0.606106562686, 0.213274660856, 0.0,
                      1.119247230149, 2.114341774535, 1.477845352141, 1.363838250945, 1.650415858403, 0.174981763864,
                      0.259040201042, 2.09360832892,  0.810869394728, 1.3886800779,   0.98343990099,  1.003694202825,
                      0.0,            0.472870792756, 1.208830231779, 1.759175216391, 1.681478777004, 1.794295156583},
              1e-9);
  augment::shear_image(b.data(), 2, 4, 6, out_b.data(), 20.0);
  check_close(out_b, {0.0,            0.794578135051, 1.068933027099, 1.044578135051, 1.318933027099, 1.294578135051,
                      0.61351116215,  2.181526045017, 1.2729776757,   2.431526045017, 1.5229776757,   2.681526045017,
                      1.2270223243,   0.318473954983, 1.4770223243,   0.568473954983, 1.7270223243,   0.409007441433,
                      1.431066972901, 1.705421864949, 1.681066972901, 1.955421864949, 1.931066972901, 0.567555810751,
                      1.362133945802, 2.318933027099, 0.818933027099, 0.794578135051, 1.068933027099, 1.044578135051,
                      0.409007441433, 1.931526045017, 1.0229776757,   2.181526045017, 1.2729776757,   2.431526045017,
                      1.568473954983, 2.7270223243,   1.2270223243,   0.318473954983, 1.4770223243,   0.204503720717,
                      1.181066972901, 1.455421864949, 1.431066972901, 1.705421864949, 1.681066972901, 0.454044648601},
              1e-9);
  augment::zoom_image(a.data(), 1, 5, 5, out_a.data(), 1.3);
  check_close(out_a, {2.769230769231,  3.538461538462,  4.307692307692,  5.076923076923,  5.846153846154,
                      6.615384615385,  7.384615384615,  8.153846153846,  8.923076923077,  9.692307692308,
                      10.461538461538, 11.230769230769, 12.0,            12.769230769231, 13.538461538462,
                      14.307692307692, 15.076923076923, 15.846153846154, 16.615384615385, 17.384615384615,
                      18.153846153846, 18.923076923077, 19.692307692308, 20.461538461538, 21.230769230769},
              1e-9);
}

TEST_CASE("augment: a random rotation draws its angle from the seed and matches the formula",
          "[unit][data][augment]") {
  // rotate(40) with p = 1 draws one number: the angle, uniform in [-40, 40).
  Rng probe(2);
  const double deg = probe.uniform(-40.0, 40.0);
  CHECK(deg == Approx(-31.825670941568429).epsilon(1e-12));  // the portable stream, pinned
  const double t = deg * std::numbers::pi / 180.0;

  const auto b = image_b();
  auto img = b;
  std::vector<double> scratch(48);
  Rng rng(2);
  augment::Pipeline(augment::rotate(40)).apply(img.data(), 2, 4, 6, rng, scratch.data());
  // Output pixel (x, y) reads the input at centre + R(t) (x - cx, y - cy), R(t) = [[cos, -sin], [sin, cos]].
  const double cx = 2.5, cy = 1.5;
  for (const auto [c, y, x] : {std::array<std::size_t, 3>{0, 1, 3}, {1, 2, 0}, {1, 0, 5}, {0, 3, 2}}) {
    const double dx = static_cast<double>(x) - cx, dy = static_cast<double>(y) - cy;
    const double sx = cx + std::cos(t) * dx - std::sin(t) * dy, sy = cy + std::sin(t) * dx + std::cos(t) * dy;
    const std::vector<double> plane(b.begin() + static_cast<std::ptrdiff_t>(c * 24),
                                    b.begin() + static_cast<std::ptrdiff_t>(c * 24 + 24));
    INFO("pixel " << c << "," << y << "," << x);
    CHECK(img[(c * 4 + y) * 6 + x] == Approx(bilinear_at(plane, 4, 6, sx, sy)).margin(1e-12));
  }
}

TEST_CASE("augment: resize_bilinear matches torch interpolate(align_corners=False)", "[unit][data][augment]") {
  const auto a = image_a();
  const auto b = image_b();
  std::vector<double> out(2 * 6 * 9);
  augment::resize_bilinear(b.data(), 2, 4, 6, out.data(), 3, 5);
  check_close(std::vector<double>(out.begin(), out.begin() + 30),
              {0.3,    1.425,  1.25,   1.075,  2.2,    1.1375, 1.2875, 1.4375, 1.5875,         1.7375,
               1.975,  1.15,   1.625,  2.1,    1.275,  2.4875, 1.175,  1.0,    0.825,          1.95,
               1.05,   2.175,  1.1875, 1.3375, 1.4875, 1.779166666667, 1.279166666667, 1.375, 1.85, 1.025},
              1e-9);
  augment::resize_bilinear(b.data(), 2, 4, 6, out.data(), 6, 9);
  check_close(out,
              {0.0,   0.875,  1.5,   0.5,   1.125, 1.75,  0.75,  1.375, 2.25,  0.375, 1.25,  1.875, 0.875, 1.5,
               2.125, 1.125,  1.75,  2.625, 0.875, 1.479166666667, 1.923611111111, 1.284722222222, 1.729166666667,
               2.173611111111, 1.534722222222, 1.979166666667, 2.583333333333, 1.375, 0.895833333333,
               0.618055555556, 1.423611111111, 1.145833333333, 0.868055555556, 1.673611111111, 1.395833333333,
               0.916666666667, 1.875, 1.125, 0.666666666667, 1.833333333333, 1.375, 0.916666666667,
               2.083333333333, 1.625, 0.875, 2.25, 1.5, 1.041666666667, 2.208333333333, 1.75, 1.291666666667,
               2.458333333333, 2.0, 1.25, 3.0, 2.25, 1.25, 0.25, 0.875, 1.5, 0.5, 1.125, 2.0, 1.75, 1.8125, 1.625,
               0.625, 1.25, 1.875, 0.875, 1.5, 2.375, 0.625, 1.5, 2.125, 1.125, 1.479166666667, 1.923611111111,
               1.284722222222, 1.729166666667, 2.333333333333, 1.125, 2.0, 2.625, 1.625, 0.895833333333,
               0.618055555556, 1.423611111111, 1.145833333333, 0.666666666667, 1.625, 1.6875, 1.770833333333,
               1.854166666667, 1.125, 0.666666666667, 1.833333333333, 1.375, 0.625, 2.0, 1.25, 0.791666666667,
               1.958333333333, 1.5, 1.041666666667, 2.208333333333, 1.75, 1.0},
              1e-9);
  std::vector<float> af(a.begin(), a.end()), outf(21);
  augment::resize_bilinear(af.data(), 1, 5, 5, outf.data(), 3, 7);
  check_close(outf,
              {1.666666666667, 2.238095238095, 2.952380952381, 3.666666666667, 4.380952380952, 5.095238095238,
               5.666666666667, 10.0, 10.571428571429, 11.285714285714, 12.0, 12.714285714286, 13.428571428571, 14.0,
               18.333333333333, 18.904761904762, 19.619047619048, 20.333333333333, 21.047619047619,
               21.761904761905, 22.333333333333},
              1e-5);
  // Same size: a copy.
  std::vector<double> same(48);
  augment::resize_bilinear(b.data(), 2, 4, 6, same.data(), 4, 6);
  CHECK(same == b);
  CHECK_THROWS_AS(augment::resize_bilinear(b.data(), 2, 4, 6, same.data(), 0, 6), option_error);
}

TEST_CASE("augment: resize_area averages exactly what each output pixel covers", "[unit][data][augment]") {
  // 1x1x3 -> 1x1x2: each output covers 1.5 inputs.
  const std::vector<double> row{2, 4, 8};
  std::vector<double> out(2);
  augment::resize_area(row.data(), 1, 1, 3, out.data(), 1, 2);
  CHECK(out[0] == Approx((2 + 0.5 * 4) / 1.5));
  CHECK(out[1] == Approx((0.5 * 4 + 8) / 1.5));
  // An integer factor is average pooling.
  const auto a = image_a();
  std::vector<double> four(16), pooled(4);
  for (std::size_t i = 0; i < 16; ++i) four[i] = a[i] * a[i];
  augment::resize_area(four.data(), 1, 4, 4, pooled.data(), 2, 2);
  for (std::size_t y = 0; y < 2; ++y)
    for (std::size_t x = 0; x < 2; ++x) {
      const std::size_t i = 2 * y * 4 + 2 * x;
      CHECK(pooled[y * 2 + x] == Approx((four[i] + four[i + 1] + four[i + 4] + four[i + 5]) / 4));
    }
  // Mass is kept: the mean of 28x28 -> 16x16 equals the input's mean, channel by channel.
  const auto big = random_images(2 * 28 * 28, 3);
  std::vector<float> small(2 * 16 * 16);
  augment::resize_area(big.data(), 2, 28, 28, small.data(), 16, 16);
  for (std::size_t c = 0; c < 2; ++c) {
    double in_sum = 0, out_sum = 0;
    for (std::size_t i = 0; i < 784; ++i) in_sum += big[c * 784 + i];
    for (std::size_t i = 0; i < 256; ++i) out_sum += small[c * 256 + i];
    CHECK(out_sum / 256 == Approx(in_sum / 784).epsilon(1e-5));
  }
}

TEST_CASE("augment: zero-strength steps are the identity exactly and draw nothing", "[unit][data][augment]") {
  const auto base = random_images(3 * 7 * 9, 11);
  std::vector<float> scratch(base.size());
  const augment::Pipeline identities[] = {augment::rotate(0),       augment::shear(0, 1.0), augment::scale(1, 1),
                                          augment::pad_crop(0),     augment::rotate(45, 0.0),
                                          augment::hflip(0.0),      augment::scale(0.5, 2.0, 0.0),
                                          augment::rotate(0) | augment::shear(0, 0.5) | augment::pad_crop(0)};
  for (const auto& pipe : identities) {
    INFO(pipe.describe());
    auto img = base;
    Rng rng(5), untouched(5);
    pipe.apply(img.data(), 3, 7, 9, rng, scratch.data());
    CHECK(img == base);
    if (pipe.size() == 1) CHECK(rng.next() == untouched.next());
  }
  // A step with p = 0 changes neither the image nor the stream: the pipeline without it
  // gives the same result.
  auto x1 = base, x2 = base;
  Rng r1(8), r2(8);
  (augment::rotate(30) | augment::shear(10, 0.0) | augment::pad_crop(2)).apply(x1.data(), 3, 7, 9, r1, scratch.data());
  (augment::rotate(30) | augment::pad_crop(2)).apply(x2.data(), 3, 7, 9, r2, scratch.data());
  CHECK(x1 == x2);
  CHECK(x1 != base);
}

TEST_CASE("augment: seeds reproduce, differ, and batches do not depend on the thread count",
          "[unit][data][augment]") {
  constexpr std::size_t c = 3, h = 8, w = 10, n = c * h * w, batch = 37;
  const auto pipe = augment::pad_crop(2) | augment::hflip() | augment::rotate(20, 0.7) | augment::shear(15, 0.5) |
                    augment::scale(0.8, 1.2, 0.5);
  const auto base = random_images(n * batch, 21);
  auto run = [&](std::uint64_t seed, std::uint64_t step) {
    auto x = base;
    pipe.apply_batch(x.data(), batch, c, h, w, seed, step);
    return x;
  };
  const auto a = run(7, 3);
  CHECK(a == run(7, 3));
  CHECK(a != run(8, 3));
  CHECK(a != run(7, 4));
  CHECK(a != base);
  // Sample k of batch b uses Rng(seed).fork(b).fork(k).
  {
    std::vector<float> one(base.begin() + 5 * n, base.begin() + 6 * n), scratch(n);
    Rng rng = Rng(7).fork(3).fork(5);
    pipe.apply(one.data(), c, h, w, rng, scratch.data());
    CHECK(std::equal(one.begin(), one.end(), a.begin() + 5 * n));
  }
  // Samples differ from each other: no two columns got the same augmentation of the same image.
  {
    std::vector<float> same_images(n * 4);
    for (std::size_t k = 0; k < 4; ++k) std::copy(base.begin(), base.begin() + n, same_images.begin() + k * n);
    pipe.apply_batch(same_images.data(), 4, c, h, w, 7, 0);
    CHECK(!std::equal(same_images.begin(), same_images.begin() + n, same_images.begin() + n));
  }
#ifdef _OPENMP
  const int before = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto one_thread = run(7, 3);
  omp_set_num_threads(2);
  const auto two_threads = run(7, 3);
  omp_set_num_threads(before);
  CHECK(one_thread == a);
  CHECK(two_threads == a);
#endif
  // A workspace of one image (so one thread) gives the same result.
  {
    auto x = base;
    std::vector<float> ws(n);
    pipe.apply_batch(x.data(), batch, c, h, w, 7, 3, ws.data(), ws.size());
    CHECK(x == a);
    CHECK_THROWS_AS(pipe.apply_batch(x.data(), batch, c, h, w, 7, 3, ws.data(), n - 1), option_error);
  }
  CHECK(augment::Pipeline::workspace_size(c, h, w) >= n);
  // double and float agree.
  std::vector<double> xd(base.begin(), base.end());
  pipe.apply_batch(xd.data(), batch, c, h, w, 7, 3);
  for (std::size_t i = 0; i < xd.size(); ++i) REQUIRE(static_cast<float>(xd[i]) == Approx(a[i]).margin(1e-5));
}

TEST_CASE("augment: describe, composition and argument checks", "[unit][data][augment]") {
  CHECK((augment::rotate(45) | augment::shear(20, 0.4)).describe() == "rotate(45) | shear(20, p=0.4)");
  CHECK((augment::pad_crop(4) | augment::hflip() | augment::scale(0.9, 1.1)).describe() ==
        "pad_crop(4) | hflip(p=0.5) | scale(0.9, 1.1)");
  CHECK(augment::rotate(10, 0.25).describe() == "rotate(10, p=0.25)");
  CHECK(augment::Pipeline().describe() == "none");
  CHECK(augment::Pipeline().empty());
  const augment::Pipeline p = augment::hflip(1.0);
  CHECK(p.size() == 1);
  const auto q = (augment::pad_crop(1) | augment::hflip()) | (augment::rotate(5) | augment::scale(1, 2));
  CHECK(q.size() == 4);
  CHECK(q.ops()[2] == augment::rotate(5));

  CHECK_THROWS_AS(augment::hflip(1.5), option_error);
  CHECK_THROWS_AS(augment::hflip(-0.1), option_error);
  CHECK_THROWS_AS(augment::rotate(-1), option_error);
  CHECK_THROWS_AS(augment::rotate(NAN), option_error);
  CHECK_THROWS_AS(augment::rotate(10, 2.0), option_error);
  CHECK_THROWS_AS(augment::shear(-5, 0.5), option_error);
  CHECK_THROWS_AS(augment::shear(90, 0.5), option_error);
  CHECK_THROWS_AS(augment::shear(10, NAN), option_error);
  CHECK_THROWS_AS(augment::scale(1.2, 0.8), option_error);
  CHECK_THROWS_AS(augment::scale(0, 1), option_error);
  CHECK_THROWS_AS(augment::scale(-1, 1), option_error);
  CHECK_THROWS_AS(augment::pad_crop(static_cast<std::size_t>(-2)), option_error);
  CHECK_THROWS_WITH(augment::rotate(-1), Catch::Contains("max_degrees"));
  CHECK_THROWS_WITH(augment::scale(2, 1), Catch::Contains("0 < min <= max"));
}
