// A directory or file that cannot be written, while saving a checkpoint or appending to a
// results journal: the error names the file and the cause, and nothing that was there changes.
//
// Root ignores permissions, and CI runs as root: the writes run in a forked child that, when
// it is root, becomes nobody first (Limits::unprivileged), so that a read-only directory
// stops it as it stops any user. A path through a regular file (ENOTDIR) fails for root too,
// in-process, which is how fit's checkpoint hook is tested. A missing parent directory is
// covered by tests/unit/io/safetensors.cpp ("writes are atomic") and
// tests/unit/experiment/results.cpp ("a file that cannot be created").
#include "faults/support.hpp"
#include "support/temp_dir.hpp"

#include <strata/experiment/journal.hpp>
#include <strata/strata.hpp>
#include <strata/train/checkpoint.hpp>

using namespace strata;
using namespace strata::faults;
using strata::testing::TempDir;
namespace fs = std::filesystem;

namespace {

using Net = Sequential<Input<2>, Dense<8>, Tanh, Dense<2>>;
using M = Model<Net, loss::CrossEntropy, optim::Adam>;

Dataset<Shape<2>, Shape<1>> tiny_data() {
  return data::spirals(20, 2, 0.05, 1);
}

experiment::TrialRecord record(int i) {
  experiment::TrialRecord r;
  r.params = {{"lr", 0.01 * (i + 1)}};
  r.key = experiment::canonical_key(r.params);
  r.results = {{"val_loss", 0.25 * i}};
  return r;
}

/// Lets the unprivileged child reach the files under `p` (whatever the umask made of it).
void reachable_by_nobody(const fs::path& p) {
  fs::permissions(p, fs::perms::others_read | fs::perms::others_exec | fs::perms::group_read | fs::perms::group_exec,
                  fs::perm_options::add);
}

/// Makes `p` read-only (r-x for directories) for everyone, for the scope.
struct ReadOnly {
  fs::path p;
  fs::perms before;
  explicit ReadOnly(fs::path path) : p(std::move(path)), before(fs::status(p).permissions()) {
    const auto x = fs::is_directory(p) ? fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec
                                       : fs::perms::none;
    fs::permissions(p, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read | x,
                    fs::perm_options::replace);
  }
  ~ReadOnly() { fs::permissions(p, before, fs::perm_options::replace); }
};

}  // namespace

TEST_CASE("A checkpoint saved into a directory that is not writable fails, and the previous one survives",
          "[faults][checkpoint][permissions]") {
  TempDir dir;
  const auto sub = dir / "run";
  fs::create_directory(sub);
  reachable_by_nobody(dir.path);
  reachable_by_nobody(sub);
  const auto file = sub / "ckpt.safetensors";
  M model({.seed = 3});
  const auto d = tiny_data();
  fit(model, d, {.epochs = 1, .batch_size = 8, .progress = Progress::none});
  save_checkpoint(model, file);
  const std::string before = read_file(file);
  fit(model, d, {.epochs = 1, .batch_size = 8, .progress = Progress::none});

  Outcome o;
  {
    ReadOnly guard(sub);
    o = in_child({.unprivileged = true}, [&] {
      save_checkpoint(model, file);
      return std::string("saved");
    });
  }
  INFO(o.text);
  if (o.setup_failed) {
    WARN("skipped: " << o.text << " (running as root without CAP_SETUID, permissions cannot be made to apply)");
    return;
  }
  REQUIRE(o.threw);
  CHECK_THAT(o.text, Catch::Contains("ckpt.safetensors") && Catch::Contains("cannot create the temporary file") &&
                         Catch::Contains("Permission denied") && Catch::Contains("any previous file is unchanged"));
  CHECK(read_file(file) == before);
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(sub)) entries.push_back(e.path().filename().string());
  CHECK(entries == std::vector<std::string>{"ckpt.safetensors"});
}

TEST_CASE("A journal that cannot be written fails naming it, and its records stay as they were",
          "[faults][journal][permissions]") {
  TempDir dir;
  const auto sub = dir / "run";
  fs::create_directory(sub);
  reachable_by_nobody(dir.path);
  reachable_by_nobody(sub);
  const auto file = sub / "sweep.jsonl";
  {
    experiment::Journal j(file);
    j.append(record(0));
    j.append(record(1));
  }
  const std::string before = read_file(file);

  SECTION("the journal file is read-only") {
    Outcome o;
    {
      ReadOnly guard(file);
      o = in_child({.unprivileged = true}, [&] {
        experiment::Journal j(file);  // reading still works
        if (j.size() != 2) return std::string("loaded ") + std::to_string(j.size()) + " records";
        j.append(record(2));
        return std::string("appended");
      });
    }
    if (o.setup_failed) {
      WARN("skipped: " << o.text);
      return;
    }
    REQUIRE(o.threw);
    CHECK_THAT(o.text, Catch::Contains("sweep.jsonl") && Catch::Contains("cannot open the results journal") &&
                           Catch::Contains("Permission denied"));
  }
  SECTION("a new journal in a read-only directory") {
    Outcome o;
    {
      ReadOnly guard(sub);
      o = in_child({.unprivileged = true}, [&] {
        experiment::Journal(sub / "other.jsonl").append(record(2));
        return std::string("appended");
      });
    }
    if (o.setup_failed) {
      WARN("skipped: " << o.text);
      return;
    }
    REQUIRE(o.threw);
    CHECK_THAT(o.text, Catch::Contains("other.jsonl") && Catch::Contains("Permission denied"));
    CHECK(!fs::exists(sub / "other.jsonl"));
  }
  CHECK(read_file(file) == before);
  experiment::Journal j(file);
  CHECK(j.load().size() == 2);
  CHECK(j.warnings().empty());
}

TEST_CASE("fit stops with the error when its checkpoint cannot be written (a path through a file), even as root",
          "[faults][checkpoint][fit]") {
  TempDir dir;
  const auto not_a_dir = dir.write("notes.txt", "a file, not a directory\n");
  const auto file = not_a_dir / "ckpt.safetensors";
  M model({.seed = 3});
  const auto d = tiny_data();
  const auto run = [&] {
    return fit(model, d,
               {.epochs = 3, .batch_size = 8, .progress = Progress::none, .checkpoint = checkpoints(model, file)});
  };
  CHECK_THROWS_AS(run(), io_error);
  CHECK_THROWS_WITH(run(), Catch::Contains("notes.txt/ckpt.safetensors") && Catch::Contains("Not a directory") &&
                               Catch::Contains("any previous file is unchanged"));
  CHECK(read_file(not_a_dir) == "a file, not a directory\n");
}
