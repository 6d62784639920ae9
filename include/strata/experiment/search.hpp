#pragma once
// Runtime hyperparameters of one trial (Config), and the two ways to make a list of them:
// a grid (the cartesian product of value lists) and a random search (choices, uniform and
// log-uniform ranges, a trial budget and a seed).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "../core/rng.hpp"

namespace strata::experiment {

/// The runtime hyperparameters of one trial.
struct Config {
  std::string optimizer = "adam";      ///< sgd, adam, adamw, rmsprop
  double lr = 1e-3;
  std::size_t batch_size = 32;
  std::size_t epochs = 10;
  double momentum = 0.0;               ///< SGD and RMSprop
  double weight_decay = 0.0;
  std::string schedule = "constant";   ///< constant, cosine, step, exponential, warmup_cosine
  double dropout = 0.0;                ///< rate of every Dropout layer
  double mixup_alpha = 0.0;            ///< 0: off
  bool augment = false;                ///< apply the sweep's augmentation pipeline
  std::uint64_t seed = 0;              ///< model initialisation and every draw of the fit

  bool operator==(const Config&) const = default;

  /// The config written by to_json (missing fields keep their defaults).
  static Config from_json(const nlohmann::ordered_json& j) {
    Config c;
    c.optimizer = j.value("optimizer", c.optimizer);
    c.lr = j.value("lr", c.lr);
    c.batch_size = j.value("batch_size", c.batch_size);
    c.epochs = j.value("epochs", c.epochs);
    c.momentum = j.value("momentum", c.momentum);
    c.weight_decay = j.value("weight_decay", c.weight_decay);
    c.schedule = j.value("schedule", c.schedule);
    c.dropout = j.value("dropout", c.dropout);
    c.mixup_alpha = j.value("mixup_alpha", c.mixup_alpha);
    c.augment = j.value("augment", c.augment);
    c.seed = j.value("seed", c.seed);
    return c;
  }

  /// Every field, in declaration order.
  nlohmann::ordered_json to_json() const {
    return nlohmann::ordered_json{{"optimizer", optimizer},       {"lr", lr},
                                  {"batch_size", batch_size},     {"epochs", epochs},
                                  {"momentum", momentum},         {"weight_decay", weight_decay},
                                  {"schedule", schedule},         {"dropout", dropout},
                                  {"mixup_alpha", mixup_alpha},   {"augment", augment},
                                  {"seed", seed}};
  }
};

/// Value lists for a grid; every field defaults to one value (Config's default).
///
/// **Example**:
/// ```
/// auto configs = experiment::grid({.optimizer = {"sgd", "adam"}, .lr = {1e-3, 1e-2, 1e-1},
///                                  .batch_size = {10, 128}});   // 12 configurations
/// ```
struct Grid {
  std::vector<std::string> optimizer{"adam"};
  std::vector<double> lr{1e-3};
  std::vector<std::size_t> batch_size{32};
  std::vector<std::size_t> epochs{10};
  std::vector<double> momentum{0.0};
  std::vector<double> weight_decay{0.0};
  std::vector<std::string> schedule{"constant"};
  std::vector<double> dropout{0.0};
  std::vector<double> mixup_alpha{0.0};
  std::vector<bool> augment{false};
  std::vector<std::uint64_t> seed{0};
};

namespace detail {
template <class V>
void require_values(const V& v, const char* field) {
  if (v.empty())
    strata::detail::throw_option(std::string("experiment::grid: '") + field +
                                 "' has no values; leave it out to use the default");
}
}  // namespace detail

/// The cartesian product of the grid's lists, the first field varying slowest (optimizer,
/// lr, batch_size, ..., seed), so that a table sorted by index reads like nested loops.
inline std::vector<Config> grid(const Grid& g) {
  detail::require_values(g.optimizer, "optimizer");
  detail::require_values(g.lr, "lr");
  detail::require_values(g.batch_size, "batch_size");
  detail::require_values(g.epochs, "epochs");
  detail::require_values(g.momentum, "momentum");
  detail::require_values(g.weight_decay, "weight_decay");
  detail::require_values(g.schedule, "schedule");
  detail::require_values(g.dropout, "dropout");
  detail::require_values(g.mixup_alpha, "mixup_alpha");
  detail::require_values(g.augment, "augment");
  detail::require_values(g.seed, "seed");
  std::vector<Config> out;
  out.reserve(g.optimizer.size() * g.lr.size() * g.batch_size.size() * g.epochs.size() * g.momentum.size() *
              g.weight_decay.size() * g.schedule.size() * g.dropout.size() * g.mixup_alpha.size() *
              g.augment.size() * g.seed.size());
  for (const auto& o : g.optimizer)
    for (double lr : g.lr)
      for (std::size_t b : g.batch_size)
        for (std::size_t e : g.epochs)
          for (double m : g.momentum)
            for (double wd : g.weight_decay)
              for (const auto& s : g.schedule)
                for (double d : g.dropout)
                  for (double a : g.mixup_alpha)
                    for (bool aug : g.augment)
                      for (std::uint64_t seed : g.seed) out.push_back({o, lr, b, e, m, wd, s, d, a, aug, seed});
  return out;
}

/// A distribution for one field of a random search: a list of choices (uniform over
/// them), or a uniform or log-uniform range [lo, hi] (integers are rounded).
template <class T>
struct Dist {
  enum class Kind { choice, uniform, log_uniform };
  Kind kind = Kind::choice;
  std::vector<T> choices;
  double lo = 0, hi = 0;

  Dist(std::initializer_list<T> c) : choices(c) {}
  Dist(T single) : choices{std::move(single)} {}  // NOLINT: implicit, `.epochs = 20`
  Dist(Kind k, double a, double b) : kind(k), lo(a), hi(b) {}

  void validate(const char* field) const {
    const std::string f = std::string("experiment::random: '") + field + "' ";
    if (kind == Kind::choice) {
      if (choices.empty()) strata::detail::throw_option(f + "has no choices");
      return;
    }
    if (!(std::isfinite(lo) && std::isfinite(hi) && lo <= hi))
      strata::detail::throw_option(f + "needs a finite range with lo <= hi, got [" + std::to_string(lo) + ", " +
                                   std::to_string(hi) + "]");
    if (kind == Kind::log_uniform && !(lo > 0))
      strata::detail::throw_option(f + "is log-uniform and needs lo > 0, got " + std::to_string(lo));
  }

  T draw(Rng& rng) const {
    if (kind == Kind::choice) return choices[static_cast<std::size_t>(rng.below(choices.size()))];
    const double u = rng.uniform();
    const double v = kind == Kind::uniform ? lo + (hi - lo) * u : std::exp(std::log(lo) + (std::log(hi) - std::log(lo)) * u);
    if constexpr (std::is_integral_v<T>) return static_cast<T>(std::llround(v));
    else if constexpr (std::is_floating_point_v<T>) return static_cast<T>(v);
    else {
      strata::detail::throw_option("experiment::random: only numeric fields take ranges");
      return T{};
    }
  }
};

template <class T = double>
Dist<T> uniform(double lo, double hi) {
  return Dist<T>(Dist<T>::Kind::uniform, lo, hi);
}
template <class T = double>
Dist<T> log_uniform(double lo, double hi) {
  return Dist<T>(Dist<T>::Kind::log_uniform, lo, hi);
}

/// Distributions for a random search; every field defaults to Config's default.
///
/// **Example**:
/// ```
/// auto configs = experiment::random({.optimizer = {"sgd", "adam"}, .lr = experiment::log_uniform(1e-4, 1e-1),
///                                    .batch_size = {16, 32, 64}}, /*trials*/ 20, /*seed*/ 7);
/// ```
struct Space {
  Dist<std::string> optimizer{"adam"};
  Dist<double> lr{1e-3};
  Dist<std::size_t> batch_size{32};
  Dist<std::size_t> epochs{10};
  Dist<double> momentum{0.0};
  Dist<double> weight_decay{0.0};
  Dist<std::string> schedule{"constant"};
  Dist<double> dropout{0.0};
  Dist<double> mixup_alpha{0.0};
  Dist<bool> augment{false};
};

/// `trials` configurations drawn from `space`. Trial k draws from its own generator
/// Rng(seed).fork(k) and gets seed k, so a larger budget extends a smaller one: the first
/// trials are the same.
inline std::vector<Config> random(const Space& space, std::size_t trials, std::uint64_t seed) {
  space.optimizer.validate("optimizer");
  space.lr.validate("lr");
  space.batch_size.validate("batch_size");
  space.epochs.validate("epochs");
  space.momentum.validate("momentum");
  space.weight_decay.validate("weight_decay");
  space.schedule.validate("schedule");
  space.dropout.validate("dropout");
  space.mixup_alpha.validate("mixup_alpha");
  space.augment.validate("augment");
  if (space.optimizer.kind != Dist<std::string>::Kind::choice || space.schedule.kind != Dist<std::string>::Kind::choice)
    strata::detail::throw_option("experiment::random: optimizer and schedule take choices, not ranges");
  const Rng base(seed);
  std::vector<Config> out;
  out.reserve(trials);
  for (std::size_t k = 0; k < trials; ++k) {
    Rng r = base.fork(k);
    Config c;
    c.optimizer = space.optimizer.draw(r);
    c.lr = space.lr.draw(r);
    c.batch_size = space.batch_size.draw(r);
    c.epochs = space.epochs.draw(r);
    c.momentum = space.momentum.draw(r);
    c.weight_decay = space.weight_decay.draw(r);
    c.schedule = space.schedule.draw(r);
    c.dropout = space.dropout.draw(r);
    c.mixup_alpha = space.mixup_alpha.draw(r);
    c.augment = space.augment.draw(r);
    c.seed = k;
    out.push_back(c);
  }
  return out;
}

}  // namespace strata::experiment
