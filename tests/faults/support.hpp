#pragma once
// Fault injection without root, and with it: a forked child that runs one operation under a
// file-size limit (a full disk: writes fail with EFBIG, or write short, once the limit is
// reached), as an unprivileged user (so that a read-only directory stops root too), or in a
// mount namespace of its own with a tiny tmpfs (a real ENOSPC, where mounting is allowed);
// and the child program tests/programs/child.cpp started, killed and restarted.
//
// The forked children run file operations only: libgomp is not fork-safe, so nothing that
// opens an OpenMP parallel region (training, Eigen products) may run in them.
#include <catch2/catch.hpp>
#include "support/temp_dir.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace strata::faults {

namespace fs = std::filesystem;

using testing::read_file;

inline void spill(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// The complete lines of `text` (each without its newline); an unterminated tail is left out.
inline std::vector<std::string> complete_lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    out.push_back(text.substr(start, end - start));
  return out;
}

/// What to impose on a forked child before it runs its operation.
struct Limits {
  /// RLIMIT_FSIZE in bytes, with SIGXFSZ ignored: a write that would grow a file past it
  /// writes up to the limit and returns short, and the next fails with EFBIG, as on a disk
  /// that filled up. Files already larger stay readable; truncating still works.
  std::optional<std::uint64_t> file_size = std::nullopt;
  /// When running as root, become nobody (uid and gid 65534) first, so that file permissions
  /// apply; a no-op for other users, to whom they apply anyway.
  bool unprivileged = false;
};

/// How a forked operation ended: its returned text, or the what() of what it threw.
struct Outcome {
  bool threw = false;
  bool setup_failed = false;  ///< the limits could not be applied (text says why); op did not run
  std::string text;
  int status = 0;  ///< waitpid's status
  bool exited_normally() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
};

inline bool running_as_root() { return ::geteuid() == 0; }

namespace detail {

inline void apply(const Limits& l) {
  if (l.file_size) {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit r{static_cast<rlim_t>(*l.file_size), static_cast<rlim_t>(*l.file_size)};
    if (::setrlimit(RLIMIT_FSIZE, &r) != 0) throw std::runtime_error("setrlimit(RLIMIT_FSIZE) failed");
  }
  if (l.unprivileged && running_as_root()) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)
      throw std::runtime_error(std::string("cannot become nobody: ") + std::strerror(errno));
  }
}

inline void write_all(int fd, const std::string& s) {
  const char* p = s.data();
  std::size_t n = s.size();
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

}  // namespace detail

/// Runs `op` in a forked child under `limits` and returns what it returned or threw. The
/// child exits with _exit, so nothing of Catch's or the parent's state is torn down twice.
inline Outcome in_child(const Limits& limits, const std::function<std::string()>& op) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    std::string text;
    char tag = 'r';
    try {
      detail::apply(limits);
    } catch (const std::exception& e) {
      detail::write_all(fds[1], std::string("s") + e.what());
      ::_exit(0);
    }
    try {
      text = op();
    } catch (const std::exception& e) {
      tag = 't';
      text = e.what();
    } catch (...) {
      tag = 't';
      text = "(an exception that is not a std::exception)";
    }
    detail::write_all(fds[1], std::string(1, tag) + text);
    ::close(fds[1]);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string got;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  Outcome o;
  while (::waitpid(pid, &o.status, 0) < 0 && errno == EINTR) {
  }
  REQUIRE(!got.empty());  // the child reported
  o.threw = got[0] == 't';
  o.setup_failed = got[0] == 's';
  o.text = got.substr(1);
  return o;
}

/// Whether this process may mount a tmpfs in a mount namespace of its own (root in a
/// privileged container, say; not an ordinary user, nor most CI containers).
inline bool can_mount_tmpfs(const fs::path& scratch) {
  const auto o = in_child({}, [&] {
    if (::unshare(CLONE_NEWNS) != 0) return std::string("no");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return std::string("no");
    if (::mount("tmpfs", scratch.c_str(), "tmpfs", 0, "size=64k") != 0) return std::string("no");
    return std::string("yes");
  });
  return !o.threw && o.text == "yes";
}

/// In a forked child (call from in_child's operation): a private mount namespace with a
/// tmpfs of `bytes` on `dir`, gone when the child exits.
inline void mount_small_tmpfs(const fs::path& dir, std::size_t bytes) {
  if (::unshare(CLONE_NEWNS) != 0) throw std::runtime_error("unshare(CLONE_NEWNS) failed");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    throw std::runtime_error("cannot make / private");
  const std::string options = "size=" + std::to_string(bytes);
  if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) != 0)
    throw std::runtime_error(std::string("cannot mount a tmpfs: ") + std::strerror(errno));
}

/// Fills the file system that holds `dir` until a write fails with ENOSPC; returns the errno
/// of that write.
inline int fill_up(const fs::path& dir) {
  const int fd = ::open((dir / "filler").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  const std::string block(4096, 'x');
  int err = 0;
  for (;;) {
    const ssize_t w = ::write(fd, block.data(), block.size());
    if (w < 0) {
      err = errno;
      break;
    }
    if (w < static_cast<ssize_t>(block.size())) continue;  // the last partial block; the next write fails
  }
  ::close(fd);
  return err;
}

// ---- the child program --------------------------------------------------------------------

/// Starts tests/programs/child.cpp with `args`, its output appended to `log`, under `limits`.
inline pid_t spawn_child(const std::vector<std::string>& args, const fs::path& log, const Limits& limits = {}) {
  std::vector<std::string> all{STRATA_CHILD_PROGRAM};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) ::_exit(126);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    try {
      detail::apply(limits);
    } catch (...) {
      ::_exit(125);
    }
    ::execv(STRATA_CHILD_PROGRAM, argv.data());
    ::_exit(127);
  }
  return pid;
}

inline int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

/// Runs the child program to its end: its exit code, or 128 + the signal that ended it.
inline int run_child(const std::vector<std::string>& args, const fs::path& log, const Limits& limits = {}) {
  const int status = wait_for(spawn_child(args, log, limits));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// The seed of a test's random fault times: $STRATA_FAULT_SEED when set (to replay a failure),
/// else a fresh one. Printed either way.
inline std::uint64_t fault_seed(const char* test) {
  std::uint64_t seed = 0;
  if (const char* s = std::getenv("STRATA_FAULT_SEED"))
    seed = std::strtoull(s, nullptr, 10);
  else
    seed = (std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  std::cout << test << ": STRATA_FAULT_SEED=" << seed << std::endl;
  return seed;
}

}  // namespace strata::faults
