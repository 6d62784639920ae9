// End to end on real data: a small CNN trained on a slice of Fashion-MNIST from
// $STRATA_DATA, else the repository's data/ (scripts/fetch-data.sh fills it), must reach a
// stated test accuracy in a stated number of epochs. scripts/test.sh fetches the data first,
// so this always runs there; without the data it fails with the command to run (set
// STRATA_E2E_SKIP_MISSING=1 to skip instead).
#include <catch2/catch.hpp>
#include <strata/data/datasets.hpp>
#include <strata/strata.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>

using namespace strata;

TEST_CASE("A small CNN reaches 84% test accuracy on a 10k slice of Fashion-MNIST in 5 epochs", "[e2e][fashion]") {
  const char* env = std::getenv("STRATA_DATA");
  const std::filesystem::path dir = (env && *env) ? std::filesystem::path(env) : std::filesystem::path(STRATA_SOURCE_DATA_DIR);
  if (!std::filesystem::exists(dir / "fashion-mnist" / "train-images-idx3-ubyte.gz")) {
    const char* skip = std::getenv("STRATA_E2E_SKIP_MISSING");
    if (skip && *skip == '1') {
      WARN("skipped: no Fashion-MNIST under " << dir.string());
      return;
    }
    FAIL("no Fashion-MNIST under " << dir.string() << ": run scripts/fetch-data.sh and set STRATA_DATA");
  }
  const auto fm = data::fashion_mnist(dir);
  // The first 10,000 training images (seeded split into 9,000 / 1,000) and the first 2,000 test images.
  const auto slice = [](const auto& d, Eigen::Index n) {
    return Dataset<Shape<1, 28, 28>, Shape<1>>(d.x.leftCols(n), d.y.leftCols(n));
  };
  const auto parts = data::split(slice(fm.train, 10000), data::SplitCounts{9000, 1000, 0}, 1, true);
  const auto test = slice(fm.test, 2000);
  const auto in = data::fit_inputs(parts.train);  // per-channel mean/std from the training part only
  const auto train = data::transform(parts.train, in), val = data::transform(parts.val, in),
             tst = data::transform(test, in);

  using Net = Sequential<Input<1, 28, 28>, Conv2D<16, 3>, ReLU, MaxPool<2>, Conv2D<32, 3>, ReLU, MaxPool<2>, Flatten,
                         Dense<64>, ReLU, Dense<10>>;
  Model<Net, loss::CrossEntropy, optim::Adam> model({.optimizer = {.lr = 2e-3}, .seed = 0});
  const auto r = fit(model, train, val, {.epochs = 5, .batch_size = 50, .seed = 0, .log = &std::cout});
  REQUIRE(r.status == FitStatus::completed);
  const auto e = evaluate(model, tst, metric::accuracy());
  std::cout << "Fashion-MNIST slice: test accuracy " << *e.metric << ", " << r.history.back().seconds
            << " s per epoch\n";
  CHECK(*r.history.back().val_metric >= 0.82);
  CHECK(r.history.back().train_loss < r.history.front().train_loss);
  CHECK(*e.metric >= 0.84);
}
