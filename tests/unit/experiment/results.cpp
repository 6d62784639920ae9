#include <catch2/catch.hpp>
#include "support/temp_dir.hpp"
#include <strata/experiment/effects.hpp>
#include <strata/experiment/journal.hpp>
#include <strata/experiment/plot.hpp>
#include <strata/experiment/table.hpp>
#include <strata/experiment/trial.hpp>

#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

using namespace strata;
using namespace strata::experiment;
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

using strata::testing::TempDir;

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::set<std::string> files_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

bool same_double(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0;
}
bool same_optional(const std::optional<double>& a, const std::optional<double>& b) {
  return a.has_value() == b.has_value() && (!a || same_double(*a, *b));
}

TrialRecord simple_trial(std::size_t index, const std::string& optimizer, double lr) {
  TrialRecord t;
  t.index = index;
  t.params = {{"optimizer", optimizer}, {"lr", lr}, {"batch_size", 32}};
  t.key = canonical_key(t.params);
  t.parameter_count = 354;
  t.metric_name = "accuracy";
  t.results = {{"val_accuracy", 0.5 + 0.01 * static_cast<double>(index)}};
  t.history = {EpochRecord{.epoch = 1, .train_loss = 0.7, .lr = lr}};
  return t;
}

/// A plausible sweep: loss falls faster for better learning rates, adam beats sgd, and the
/// largest lr with sgd diverges in epoch 6.
std::vector<TrialRecord> synthetic_sweep() {
  std::vector<TrialRecord> trials;
  std::size_t index = 0;
  for (const std::string optimizer : {"sgd", "adam"})
    for (double lr : {1e-4, 1e-3, 1e-2, 1e-1, 1.0}) {
      TrialRecord t;
      t.index = index++;
      t.params = {{"arch", "mlp 2x16 relu"}, {"optimizer", optimizer}, {"lr", lr}, {"batch_size", 32}, {"epochs", 20}};
      t.key = canonical_key(t.params);
      t.parameter_count = 354;
      t.metric_name = "accuracy";
      const double good = std::exp(-std::pow(std::log10(lr) - (optimizer == "adam" ? -2.7 : -1.2), 2) / 2.0);
      const double rate = 0.03 + 0.25 * good;
      const bool diverges = optimizer == "sgd" && lr == 1.0;
      for (std::size_t e = 1; e <= 20; ++e) {
        EpochRecord r;
        r.epoch = e;
        r.lr = lr * (e > 10 ? 0.1 : 1.0);
        const double x = static_cast<double>(e);
        r.train_loss = 0.05 + 0.65 * std::exp(-rate * x);
        r.val_loss = 0.09 + 0.63 * std::exp(-rate * x) + 0.002 * x;
        r.train_metric = 1.0 - 0.5 * std::exp(-1.3 * rate * x);
        r.val_metric = 0.97 - 0.47 * std::exp(-1.2 * rate * x) - 0.001 * x;
        if (diverges && e >= 6) {
          r.train_loss = e == 6 ? kInf : kNaN;
          r.val_loss = kNaN;
          r.train_metric = kNaN;
          r.val_metric = kNaN;
        }
        t.history.push_back(r);
        if (diverges && e == 6) break;
      }
      if (diverges) {
        t.status = TrialStatus::diverged;
        t.diverged_step = 6 * 32;
        t.message = "loss became kInf at step 192";
      }
      const auto& last = t.history.back();
      t.results = {{"val_loss", *last.val_loss}, {"val_accuracy", *last.val_metric}};
      t.seconds_per_epoch = 0.25;
      t.seconds = 0.25 * static_cast<double>(t.history.size());
      trials.push_back(t);
    }
  return trials;
}

/// Sets PATH for the lifetime of the object, then puts the old value back.
struct ScopedPath {
  std::string old;
  bool had = false;
  explicit ScopedPath(const std::string& value) {
    if (const char* p = std::getenv("PATH")) {
      old = p;
      had = true;
    }
    ::setenv("PATH", value.c_str(), 1);
  }
  ScopedPath(const ScopedPath&) = delete;
  ScopedPath& operator=(const ScopedPath&) = delete;
  ~ScopedPath() {
    if (had) ::setenv("PATH", old.c_str(), 1);
    else ::unsetenv("PATH");
  }
};

bool is_png(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::array<char, 4> magic{};
  in.read(magic.data(), 4);
  return in && std::memcmp(magic.data(), "\x89PNG", 4) == 0;
}

}  // namespace

// ---- TrialRecord ----

TEST_CASE("A TrialRecord survives JSON exactly, NaN and infinities included", "[unit][experiment][trial]") {
  TrialRecord t;
  t.index = 7;
  t.params = {{"arch", "mlp 2x16 relu"}, {"optimizer", "adam"}, {"lr", 0.1 + 0.2}, {"batch_size", 32}};
  t.key = canonical_key(t.params);
  t.parameter_count = 354;
  t.status = TrialStatus::diverged;
  t.message = "loss became NaN at step 13";
  t.diverged_step = 13;
  t.metric_name = "accuracy";
  t.history = {
      EpochRecord{.epoch = 1, .train_loss = 1.0 / 3.0, .train_metric = 0.5, .val_loss = {}, .val_metric = {},
                  .lr = 1e-3, .seconds = 0.125, .train_seconds = 0.1},
      EpochRecord{.epoch = 2, .train_loss = kNaN, .train_metric = -kInf, .val_loss = kInf, .val_metric = kNaN,
                  .lr = 2.5e-4, .seconds = 0.2, .train_seconds = 0.19},
  };
  t.results = {{"train_loss", kNaN}, {"val_loss", kInf}, {"val_accuracy", 0.912345678901234}};
  t.best_epoch = 1;
  t.seconds = 12.345678901234567;
  t.seconds_per_epoch = 6.1728394506172835;
  t.seed = 18446744073709551615ull;
  t.started_at = "2024-05-01T12:00:00Z";

  const Json j = t;
  const std::string text = j.dump();
  CHECK(text.find("\"nan\"") != std::string::npos);
  CHECK(text.find("\"-inf\"") != std::string::npos);
  CHECK(text.find("\"val_loss\":null") != std::string::npos);  // not measured
  CHECK(j.at("history").at(1).at("train_loss") == "nan");
  CHECK(j.at("results").at("val_loss") == "inf");
  CHECK(j.at("status") == "diverged");

  const auto back = Json::parse(text).get<TrialRecord>();
  CHECK(back.key == t.key);
  CHECK(back.index == t.index);
  CHECK(back.params == t.params);
  CHECK(back.params.dump() == t.params.dump());  // same order
  CHECK(back.parameter_count == t.parameter_count);
  CHECK(back.status == t.status);
  CHECK(back.message == t.message);
  CHECK(back.diverged_step == t.diverged_step);
  CHECK(back.metric_name == t.metric_name);
  REQUIRE(back.history.size() == t.history.size());
  for (std::size_t e = 0; e < t.history.size(); ++e) {
    const auto& a = back.history[e];
    const auto& b = t.history[e];
    CHECK(a.epoch == b.epoch);
    CHECK(same_double(a.train_loss, b.train_loss));
    CHECK(same_optional(a.train_metric, b.train_metric));
    CHECK(same_optional(a.val_loss, b.val_loss));
    CHECK(same_optional(a.val_metric, b.val_metric));
    CHECK(same_double(a.lr, b.lr));
    CHECK(same_double(a.seconds, b.seconds));
    CHECK(same_double(a.train_seconds, b.train_seconds));
  }
  CHECK(std::isnan(back.results.at("train_loss").get<double>()));
  CHECK(back.results.at("val_loss").get<double>() == kInf);
  CHECK(same_double(back.results.at("val_accuracy").get<double>(), 0.912345678901234));
  CHECK(same_double(back.params.at("lr").get<double>(), 0.1 + 0.2));
  CHECK(back.best_epoch == t.best_epoch);
  CHECK(same_double(back.seconds, t.seconds));
  CHECK(same_double(back.seconds_per_epoch, t.seconds_per_epoch));
  CHECK(back.seed == t.seed);
  CHECK(back.started_at == t.started_at);

  // nlohmann::json (sorted keys) works too.
  const nlohmann::json unordered = t;
  CHECK(unordered.get<TrialRecord>().history.size() == 2);
}

TEST_CASE("Reading a malformed TrialRecord names the field", "[unit][experiment][trial]") {
  CHECK_THROWS_AS(Json::parse(R"({"key": "k", "status": "exploded"})").get<TrialRecord>(), data_error);
  CHECK_THROWS_WITH(Json::parse(R"({"key": "k", "status": "exploded"})").get<TrialRecord>(),
                    Catch::Contains("'status'") && Catch::Contains("exploded"));
  CHECK_THROWS_WITH(Json::parse(R"({"key": "k", "history": [{"epoch": 1, "train_loss": "lots"}]})").get<TrialRecord>(),
                    Catch::Contains("history[0].train_loss"));
  // Without a key, the key is computed from the params.
  const auto t = Json::parse(R"({"params": {"lr": 0.1, "batch_size": 8}})").get<TrialRecord>();
  CHECK(t.key == R"({"batch_size":8,"lr":0.1})");
}

TEST_CASE("canonical_key does not depend on the order of the params", "[unit][experiment][trial]") {
  Json a = {{"lr", 0.01}, {"optimizer", "adam"}, {"batch_size", 32}, {"schedule", {{"name", "step"}, {"gamma", 0.5}}}};
  Json b;
  b["schedule"]["gamma"] = 0.5;
  b["schedule"]["name"] = "step";
  b["batch_size"] = 32;
  b["optimizer"] = "adam";
  b["lr"] = 0.01;
  REQUIRE(a.dump() != b.dump());  // different insertion order
  CHECK(canonical_key(a) == canonical_key(b));
  CHECK(canonical_key(a) == R"({"batch_size":32,"lr":0.01,"optimizer":"adam","schedule":{"gamma":0.5,"name":"step"}})");
  b["lr"] = 0.001;
  CHECK(canonical_key(a) != canonical_key(b));
}

// ---- Journal ----

TEST_CASE("Journal: appended records load back and a reopened journal knows them", "[unit][experiment][journal]") {
  TempDir dir;
  const auto file = dir.path / "sweep.jsonl";
  {
    Journal journal(file);
    CHECK(journal.load().empty());  // a missing file is an empty journal
    CHECK_FALSE(fs::exists(file));
    journal.append(simple_trial(0, "sgd", 0.1));
    journal.append(simple_trial(1, "adam", 0.001));
    CHECK(journal.contains(simple_trial(0, "sgd", 0.1).key));
    CHECK(journal.size() == 2);
  }
  const auto text = read_text(file);
  CHECK(lines_of(text).size() == 2);
  CHECK(text.back() == '\n');

  Journal reopened(file);
  CHECK(reopened.contains(simple_trial(0, "sgd", 0.1).key));
  CHECK(reopened.contains(simple_trial(1, "adam", 0.001).key));
  CHECK_FALSE(reopened.contains(simple_trial(2, "adam", 0.01).key));
  CHECK(reopened.warnings().empty());

  // A sweep resumed with the journal skips what is done.
  std::vector<std::size_t> ran;
  for (const auto& t : {simple_trial(0, "sgd", 0.1), simple_trial(1, "adam", 0.001), simple_trial(2, "adam", 0.01)}) {
    if (reopened.contains(t.key)) continue;
    ran.push_back(t.index);
    reopened.append(t);
  }
  CHECK(ran == std::vector<std::size_t>{2});
  const auto records = reopened.load();
  REQUIRE(records.size() == 3);
  CHECK(records[0].params.at("optimizer") == "sgd");
  CHECK(records[2].params.at("lr") == 0.01);
  CHECK(records[1].history.size() == 1);
}

TEST_CASE("Journal: a record without a key is stored under canonical_key(params)", "[unit][experiment][journal]") {
  TempDir dir;
  Journal journal(dir.path / "sweep.jsonl");
  auto t = simple_trial(0, "sgd", 0.1);
  t.key.clear();
  journal.append(t);
  CHECK(journal.contains(R"({"batch_size":32,"lr":0.1,"optimizer":"sgd"})"));
  CHECK(journal.load().at(0).key == R"({"batch_size":32,"lr":0.1,"optimizer":"sgd"})");
}

TEST_CASE("Journal: a torn final line is ignored, then removed by the next append", "[unit][experiment][journal]") {
  TempDir dir;
  const auto file = dir.path / "sweep.jsonl";
  {
    Journal journal(file);
    journal.append(simple_trial(0, "sgd", 0.1));
    journal.append(simple_trial(1, "adam", 0.001));
  }
  // A process killed in the middle of writing its third record.
  const Json third = simple_trial(2, "adam", 0.01);
  const std::string full = third.dump();
  {
    std::ofstream out(file, std::ios::binary | std::ios::app);
    out << full.substr(0, full.size() / 2);
  }
  Journal journal(file);
  CHECK(journal.size() == 2);
  REQUIRE(journal.warnings().size() == 1);
  CHECK_THAT(journal.warnings()[0], Catch::Contains("line 3") && Catch::Contains("incomplete"));
  CHECK(journal.load().size() == 2);

  journal.append(simple_trial(2, "adam", 0.01));
  const auto lines = lines_of(read_text(file));
  REQUIRE(lines.size() == 3);
  for (const auto& line : lines) CHECK_NOTHROW(Json::parse(line).get<TrialRecord>());
  CHECK(read_text(file).back() == '\n');

  Journal again(file);
  const auto records = again.load();
  CHECK(records.size() == 3);
  CHECK(again.warnings().empty());
}

TEST_CASE("Journal: a corrupt line in the middle is an error naming the file and line", "[unit][experiment][journal]") {
  TempDir dir;
  const auto file = dir.path / "sweep.jsonl";
  {
    Journal journal(file);
    journal.append(simple_trial(0, "sgd", 0.1));
  }
  {
    std::ofstream out(file, std::ios::binary | std::ios::app);
    out << "{\"key\": \"broken\", \"index\": \n";
    out << Json(simple_trial(1, "adam", 0.001)).dump() << "\n";
  }
  CHECK_THROWS_AS(Journal(file), data_error);
  CHECK_THROWS_WITH(Journal(file), Catch::Contains("sweep.jsonl") && Catch::Contains("line 2") &&
                                       Catch::Contains("not valid JSON"));
}

TEST_CASE("Journal: a second record for a key is ignored with a warning", "[unit][experiment][journal]") {
  TempDir dir;
  Journal journal(dir.path / "sweep.jsonl");
  auto first = simple_trial(0, "sgd", 0.1);
  auto second = first;
  second.results["val_accuracy"] = 0.0;
  journal.append(first);
  journal.append(second);
  const auto records = journal.load();
  REQUIRE(records.size() == 1);
  CHECK(records[0].results.at("val_accuracy") == first.results.at("val_accuracy"));
  REQUIRE(journal.warnings().size() == 1);
  CHECK_THAT(journal.warnings()[0], Catch::Contains("line 2") && Catch::Contains("line 1"));
}

TEST_CASE("Journal: appends from 8 threads give 8 x 50 whole lines", "[unit][experiment][journal]") {
  TempDir dir;
  const auto file = dir.path / "sweep.jsonl";
  Journal journal(file);
  std::vector<std::thread> threads;
  for (std::size_t k = 0; k < 8; ++k)
    threads.emplace_back([&journal, k] {
      for (std::size_t i = 0; i < 50; ++i) {
        auto t = simple_trial(k * 50 + i, k % 2 ? "adam" : "sgd", 1e-3 * static_cast<double>(k * 50 + i + 1));
        t.message = std::string(200 + 37 * i, 'x');  // lines of different lengths
        journal.append(t);
      }
    });
  for (auto& t : threads) t.join();
  const auto lines = lines_of(read_text(file));
  REQUIRE(lines.size() == 400);
  std::set<std::size_t> indices;
  for (const auto& line : lines) indices.insert(Json::parse(line).get<TrialRecord>().index);
  CHECK(indices.size() == 400);
  CHECK(Journal(file).size() == 400);
}

TEST_CASE("Journal: a file that cannot be created is an io_error naming it", "[unit][experiment][journal]") {
  TempDir dir;
  Journal journal(dir.path / "no-such-dir" / "sweep.jsonl");
  CHECK_THROWS_AS(journal.append(simple_trial(0, "sgd", 0.1)), io_error);
  CHECK_THROWS_WITH(journal.append(simple_trial(0, "sgd", 0.1)),
                    Catch::Contains("no-such-dir/sweep.jsonl") && Catch::Contains("No such file or directory"));
}

// ---- Table ----

namespace {

std::vector<TrialRecord> three_trials() {
  TrialRecord a;
  a.index = 0;
  a.params = {{"arch", "mlp 2x16 relu"}, {"optimizer", "sgd"}, {"lr", 0.1}, {"batch_size", 32}};
  a.parameter_count = 354;
  a.results = {{"val_loss", 0.41234}, {"val_accuracy", 0.9125}};
  a.seconds_per_epoch = 0.0123;
  TrialRecord b;
  b.index = 1;
  b.params = {{"arch", "mlp 2x16 relu"}, {"optimizer", "adam"}, {"lr", 0.001}, {"batch_size", 32}};
  b.parameter_count = 354;
  b.results = {{"val_loss", 0.2}, {"val_accuracy", 0.95}};
  b.seconds_per_epoch = 0.5;
  TrialRecord c;
  c.index = 2;
  c.params = {{"arch", "mlp 2x64 relu"}, {"optimizer", "adam"}, {"lr", 1e-5}, {"batch_size", 128}};
  c.parameter_count = 4610;
  c.status = TrialStatus::diverged;
  c.diverged_step = 17;
  c.results = {{"val_loss", kNaN}, {"val_accuracy", 0.99}};  // not to be shown or chosen
  c.seconds_per_epoch = 1.25;
  for (auto* t : {&a, &b, &c}) t->key = canonical_key(t->params);
  return {a, b, c};
}

}  // namespace

TEST_CASE("Table: Markdown of a small sweep", "[unit][experiment][table]") {
  Table table(three_trials());
  CHECK(table.columns() == std::vector<std::string>{"#", "arch", "optimizer", "lr", "batch_size", "params", "val_loss",
                                                    "val_accuracy", "status", "s/epoch"});
  table.mark_best("val_accuracy", true);
  const std::string expected =
      "|     # | arch              | optimizer |        lr | batch_size |  params |   val_loss | val_accuracy | status             |    s/epoch |\n"
      "|------:|-------------------|-----------|----------:|-----------:|--------:|-----------:|-------------:|--------------------|-----------:|\n"
      "|     0 | mlp 2x16 relu     | sgd       |       0.1 |         32 |     354 |     0.4123 |       0.9125 | completed          |    0.01230 |\n"
      "| **1** | **mlp 2x16 relu** | **adam**  | **0.001** |     **32** | **354** | **0.2000** |   **0.9500** | **completed**      | **0.5000** |\n"
      "|     2 | mlp 2x64 relu     | adam      |     1e-05 |        128 |    4610 |            |              | diverged (step 17) |      1.250 |\n";
  CHECK(table.to_markdown() == expected);

  table.select({"arch", "lr", "val_accuracy"});
  const std::string selected =
      "| arch              |        lr | val_accuracy |\n"
      "|-------------------|----------:|-------------:|\n"
      "| mlp 2x16 relu     |       0.1 |       0.9125 |\n"
      "| **mlp 2x16 relu** | **0.001** |   **0.9500** |\n"
      "| mlp 2x64 relu     |     1e-05 |              |\n";
  CHECK(table.to_markdown() == selected);
  // The example in table.hpp.
  table.sort_by("val_accuracy", true).select({"#", "arch", "lr", "params", "val_accuracy", "status"});
  CHECK(table.to_markdown() ==
        "|     # | arch              |        lr |  params | val_accuracy | status             |\n"
        "|------:|-------------------|----------:|--------:|-------------:|--------------------|\n"
        "| **1** | **mlp 2x16 relu** | **0.001** | **354** |   **0.9500** | **completed**      |\n"
        "|     0 | mlp 2x16 relu     |       0.1 |     354 |       0.9125 | completed          |\n"
        "|     2 | mlp 2x64 relu     |     1e-05 |    4610 |              | diverged (step 17) |\n");
  CHECK_THROWS_AS(table.select({"accuracy"}), option_error);
  CHECK_THROWS_WITH(table.select({"accuracy"}), Catch::Contains("'accuracy'") && Catch::Contains("'val_accuracy'"));
}

TEST_CASE("Table: CSV quotes as RFC 4180 asks and keeps full precision", "[unit][experiment][table]") {
  auto trials = three_trials();
  trials[0].params["arch"] = "conv 3x3, \"same\"";
  trials[1].params["arch"] = "two\nlines";
  Table table(trials);
  table.select({"#", "arch", "lr", "val_loss", "status"});
  CHECK(table.to_csv() ==
        "#,arch,lr,val_loss,status\n"
        "0,\"conv 3x3, \"\"same\"\"\",0.1,0.41234,completed\n"
        "1,\"two\nlines\",0.001,0.2,completed\n"
        "2,mlp 2x64 relu,1e-05,,diverged (step 17)\n");
  table.mark_best("val_loss", false);
  const auto lines = lines_of(table.to_csv());
  CHECK(lines[0] == "#,arch,lr,val_loss,status,best");
  CHECK(lines.back() == "2,mlp 2x64 relu,1e-05,,diverged (step 17),false");
  CHECK(table.to_csv().find("0.2,completed,true\n") != std::string::npos);
}

TEST_CASE("Table: sorting puts numbers in order and empty or NaN cells last", "[unit][experiment][table]") {
  std::vector<TrialRecord> trials;
  const std::vector<std::optional<double>> accuracy = {0.5, std::nullopt, kNaN, 0.9, 0.7};
  for (std::size_t k = 0; k < accuracy.size(); ++k) {
    TrialRecord t;
    t.index = k;
    t.params = {{"lr", 0.1 * static_cast<double>(k + 1)}};
    t.results = {{"val_loss", 1.0}};
    if (accuracy[k]) t.results["val_accuracy"] = *accuracy[k];
    trials.push_back(t);
  }
  Table table(trials);
  const auto order = [&] {
    std::vector<std::size_t> out;
    for (std::size_t r = 0; r < table.size(); ++r) out.push_back(table.trial(r).index);
    return out;
  };
  table.sort_by("val_accuracy", false);
  CHECK(order() == std::vector<std::size_t>{0, 4, 3, 1, 2});
  table.sort_by("val_accuracy", true);
  CHECK(order() == std::vector<std::size_t>{3, 4, 0, 1, 2});
  table.sort_by("#");
  CHECK(order() == std::vector<std::size_t>{0, 1, 2, 3, 4});
  table.sort_by("lr", true);
  CHECK(order() == std::vector<std::size_t>{4, 3, 2, 1, 0});
  CHECK_THROWS_AS(table.sort_by("accuracy"), option_error);
}

TEST_CASE("Table: the best row is the best completed trial", "[unit][experiment][table]") {
  Table table(three_trials());
  CHECK_THROWS_AS(table.best(), error);
  table.mark_best("val_accuracy", true);  // the diverged trial's 0.99 does not count
  CHECK(table.best().index == 1);
  table.mark_best("val_loss", false);
  CHECK(table.best().index == 1);
  table.mark_best("s/epoch", false);
  CHECK(table.best().index == 0);
  table.mark_best("lr", true);
  CHECK(table.best().index == 0);

  table.mark_best("val_accuracy", true).sort_by("val_accuracy", false);
  const auto json = table.to_json();
  REQUIRE(json.size() == 3);
  CHECK(json[0].at("#") == 0);
  CHECK(json[0].at("best") == false);
  CHECK(json[1].at("#") == 1);
  CHECK(json[1].at("best") == true);
  CHECK(json[1].at("val_accuracy") == 0.95);
  CHECK(json[2].at("val_accuracy").is_null());
  CHECK(json[2].at("status") == "diverged (step 17)");

  auto diverged_only = three_trials();
  diverged_only.erase(diverged_only.begin(), diverged_only.begin() + 2);
  Table none(diverged_only);
  none.mark_best("val_accuracy", true);
  CHECK_THROWS_WITH(none.best(), Catch::Contains("val_accuracy"));
  CHECK(none.to_markdown().find("**") == std::string::npos);
}

TEST_CASE("effects: each value's mean, best and worst over the trials that finished", "[unit][experiment][table]") {
  std::vector<TrialRecord> trials;
  for (std::size_t i = 0; i < 6; ++i) trials.push_back(simple_trial(i, i % 2 ? "adam" : "sgd", i < 3 ? 0.1 : 0.01));
  // val_accuracy is 0.5 + 0.01 i; trial 5 (adam, 0.01) diverges and counts only as a trial.
  trials[5].status = TrialStatus::diverged;
  const auto fx = effects(trials, {"optimizer", "lr"}, "val_accuracy");
  REQUIRE(fx.size() == 4);
  CHECK(fx[0].factor == "optimizer");
  CHECK(fx[0].level == "sgd");  // order of first appearance
  CHECK(fx[0].trials == 3);
  CHECK(fx[0].finished == 3);
  CHECK(fx[0].mean == Approx((0.50 + 0.52 + 0.54) / 3));
  CHECK(fx[0].best == Approx(0.54));
  CHECK(fx[0].worst == Approx(0.50));
  CHECK(fx[1].level == "adam");
  CHECK(fx[1].trials == 3);
  CHECK(fx[1].finished == 2);
  CHECK(fx[1].mean == Approx((0.51 + 0.53) / 2));
  CHECK(fx[2].factor == "lr");
  CHECK(fx[2].level == "0.1");
  CHECK(fx[2].mean == Approx(0.51));
  CHECK(fx[3].level == "0.01");
  CHECK(fx[3].finished == 2);
  CHECK(fx[3].mean == Approx(0.535));

  // Lower is better: best and worst swap.
  const auto low = effects(trials, {"optimizer"}, "val_accuracy", /*higher_is_better=*/false);
  CHECK(low[0].best == Approx(0.50));
  CHECK(low[0].worst == Approx(0.54));

  const auto md = effects_markdown(fx, "val_accuracy");
  const auto lines = lines_of(md);
  REQUIRE(lines.size() == 6);
  CHECK(lines[0] == "| factor    | value | trials | finished | mean val_accuracy |   best |  worst |");
  CHECK(lines[1] == "| --------- | ----- | -----: | -------: | ----------------: | -----: | -----: |");
  CHECK(lines[3] == "| optimizer | adam  |      3 |        2 |            0.5200 | 0.5300 | 0.5100 |");

  // A value with no finished trial has empty figures; an unknown column is an error.
  trials[1].status = trials[3].status = TrialStatus::failed;
  const auto none = effects(trials, {"optimizer"}, "val_accuracy");
  CHECK(none[1].finished == 0);
  CHECK(std::isnan(none[1].mean));
  CHECK(lines_of(effects_markdown(none, "val_accuracy"))[3] == "| optimizer | adam  |      3 |        0 |                   |        |        |");
  CHECK_THROWS_AS(effects(trials, {"momentum"}, "val_accuracy"), option_error);
}

TEST_CASE("Table: files are written atomically, leaving no temporary files", "[unit][experiment][table]") {
  TempDir dir;
  Table table(three_trials());
  table.mark_best("val_accuracy", true);
  table.write_markdown(dir.path / "results.md");
  table.write_csv(dir.path / "results.csv");
  table.write_json(dir.path / "results.json");
  table.write_markdown(dir.path / "results.md");  // replacing an existing file
  CHECK(files_in(dir.path) == std::set<std::string>{"results.md", "results.csv", "results.json"});
  CHECK(read_text(dir.path / "results.md") == table.to_markdown());
  CHECK(read_text(dir.path / "results.csv") == table.to_csv());
  CHECK(Json::parse(read_text(dir.path / "results.json")) == table.to_json());
  CHECK_THROWS_AS(table.write_csv(dir.path / "missing" / "results.csv"), io_error);
  CHECK_THROWS_WITH(table.write_csv(dir.path / "missing" / "results.csv"), Catch::Contains("missing/results.csv"));
  CHECK(files_in(dir.path).size() == 3);
}

// ---- Plots ----

TEST_CASE("Plots render PNG files through gnuplot", "[unit][experiment][plot]") {
  if (!experiment::detail::find_on_path("gnuplot")) {
    WARN("gnuplot is not on PATH: rendering is not tested");
    return;
  }
  TempDir tmp;
  // STRATA_KEEP_PLOTS=<dir> keeps the figures there, to look at them.
  const char* keep = std::getenv("STRATA_KEEP_PLOTS");
  const fs::path dir = keep ? fs::path(keep) : tmp.path;
  fs::create_directories(dir);
  const auto trials = synthetic_sweep();

  const auto curves = learning_curves(trials, dir / "curves.png",
                                      {.title = "MLP on spirals: learning curves", .label_keys = {"optimizer", "lr"}});
  INFO(curves.note);
  CHECK(curves.rendered);
  CHECK(is_png(curves.png));
  CHECK(fs::exists(curves.script));
  CHECK(fs::exists(curves.data));
  // The diverged trial's non-finite values are written as missing.
  const auto data = read_text(curves.data);
  CHECK(data.find("nan") == std::string::npos);
  CHECK(data.find("inf") == std::string::npos);
  CHECK(data.find(" ? ") != std::string::npos);

  const auto acc = metric_vs_param(trials, "lr", "val_accuracy", dir / "acc_vs_lr.png", {.group_by = "optimizer"});
  INFO(acc.note);
  CHECK(acc.rendered);
  CHECK(is_png(acc.png));
  CHECK(read_text(acc.script).find("set logscale x") != std::string::npos);  // lr spans 1e-4..1
  CHECK_THAT(acc.note, Catch::Contains("1 of 10 trials left out"));

  const auto lr = lr_per_epoch(trials, dir / "lr.png");
  INFO(lr.note);
  CHECK(lr.rendered);
  CHECK(is_png(lr.png));

  std::vector<Series> series(2);
  series[0] = {.label = "predicted sigma", .x = {}, .y = {}, .style = "points"};
  series[1] = {.label = "true sigma", .x = {}, .y = {}, .style = "lines"};
  for (int i = 0; i <= 100; ++i) {
    const double x = -3 + 0.06 * i;
    series[0].x.push_back(x);
    series[0].y.push_back(0.1 + 0.05 * x * x + 0.02 * std::sin(7 * x) + (i == 50 ? kNaN : 0.0));
    series[1].x.push_back(x);
    series[1].y.push_back(0.1 + 0.05 * x * x);
  }
  const auto xy = xy_series(series, dir / "sigma.png", {.title = "sigma vs x_1", .xlabel = "x_1", .ylabel = "sigma"});
  INFO(xy.note);
  CHECK(xy.rendered);
  CHECK(is_png(xy.png));
  CHECK_THROWS_AS(xy_series({Series{.label = "bad", .x = {1, 2}, .y = {1}, .style = "points"}}, dir / "bad.png"),
                  option_error);
}

TEST_CASE("Without gnuplot on PATH, plots keep their data and script and say so", "[unit][experiment][plot]") {
  TempDir tmp;
  const fs::path empty = tmp.path / "empty-bin";
  fs::create_directories(empty);
  PlotResult r;
  {
    ScopedPath path(empty.string());
    r = learning_curves(synthetic_sweep(), tmp.path / "curves.png");
  }
  CHECK_FALSE(r.rendered);
  CHECK_THAT(r.note, Catch::Contains("gnuplot is not on PATH"));
  CHECK(fs::exists(tmp.path / "curves.gp"));
  CHECK(fs::exists(tmp.path / "curves.dat"));
  CHECK_FALSE(fs::exists(tmp.path / "curves.png"));
  CHECK(read_text(tmp.path / "curves.gp").find("curves.dat") != std::string::npos);
}
