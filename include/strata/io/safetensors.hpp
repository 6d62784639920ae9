#pragma once
// Reading and writing the safetensors format (the tensor file format of Hugging Face's
// `safetensors` library, read by PyTorch, JAX, candle and others):
//
//   bytes [0, 8)        N, the header length, unsigned 64-bit little-endian
//   bytes [8, 8 + N)    a UTF-8 JSON object, padded with spaces so that N % 8 == 0:
//                         {"__metadata__": {"key": "value", ...},            (strings only)
//                          "<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
//   bytes [8 + N, end)  the data section; each tensor's bytes, C order, little-endian, at
//                       [begin, end) relative to the start of the section. The tensors tile
//                       the section exactly: no holes, no overlaps.
//
// strata adds two metadata keys, each 8 hex digits of a CRC-32 (zlib), and checks them on
// reading when present (files from other writers lack them): "strata.crc32" of the data
// section, and "strata.header_crc32" of the first 8 + N bytes as written, with that key's
// own value read as "00000000". Together they cover every byte of the file.
//
// Writes are atomic: the file is written under a temporary name in the target's directory,
// synced, renamed over the target and the directory synced, so a crash or a full disk
// leaves either the old file or the new one, never a mix.
//
// Needs nlohmann/json and zlib (both usage requirements of the strata CMake target); not
// included by strata.hpp.
//
// **Example**:
// ```
// std::vector<float> w(6, 0.5f);
// const std::vector<io::TensorRef> tensors{io::tensor_ref("w", std::span<const float>(w), {2, 3})};
// io::write_safetensors("w.safetensors", tensors, {{"note", "demo"}});
// const auto file = io::read_safetensors("w.safetensors");
// std::vector<float> back = file.tensors.at("w").values<float>();
// ```
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "../core/error.hpp"
#include "atomic_file.hpp"

namespace strata::io {

static_assert(std::endian::native == std::endian::little,
              "strata::io::safetensors reads and writes tensor bytes as they are in memory, which is only the "
              "format's little-endian layout on a little-endian machine");

/// Element types of the safetensors format.
enum class Dtype { BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64 };

namespace detail {
struct DtypeInfo {
  Dtype dtype;
  std::string_view name;
  std::size_t size;
};
inline constexpr std::array<DtypeInfo, 15> dtype_table{{
    {Dtype::BOOL, "BOOL", 1},
    {Dtype::U8, "U8", 1},
    {Dtype::I8, "I8", 1},
    {Dtype::F8_E5M2, "F8_E5M2", 1},
    {Dtype::F8_E4M3, "F8_E4M3", 1},
    {Dtype::I16, "I16", 2},
    {Dtype::U16, "U16", 2},
    {Dtype::F16, "F16", 2},
    {Dtype::BF16, "BF16", 2},
    {Dtype::I32, "I32", 4},
    {Dtype::U32, "U32", 4},
    {Dtype::F32, "F32", 4},
    {Dtype::F64, "F64", 8},
    {Dtype::I64, "I64", 8},
    {Dtype::U64, "U64", 8},
}};
}  // namespace detail

/// Bytes per element.
constexpr std::size_t dtype_size(Dtype d) {
  for (const auto& e : detail::dtype_table)
    if (e.dtype == d) return e.size;
  return 0;
}
/// The format's name for `d`, e.g. "F32".
constexpr std::string_view dtype_name(Dtype d) {
  for (const auto& e : detail::dtype_table)
    if (e.dtype == d) return e.name;
  return "?";
}
/// The dtype named `name`, if the format has one.
constexpr std::optional<Dtype> parse_dtype(std::string_view name) {
  for (const auto& e : detail::dtype_table)
    if (e.name == name) return e.dtype;
  return std::nullopt;
}

/// The dtype that stores a C++ scalar type: float F32, double F64, std::int64_t I64, ...
template <class T>
constexpr Dtype dtype_of() {
  if constexpr (std::is_same_v<T, float>) return Dtype::F32;
  else if constexpr (std::is_same_v<T, double>) return Dtype::F64;
  else if constexpr (std::is_same_v<T, std::int64_t>) return Dtype::I64;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return Dtype::U64;
  else if constexpr (std::is_same_v<T, std::int32_t>) return Dtype::I32;
  else if constexpr (std::is_same_v<T, std::uint32_t>) return Dtype::U32;
  else if constexpr (std::is_same_v<T, std::int16_t>) return Dtype::I16;
  else if constexpr (std::is_same_v<T, std::uint16_t>) return Dtype::U16;
  else if constexpr (std::is_same_v<T, std::int8_t>) return Dtype::I8;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return Dtype::U8;
  else if constexpr (std::is_same_v<T, bool>) return Dtype::BOOL;
  else static_assert(sizeof(T) == 0, "io::dtype_of<T>: no safetensors dtype for this type");
}

/// "[2, 3]".
inline std::string shape_string(std::span<const std::size_t> shape) {
  std::string s = "[";
  for (std::size_t k = 0; k < shape.size(); ++k) {
    if (k) s += ", ";
    s += std::to_string(shape[k]);
  }
  s += ']';
  return s;
}

/// A tensor to write: its name, dtype, shape (outermost first; empty for a scalar) and a
/// view of its bytes, which must stay alive until write_safetensors returns.
struct TensorRef {
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<std::size_t> shape;
  std::span<const std::byte> bytes;
};

/// A TensorRef viewing `values` with shape `shape`.
template <class T>
TensorRef tensor_ref(std::string name, std::span<const T> values, std::vector<std::size_t> shape) {
  return {std::move(name), dtype_of<T>(), std::move(shape), std::as_bytes(values)};
}
/// A 1-D TensorRef viewing `values`.
template <class T>
TensorRef tensor_ref(std::string name, std::span<const T> values) {
  return tensor_ref(std::move(name), values, {values.size()});
}

/// A tensor read from a file: it owns its bytes.
struct Tensor {
  Dtype dtype = Dtype::F32;
  std::vector<std::size_t> shape;
  std::vector<std::byte> bytes;

  /// The product of the shape (1 for a scalar).
  std::size_t element_count() const {
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
  /// The elements as T; throws strata::data_error when T is not the tensor's dtype.
  template <class T>
  std::vector<T> values() const {
    if (dtype_of<T>() != dtype)
      throw data_error("strata: tensor of dtype " + std::string(dtype_name(dtype)) + " read as " +
                       std::string(dtype_name(dtype_of<T>())));
    std::vector<T> out(bytes.size() / sizeof(T));
    if (!bytes.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
  }
};

/// The contents of a safetensors file: metadata and tensors by name.
struct SafetensorsFile {
  std::map<std::string, std::string> metadata;
  std::map<std::string, Tensor> tensors;
};

/// The metadata key strata writes the data section's CRC-32 under.
inline constexpr const char* crc32_key = "strata.crc32";
/// The metadata key strata writes the CRC-32 of the length prefix and header under (with
/// this value itself read as "00000000").
inline constexpr const char* header_crc32_key = "strata.header_crc32";
/// Whether a checksum mismatch refuses a file: always, except in a fuzzing build
/// (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, set by fuzz/CMakeLists.txt), where mutated
/// inputs must get past the checksums to reach the checks behind them.
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
inline constexpr bool checksums_enforced = false;
#else
inline constexpr bool checksums_enforced = true;
#endif
/// The largest header accepted (the reference implementation's limit).
inline constexpr std::uint64_t max_header_size = 100'000'000;
/// The deepest nesting of arrays and objects accepted in a header (the format needs 3).
inline constexpr int max_header_depth = 64;

namespace detail {

inline std::string quote_name(std::string_view name) {
  std::string s(1, '\'');
  s += name;
  s += '\'';
  return s;
}

[[noreturn]] inline void throw_format(const std::filesystem::path& file, const std::string& what) {
  throw data_error("strata: safetensors file " + quoted_path(file) + ": " + what);
}

inline std::string hex32(std::uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(v));
  return buf;
}

/// Where the value of "strata.header_crc32" starts in a header's text: the key can only
/// appear as a key there (inside a JSON string its quotes would be escaped); npos when it
/// is missing or appears more than once.
inline std::size_t header_crc_position(std::string_view header) {
  const std::string pattern = std::string("\"") + header_crc32_key + "\":\"";
  const std::size_t at = header.find(pattern);
  if (at == std::string_view::npos || header.find(pattern, at + 1) != std::string_view::npos) return std::string_view::npos;
  const std::size_t value = at + pattern.size();
  return value + 8 <= header.size() ? value : std::string_view::npos;
}

/// CRC-32 of the 8-byte length prefix and the header text with the 8 digits at `value`
/// read as "00000000".
inline std::uint32_t header_crc(std::span<const std::byte> prefix_and_header, std::size_t value) {
  static constexpr char zeros[8] = {'0', '0', '0', '0', '0', '0', '0', '0'};
  std::uint32_t crc = static_cast<std::uint32_t>(crc32_z(0, nullptr, 0));
  crc = static_cast<std::uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(prefix_and_header.data()), 8 + value));
  crc = static_cast<std::uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(zeros), 8));
  const std::size_t rest = 8 + value + 8;
  return static_cast<std::uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(prefix_and_header.data()) + rest,
                                            prefix_and_header.size() - rest));
}

/// CRC-32 of a run of byte spans, as zlib computes it (crc32_z takes size_t lengths). Empty
/// spans are skipped: zlib answers a null pointer with the initial value, not `crc`.
inline std::uint32_t crc32_update(std::uint32_t crc, std::span<const std::byte> bytes) {
  if (bytes.empty()) return crc;
  return static_cast<std::uint32_t>(
      crc32_z(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<z_size_t>(bytes.size())));
}

/// a * b, or nullopt on overflow.
inline std::optional<std::size_t> checked_mul(std::size_t a, std::size_t b) {
  std::size_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}
inline std::optional<std::size_t> shape_bytes(std::span<const std::size_t> shape, Dtype d) {
  std::optional<std::size_t> n = dtype_size(d);
  for (auto k : shape) {
    if (!n) break;
    n = checked_mul(*n, k);
  }
  return n;
}

inline std::string json_type(const nlohmann::json& j) { return j.type_name(); }



inline std::vector<std::byte> read_whole_file(const std::filesystem::path& file) {
  Fd f(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (f.fd < 0) throw_os(file, "cannot open for reading", errno);
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) throw_os(file, "cannot stat", errno);
  if (S_ISDIR(st.st_mode)) throw_os(file, "cannot read", EISDIR);
  std::vector<std::byte> bytes;
  if (S_ISREG(st.st_mode)) bytes.reserve(static_cast<std::size_t>(st.st_size));
  std::array<std::byte, 1 << 16> buf;
  for (;;) {
    const ssize_t r = ::read(f.fd, buf.data(), buf.size());
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_os(file, "read error after " + std::to_string(bytes.size()) + " bytes", errno);
    }
    if (r == 0) break;
    bytes.insert(bytes.end(), buf.begin(), buf.begin() + r);
  }
  return bytes;
}

}  // namespace detail

/// Writes `tensors` and `metadata` to `file` in the safetensors format, atomically (see the
/// top of this header), adding metadata "strata.crc32" (replacing any value given).
/// The header lists the metadata first, then the tensors in the order given, whose bytes
/// follow one another in the same order.
///
/// Throws strata::option_error for an empty, repeated or reserved tensor name,
/// strata::shape_error when a tensor's byte count is not its shape's, and strata::io_error
/// (naming the file, the operation and the OS error) when the file cannot be written; on
/// every failure the previous `file`, if any, is left as it was and no temporary file
/// remains.
inline void write_safetensors(const std::filesystem::path& file, std::span<const TensorRef> tensors,
                              const std::map<std::string, std::string>& metadata = {}) {
  // Validate and lay out the data section.
  std::set<std::string_view> names;
  std::uint64_t offset = 0;
  std::uint32_t crc = static_cast<std::uint32_t>(crc32_z(0, nullptr, 0));
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  nlohmann::ordered_json meta = nlohmann::ordered_json::object();
  for (const auto& [k, v] : metadata) meta[k] = v;
  header["__metadata__"] = nlohmann::ordered_json::object();  // first in the header; filled below
  for (const auto& t : tensors) {
    const std::string where = std::string("writing ").append(detail::quoted_path(file)).append(": tensor ").append(detail::quote_name(t.name));
    if (t.name.empty()) throw option_error(std::string("strata: writing ").append(detail::quoted_path(file)) + ": a tensor has an empty name");
    if (t.name == "__metadata__")
      throw option_error(std::string("strata: ").append(where) + ": the name is reserved for the metadata");
    if (!names.insert(t.name).second) throw option_error(std::string("strata: ").append(where) + ": the name appears twice");
    const auto need = detail::shape_bytes(t.shape, t.dtype);
    if (!need || *need != t.bytes.size())
      throw shape_error(std::string("strata: ").append(where) + ": shape " + shape_string(t.shape) + " of " +
                        std::string(dtype_name(t.dtype)) + " needs " + (need ? std::to_string(*need) : "too many") +
                        " bytes, but " + std::to_string(t.bytes.size()) + " were given");
    crc = detail::crc32_update(crc, t.bytes);
    header[t.name] = {{"dtype", dtype_name(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  meta[crc32_key] = detail::hex32(crc);
  meta[header_crc32_key] = "00000000";  // filled in below, once the header's bytes are known
  header["__metadata__"] = std::move(meta);

  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    throw option_error(std::string("strata: writing ").append(detail::quoted_path(file)) + ": a tensor name or metadata string is not "
                       "valid UTF-8 (" + e.what() + ")");
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  if (text.size() > max_header_size)
    throw option_error(std::string("strata: writing ").append(detail::quoted_path(file)) + ": the header would be " +
                       std::to_string(text.size()) + " bytes, over the format's limit of " +
                       std::to_string(max_header_size));
  std::array<unsigned char, 8> length{};
  for (std::size_t k = 0; k < 8; ++k) length[k] = static_cast<unsigned char>(std::uint64_t{text.size()} >> (8 * k));
  {
    std::string prefixed(reinterpret_cast<const char*>(length.data()), length.size());
    prefixed += text;
    const std::size_t value = detail::header_crc_position(text);
    const auto hc = detail::header_crc(std::as_bytes(std::span(prefixed.data(), prefixed.size())), value);
    text.replace(value, 8, detail::hex32(hc));
  }

  std::vector<std::span<const std::byte>> pieces;
  pieces.reserve(tensors.size() + 2);
  pieces.emplace_back(reinterpret_cast<const std::byte*>(length.data()), length.size());
  pieces.emplace_back(reinterpret_cast<const std::byte*>(text.data()), text.size());
  for (const auto& t : tensors) pieces.push_back(t.bytes);
  write_file_atomically(file, pieces);
}

/// Parses the bytes of a safetensors file already in memory, with every check of
/// read_safetensors: `file` only names the data in messages. Throws strata::data_error as
/// read_safetensors does; `bytes` is not kept (each tensor is copied out of it).
///
/// **Example**:
/// ```
/// const std::vector<std::byte> bytes = receive();
/// const auto st = io::parse_safetensors(bytes, "received.safetensors");
/// ```
inline SafetensorsFile parse_safetensors(std::span<const std::byte> bytes, const std::filesystem::path& file) {
  using detail::quote_name;
  using detail::throw_format;
  const std::size_t size = bytes.size();
  if (size < 8)
    throw_format(file, "the file is " + std::to_string(size) +
                           " bytes long, shorter than the 8-byte header length that starts a safetensors file "
                           "(truncated, or not a safetensors file)");
  std::uint64_t n = 0;
  for (std::size_t k = 0; k < 8; ++k) n |= std::uint64_t{std::to_integer<unsigned char>(bytes[k])} << (8 * k);
  if (n > max_header_size)
    throw_format(file, "the header length at byte 0 is " + std::to_string(n) + ", over the limit of " +
                           std::to_string(max_header_size) + " bytes: not a safetensors file, or corrupt");
  if (n > size - 8)
    throw_format(file, "the header length at byte 0 is " + std::to_string(n) + " bytes, but only " +
                           std::to_string(size - 8) + " bytes follow it (the file is " + std::to_string(size) +
                           " bytes): the file is truncated");
  const std::size_t data_start = 8 + static_cast<std::size_t>(n);
  const std::size_t data_size = size - data_start;
  const char* text = reinterpret_cast<const char*>(bytes.data()) + 8;
  if (n == 0 || text[0] != '{')
    throw_format(file, std::string("the header at byte 8 must be a JSON object starting with '{', found ") +
                           (n == 0 ? std::string("an empty header") : "'" + std::string(1, text[0]) + "'"));

  // Parse, rejecting repeated keys (nlohmann::json would keep the last one silently).
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
  const nlohmann::json::parser_callback_t cb = [&](int depth, nlohmann::json::parse_event_t event,
                                                   nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    // Deeper nesting is no safetensors header, and nlohmann's dump (used in the messages
    // below) recurses once per level: 100,000 '[' would overflow the stack.
    if ((event == E::object_start || event == E::array_start) && depth >= max_header_depth)
      throw_format(file, "the header (bytes 8 to " + std::to_string(data_start) + ") nests arrays and objects more "
                         "than " + std::to_string(max_header_depth) + " levels deep, expected at most 3 "
                         "({\"<name>\": {\"shape\": [...]}}): not a safetensors header, or corrupt");
    if (event == E::object_start) keys.emplace_back();
    else if (event == E::object_end && !keys.empty()) keys.pop_back();
    else if (event == E::key && !keys.empty() && !keys.back().insert(parsed.get<std::string>()).second &&
             duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text, text + n, cb);
  } catch (const nlohmann::json::parse_error& e) {
    throw_format(file, "invalid JSON in the header (bytes 8 to " + std::to_string(data_start) + ") near byte " +
                           std::to_string(8 + (e.byte > 0 ? e.byte - 1 : 0)) + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {  // out_of_range: a number too large for a double (1e400)
    throw_format(file, "invalid JSON in the header (bytes 8 to " + std::to_string(data_start) + "): " + e.what());
  }
  if (!duplicate.empty())
    throw_format(file, "the key " + quote_name(duplicate) + " appears twice in one object of the header (bytes 8 to " +
                           std::to_string(data_start) + "): expected unique keys");
  if (!header.is_object())
    throw_format(file, "the header at byte 8 must be a JSON object, found " + detail::json_type(header));

  SafetensorsFile result;
  struct Range {
    std::size_t begin, end;
    const std::string* name;
  };
  std::vector<Range> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object())
        throw_format(file, "\"__metadata__\" must be an object of strings, found " + detail::json_type(v));
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          throw_format(file, "metadata " + quote_name(m.key()) + " must be a string, found " + detail::json_type(m.value()));
        result.metadata.emplace(m.key(), m.value().get<std::string>());
      }
      continue;
    }
    const std::string where = "tensor " + quote_name(name) + ": ";
    if (!v.is_object())
      throw_format(file, where + "expected an object with \"dtype\", \"shape\" and \"data_offsets\", found " +
                             detail::json_type(v));
    const auto field = [&](const char* key, const char* expected) -> const nlohmann::json& {
      const auto f = v.find(key);
      if (f == v.end()) throw_format(file, where + "missing \"" + key + "\" (expected " + expected + ")");
      return *f;
    };
    const auto& dt = field("dtype", "a string such as \"F32\"");
    if (!dt.is_string())
      throw_format(file, where + "\"dtype\" must be a string such as \"F32\", found " + detail::json_type(dt));
    const auto dtype = parse_dtype(dt.get<std::string>());
    if (!dtype) {
      std::string known;
      for (const auto& e : detail::dtype_table) known += (known.empty() ? "" : ", ") + std::string(e.name);
      throw_format(file, where + "unknown dtype \"" + dt.get<std::string>() + "\" (expected one of " + known + ")");
    }
    const auto& sh = field("shape", "an array of non-negative integers");
    if (!sh.is_array())
      throw_format(file, where + "\"shape\" must be an array of non-negative integers, found " + detail::json_type(sh));
    Tensor t;
    t.dtype = *dtype;
    for (const auto& d : sh) {
      if (!d.is_number_unsigned())
        throw_format(file, where + "\"shape\" must hold non-negative integers, found " + d.dump());
      t.shape.push_back(d.get<std::size_t>());
    }
    const auto& off = field("data_offsets", "[begin, end]");
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw_format(file, where + "\"data_offsets\" must be two non-negative integers [begin, end], found " +
                             off.dump());
    const auto begin = off[0].get<std::uint64_t>();
    const auto end = off[1].get<std::uint64_t>();
    if (begin > end)
      throw_format(file, where + "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                             "] end before they begin");
    if (end > data_size)
      throw_format(file, where + "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                             "] run past the end of the data section (" + std::to_string(data_size) +
                             " bytes from byte " + std::to_string(data_start) + "): expected end <= " +
                             std::to_string(data_size) + ", found " + std::to_string(end) + " (byte " +
                             std::to_string(data_start + end) + " of a " + std::to_string(size) +
                             "-byte file); the file is truncated or corrupt");
    const auto need = detail::shape_bytes(t.shape, t.dtype);
    if (!need || *need != end - begin)
      throw_format(file, where + "shape " + shape_string(t.shape) + " of " + std::string(dtype_name(t.dtype)) +
                             " needs " + (need ? std::to_string(*need) : std::string("more than 2^64")) +
                             " bytes, but data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                             "] hold " + std::to_string(end - begin));
    const auto* first = bytes.data() + data_start + begin;
    t.bytes.assign(first, first + (end - begin));
    auto placed = result.tensors.emplace(name, std::move(t)).first;
    ranges.push_back({static_cast<std::size_t>(begin), static_cast<std::size_t>(end), &placed->first});
  }

  // The ranges must tile [0, data_size): sorted by begin, each starts where the last ended.
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  std::size_t covered = 0;
  const Range* last = nullptr;
  for (const auto& r : ranges) {
    if (r.begin < covered)
      throw_format(file, "tensors " + quote_name(*last->name) + " [" + std::to_string(last->begin) + ", " +
                             std::to_string(last->end) + "] and " + quote_name(*r.name) + " [" + std::to_string(r.begin) +
                             ", " + std::to_string(r.end) + "] overlap (data_offsets count from byte " +
                             std::to_string(data_start) + "): expected each byte to belong to one tensor");
    if (r.begin > covered)
      throw_format(file, "bytes [" + std::to_string(covered) + ", " + std::to_string(r.begin) +
                             ") of the data section (from byte " + std::to_string(data_start + covered) +
                             ") belong to no tensor: expected the tensors to cover the data without holes");
    covered = r.end;
    last = &r;
  }
  if (covered != data_size)
    throw_format(file, "the data section is " + std::to_string(data_size) + " bytes (from byte " +
                           std::to_string(data_start) + ") but the tensors cover only " + std::to_string(covered) +
                           ": bytes from " + std::to_string(data_start + covered) +
                           " belong to no tensor (trailing garbage, or a header from another file)");

  // Checksums as strata writes them, lower case: one text per value, so that no change to
  // the header's bytes reads as the same checksum.
  const auto hex_value = [&](const std::string& key, const std::string& want) {
    const bool hex = want.size() == 8 && std::all_of(want.begin(), want.end(), [](char ch) {
                       return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
                     });
    if (!hex) throw_format(file, "metadata \"" + key + "\" must be 8 lower-case hex digits, found \"" + want + "\"");
    return static_cast<std::uint32_t>(std::strtoul(want.c_str(), nullptr, 16));
  };
  const auto data_crc = result.metadata.find(crc32_key);
  if (data_crc != result.metadata.end()) (void)hex_value(crc32_key, data_crc->second);
  if (const auto c = result.metadata.find(header_crc32_key); c != result.metadata.end()) {
    const std::uint32_t want = hex_value(header_crc32_key, c->second);
    const std::string_view header(text, static_cast<std::size_t>(n));
    const std::size_t value = detail::header_crc_position(header);
    if (value == std::string_view::npos || header.substr(value, 8) != c->second)
      throw_format(file, std::string("the header's \"") + header_crc32_key +
                             "\" is not written as strata writes it (once, as a key of the metadata): the file is "
                             "corrupt");
    const auto got = detail::header_crc(bytes.subspan(0, data_start), value);
    if (got != want && checksums_enforced)
      throw_format(file, "checksum mismatch: the header is corrupt (the CRC-32 of bytes [0, " +
                             std::to_string(data_start) + ") is " + detail::hex32(got) + ", the header's \"" +
                             header_crc32_key + "\" says " + c->second + ")");
  }
  if (const auto c = data_crc; c != result.metadata.end()) {
    const std::string& want = c->second;
    const auto got = detail::crc32_update(static_cast<std::uint32_t>(crc32_z(0, nullptr, 0)),
                                          bytes.subspan(data_start));
    if (std::strtoul(want.c_str(), nullptr, 16) != got && checksums_enforced)
      throw_format(file, "checksum mismatch: the file is corrupt (the CRC-32 of the " + std::to_string(data_size) +
                             " data bytes from byte " + std::to_string(data_start) + " is " + detail::hex32(got) +
                             ", the header's \"" + crc32_key + "\" says " + want + ")");
  }
  return result;
}

/// Reads a safetensors file whole and checks it: the header length, the JSON, every
/// field's type, the dtypes, that the shapes match the byte ranges, that the ranges tile
/// the data section exactly and, when the file has "strata.crc32", the checksum.
/// Throws strata::data_error naming the file, the byte offset, what was expected and what
/// was found (strata::io_error when the OS cannot read it); returns nothing partial.
/// Cost: the file is read whole and each tensor copied out of it, so the peak memory is
/// about twice the file's size.
inline SafetensorsFile read_safetensors(const std::filesystem::path& file) {
  return parse_safetensors(detail::read_whole_file(file), file);
}

}  // namespace strata::io
