#pragma once
// IDX files (MNIST, Fashion-MNIST, EMNIST), plain or gzip-compressed.
//
// Layout: a 4-byte magic `00 00 <type> <rank>`, then `rank` big-endian uint32 dimensions,
// then the elements, big-endian, row-major (the last dimension varies fastest). Types:
// 08 unsigned byte, 09 signed byte, 0b int16, 0c int32, 0d float32, 0e float64.
//
// A file is read whole and checked before anything is returned: the magic, the element
// type, the rank (and the dimensions, if the caller states them) and that the data length
// is exactly the product of the dimensions times the element size.
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "file.hpp"

namespace strata::data {

/// Element type of an IDX file (byte 2 of the magic number).
enum class IdxType : std::uint8_t { u8 = 0x08, i8 = 0x09, i16 = 0x0b, i32 = 0x0c, f32 = 0x0d, f64 = 0x0e };

/// "unsigned byte", "int32", ...
inline const char* idx_type_name(IdxType t) {
  switch (t) {
    case IdxType::u8: return "unsigned byte";
    case IdxType::i8: return "signed byte";
    case IdxType::i16: return "int16";
    case IdxType::i32: return "int32";
    case IdxType::f32: return "float32";
    case IdxType::f64: return "float64";
  }
  return "unknown";
}

/// Bytes per element of an IDX type.
inline std::size_t element_size(IdxType t) {
  switch (t) {
    case IdxType::u8:
    case IdxType::i8: return 1;
    case IdxType::i16: return 2;
    case IdxType::i32:
    case IdxType::f32: return 4;
    case IdxType::f64: return 8;
  }
  return 0;
}

/// An IDX array: its dimensions and its elements in the file's (row-major) order.
/// For images `dims == {N, 28, 28}` and `data` holds image after image, so
/// `Eigen::Map<Eigen::MatrixXf>(a.data.data(), 784, N)` is one image per column.
template <class T>
struct IdxArray {
  IdxType stored = IdxType::u8;   ///< element type in the file
  std::vector<std::size_t> dims;  ///< e.g. {60000, 28, 28}; dims[0] counts the samples
  std::vector<T> data;            ///< product(dims) elements

  std::size_t size() const { return data.size(); }
  /// Elements per sample: the product of dims[1..] (784 for 28x28 images, 1 for labels).
  std::size_t sample_size() const {
    std::size_t n = 1;
    for (std::size_t i = 1; i < dims.size(); ++i) n *= dims[i];
    return n;
  }
};

/// What the caller expects of a file; anything else is a data_error. `rank` 0 accepts any
/// rank; a non-empty `dims` fixes the rank and each non-zero entry fixes that dimension
/// (`{.dims = {0, 28, 28}}`: any number of 28x28 images).
struct IdxOptions {
  std::size_t rank = 0;
  std::vector<std::size_t> dims = {};
};

namespace detail {

template <class T>
concept IdxElement = std::same_as<T, std::uint8_t> || std::same_as<T, std::int8_t> ||
                     std::same_as<T, std::int16_t> || std::same_as<T, std::int32_t> || std::same_as<T, float> ||
                     std::same_as<T, double>;

template <class T>
constexpr IdxType idx_type_of() {
  if constexpr (std::same_as<T, std::uint8_t>) return IdxType::u8;
  else if constexpr (std::same_as<T, std::int8_t>) return IdxType::i8;
  else if constexpr (std::same_as<T, std::int16_t>) return IdxType::i16;
  else if constexpr (std::same_as<T, std::int32_t>) return IdxType::i32;
  else if constexpr (std::same_as<T, float>) return IdxType::f32;
  else return IdxType::f64;
}

inline std::uint32_t load_be32(const unsigned char* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | std::uint32_t{p[3]};
}

/// One big-endian element of type `S` at `p`.
template <class S>
S load_be(const unsigned char* p) {
  using U = std::conditional_t<sizeof(S) == 1, std::uint8_t,
                               std::conditional_t<sizeof(S) == 2, std::uint16_t,
                                                  std::conditional_t<sizeof(S) == 4, std::uint32_t, std::uint64_t>>>;
  U u = 0;
  for (std::size_t i = 0; i < sizeof(S); ++i) u = static_cast<U>(u << 8 | U{p[i]});
  return std::bit_cast<S>(u);
}

template <class S, class T>
void convert_be(const unsigned char* p, std::size_t n, T* out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(load_be<S>(p + i * sizeof(S)));
}

inline std::string dims_string(const std::vector<std::size_t>& dims) {
  std::string s;
  for (std::size_t d : dims) {
    if (!s.empty()) s += 'x';
    s += std::to_string(d);
  }
  return s;
}

}  // namespace detail

/// Parses the bytes of an IDX file already in memory (gunzipped when they start with the
/// gzip magic), exactly as read_idx parses a file: `file` only names the data in messages.
/// Throws strata::data_error as read_idx does; `bytes` is not kept.
///
/// **Example**:
/// ```cpp
/// const std::vector<unsigned char> bytes = download(url);
/// auto labels = data::parse_idx<std::uint8_t>(bytes, url, {.rank = 1});
/// ```
template <detail::IdxElement T = std::uint8_t>
IdxArray<T> parse_idx(std::span<const unsigned char> bytes, const std::filesystem::path& file,
                      const IdxOptions& options = {}) {
  using detail::throw_data;
  const detail::FileBytes fb = detail::unpack(bytes, file);
  const unsigned char* p = fb.bytes.data();
  const std::size_t n = fb.bytes.size();

  if (n < 4 || p[0] != 0 || p[1] != 0)
    throw_data(file, "bad IDX magic at " + fb.at(0) + ": expected 00 00 <type> <rank>, found " +
                         detail::hex_bytes(p, n, 0, 4) + (n < 4 ? " (the file is " + std::to_string(n) + " bytes long)" : "") +
                         " (not an IDX file?)");
  const auto type = static_cast<IdxType>(p[2]);
  if (element_size(type) == 0)
    throw_data(file, "unknown IDX element type at " + fb.at(2) + ": expected 08, 09, 0b, 0c, 0d or 0e, found " +
                         detail::hex_bytes(p, n, 2, 1));
  if constexpr (!std::is_floating_point_v<T>) {
    if (type != detail::idx_type_of<T>())
      throw_data(file, "IDX element type at " + fb.at(2) + " is " + idx_type_name(type) + " (" +
                           detail::hex_bytes(p, n, 2, 1) + "), expected " + idx_type_name(detail::idx_type_of<T>()) +
                           " as read_idx<" + idx_type_name(detail::idx_type_of<T>()) +
                           "> was asked for; read it as float or double to convert");
  }
  const std::size_t rank = p[3];
  const std::size_t want_rank = options.dims.empty() ? options.rank : options.dims.size();
  if (rank == 0) throw_data(file, "IDX rank at " + fb.at(3) + " is 0, expected at least 1 dimension");
  if (want_rank != 0 && rank != want_rank)
    throw_data(file, "IDX rank at " + fb.at(3) + " is " + std::to_string(rank) + " dimensions, expected " +
                         std::to_string(want_rank));
  const std::size_t header = 4 + 4 * rank;
  if (n < header)
    throw_data(file, "the file ends at " + fb.at(n) + ", inside the IDX header: " + std::to_string(rank) +
                         " dimensions need bytes 4 to " + std::to_string(header - 1));

  IdxArray<T> out;
  out.stored = type;
  out.dims.resize(rank);
  std::size_t count = 1;
  bool overflow = false;
  for (std::size_t i = 0; i < rank; ++i) {
    out.dims[i] = detail::load_be32(p + 4 + 4 * i);
    if (!options.dims.empty() && options.dims[i] != 0 && options.dims[i] != out.dims[i])
      throw_data(file, "IDX dimension " + std::to_string(i) + " at " + fb.at(4 + 4 * i) + " is " +
                           std::to_string(out.dims[i]) + ", expected " + std::to_string(options.dims[i]) +
                           " (expected dimensions " + detail::dims_string(options.dims) + ", 0 = any)");
    if (out.dims[i] != 0 && count > std::numeric_limits<std::size_t>::max() / out.dims[i]) overflow = true;
    count *= out.dims[i];
  }
  const std::size_t esize = element_size(type);
  if (overflow || count > (std::numeric_limits<std::size_t>::max() - header) / esize)
    throw_data(file, "IDX dimensions " + detail::dims_string(out.dims) + " (bytes 4 to " + std::to_string(header - 1) +
                         ") are too large to address");
  const std::size_t need = count * esize;
  const std::size_t have = n - header;
  if (have != need) {
    const std::string what = detail::dims_string(out.dims) + " " + idx_type_name(type) + " elements need " +
                             std::to_string(need) + " bytes of data" +
                             (need == 0 ? std::string()
                                        : " at bytes " + std::to_string(header) + " to " +
                                              std::to_string(header + need - 1) +
                                              (fb.gzipped ? " of the gunzipped data" : ""));
    if (have < need)
      throw_data(file, "truncated IDX data: " + what + ", but the data ends at " + fb.at(n) + " (" +
                           std::to_string(need - have) + " bytes short); fetch the file again");
    throw_data(file, "IDX data longer than its dimensions: " + what + ", but " + std::to_string(have - need) +
                         " more bytes follow up to " + fb.at(n) + " (wrong dimensions, or two files joined?)");
  }

  out.data.resize(count);
  const unsigned char* d = p + header;
  switch (type) {
    case IdxType::u8: detail::convert_be<std::uint8_t>(d, count, out.data.data()); break;
    case IdxType::i8: detail::convert_be<std::int8_t>(d, count, out.data.data()); break;
    case IdxType::i16: detail::convert_be<std::int16_t>(d, count, out.data.data()); break;
    case IdxType::i32: detail::convert_be<std::int32_t>(d, count, out.data.data()); break;
    case IdxType::f32: detail::convert_be<float>(d, count, out.data.data()); break;
    case IdxType::f64: detail::convert_be<double>(d, count, out.data.data()); break;
  }
  return out;
}

/// Reads an IDX file (gunzipped through zlib when it starts with the gzip magic).
///
/// `T` is the element type wanted: `std::uint8_t`, `std::int8_t`, `std::int16_t`,
/// `std::int32_t` read files of exactly that type; `float` and `double` read any type,
/// converting each element. Throws strata::data_error naming the file, the byte offset
/// (in the gunzipped data for .gz files), what was expected and what was found, for a bad
/// magic, an unknown type, a type `T` cannot hold, a rank or dimension other than
/// `options` asks for, and data shorter or longer than the dimensions say.
///
/// **Example**:
/// ```cpp
/// auto images = data::read_idx<float>(dir / "train-images-idx3-ubyte.gz", {.dims = {0, 28, 28}});
/// auto labels = data::read_idx<std::uint8_t>(dir / "train-labels-idx1-ubyte.gz", {.rank = 1});
/// // images.dims == {60000, 28, 28}, images.data[i * 784 + r * 28 + c] in [0, 255]
/// ```
template <detail::IdxElement T = std::uint8_t>
IdxArray<T> read_idx(const std::filesystem::path& file, const IdxOptions& options = {}) {
  return parse_idx<T>(detail::read_raw(file), file, options);
}

}  // namespace strata::data
