#pragma once
// Seeded image augmentation: random crops, flips, rotations, shears and zooms composed
// into a pipeline, and the resizes used to prepare image data.
//
// Images are channel-first <C, H, W> samples, one per column of a batch: pixel (c, y, x)
// of a sample is at c*H*W + y*W + x (PyTorch's NCHW memory). Geometry follows torchvision:
// pixel centres sit at integer coordinates, rotations, shears and zooms turn about the
// image centre ((W-1)/2, (H-1)/2), sample bilinearly and fill with zeros outside the image
// (torch.nn.functional.grid_sample, align_corners=False, padding_mode="zeros").
//
// Randomness: every number an operation draws comes from the strata::Rng it is given, so
// a seed reproduces the same images on every platform. Within a batch, sample k of batch b
// uses its own generator Rng(seed).fork(b).fork(k): results depend on neither the thread
// count nor the order in which threads reach the samples. An operation draws only for
// choices that have more than one outcome: its coin (only when 0 < p < 1; when the coin
// says no, it draws nothing else), then its parameters (none for pad 0, a zero angle
// range, or a zoom range of one value).
//
// **Example**:
// ```cpp
// const auto aug = augment::pad_crop(2) | augment::rotate(15) | augment::shear(20, 0.4);
// aug.describe();  // "pad_crop(2) | rotate(15) | shear(20, p=0.4)"
// aug.apply_batch(x.data(), x.cols(), 1, 16, 16, /*seed*/ 7, /*batch_index*/ step);
// ```
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <sstream>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/rng.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace strata::augment {

namespace detail {

inline std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

inline void check_probability(double p, const char* who) {
  if (!(p >= 0.0 && p <= 1.0))
    strata::detail::throw_option(std::string("augment::") + who + ": the probability p must lie in [0, 1], got " +
                                 number(p));
}

/// Output pixel (x, y) reads the input at centre + M (x - cx, y - cy): bilinear, the four
/// taps weighted by their distance, taps outside the image reading zero. Computed in double
/// and rounded once per pixel. Cost: about 20 flops per pixel plus 4 reads per channel.
template <class T>
void warp(const T* in, T* out, std::size_t c, std::size_t h, std::size_t w, double m00, double m01, double m10,
          double m11) {
  const std::size_t plane = h * w;
  const double cx = 0.5 * static_cast<double>(w - 1), cy = 0.5 * static_cast<double>(h - 1);
  const auto iw = static_cast<std::ptrdiff_t>(w), ih = static_cast<std::ptrdiff_t>(h);
  for (std::size_t y = 0; y < h; ++y) {
    const double dy = static_cast<double>(y) - cy;
    for (std::size_t x = 0; x < w; ++x) {
      const double dx = static_cast<double>(x) - cx;
      const double sx = cx + (m00 * dx + m01 * dy), sy = cy + (m10 * dx + m11 * dy);
      const double fx0 = std::floor(sx), fy0 = std::floor(sy);
      const double ax = sx - fx0, ay = sy - fy0;
      // Far outside (or NaN): every tap is zero padding.
      if (!(fx0 >= -1.0 && fx0 < static_cast<double>(w) && fy0 >= -1.0 && fy0 < static_cast<double>(h))) {
        for (std::size_t ch = 0; ch < c; ++ch) out[ch * plane + y * w + x] = T(0);
        continue;
      }
      const auto x0 = static_cast<std::ptrdiff_t>(fx0), y0 = static_cast<std::ptrdiff_t>(fy0);
      const bool in_x0 = x0 >= 0, in_x1 = x0 + 1 < iw, in_y0 = y0 >= 0, in_y1 = y0 + 1 < ih;
      const double w00 = (1 - ax) * (1 - ay), w01 = ax * (1 - ay), w10 = (1 - ax) * ay, w11 = ax * ay;
      for (std::size_t ch = 0; ch < c; ++ch) {
        const T* p = in + ch * plane;
        double v = 0;
        if (in_y0) {
          const T* row = p + y0 * iw;
          if (in_x0) v += w00 * static_cast<double>(row[x0]);
          if (in_x1) v += w01 * static_cast<double>(row[x0 + 1]);
        }
        if (in_y1) {
          const T* row = p + (y0 + 1) * iw;
          if (in_x0) v += w10 * static_cast<double>(row[x0]);
          if (in_x1) v += w11 * static_cast<double>(row[x0 + 1]);
        }
        out[ch * plane + y * w + x] = static_cast<T>(v);
      }
    }
  }
}

/// Inverse map of a rotation by `degrees`, counter-clockwise on screen for positive angles
/// (torchvision's rotate): output (dx, dy) from the centre reads the input at
/// (cos dx - sin dy, sin dx + cos dy).
template <class T>
void warp_rotate(const T* in, T* out, std::size_t c, std::size_t h, std::size_t w, double degrees) {
  const double t = degrees * std::numbers::pi / 180.0, cs = std::cos(t), sn = std::sin(t);
  warp(in, out, c, h, w, cs, -sn, sn, cs);
}

/// Inverse map of torchvision's affine(shear=[degrees, 0]): output (dx, dy) reads the input
/// at (dx + tan(degrees) dy, dy), so rows below the centre move left for positive angles.
template <class T>
void warp_shear(const T* in, T* out, std::size_t c, std::size_t h, std::size_t w, double degrees) {
  warp(in, out, c, h, w, 1.0, std::tan(degrees * std::numbers::pi / 180.0), 0.0, 1.0);
}

/// Output (y, x) = input (y + top - pad, x + left - pad), zero where that lies outside:
/// a crop at (top, left) of the image zero-padded by `pad` on each side.
template <class T>
void shifted_copy(const T* in, T* out, std::size_t c, std::size_t h, std::size_t w, std::ptrdiff_t dy,
                  std::ptrdiff_t dx) {
  const auto ih = static_cast<std::ptrdiff_t>(h), iw = static_cast<std::ptrdiff_t>(w);
  for (std::size_t ch = 0; ch < c; ++ch)
    for (std::ptrdiff_t y = 0; y < ih; ++y) {
      T* o = out + (static_cast<std::ptrdiff_t>(ch) * ih + y) * iw;
      const std::ptrdiff_t sy = y + dy;
      if (sy < 0 || sy >= ih) {
        std::fill(o, o + iw, T(0));
        continue;
      }
      const T* row = in + (static_cast<std::ptrdiff_t>(ch) * ih + sy) * iw;
      for (std::ptrdiff_t x = 0; x < iw; ++x) {
        const std::ptrdiff_t sx = x + dx;
        o[x] = (sx >= 0 && sx < iw) ? row[sx] : T(0);
      }
    }
}

/// Area-resize weights from `in` to `out` pixels along one axis: out x in, each row the
/// fraction of every input pixel that the output pixel covers, summing to 1.
inline std::vector<double> area_weights(std::size_t in, std::size_t out) {
  std::vector<double> wt(out * in, 0.0);
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  for (std::size_t o = 0; o < out; ++o) {
    const double lo = static_cast<double>(o) * scale, hi = lo + scale;
    for (std::size_t i = 0; i < in; ++i) {
      const double a = std::max(lo, static_cast<double>(i)), b = std::min(hi, static_cast<double>(i + 1));
      if (b > a) wt[o * in + i] = (b - a) / scale;
    }
  }
  return wt;
}

inline int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

inline int thread_index() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

}  // namespace detail

/// One augmentation step: a small value type made by the factories below (pad_crop, hflip,
/// rotate, shear, scale), which check its arguments. `a` and `b` are the step's parameters
/// (pad; -; max degrees; max shear degrees; min and max zoom), `p` the probability that it
/// is applied to an image.
struct Op {
  enum class Kind { pad_crop, hflip, rotate, shear, scale };
  Kind kind = Kind::hflip;
  double a = 0, b = 0, p = 1;

  bool operator==(const Op&) const = default;

  /// "rotate(45)", "shear(20, p=0.4)", "hflip(p=0.5)", "scale(0.9, 1.1)", "pad_crop(4)".
  std::string describe() const {
    const std::string prob = p == 1.0 ? std::string() : "p=" + detail::number(p);
    auto with = [&](std::string args) {
      if (!prob.empty()) args += (args.empty() ? "" : ", ") + prob;
      return args + ")";
    };
    switch (kind) {
      case Kind::pad_crop: return "pad_crop(" + detail::number(a) + ")";
      case Kind::hflip: return "hflip(" + with("");
      case Kind::rotate: return "rotate(" + with(detail::number(a));
      case Kind::shear: return "shear(" + with(detail::number(a));
      case Kind::scale: return "scale(" + with(detail::number(a) + ", " + detail::number(b));
    }
    return "?";
  }

  /// Applies the step to one <c, h, w> image. Reads `in`; returns true when the result was
  /// written to `out`, false when `in` already holds it (modified in place, or untouched).
  template <class T>
  bool apply(T* in, T* out, std::size_t c, std::size_t h, std::size_t w, Rng& rng) const {
    if (p <= 0.0) return false;
    if (p < 1.0 && !(rng.uniform() < p)) return false;
    switch (kind) {
      case Kind::pad_crop: {
        const auto pad = static_cast<std::uint64_t>(a);
        if (pad == 0) return false;
        // torchvision RandomCrop: top first, then left, each uniform in [0, 2 pad].
        const auto top = static_cast<std::ptrdiff_t>(rng.below(2 * pad + 1));
        const auto left = static_cast<std::ptrdiff_t>(rng.below(2 * pad + 1));
        const auto ipad = static_cast<std::ptrdiff_t>(pad);
        if (top == ipad && left == ipad) return false;
        detail::shifted_copy(in, out, c, h, w, top - ipad, left - ipad);
        return true;
      }
      case Kind::hflip:
        for (std::size_t r = 0; r < c * h; ++r) std::reverse(in + r * w, in + (r + 1) * w);
        return false;
      case Kind::rotate: {
        const double deg = a > 0 ? rng.uniform(-a, a) : 0.0;
        if (deg == 0.0) return false;
        detail::warp_rotate(in, out, c, h, w, deg);
        return true;
      }
      case Kind::shear: {
        const double deg = a > 0 ? rng.uniform(-a, a) : 0.0;
        if (deg == 0.0) return false;
        detail::warp_shear(in, out, c, h, w, deg);
        return true;
      }
      case Kind::scale: {
        const double s = b > a ? rng.uniform(a, b) : a;
        if (s == 1.0) return false;
        detail::warp(in, out, c, h, w, 1.0 / s, 0.0, 0.0, 1.0 / s);
        return true;
      }
    }
    return false;
  }
};

/// Zero-pads the image by `pad` pixels on each side, then crops an H x W window at a
/// uniformly random position (torchvision RandomCrop(size, padding=pad)): a random shift by
/// up to `pad` pixels each way, zeros shifted in. pad_crop(0) is the identity.
inline Op pad_crop(std::size_t pad) {
  // A size_t cannot be negative; a "negative" int converted to it arrives huge.
  if (pad > (std::size_t{1} << 30))
    strata::detail::throw_option("augment::pad_crop: pad must be a small non-negative number of pixels, got " +
                                 std::to_string(static_cast<long long>(pad)));
  return {Op::Kind::pad_crop, static_cast<double>(pad), 0.0, 1.0};
}

/// Mirrors the image left-right with probability p. Flipping twice is the identity.
inline Op hflip(double p = 0.5) {
  detail::check_probability(p, "hflip");
  return {Op::Kind::hflip, 0.0, 0.0, p};
}

/// With probability p, rotates by an angle uniform in [-max_degrees, max_degrees] about the
/// image centre (bilinear, zero fill). rotate(0) is the identity.
inline Op rotate(double max_degrees, double p = 1.0) {
  if (!(max_degrees >= 0.0 && std::isfinite(max_degrees)))
    strata::detail::throw_option("augment::rotate: max_degrees must be finite and >= 0 (angles are drawn from "
                                 "[-max_degrees, max_degrees]), got " + detail::number(max_degrees));
  detail::check_probability(p, "rotate");
  return {Op::Kind::rotate, max_degrees, 0.0, p};
}

/// With probability p, shears horizontally by an angle uniform in [-max_shear_degrees,
/// max_shear_degrees] about the image centre (bilinear, zero fill): row y moves by
/// -tan(angle) * (y - (h-1)/2) pixels (torchvision's RandomAffine(0, shear=max)). shear(0, p)
/// is the identity.
inline Op shear(double max_shear_degrees, double p) {
  if (!(max_shear_degrees >= 0.0 && max_shear_degrees < 90.0))
    strata::detail::throw_option("augment::shear: max_shear_degrees must lie in [0, 90) (an angle in degrees, "
                                 "not a shear factor), got " + detail::number(max_shear_degrees));
  detail::check_probability(p, "shear");
  return {Op::Kind::shear, max_shear_degrees, 0.0, p};
}

/// With probability p, zooms by a factor uniform in [min, max] about the image centre,
/// keeping the shape (bilinear, zero fill): factors above 1 enlarge and crop, below 1 shrink
/// with a zero border. scale(1, 1) is the identity.
inline Op scale(double min, double max, double p = 1.0) {
  if (!(min > 0.0 && std::isfinite(max) && min <= max))
    strata::detail::throw_option("augment::scale: needs 0 < min <= max (zoom factors, 1 keeps the size), got min " +
                                 detail::number(min) + ", max " + detail::number(max));
  detail::check_probability(p, "scale");
  return {Op::Kind::scale, min, max, p};
}

/// A sequence of Ops applied in order; compose with `|`. An Op converts to a one-step
/// Pipeline, and a default Pipeline is empty (no augmentation).
class Pipeline {
 public:
  Pipeline() = default;
  Pipeline(Op op) : ops_{op} {}  // NOLINT: implicit on purpose, `.augment = augment::hflip()`
  explicit Pipeline(std::vector<Op> ops) : ops_(std::move(ops)) {}

  const std::vector<Op>& ops() const { return ops_; }
  std::size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }
  bool operator==(const Pipeline&) const = default;

  Pipeline& operator|=(const Op& op) {
    ops_.push_back(op);
    return *this;
  }
  Pipeline& operator|=(const Pipeline& other) {
    ops_.insert(ops_.end(), other.ops_.begin(), other.ops_.end());
    return *this;
  }

  /// "rotate(45) | shear(20, p=0.4)"; "none" when empty.
  std::string describe() const {
    if (ops_.empty()) return "none";
    std::string s;
    for (const Op& op : ops_) s += (s.empty() ? "" : " | ") + op.describe();
    return s;
  }

  /// Applies the steps in order to one <c, h, w> image in place, drawing from `rng`.
  /// `scratch` holds c*h*w scalars (contents ignored and overwritten). Allocates nothing.
  template <class T>
  void apply(T* image, std::size_t c, std::size_t h, std::size_t w, Rng& rng, T* scratch) const {
    static_assert(std::is_floating_point_v<T>, "augment: images hold float or double pixels");
    T* cur = image;
    T* other = scratch;
    for (const Op& op : ops_)
      if (op.apply(cur, other, c, h, w, rng)) std::swap(cur, other);
    if (cur != image) std::copy(cur, cur + c * h * w, image);
  }

  /// Scalars of workspace apply_batch uses with the current OpenMP thread count: one
  /// image of scratch per thread.
  static std::size_t workspace_size(std::size_t c, std::size_t h, std::size_t w) {
    return c * h * w * static_cast<std::size_t>(std::max(1, detail::max_threads()));
  }

  /// Augments `batch` images <c, h, w> stored one after another in `data` (a column-major
  /// C*H*W x batch matrix), in place. Sample k uses Rng(seed).fork(batch_index).fork(k), so
  /// the result depends only on (seed, batch_index, k), not on the thread count. Threads
  /// run over samples; each takes c*h*w scalars of `workspace` as its scratch, so a
  /// workspace of workspace_size(c, h, w) scalars lets every thread work (a smaller one, at
  /// least c*h*w, runs fewer threads). Allocates nothing.
  template <class T>
  void apply_batch(T* data, std::size_t batch, std::size_t c, std::size_t h, std::size_t w, std::uint64_t seed,
                   std::uint64_t batch_index, T* workspace, std::size_t workspace_scalars) const {
    static_assert(std::is_floating_point_v<T>, "augment: images hold float or double pixels");
    if (ops_.empty() || batch == 0) return;
    const std::size_t n = c * h * w;
    if (n == 0) return;
    if (workspace_scalars < n)
      strata::detail::throw_option("augment: apply_batch needs a workspace of at least one image (" +
                                   std::to_string(n) + " scalars), got " + std::to_string(workspace_scalars) +
                                   "; size it with Pipeline::workspace_size(c, h, w)");
    const Rng base = Rng(seed).fork(batch_index);
    const std::size_t threads =
        std::min({static_cast<std::size_t>(std::max(1, detail::max_threads())), workspace_scalars / n, batch});
    const auto count = static_cast<std::ptrdiff_t>(batch);
#pragma omp parallel num_threads(static_cast<int>(threads)) if (threads > 1 && batch * n >= 4096)
    {
      T* scratch = workspace + static_cast<std::size_t>(detail::thread_index()) * n;
#pragma omp for schedule(static)
      for (std::ptrdiff_t k = 0; k < count; ++k) {
        Rng rng = base.fork(static_cast<std::uint64_t>(k));
        apply(data + static_cast<std::size_t>(k) * n, c, h, w, rng, scratch);
      }
    }
  }

  /// As above with a workspace allocated for this call (once, not per sample).
  template <class T>
  void apply_batch(T* data, std::size_t batch, std::size_t c, std::size_t h, std::size_t w, std::uint64_t seed,
                   std::uint64_t batch_index) const {
    if (ops_.empty() || batch == 0 || c * h * w == 0) return;
    std::vector<T> workspace(std::min(workspace_size(c, h, w), c * h * w * batch));
    apply_batch(data, batch, c, h, w, seed, batch_index, workspace.data(), workspace.size());
  }

 private:
  std::vector<Op> ops_;
};

inline Pipeline operator|(const Op& a, const Op& b) { return Pipeline(std::vector<Op>{a, b}); }
inline Pipeline operator|(Pipeline a, const Op& b) { return a |= b; }
inline Pipeline operator|(const Op& a, const Pipeline& b) { return Pipeline(a) |= b; }
inline Pipeline operator|(Pipeline a, const Pipeline& b) { return a |= b; }

/// Rotates a <c, h, w> image by `degrees` about its centre, counter-clockwise on screen for
/// positive angles, into `out` (bilinear, zero fill; torchvision's rotate). The step that
/// rotate() applies with a random angle.
template <class T>
void rotate_image(const T* in, std::size_t c, std::size_t h, std::size_t w, T* out, double degrees) {
  detail::warp_rotate(in, out, c, h, w, degrees);
}

/// Shears a <c, h, w> image horizontally by `degrees` about its centre into `out`: row y
/// moves by -tan(degrees) * (y - (h-1)/2) pixels (bilinear, zero fill; torchvision's
/// affine(shear=[degrees, 0])). The step that shear() applies with a random angle.
template <class T>
void shear_image(const T* in, std::size_t c, std::size_t h, std::size_t w, T* out, double degrees) {
  detail::warp_shear(in, out, c, h, w, degrees);
}

/// Zooms a <c, h, w> image by `factor` about its centre into `out`, keeping the shape
/// (bilinear, zero fill; torchvision's affine(scale=factor)). The step that scale() applies
/// with a random factor.
template <class T>
void zoom_image(const T* in, std::size_t c, std::size_t h, std::size_t w, T* out, double factor) {
  detail::warp(in, out, c, h, w, 1.0 / factor, 0.0, 0.0, 1.0 / factor);
}

/// Bilinear resize of a <c, h, w> image to <c, h2, w2>, as
/// torch.nn.functional.interpolate(mode="bilinear", align_corners=False) (no antialiasing):
/// output pixel o reads the input at (o + 0.5) * in / out - 0.5, clamped at 0, between its
/// two neighbours (the last one repeated at the far edge). Shrinking by more than 2 skips
/// input pixels; use resize_area there.
template <class T>
void resize_bilinear(const T* in, std::size_t c, std::size_t h, std::size_t w, T* out, std::size_t h2,
                     std::size_t w2) {
  if (h == 0 || w == 0 || h2 == 0 || w2 == 0)
    strata::detail::throw_option("augment::resize_bilinear: sizes must be > 0, got " + std::to_string(h) + "x" +
                                 std::to_string(w) + " to " + std::to_string(h2) + "x" + std::to_string(w2));
  // Per output index: first input index, step to the second (0 at the edge), weight of the second.
  auto taps = [](std::size_t in_n, std::size_t out_n, std::size_t o) {
    const double s = static_cast<double>(in_n) / static_cast<double>(out_n);
    const double src = std::max(0.0, (static_cast<double>(o) + 0.5) * s - 0.5);
    auto i0 = static_cast<std::size_t>(src);
    if (i0 > in_n - 1) i0 = in_n - 1;
    const std::size_t step = i0 + 1 < in_n ? 1 : 0;
    return std::tuple<std::size_t, std::size_t, double>{i0, step, src - static_cast<double>(i0)};
  };
  for (std::size_t y = 0; y < h2; ++y) {
    const auto [y0, dy, ly] = taps(h, h2, y);
    for (std::size_t x = 0; x < w2; ++x) {
      const auto [x0, dx, lx] = taps(w, w2, x);
      for (std::size_t ch = 0; ch < c; ++ch) {
        const T* p = in + ch * h * w;
        const double v00 = static_cast<double>(p[y0 * w + x0]), v01 = static_cast<double>(p[y0 * w + x0 + dx]);
        const double v10 = static_cast<double>(p[(y0 + dy) * w + x0]),
                     v11 = static_cast<double>(p[(y0 + dy) * w + x0 + dx]);
        out[(ch * h2 + y) * w2 + x] =
            static_cast<T>((1 - ly) * ((1 - lx) * v00 + lx * v01) + ly * ((1 - lx) * v10 + lx * v11));
      }
    }
  }
}

/// Area resize of a <c, h, w> image to <c, h2, w2>: each output pixel is the mean of the
/// input area it covers, input pixels cut by its edges counted by the fraction inside
/// (exact for any ratio; for integer shrink factors the same as average pooling). Keeps
/// every input pixel's contribution, so thin strokes survive shrinking. Allocates the
/// per-axis weights and one intermediate image.
template <class T>
void resize_area(const T* in, std::size_t c, std::size_t h, std::size_t w, T* out, std::size_t h2, std::size_t w2) {
  if (h == 0 || w == 0 || h2 == 0 || w2 == 0)
    strata::detail::throw_option("augment::resize_area: sizes must be > 0, got " + std::to_string(h) + "x" +
                                 std::to_string(w) + " to " + std::to_string(h2) + "x" + std::to_string(w2));
  const std::vector<double> wy = detail::area_weights(h, h2), wx = detail::area_weights(w, w2);
  std::vector<double> rows(h2 * w);  // rows resized, columns not yet
  for (std::size_t ch = 0; ch < c; ++ch) {
    const T* p = in + ch * h * w;
    for (std::size_t o = 0; o < h2; ++o)
      for (std::size_t x = 0; x < w; ++x) {
        double s = 0;
        for (std::size_t y = 0; y < h; ++y) s += wy[o * h + y] * static_cast<double>(p[y * w + x]);
        rows[o * w + x] = s;
      }
    for (std::size_t o = 0; o < h2; ++o)
      for (std::size_t q = 0; q < w2; ++q) {
        double s = 0;
        for (std::size_t x = 0; x < w; ++x) s += wx[q * w + x] * rows[o * w + x];
        out[(ch * h2 + o) * w2 + q] = static_cast<T>(s);
      }
  }
}

}  // namespace strata::augment
