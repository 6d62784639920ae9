#pragma once
// Sweeps: every (network type, loss type, runtime configuration) triple is one trial.
// Network and loss types come as Boost.Hana tuples of types, and each (network, loss)
// pair is instantiated once, with a run-time optimizer and schedule (optim::Any,
// schedule::Any) so that optimizer and schedule sweeps cost no extra instantiations.
//
// Trials run in parallel, one per worker thread; each trial's OpenMP thread count is fixed
// (threads_per_trial), so its numbers do not depend on how many trials run beside it. With
// small networks, one thread per trial and as many trials as cores beats several threads
// per trial (a 2-16-16-1 step is far too small to split), so that is the default.
//
// With a journal, every finished trial is appended (and fsynced) as one JSON line; a sweep
// started again with the same arguments takes finished trials from the journal and runs
// only the others, so an interrupted sweep loses at most the trials that were running.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/hana.hpp>
#include <nlohmann/json.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../optim/any.hpp"
#include "../schedule/any.hpp"
#include "../train/fit.hpp"
#include "../train/model.hpp"
#include "arch.hpp"
#include "journal.hpp"
#include "search.hpp"
#include "trial.hpp"

namespace strata::experiment {

struct SweepOptions {
  std::filesystem::path journal = {};   ///< JSON Lines of finished trials; empty: none (no resume)
  std::size_t workers = 0;              ///< trials at once; 0: one per hardware thread
  std::size_t threads_per_trial = 1;    ///< OpenMP threads inside each trial
  metric::Metric metric = {};           ///< reported for train, val and test (automatic: by the loss)
  EarlyStopping early_stopping = {};    ///< applied to every trial
  augment::Pipeline augment = {};       ///< used by trials whose config says augment = true
  ScheduleStep schedule_step = ScheduleStep::per_epoch;
  std::ostream* log = nullptr;          ///< one line per finished trial
  /// More figures for the results, on val and test (e.g. metric::nll() next to RMSE); one
  /// that does not apply to a trial's loss is left out of that trial's results.
  std::vector<metric::Metric> extra_metrics = {};
};

/// The schedule a config names, sized by its epochs: cosine anneals to 0 over the epochs,
/// step divides by 10 at a third and two thirds of them, exponential decays by 0.95 per
/// epoch, warmup_cosine warms up linearly over a tenth of them, then anneals.
inline schedule::Any make_schedule(const Config& c, ScheduleStep per = ScheduleStep::per_epoch, std::size_t steps_per_epoch = 1) {
  const std::size_t total = std::max<std::size_t>(1, c.epochs * (per == ScheduleStep::per_batch ? steps_per_epoch : 1));
  if (c.schedule == "constant") return schedule::Constant{};
  if (c.schedule == "cosine") return schedule::CosineAnnealing{.t_max = total};
  if (c.schedule == "step")
    return schedule::MultiStep{.milestones = {std::max<std::size_t>(1, total / 3), std::max<std::size_t>(2, 2 * total / 3)}};
  if (c.schedule == "exponential") return schedule::Exponential{.gamma = 0.95};
  if (c.schedule == "warmup_cosine") {
    const std::size_t w = std::max<std::size_t>(1, total / 10);
    return schedule::Warmup<schedule::CosineAnnealing>{.steps = w, .after = {.t_max = std::max<std::size_t>(1, total - w)}};
  }
  throw option_error("strata: unknown schedule '" + c.schedule + "' (constant, cosine, step, exponential, warmup_cosine)");
}

/// The Model type of a trial of network Net with loss Loss.
template <class Net, class Loss, class T = float>
using SweepModel = Model<Net, Loss, optim::Any, schedule::Any, backend::Cpu, T>;

/// The full configuration a trial ran with (its key holds every field).
inline Config config_of(const TrialRecord& r) {
  const auto j = nlohmann::ordered_json::parse(r.key);
  return Config::from_json(j.at("config"));
}

/// The model a sweep trains for config `c` (on `train_size` samples), freshly initialised:
/// with fit(model, train, val, fit_options(c, o)) it gives the trial's numbers again.
template <class Net, class Loss, class T = float>
SweepModel<Net, Loss, T> make_model(const Config& c, std::size_t train_size, const SweepOptions& o) {
  const std::size_t steps_per_epoch = (train_size + c.batch_size - 1) / std::max<std::size_t>(1, c.batch_size);
  return SweepModel<Net, Loss, T>({.optimizer = optim::make(c.optimizer, c.lr, c.momentum, c.weight_decay),
                                   .schedule = make_schedule(c, o.schedule_step, steps_per_epoch),
                                   .seed = c.seed,
                                   .dropout = c.dropout});
}

/// The fit options of a trial with config `c`.
inline FitOptions fit_options(const Config& c, const SweepOptions& o) {
  return {.epochs = c.epochs,
          .batch_size = c.batch_size,
          .seed = c.seed,
          .schedule_step = o.schedule_step,
          .progress = Progress::none,
          .metric = o.metric,
          .augment = c.augment ? o.augment : augment::Pipeline{},
          .mixup_alpha = c.mixup_alpha,
          .early_stopping = o.early_stopping};
}

/// The Model types a sweep over `nets` x `losses` instantiates: one per (network, loss)
/// pair, whatever the optimizers, schedules and other runtime settings swept.
template <class Nets, class Losses, class T = float>
constexpr auto model_types(Nets nets, Losses losses) {
  namespace hana = boost::hana;
  return hana::flatten(hana::transform(nets, [=](auto n) {
    return hana::transform(losses, [=](auto l) {
      return hana::type_c<Model<typename decltype(n)::type, typename decltype(l)::type, optim::Any, schedule::Any,
                                backend::Cpu, T>>;
    });
  }));
}

namespace detail {

/// The config fields whose value differs between configs, plus those always shown.
inline std::vector<std::string> shown_fields(const std::vector<Config>& configs) {
  static const std::vector<std::string> always{"optimizer", "lr", "batch_size", "epochs"};
  std::vector<std::string> out;
  if (configs.empty()) return always;
  const auto first = configs.front().to_json();
  for (const auto& [k, v] : first.items()) {
    bool varies = std::find(always.begin(), always.end(), k) != always.end();
    for (const auto& c : configs)
      if (!varies && c.to_json()[k] != v) varies = true;
    if (varies) out.push_back(k);
  }
  return out;
}

/// One trial to run: its identity and display columns, and the closure that runs it.
struct Job {
  std::size_t index = 0;
  std::string key;
  nlohmann::ordered_json params;
  std::size_t parameter_count = 0;
  std::uint64_t seed = 0;
  std::function<void(TrialRecord&)> run;
};

template <class Net, class Loss, class D>
void run_trial(TrialRecord& rec, const Config& c, const D& train, const D& val, const D* test,
               const SweepOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  auto model = make_model<Net, Loss, typename D::Scalar>(c, train.size(), o);
  const FitOptions fo = fit_options(c, o);
  const FitResult r = fit(model, train, val, fo);
  rec.history = r.history;
  rec.metric_name = r.metric_name;
  rec.best_epoch = r.best_epoch;
  rec.message = r.message;
  rec.results = nlohmann::ordered_json::object();
  if (r.diverged()) {
    rec.status = TrialStatus::diverged;
    rec.diverged_step = r.diverged_step;
    rec.diverged_reason = r.diverged_reason;
  } else {
    rec.status = r.stopped_early() ? TrialStatus::stopped_early : TrialStatus::completed;
    const std::string& m = r.metric_name;
    if (!r.history.empty()) {
      rec.results["train_loss"] = r.history.back().train_loss;
      if (r.history.back().train_metric) rec.results["train_" + m] = *r.history.back().train_metric;
    }
    for (const auto& [prefix, set] : {std::pair<std::string, const D*>{"val_", &val}, {"test_", test}}) {
      if (set == nullptr) continue;
      const auto e = evaluate(model, *set, o.metric);
      rec.results[prefix + "loss"] = e.loss;
      if (e.metric) rec.results[prefix + m] = *e.metric;
      for (const auto& extra : o.extra_metrics) {
        std::optional<Report> x;
        try {
          x = evaluate(model, *set, extra);
        } catch (const option_error&) {  // does not apply to this loss
        }
        if (x && x->metric) rec.results[prefix + x->metric_name] = *x->metric;
      }
    }
  }
  rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double train_s = 0;
  for (const auto& h : r.history) train_s += h.seconds;
  rec.seconds_per_epoch = r.history.empty() ? 0.0 : train_s / static_cast<double>(r.history.size());
}

inline std::string summary_line(const TrialRecord& r, std::size_t total) {
  std::ostringstream o;
  o << '[' << r.index + 1 << '/' << total << "] ";
  bool first = true;
  for (const auto& [k, v] : r.params.items()) {
    o << (first ? "" : " ") << k << '=' << (v.is_string() ? v.get<std::string>() : v.dump());
    first = false;
  }
  o << " -> ";
  if (r.status == TrialStatus::diverged) {
    o << "diverged at step " << r.diverged_step;
    if (!r.diverged_reason.empty()) o << " (" << r.diverged_reason << " not finite)";
  } else if (r.status == TrialStatus::failed) {
    o << "failed: " << r.message;
  } else {
    bool f = true;
    for (const auto& [k, v] : r.results.items())
      if (k.rfind("val_", 0) == 0 || k.rfind("test_", 0) == 0) {
        o << (f ? "" : ", ") << k << ' ' << v.dump();
        f = false;
      }
  }
  o << " (" << std::setprecision(3) << r.seconds << " s)";
  return o.str();
}

}  // namespace detail

/// Runs every (network, loss, config) trial and returns the records in sweep order: nets
/// outermost, then losses, then configs. Trials found in the journal are not run again.
///
/// **Example**:
/// ```
/// namespace hana = boost::hana;
/// auto trials = experiment::run(hana::tuple_t<Mlp16, Mlp64>, hana::tuple_t<loss::MSE, loss::BCEWithLogits>,
///                               experiment::grid({.optimizer = {"sgd", "adam"}, .lr = {1e-3, 1e-2}}),
///                               split.train, split.val, {.journal = "sweep.jsonl"}, &split.test);
/// experiment::Table(trials).mark_best("val_accuracy", true).write_markdown("results.md");
/// ```
template <class Nets, class Losses, class D>
std::vector<TrialRecord> run(Nets nets, Losses losses, const std::vector<Config>& configs, const D& train,
                             const D& val, const SweepOptions& options = {}, const D* test = nullptr) {
  namespace hana = boost::hana;
  if (configs.empty()) throw option_error("strata: experiment::run got no configurations");
  for (const auto& c : configs) {
    if (c.batch_size == 0) throw option_error("strata: a configuration has batch_size 0");
    (void)optim::make(c.optimizer, c.lr, c.momentum, c.weight_decay).validate();
    (void)make_schedule(c);
  }
  const auto fields = detail::shown_fields(configs);

  // Architecture columns; the layer list too when two networks would otherwise look alike.
  std::vector<nlohmann::ordered_json> arch_cols;
  hana::for_each(nets, [&](auto t) {
    using Net = typename decltype(t)::type;
    arch_cols.push_back(describe_architecture<Net>());
  });
  bool ambiguous = false;
  for (std::size_t a = 0; a < arch_cols.size(); ++a)
    for (std::size_t b = a + 1; b < arch_cols.size(); ++b) ambiguous = ambiguous || arch_cols[a] == arch_cols[b];

  std::vector<detail::Job> jobs;
  std::size_t net_index = 0;
  hana::for_each(nets, [&](auto net_t) {
    using Net = typename decltype(net_t)::type;
    const std::string layers = layer_list<Net>();
    hana::for_each(losses, [&](auto loss_t) {
      using Loss = typename decltype(loss_t)::type;
      for (const auto& c : configs) {
        detail::Job j;
        j.index = jobs.size();
        nlohmann::ordered_json params = nlohmann::ordered_json::object();
        if (ambiguous) params["layers"] = layers;
        for (const auto& [k, v] : arch_cols[net_index].items()) params[k] = v;
        params["loss"] = Loss::name;
        const auto cj = c.to_json();
        for (const auto& f : fields) params[f] = cj[f];
        nlohmann::ordered_json identity = {{"layers", layers}, {"loss", Loss::name}, {"config", cj},
                                           {"metric", options.metric.name()},
                                           {"augment", c.augment ? options.augment.describe() : "none"}};
        if (options.early_stopping.patience > 0)
          identity["early_stopping"] = {options.early_stopping.patience, options.early_stopping.min_delta};
        j.key = canonical_key(identity);
        j.params = std::move(params);
        j.parameter_count = Net::parameter_count;
        j.seed = c.seed;
        j.run = [&train, &val, test, &options, c](TrialRecord& rec) {
          detail::run_trial<Net, Loss>(rec, c, train, val, test, options);
        };
        jobs.push_back(std::move(j));
      }
    });
    ++net_index;
  });

  std::optional<Journal> journal;
  std::map<std::string, TrialRecord> done;
  if (!options.journal.empty()) {
    journal.emplace(options.journal);
    for (auto& r : journal->load()) done.emplace(r.key, std::move(r));
    for (const auto& w : journal->warnings())
      if (options.log) *options.log << "journal: " << w << '\n';
  }

  std::vector<TrialRecord> out(jobs.size());
  std::atomic<std::size_t> next{0};
  std::mutex log_mutex;
  std::exception_ptr fatal;
  std::atomic<bool> stop{false};
  std::size_t reused = 0;
  for (const auto& j : jobs)
    if (done.count(j.key)) {
      // The numbers are the journal's; the columns shown are this sweep's (another sweep
      // that ran the same trial may have varied, and so shown, other fields).
      out[j.index] = done.at(j.key);
      out[j.index].index = j.index;
      out[j.index].params = j.params;
      ++reused;
    }
  if (options.log && reused > 0)
    *options.log << "journal " << options.journal.string() << ": " << reused << " of " << jobs.size()
                 << " trials already done\n";

  const std::size_t hw = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t workers = std::min(jobs.size() - reused == 0 ? 1 : jobs.size() - reused,
                                       options.workers ? options.workers : hw);
  const int omp_threads = static_cast<int>(std::max<std::size_t>(1, options.threads_per_trial));
  auto worker = [&] {
#ifdef _OPENMP
    omp_set_num_threads(omp_threads);
#endif
    while (!stop) {
      const std::size_t i = next++;
      if (i >= jobs.size()) return;
      const auto& j = jobs[i];
      if (done.count(j.key)) continue;
      TrialRecord rec;
      rec.key = j.key;
      rec.index = j.index;
      rec.params = j.params;
      rec.parameter_count = j.parameter_count;
      rec.seed = j.seed;
      rec.started_at = utc_timestamp();
      try {
        j.run(rec);
      } catch (const std::exception& e) {
        rec.status = TrialStatus::failed;
        rec.message = e.what();
      }
      try {
        if (journal) journal->append(rec);
      } catch (...) {
        std::lock_guard lock(log_mutex);
        if (!fatal) fatal = std::current_exception();
        stop = true;
        return;
      }
      std::lock_guard lock(log_mutex);
      if (options.log) *options.log << detail::summary_line(rec, jobs.size()) << '\n' << std::flush;
      out[j.index] = std::move(rec);
    }
  };
  if (workers <= 1) {
#ifdef _OPENMP
    const int before = omp_get_max_threads();
    worker();
    omp_set_num_threads(before);
#else
    worker();
#endif
  } else {
    std::vector<std::thread> pool;
    for (std::size_t w = 0; w < workers; ++w) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  if (fatal) std::rethrow_exception(fatal);
  return out;
}

}  // namespace strata::experiment
