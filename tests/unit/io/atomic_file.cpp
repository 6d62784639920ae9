// io/atomic_file.hpp: a write replaces the file whole, and removes the temporary files that
// killed processes left next to it, and only those.
#include <catch2/catch.hpp>
#include "support/temp_dir.hpp"
#include <strata/io/atomic_file.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

using namespace strata;
using strata::testing::read_file;
using strata::testing::TempDir;
namespace fs = std::filesystem;

namespace {
void touch(const fs::path& p) { std::ofstream(p) << "partial"; }
// The pid of a process that has exited and been reaped.
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}
}  // namespace

TEST_CASE("An atomic write removes the temporary files of processes that no longer run, and no others",
          "[io][atomic]") {
  TempDir dir;
  const auto file = dir.path / "ckpt.safetensors";
  const std::string dead = std::to_string(dead_pid());
  const std::string self = std::to_string(::getpid());
  const fs::path stale = dir.path / (".ckpt.safetensors.tmp-" + dead + "-0");
  const fs::path stale2 = dir.path / (".ckpt.safetensors.tmp-" + dead + "-17");
  const fs::path live = dir.path / ".ckpt.safetensors.tmp-1-0";  // pid 1 runs
  const fs::path own = dir.path / (".ckpt.safetensors.tmp-" + self + "-5");
  const fs::path other_file = dir.path / (".other.tmp-" + dead + "-0");
  const fs::path not_ours = dir.path / (".ckpt.safetensors.tmp-" + dead + "-x");
  const fs::path not_ours2 = dir.path / (".ckpt.safetensors.tmp-" + dead);
  for (const auto& p : {stale, stale2, live, own, other_file, not_ours, not_ours2}) touch(p);

  io::write_file_atomically(file, "new contents");
  CHECK(read_file(file) == "new contents");
  CHECK(!fs::exists(stale));
  CHECK(!fs::exists(stale2));
  CHECK(fs::exists(live));        // another process that runs may be writing it
  CHECK(fs::exists(own));         // so may another thread of this one
  CHECK(fs::exists(other_file));  // another file's
  CHECK(fs::exists(not_ours));    // not a name strata writes
  CHECK(fs::exists(not_ours2));
}

TEST_CASE("Atomic writes leave nothing but the file in its folder", "[io][atomic]") {
  TempDir dir;
  const auto file = dir.path / "table.md";
  io::write_file_atomically(file, "one");
  io::write_file_atomically(file, "two");
  CHECK(read_file(file) == "two");
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path)) ++entries;
  CHECK(entries == 1);  // no temporary file left by a successful write
}
