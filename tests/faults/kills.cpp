// Processes killed at random points (SIGKILL, no chance to clean up) and started again, and a
// sweep whose journal fills the disk: every trial finished before a kill survives unchanged,
// none is run or recorded twice, and the end results are those of an uninterrupted run.
//
// The child program is tests/programs/child.cpp. Kill times are random, from a seed printed
// at the start of each test (set STRATA_FAULT_SEED to replay one); they scale with the
// duration of the uninterrupted run, measured first, so that the kills land inside the work
// on a fast machine and a slow one. tests/process/kill_and_resume.cpp kills a sweep at two
// chosen points (just after a record was written); these kill anywhere, a write included.
#include "faults/support.hpp"
#include "support/temp_dir.hpp"

#include <strata/experiment/journal.hpp>
#include <strata/io/safetensors.hpp>

#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <thread>

using namespace strata;
using namespace strata::faults;
using strata::testing::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kTrials = 12;  // child sweep: 2 optimizers x 3 learning rates x 2 batch sizes

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// The uninterrupted sweep: its records by key, and how long it took.
struct Reference {
  std::map<std::string, experiment::TrialRecord> records;
  double seconds = 0;
};

Reference reference_sweep(const TempDir& dir) {
  Reference ref;
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(run_child({"sweep", (dir / "reference.jsonl").string(), (dir / "reference.json").string()},
                    dir / "reference.log") == 0);
  ref.seconds = seconds_since(t0);
  for (auto& r : experiment::Journal(dir / "reference.jsonl").load()) ref.records.emplace(r.key, r);
  REQUIRE(ref.records.size() == kTrials);
  return ref;
}

/// Keys of the complete lines of a journal, with the lines.
std::map<std::string, std::string> lines_by_key(const fs::path& journal) {
  std::map<std::string, std::string> out;
  for (const auto& line : complete_lines(read_file(journal)))
    out.emplace(nlohmann::json::parse(line).at("key").get<std::string>(), line);
  return out;
}

/// The journal holds every trial once, as whole lines, with the numbers of the reference,
/// and each line in `seen` (written before a fault) is still there unchanged.
void check_final_journal(const fs::path& journal, const Reference& ref, const std::map<std::string, std::string>& seen) {
  const std::string text = read_file(journal);
  REQUIRE(!text.empty());
  CHECK(text.back() == '\n');  // no incomplete line left
  const auto lines = complete_lines(text);
  CHECK(lines.size() == kTrials);  // not a line more: nothing recorded twice
  experiment::Journal j(journal);
  const auto records = j.load();
  CHECK(j.warnings().empty());
  REQUIRE(records.size() == kTrials);
  std::set<std::string> keys;
  for (const auto& r : records) keys.insert(r.key);
  CHECK(keys.size() == kTrials);
  for (const auto& [key, line] : seen) {
    INFO("a record written before a fault: " << key);
    CHECK(text.find(line + "\n") != std::string::npos);
  }
  for (const auto& r : records) {
    INFO(r.key);
    REQUIRE(ref.records.count(r.key) == 1);
    const auto& want = ref.records.at(r.key);
    CHECK(r.status == want.status);
    CHECK(r.results == want.results);
    REQUIRE(r.history.size() == want.history.size());
    for (std::size_t e = 0; e < r.history.size(); ++e) {
      CHECK(r.history[e].train_loss == want.history[e].train_loss);
      CHECK(r.history[e].val_loss == want.history[e].val_loss);
    }
  }
}

}  // namespace

TEST_CASE("A sweep killed at 8 random points and restarted keeps every finished trial once, unchanged",
          "[faults][sweep][kill]") {
  TempDir dir;
  const auto ref = reference_sweep(dir);
  const auto journal = dir / "sweep.jsonl";
  const auto log = dir / "log.txt";
  std::mt19937_64 rng(fault_seed("sweep killed at random points"));
  // Kills 5% to 20% of an uninterrupted run after each start: together about the length of
  // that run, less what each restart costs and each kill throws away (the trials running and
  // the journal write under way), so that most land inside the sweep. Should the machine
  // have sped up since the reference ran and the sweep end before a kill, the kills stop.
  std::uniform_real_distribution<double> delay(0.05 * ref.seconds, 0.2 * ref.seconds);

  std::map<std::string, std::string> seen;  // key -> its line, as first seen after a kill
  std::size_t landed = 0;
  for (int k = 0; k < 8; ++k) {
    const double wait = delay(rng);
    // Two workers: appends from two threads, and a kill may catch either inside its write.
    const pid_t pid = spawn_child({"sweep", journal.string(), (dir / "partial.json").string(), "2"}, log);
    std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    ::kill(pid, SIGKILL);
    const int status = wait_for(pid);
    const bool killed = WIFSIGNALED(status);
    if (killed) ++landed;
    else REQUIRE(WEXITSTATUS(status) == 0);  // it had finished
    const auto now = lines_by_key(journal);
    std::cout << "kill " << k + 1 << " after " << wait * 1e3 << " ms: " << (killed ? "killed" : "had finished") << ", "
              << now.size() << " trials in the journal" << std::endl;
    for (const auto& [key, line] : now) {
      const auto [it, inserted] = seen.emplace(key, line);
      INFO("kill " << k + 1 << ", trial " << key);
      CHECK(it->second == line);  // a record, once written, never changes
    }
    if (!killed) break;  // the sweep is done: nothing left to interrupt
  }
  CHECK(landed >= 1);  // usually all 8
  REQUIRE(run_child({"sweep", journal.string(), (dir / "final.json").string(), "2"}, log) == 0);
  INFO(read_file(log));
  check_final_journal(journal, ref, seen);
}

TEST_CASE("A sweep whose journal fills the disk stops with the error and, run again, finishes where it stopped",
          "[faults][sweep][disk-full]") {
  TempDir dir;
  const auto ref = reference_sweep(dir);
  const auto journal = dir / "sweep.jsonl";
  // Room for about two and a half records: the third append comes back short.
  const std::uint64_t record_bytes = read_file(dir / "reference.jsonl").size() / kTrials;
  const int code = run_child({"sweep", journal.string(), (dir / "partial.json").string()}, dir / "full.log",
                             {.file_size = record_bytes * 5 / 2});
  const std::string full_log = read_file(dir / "full.log");
  INFO(full_log);
  CHECK(code == 1);  // the program's error exit, not a crash (nor SIGXFSZ)
  CHECK_THAT(full_log, Catch::Contains("sweep.jsonl") &&
                           (Catch::Contains("is the disk full?") || Catch::Contains("File too large")));
  CHECK(!fs::exists(dir / "partial.json"));
  const auto before = lines_by_key(journal);
  CHECK(before.size() >= 1);
  CHECK(before.size() < kTrials);

  REQUIRE(run_child({"sweep", journal.string(), (dir / "final.json").string()}, dir / "log.txt") == 0);
  CHECK_THAT(read_file(dir / "log.txt"),
             Catch::Contains(std::to_string(before.size()) + " of " + std::to_string(kTrials) + " trials already done"));
  check_final_journal(journal, ref, before);
}

TEST_CASE("A training with checkpoints killed at 8 random points resumes to the parameters of an uninterrupted one",
          "[faults][checkpoint][kill]") {
  TempDir dir;
  const auto log = dir / "log.txt";
  // The child trains for at most 200 epochs with early stopping (patience 10), checkpointing
  // every epoch, then writes its parameters.
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(run_child({"train", (dir / "straight.safetensors").string(), "200", (dir / "straight.bin").string()},
                    dir / "straight.log") == 0);
  const double straight_s = seconds_since(t0);
  std::smatch m;
  const std::string straight_log = read_file(dir / "straight.log");
  REQUIRE(std::regex_search(straight_log, m, std::regex("resumed_after 0 epochs ([0-9]+)")));
  const std::string epochs = m[1];

  const auto ckpt = dir / "ckpt.safetensors";
  const auto out = dir / "resumed.bin";
  std::mt19937_64 rng(fault_seed("training killed at random points"));
  std::uniform_real_distribution<double> delay(0.03 * straight_s, 0.2 * straight_s);
  std::size_t landed = 0;
  for (int k = 0; k < 8; ++k) {
    const double wait = delay(rng);
    const pid_t pid = spawn_child({"train", ckpt.string(), "200", out.string()}, log);
    std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    ::kill(pid, SIGKILL);
    const int status = wait_for(pid);
    landed += WIFSIGNALED(status);
    std::cout << "kill " << k + 1 << " after " << wait * 1e3 << " ms: "
              << (WIFSIGNALED(status) ? "killed" : "had finished") << std::endl;
    // Whatever the moment, the checkpoint on disk is a whole one (or not there yet).
    if (fs::exists(ckpt)) CHECK_NOTHROW(io::read_safetensors(ckpt));
    if (!WIFSIGNALED(status)) break;  // the training is done: nothing left to interrupt
  }
  CHECK(landed >= 1);  // usually all 8
  REQUIRE(run_child({"train", ckpt.string(), "200", out.string()}, log) == 0);
  INFO(read_file(log));
  CHECK(read_file(out) == read_file(dir / "straight.bin"));

  // Run once more after the end (a kill after the last checkpoint, before the process
  // exits): the fit that stopped early stays stopped, with the same parameters.
  fs::remove(out);
  const auto size_before = read_file(log).size();
  REQUIRE(run_child({"train", ckpt.string(), "200", out.string()}, log) == 0);
  CHECK_THAT(read_file(log).substr(size_before), Catch::Contains("resumed_after " + epochs + " epochs " + epochs));
  CHECK(read_file(out) == read_file(dir / "straight.bin"));

  // A kill inside a checkpoint write leaves its temporary file behind (nothing can remove it
  // on SIGKILL); the next checkpoint written removes it (its process is gone), and every
  // killed run was followed by one that wrote a checkpoint.
  std::size_t strays = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) {
    const auto name = e.path().filename().string();
    if (name.rfind(".ckpt.safetensors.tmp-", 0) == 0) {
      ++strays;
      continue;
    }
    INFO(name);
    CHECK((name == "ckpt.safetensors" || name == "straight.safetensors" || name == "straight.bin" ||
           name == "resumed.bin" || name == "log.txt" || name == "straight.log"));
  }
  CHECK(strays == 0);
}
