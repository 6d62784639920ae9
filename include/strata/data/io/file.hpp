#pragma once
// Whole-file reads for the data readers: the bytes of a file, gunzipped through zlib when
// they start with the gzip magic (1f 8b). Every failure throws strata::data_error naming
// the file, the byte offset, what was expected and what was found.
//
// Cost: a file is read into memory whole (Fashion-MNIST's training images are 26 MB
// compressed, 47 MB inflated); readers then parse the buffer without further I/O.
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "../../core/error.hpp"

namespace strata::data::detail {

/// `'path'`, as every reader names a file in its messages.
inline std::string quoted(const std::filesystem::path& file) {
  std::string s(1, '\'');  // appended piecewise: "'" + std::string trips GCC 12's -Wrestrict (PR 105651)
  s += file.string();
  s += '\'';
  return s;
}

/// Throws data_error("strata: 'file': what").
[[noreturn]] inline void throw_data(const std::filesystem::path& file, const std::string& what) {
  throw data_error("strata: " + quoted(file) + ": " + what);
}

/// Up to `n` bytes from `offset` as hex pairs ("1f 8b 08"), for messages about magic numbers.
inline std::string hex_bytes(const unsigned char* p, std::size_t size, std::size_t offset, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = offset; i < size && i < offset + n; ++i) {
    if (!s.empty()) s += ' ';
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s.empty() ? std::string("nothing") : s;
}

/// The contents of a file, inflated when it was gzip-compressed. `bytes` views either the
/// caller's buffer (plain data) or `inflated`; moving keeps it valid, copying is disallowed.
struct FileBytes {
  std::span<const unsigned char> bytes;
  std::vector<unsigned char> inflated;  // owns the gunzipped data
  bool gzipped = false;

  FileBytes() = default;
  FileBytes(FileBytes&&) = default;
  FileBytes& operator=(FileBytes&&) = default;
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;

  /// "byte 16" or "byte 16 of the gunzipped data": byte offsets in messages always refer to
  /// `bytes`, and this says which stream that is.
  std::string at(std::size_t offset) const {
    return "byte " + std::to_string(offset) + (gzipped ? " of the gunzipped data" : "");
  }
};

/// The raw bytes of `file`. Throws data_error when it is missing, a directory or unreadable.
inline std::vector<unsigned char> read_raw(const std::filesystem::path& file) {
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (!std::filesystem::exists(status))
    throw_data(file, "no such file (the standard data sets are fetched by scripts/fetch-data.sh into "
                     "$STRATA_DATA, data/ by default)");
  if (std::filesystem::is_directory(status)) throw_data(file, "is a directory, expected a file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw_data(file, std::string("cannot open for reading: ") + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const auto end = in.tellg();
  if (end < 0) throw_data(file, "cannot determine the file's size");
  in.seekg(0, std::ios::beg);
  std::vector<unsigned char> bytes(static_cast<std::size_t>(end));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (static_cast<std::size_t>(in.gcount()) != bytes.size())
    throw_data(file, "read error after " + std::to_string(in.gcount()) + " of " + std::to_string(bytes.size()) +
                         " bytes");
  return bytes;
}

inline bool has_gzip_magic(std::span<const unsigned char> b) { return b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b; }

/// Inflates a gzip file (one or more concatenated members). Throws data_error on a truncated
/// stream, corrupt data or a failed CRC, naming the compressed byte offset.
inline std::vector<unsigned char> gunzip(const std::filesystem::path& file, std::span<const unsigned char> in) {
  if (in.size() > std::numeric_limits<uInt>::max())
    throw_data(file, "gzip file of " + std::to_string(in.size()) + " bytes is larger than zlib's 4 GiB input limit");
  // The trailer's ISIZE is the inflated size modulo 2^32: a good first guess, bounded by
  // deflate's largest ratio (about 1032:1) in case the trailer is garbage.
  std::size_t guess = in.size() * 4;
  if (in.size() >= 18) {
    const std::size_t n = in.size();
    const std::size_t isize = std::size_t{in[n - 4]} | std::size_t{in[n - 3]} << 8 | std::size_t{in[n - 2]} << 16 |
                              std::size_t{in[n - 1]} << 24;
    guess = std::min(std::max(isize, guess), in.size() * 1040 + 1024);
  }
  std::vector<unsigned char> out(std::max<std::size_t>(guess, 1024));

  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) throw_data(file, "zlib could not start inflating");
  struct End {
    z_stream* zs;
    ~End() { inflateEnd(zs); }
  } end{&zs};

  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  std::size_t produced = 0;
  for (;;) {
    if (produced == out.size()) out.resize(out.size() * 2);
    const std::size_t room = std::min<std::size_t>(out.size() - produced, std::numeric_limits<uInt>::max());
    zs.next_out = out.data() + produced;
    zs.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    produced += room - zs.avail_out;
    const std::size_t consumed = in.size() - zs.avail_in;
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Another member may follow (gzip files may be concatenated); anything else is junk.
      if (zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
        inflateReset(&zs);
        continue;
      }
      throw_data(file, "the gzip stream ends at compressed byte " + std::to_string(consumed) + " but " +
                           std::to_string(zs.avail_in) + " more bytes follow (found " +
                           hex_bytes(in.data(), in.size(), consumed, 4) + ", expected the end of the file or "
                           "another gzip member 1f 8b); the file is corrupt: fetch it again");
    }
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR)
      throw_data(file, "corrupt gzip data near compressed byte " + std::to_string(consumed) + " (zlib: " +
                           (zs.msg ? zs.msg : "unknown error") + ", after " + std::to_string(produced) +
                           " inflated bytes); the file is damaged: fetch it again");
    if (rc == Z_MEM_ERROR) throw std::bad_alloc();
    if (zs.avail_in == 0 && zs.avail_out != 0)
      throw_data(file, "truncated gzip file: it ends at byte " + std::to_string(in.size()) + " (after " +
                           std::to_string(produced) + " inflated bytes), expected more compressed data and "
                           "the 8-byte gzip trailer; the download or copy was cut short: fetch it again");
  }
  out.resize(produced);
  out.shrink_to_fit();
  return out;
}

/// `raw` as a reader sees it: gunzipped when it starts with the gzip magic, else viewed as
/// it is (the caller keeps `raw` alive). `file` names the data in messages; a `*.gz` name on
/// data that is not gzip is an error (it was most likely already inflated or replaced), and
/// so is a gzip stream that is truncated or corrupt.
inline FileBytes unpack(std::span<const unsigned char> raw, const std::filesystem::path& file) {
  FileBytes r;
  if (has_gzip_magic(raw)) {
    r.inflated = gunzip(file, raw);
    r.bytes = r.inflated;
    r.gzipped = true;
  } else if (file.extension() == ".gz") {
    throw_data(file, "bad gzip magic at byte 0: expected 1f 8b, found " + hex_bytes(raw.data(), raw.size(), 0, 2) +
                         " (a .gz name, but not gzip data: inflated already, or renamed?)");
  } else {
    r.bytes = raw;
  }
  return r;
}

}  // namespace strata::data::detail
