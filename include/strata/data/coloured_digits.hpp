#pragma once
// Coloured digits: grey digit images painted in a random colour, with two targets per
// sample (the digit and the colour), for two-headed networks; and glyph_digits, small
// generated digits that need no downloaded data.
//
// **Example**:
// ```cpp
// const auto grey = data::glyph_digits(100, /*seed*/ 1);            // 1000 images 1x16x16
// const auto rgb = data::coloured_digits(grey, 3, /*seed*/ 2);      // 3x16x16, targets {digit, colour}
// data::colour_name(static_cast<std::size_t>(rgb.y(1, 0)));         // "red", "green" or "blue"
// ```
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "dataset.hpp"

namespace strata::data {

/// Colours coloured_digits paints with; the first `colours` are used.
inline constexpr std::size_t palette_size = 7;

namespace detail {

struct PaletteEntry {
  const char* name;
  std::array<double, 3> rgb;
};

inline constexpr std::array<PaletteEntry, palette_size> palette{{{"red", {1, 0, 0}},
                                                                 {"green", {0, 1, 0}},
                                                                 {"blue", {0, 0, 1}},
                                                                 {"yellow", {1, 1, 0}},
                                                                 {"magenta", {1, 0, 1}},
                                                                 {"cyan", {0, 1, 1}},
                                                                 {"white", {1, 1, 1}}}};

inline void check_colour(std::size_t i, const char* who) {
  if (i >= palette_size)
    strata::detail::throw_option(std::string(who) + ": colour index " + std::to_string(i) + " is outside the palette of " +
                                 std::to_string(palette_size) + " colours (0 red .. 6 white)");
}

/// A 5x7 bitmap font for 0..9: seven rows of five bits each, the high bit on the left.
inline constexpr std::array<std::array<std::uint8_t, 7>, 10> glyph_font{{
    {0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110},  // 0
    {0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110},  // 1
    {0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111},  // 2
    {0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110},  // 3
    {0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010},  // 4
    {0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110},  // 5
    {0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110},  // 6
    {0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000},  // 7
    {0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110},  // 8
    {0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100},  // 9
}};

}  // namespace detail

/// The name of palette colour i: red, green, blue, yellow, magenta, cyan, white.
inline std::string colour_name(std::size_t i) {
  detail::check_colour(i, "colour_name");
  return detail::palette[i].name;
}

/// The red, green and blue components (each 0 or 1) of palette colour i.
inline std::array<double, 3> colour_rgb(std::size_t i) {
  detail::check_colour(i, "colour_rgb");
  return detail::palette[i].rgb;
}

/// Paints each grey digit (intensities clamped to [0, 1]) in one of the first `colours`
/// palette colours, chosen uniformly at random by `seed`: channel ch of a pixel of
/// intensity v is v * colour[ch], over a background of uniform noise in
/// [0, background_noise) per channel and pixel, blended by the ink: v * colour[ch] +
/// (1 - v) * noise (pixels stay in [0, 1]; background_noise 0 leaves the background
/// black). Targets: row 0 the digit's label (copied), row 1 the colour index.
/// Colours and noise come from separate streams of `seed`, so the noise level does not
/// change which colour a sample gets.
template <class T, std::size_t H, std::size_t W>
Dataset<Shape<3, H, W>, Shape<2>, T> coloured_digits(const Dataset<Shape<1, H, W>, Shape<1>, T>& digits,
                                                     std::size_t colours = 3, std::uint64_t seed = 0,
                                                     double background_noise = 0.0) {
  if (colours == 0 || colours > palette_size)
    strata::detail::throw_option("coloured_digits: colours must lie in [1, " + std::to_string(palette_size) +
                                 "] (red, green, blue, yellow, magenta, cyan, white), got " + std::to_string(colours));
  if (!(background_noise >= 0.0 && background_noise <= 1.0))
    strata::detail::throw_option("coloured_digits: background_noise must lie in [0, 1], got " +
                                 std::to_string(background_noise));
  constexpr std::size_t plane = H * W;
  const std::size_t n = digits.size();
  const auto cols = static_cast<Eigen::Index>(n);
  Dataset<Shape<3, H, W>, Shape<2>, T> out;
  out.x.resize(static_cast<Eigen::Index>(3 * plane), cols);
  out.y.resize(2, cols);
  Rng rng(seed);
  Rng noise = rng.fork(1);
  for (std::size_t j = 0; j < n; ++j) {
    const auto col = static_cast<Eigen::Index>(j);
    const auto colour = static_cast<std::size_t>(rng.below(colours));
    const auto& rgb = detail::palette[colour].rgb;
    const T* grey = digits.x.data() + j * plane;
    T* dst = out.x.data() + j * 3 * plane;
    for (std::size_t ch = 0; ch < 3; ++ch)
      for (std::size_t i = 0; i < plane; ++i) {
        const double v = std::clamp(static_cast<double>(grey[i]), 0.0, 1.0);
        double px = v * rgb[ch];
        if (background_noise > 0.0) px += (1.0 - v) * background_noise * noise.uniform();
        dst[ch * plane + i] = static_cast<T>(px);
      }
    out.y(0, col) = digits.y(0, col);
    out.y(1, col) = static_cast<T>(colour);
  }
  return out;
}

/// Generated digits 0..9 as 1x16x16 grey images with class-index targets, for tests and
/// examples that should run without downloaded data: each digit of a 5x7 bitmap font,
/// scaled by 2 to 10x14, placed at the centre shifted by up to 2 pixels sideways and 1 up
/// or down (so no stroke is cut), ink of intensity uniform in [0.7, 1], plus Gaussian noise
/// of standard deviation 0.05, clamped to [0, 1]. per_class images of each digit, in the
/// order 0, 1, ..., 9, 0, 1, ...; the same seed gives the same images.
template <class T = float>
Dataset<Shape<1, 16, 16>, Shape<1>, T> glyph_digits(std::size_t per_class, std::uint64_t seed = 0) {
  if (per_class == 0) strata::detail::throw_option("glyph_digits: per_class must be > 0");
  constexpr std::ptrdiff_t side = 16, glyph_w = 10, glyph_h = 14;
  const std::size_t n = per_class * 10;
  Dataset<Shape<1, 16, 16>, Shape<1>, T> d;
  d.x.resize(side * side, static_cast<Eigen::Index>(n));
  d.y.resize(1, static_cast<Eigen::Index>(n));
  Rng rng(seed);
  for (std::size_t j = 0; j < n; ++j) {
    const std::size_t digit = j % 10;
    const auto shift_x = static_cast<std::ptrdiff_t>(rng.below(5)) - 2;  // [-2, 2]
    const auto shift_y = static_cast<std::ptrdiff_t>(rng.below(3)) - 1;  // [-1, 1]
    const double ink = rng.uniform(0.7, 1.0);
    const std::ptrdiff_t left = (side - glyph_w) / 2 + shift_x, top = (side - glyph_h) / 2 + shift_y;
    T* img = d.x.data() + static_cast<std::ptrdiff_t>(j) * side * side;
    for (std::ptrdiff_t y = 0; y < side; ++y)
      for (std::ptrdiff_t x = 0; x < side; ++x) {
        const std::ptrdiff_t gy = y - top, gx = x - left;
        bool on = false;
        if (gy >= 0 && gy < glyph_h && gx >= 0 && gx < glyph_w)
          on = (detail::glyph_font[digit][static_cast<std::size_t>(gy / 2)] >> (4 - gx / 2)) & 1u;
        const double v = (on ? ink : 0.0) + 0.05 * rng.normal();
        img[y * side + x] = static_cast<T>(std::clamp(v, 0.0, 1.0));
      }
    d.y(0, static_cast<Eigen::Index>(j)) = static_cast<T>(digit);
  }
  return d;
}

}  // namespace strata::data
