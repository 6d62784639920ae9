#pragma once
// Files that are either the old version or the new one, never half of each: the contents
// go to a temporary file next to the target, which is synced, renamed over the target, and
// the directory synced. On any failure the temporary file is removed, the previous file is
// unchanged, and strata::io_error names the file and the OS error. Checkpoints, tables and
// plots' data are written this way. A process killed between creating its temporary file and
// renaming it cannot remove it; the next write of the same file does (temporary files of
// processes that no longer run).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "../core/error.hpp"

namespace strata::io {

namespace detail {

inline std::string quoted_path(const std::filesystem::path& file) {
  std::string s(1, '\'');  // piecewise: "'" + std::string trips GCC 12's -Wrestrict (PR 105651)
  s += file.string();
  s += '\'';
  return s;
}

[[noreturn]] inline void throw_os(const std::filesystem::path& file, const std::string& what, int err) {
  throw io_error("strata: " + quoted_path(file) + ": " + what + ": " + std::strerror(err));
}

/// An owned file descriptor.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  /// Closes now, reporting close's own error (a deferred write error on some file systems).
  int close() {
    const int r = fd >= 0 ? ::close(fd) : 0;
    fd = -1;
    return r;
  }
};

/// write(2) until done; false with errno set on failure.
inline bool write_all(int fd, const void* data, std::size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, std::min<std::size_t>(n, std::size_t{1} << 30));
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (w == 0) {
      errno = EIO;
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

/// The directory a file lives in ("." for a bare name).
inline std::filesystem::path directory_of(const std::filesystem::path& file) {
  return file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
}

/// fsync on the directory of `file`, so that a file created or renamed there survives a
/// crash. File systems that cannot sync a directory say EINVAL (or ENOTSUP): not an error.
inline void sync_directory(const std::filesystem::path& file) {
  Fd d(::open(directory_of(file).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.fd < 0 || (::fsync(d.fd) != 0 && errno != EINVAL && errno != ENOTSUP))
    throw_os(file, "written, but its directory could not be synced (fsync): the file may not survive a crash", errno);
}

/// Removes the temporary files of `file` (`.<name>.tmp-<pid>-<n>`) whose process no longer
/// runs: those a kill left behind. Another live process's file, or one whose pid cannot be
/// checked (kill(pid, 0) fails other than with ESRCH), stays. Best effort: errors are ignored.
inline void remove_stale_temporaries(const std::filesystem::path& file) noexcept {
  try {
    std::string prefix = ".";  // appended: GCC 12 warns falsely (-Wrestrict) on "." + std::string
    prefix += file.filename().string();
    prefix += ".tmp-";
    std::error_code ec;
    for (std::filesystem::directory_iterator it(directory_of(file), ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
      // <pid>-<n>, digits only
      const std::string_view rest = std::string_view(name).substr(prefix.size());
      const auto dash = rest.find('-');
      const auto digits = [](std::string_view v) {
        return !v.empty() && v.size() <= 18 && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
      };
      if (dash == std::string_view::npos || !digits(rest.substr(0, dash)) || !digits(rest.substr(dash + 1))) continue;
      const long long pid = std::stoll(std::string(rest.substr(0, dash)));
      if (pid <= 0 || pid == ::getpid() || pid > std::numeric_limits<pid_t>::max()) continue;
      if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
      ::unlink(it->path().c_str());
    }
  } catch (...) {
  }
}

}  // namespace detail

/// Replaces `file` by the concatenation of `pieces`, atomically (see the top of this file).
inline void write_file_atomically(const std::filesystem::path& file, std::span<const std::span<const std::byte>> pieces) {
  using detail::throw_os;
  const auto dir = detail::directory_of(file);
  std::filesystem::path tmp;
  detail::Fd out;
  for (int attempt = 0; attempt < 100 && out.fd < 0; ++attempt) {
    std::string name = ".";  // appended, as in remove_stale_temporaries
    name += file.filename().string();
    name += ".tmp-";
    name += std::to_string(::getpid());
    name += '-';
    name += std::to_string(attempt);
    tmp = dir / name;
    out.fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out.fd < 0 && errno != EEXIST)
      throw_os(file,
               "cannot create the temporary file " + detail::quoted_path(tmp) +
                   " next to it (nothing was written; any previous file is unchanged)",
               errno);
  }
  if (out.fd < 0)
    throw_os(file, "cannot create a temporary file next to it (nothing was written; any previous file is unchanged)",
             EEXIST);
  struct RemoveUnlessCommitted {
    const std::filesystem::path& path;
    bool committed = false;
    ~RemoveUnlessCommitted() {
      if (!committed) ::unlink(path.c_str());
    }
  } guard{tmp};
  const auto fail = [&](const char* what) {
    const int err = errno;
    throw_os(file, std::string(what) + " (the temporary file is removed; any previous file is unchanged)", err);
  };
  for (const auto& p : pieces)
    if (!detail::write_all(out.fd, p.data(), p.size())) fail("cannot write");
  if (::fsync(out.fd) != 0) fail("cannot sync the data to disk (fsync)");
  if (out.close() != 0) fail("cannot close the temporary file");
  if (::rename(tmp.c_str(), file.c_str()) != 0) fail("cannot rename the temporary file over it");
  guard.committed = true;
  detail::sync_directory(file);
  detail::remove_stale_temporaries(file);
}

/// The same for one piece of text.
inline void write_file_atomically(const std::filesystem::path& file, std::string_view contents) {
  const std::span<const std::byte> piece(reinterpret_cast<const std::byte*>(contents.data()), contents.size());
  write_file_atomically(file, std::span<const std::span<const std::byte>>(&piece, 1));
}

}  // namespace strata::io
