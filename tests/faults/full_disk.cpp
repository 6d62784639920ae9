// A full disk while writing a checkpoint or a results journal: the write fails with an
// error that names the file and the cause, and what was there before survives byte for byte.
//
// The disk fills in a forked child: RLIMIT_FSIZE (writes past the limit come back short,
// then EFBIG), which needs no privileges, and, where the test may mount one, a real tmpfs
// that runs out of space (ENOSPC). /dev/full gives ENOSPC to the journal, which writes in
// place. A sweep whose journal fills the disk is in kills.cpp, with the other child-program
// tests. Already covered elsewhere: the target path being a directory (the rename fails)
// and a missing parent directory, in tests/unit/io/safetensors.cpp ("writes are atomic").
#include "faults/support.hpp"
#include "support/temp_dir.hpp"

#include <strata/experiment/journal.hpp>
#include <strata/strata.hpp>
#include <strata/train/checkpoint.hpp>

#include <nlohmann/json.hpp>

using namespace strata;
using namespace strata::faults;
using strata::testing::TempDir;

namespace {

using Net = Sequential<Input<3>, Dense<16>, Tanh, Dense<4>>;
using M = Model<Net, loss::CrossEntropy, optim::Adam>;

void train_steps(M& m, std::size_t steps) {
  Columns<float, 3> x(3, 8);
  Columns<float, 1> y(1, 8);
  for (Eigen::Index j = 0; j < 8; ++j) {
    x.col(j) << 0.1f * static_cast<float>(j), -0.2f, 0.3f * static_cast<float>(j % 3);
    y(0, j) = static_cast<float>(j % 4);
  }
  for (std::size_t s = 0; s < steps; ++s) m.train_step(x, y);
}

std::vector<float> params_of(const M& m) {
  const auto p = m.network().parameters();
  return {p.begin(), p.end()};
}

experiment::TrialRecord record(int i) {
  experiment::TrialRecord r;
  r.params = {{"lr", 0.001 * (i + 1)}, {"batch_size", 16}};
  r.key = experiment::canonical_key(r.params);
  r.index = static_cast<std::size_t>(i);
  r.metric_name = "accuracy";
  r.results = {{"val_loss", 0.5 / (i + 1)}, {"val_accuracy", 0.9}};
  for (std::size_t e = 1; e <= 20; ++e)
    r.history.push_back({.epoch = e, .train_loss = 1.0 / static_cast<double>(e), .lr = 1e-3});
  return r;
}

}  // namespace

TEST_CASE("A checkpoint saved on a full disk fails naming the file and the cause: the previous one survives",
          "[faults][checkpoint][disk-full]") {
  TempDir dir;
  const auto file = dir / "ckpt.safetensors";
  M model({.seed = 1});
  train_steps(model, 2);
  save_checkpoint(model, file);
  const std::string before = read_file(file);
  const auto params_before = params_of(model);
  train_steps(model, 3);  // the state the failing saves try to write
  REQUIRE(params_of(model) != params_before);

  // The disk fills before the first byte, inside the 8-byte length, in the header, in the
  // data and one byte before the end.
  const std::uint64_t size = before.size();
  for (const std::uint64_t limit : {std::uint64_t{0}, std::uint64_t{5}, std::uint64_t{100}, size / 2, size - 1}) {
    INFO("file size limit " << limit << " of " << size << " bytes");
    const auto o = in_child({.file_size = limit}, [&] {
      save_checkpoint(model, file);
      return std::string("saved");
    });
    REQUIRE(o.exited_normally());
    REQUIRE(o.threw);
    CHECK_THAT(o.text, Catch::Contains("ckpt.safetensors") && Catch::Contains("cannot write") &&
                           Catch::Contains("File too large") && Catch::Contains("any previous file is unchanged"));
    CHECK(read_file(file) == before);
    CHECK(dir.entries() == std::vector<std::string>{"ckpt.safetensors"});  // the temporary file is gone
  }
  // The checkpoint that survived loads, with the parameters it was saved with.
  M restored({.seed = 9});
  load_checkpoint(restored, file);
  CHECK(params_of(restored) == params_before);

  // Control: with room for the whole file, the same save succeeds.
  const auto o = in_child({.file_size = size}, [&] {
    save_checkpoint(model, file);
    return std::string("saved");
  });
  CHECK(!o.threw);
  CHECK(o.text == "saved");
  load_checkpoint(restored, file);
  CHECK(params_of(restored) == params_of(model));
}

TEST_CASE("A journal append on a full disk fails naming the journal: the records before it survive",
          "[faults][journal][disk-full]") {
  TempDir dir;
  const auto file = dir / "sweep.jsonl";
  {
    experiment::Journal j(file);
    for (int i = 0; i < 3; ++i) j.append(record(i));
  }
  const std::string before = read_file(file);
  const auto lines_before = complete_lines(before);
  REQUIRE(lines_before.size() == 3);

  SECTION("the disk fills inside the record: a short write leaves an incomplete line, repaired by the next append") {
    const auto o = in_child({.file_size = before.size() + 10}, [&] {
      experiment::Journal j(file);
      j.append(record(3));
      return std::string("appended");
    });
    REQUIRE(o.threw);
    CHECK_THAT(o.text, Catch::Contains("sweep.jsonl") && Catch::Contains("only 10 of") &&
                           Catch::Contains("is the disk full?") && Catch::Contains("removed by the next append"));
    const std::string after = read_file(file);
    CHECK(after.size() == before.size() + 10);
    CHECK(after.compare(0, before.size(), before) == 0);  // the earlier records, byte for byte
    experiment::Journal j(file);
    auto records = j.load();
    CHECK(records.size() == 3);
    REQUIRE(j.warnings().size() == 1);
    CHECK_THAT(j.warnings()[0], Catch::Contains("incomplete final line"));
    // Space again: the next append removes the torn line and adds its record.
    j.append(record(3));
    experiment::Journal reopened(file);
    records = reopened.load();
    CHECK(records.size() == 4);
    CHECK(reopened.warnings().empty());
    const auto lines = complete_lines(read_file(file));
    REQUIRE(lines.size() == 4);
    CHECK(std::equal(lines_before.begin(), lines_before.end(), lines.begin()));
  }
  SECTION("the disk is full before the record: nothing is written") {
    const auto o = in_child({.file_size = before.size()}, [&] {
      experiment::Journal j(file);
      j.append(record(3));
      return std::string("appended");
    });
    REQUIRE(o.threw);
    CHECK_THAT(o.text, Catch::Contains("sweep.jsonl") && Catch::Contains("cannot append a record") &&
                           Catch::Contains("File too large"));
    CHECK(read_file(file) == before);
    experiment::Journal j(file);
    CHECK(j.load().size() == 3);
    CHECK(j.warnings().empty());
  }
}

TEST_CASE("A journal on a device that is full (/dev/full) fails with ENOSPC, naming the journal",
          "[faults][journal][disk-full]") {
  TempDir dir;
  const auto file = dir / "sweep.jsonl";
  experiment::Journal j(file);  // loads nothing: the file does not exist yet
  std::filesystem::create_symlink("/dev/full", file);
  CHECK_THROWS_AS(j.append(record(0)), io_error);
  CHECK_THROWS_WITH(j.append(record(0)), Catch::Contains("sweep.jsonl") && Catch::Contains("cannot append a record") &&
                                             Catch::Contains("No space left on device"));
  CHECK(!j.contains(record(0).key));  // a record that was not written is not counted as done
}

TEST_CASE("On a file system that is really full (ENOSPC), checkpoint and journal keep their previous contents",
          "[faults][checkpoint][journal][disk-full]") {
  TempDir dir;
  const auto small = dir / "small";
  std::filesystem::create_directory(small);
  if (!can_mount_tmpfs(small)) {
    WARN("skipped: cannot mount a tmpfs in a mount namespace here (needs CAP_SYS_ADMIN); the file-size limit tests "
         "above inject the same failures");
    return;
  }
  M model({.seed = 1});
  train_steps(model, 2);
  const auto params_before = params_of(model);
  M later({.seed = 1});
  train_steps(later, 5);

  // All in the child: the tmpfs exists in its mount namespace only.
  const auto o = in_child({}, [&] {
    mount_small_tmpfs(small, 256 * 1024);
    const auto file = small / "ckpt.safetensors";
    const auto journal = small / "sweep.jsonl";
    save_checkpoint(model, file);
    {
      experiment::Journal j(journal);
      j.append(record(0));
      j.append(record(1));
    }
    const std::string ckpt_before = read_file(file), journal_before = read_file(journal);
    nlohmann::json report;
    report["fill_errno"] = fill_up(small);
    try {
      save_checkpoint(later, file);
      report["checkpoint_error"] = "";
    } catch (const io_error& e) {
      report["checkpoint_error"] = e.what();
    }
    try {
      experiment::Journal(journal).append(record(2));
      report["journal_error"] = "";
    } catch (const io_error& e) {
      report["journal_error"] = e.what();
    }
    report["checkpoint_unchanged"] = read_file(file) == ckpt_before;
    std::vector<std::string> entries;
    for (const auto& e : std::filesystem::directory_iterator(small)) entries.push_back(e.path().filename().string());
    std::sort(entries.begin(), entries.end());
    report["entries"] = entries;
    M restored({.seed = 9});
    load_checkpoint(restored, file);
    report["restored_equal"] = params_of(restored) == params_before;
    const std::string journal_after = read_file(journal);
    report["journal_prefix_unchanged"] = journal_after.compare(0, journal_before.size(), journal_before) == 0;
    experiment::Journal j(journal);
    report["journal_records"] = j.load().size();
    return report.dump();
  });
  INFO(o.text);
  REQUIRE(!o.threw);
  const auto r = nlohmann::json::parse(o.text);
  CHECK(r.at("fill_errno") == ENOSPC);
  CHECK_THAT(r.at("checkpoint_error").get<std::string>(),
             Catch::Contains("ckpt.safetensors") && Catch::Contains("No space left on device") &&
                 Catch::Contains("any previous file is unchanged"));
  CHECK_THAT(r.at("journal_error").get<std::string>(),
             Catch::Contains("sweep.jsonl") && (Catch::Contains("No space left on device") ||
                                                Catch::Contains("is the disk full?")));
  CHECK(r.at("checkpoint_unchanged") == true);
  CHECK(r.at("entries") == nlohmann::json({"ckpt.safetensors", "filler", "sweep.jsonl"}));
  CHECK(r.at("restored_equal") == true);
  CHECK(r.at("journal_prefix_unchanged") == true);
  CHECK(r.at("journal_records") == 2);
}
