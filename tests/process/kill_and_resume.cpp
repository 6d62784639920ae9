// Processes that stop and start again: a training resumed from its checkpoint in a fresh
// process, and a sweep killed with SIGKILL (twice) and restarted. The child program is
// tests/programs/child.cpp.
#include <catch2/catch.hpp>
#include "support/temp_dir.hpp"
#include <strata/experiment/journal.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

using namespace strata;
using strata::testing::read_file;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  const auto d = fs::temp_directory_path() / ("strata_process_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

pid_t spawn(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(STRATA_CHILD_PROGRAM));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, STRATA_CHILD_PROGRAM, &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

int run(const std::vector<std::string>& args, const fs::path& log) {
  const int status = wait_for(spawn(args, log));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::size_t complete_lines(const fs::path& p) {
  const auto s = read_file(p);
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

TEST_CASE("Training 2 epochs, then resuming in a fresh process for 2 more, equals 4 epochs bit for bit",
          "[process][checkpoint]") {
  const auto dir = fresh_dir("resume");
  const auto log = dir / "log.txt";
  REQUIRE(run({"train", (dir / "straight.safetensors").string(), "4", (dir / "straight.bin").string()}, log) == 0);
  REQUIRE(run({"train", (dir / "ckpt.safetensors").string(), "2", (dir / "half.bin").string()}, log) == 0);
  REQUIRE(run({"train", (dir / "ckpt.safetensors").string(), "4", (dir / "resumed.bin").string()}, log) == 0);
  INFO(read_file(log));
  CHECK(read_file(log).find("resumed_after 2 epochs 4") != std::string::npos);
  const auto a = read_file(dir / "straight.bin"), b = read_file(dir / "resumed.bin"), half = read_file(dir / "half.bin");
  REQUIRE(!a.empty());
  CHECK(a == b);
  CHECK(a != half);
  fs::remove_all(dir);
}

TEST_CASE("A sweep killed with SIGKILL twice and restarted keeps every finished trial, once, unchanged",
          "[process][sweep]") {
  const auto dir = fresh_dir("sweep");
  const auto log = dir / "log.txt";
  const auto journal = dir / "journal.jsonl";
  // The reference: the same sweep, uninterrupted.
  REQUIRE(run({"sweep", (dir / "reference.jsonl").string(), (dir / "reference.json").string()}, log) == 0);

  std::map<std::string, std::string> finished_before_kill;  // key -> journal line
  for (std::size_t kill_after : {3u, 7u}) {
    const pid_t pid = spawn({"sweep", journal.string(), (dir / "partial.json").string()}, log);
    while (complete_lines(journal) < kill_after) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ::kill(pid, SIGKILL);
    const int status = wait_for(pid);
    REQUIRE(WIFSIGNALED(status));
    const auto text = read_file(journal);
    std::size_t start = 0;
    for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
      const auto line = text.substr(start, end - start);
      finished_before_kill.emplace(nlohmann::json::parse(line).at("key").get<std::string>(), line);
    }
  }
  REQUIRE(finished_before_kill.size() >= 7);
  REQUIRE(finished_before_kill.size() < 12);  // the kills came before the end
  REQUIRE(run({"sweep", journal.string(), (dir / "final.json").string()}, log) == 0);

  experiment::Journal j(journal);
  const auto records = j.load();
  CHECK(j.warnings().empty());
  REQUIRE(records.size() == 12);
  std::set<std::string> keys;
  for (const auto& r : records) keys.insert(r.key);
  CHECK(keys.size() == 12);  // none duplicated
  // Trials finished before a kill are in the journal exactly as they were written.
  const auto text = read_file(journal);
  for (const auto& [key, line] : finished_before_kill) CHECK(text.find(line + "\n") != std::string::npos);
  // And every trial has the numbers of the uninterrupted sweep.
  std::map<std::string, experiment::TrialRecord> ref;
  for (auto& r : experiment::Journal(dir / "reference.jsonl").load()) ref.emplace(r.key, r);
  REQUIRE(ref.size() == 12);
  for (const auto& r : records) {
    INFO(r.key);
    REQUIRE(ref.count(r.key) == 1);
    CHECK(r.results == ref.at(r.key).results);
    REQUIRE(r.history.size() == ref.at(r.key).history.size());
    for (std::size_t e = 0; e < r.history.size(); ++e)
      CHECK(r.history[e].train_loss == ref.at(r.key).history[e].train_loss);
  }
  fs::remove_all(dir);
}
