#pragma once
// One trial of a hyperparameter sweep as it is kept: its configuration, how it ended, its
// per-epoch history and its final figures, with a JSON form that round-trips exactly.
//
// JSON form (one object, fields in this order; see to_json below):
//   {"key": "{\"batch_size\":32,\"lr\":0.01}", "index": 3, "params": {"lr": 0.01, "batch_size": 32},
//    "parameter_count": 354, "status": "completed", "message": "", "diverged_step": 0,
//    "diverged_reason": "", "metric_name": "accuracy",
//    "history": [{"epoch": 1, "train_loss": 0.69, "train_metric": 0.52, "val_loss": null,
//                 "val_metric": null, "lr": 0.01, "seconds": 0.12, "train_seconds": 0.1}, ...],
//    "results": {"val_loss": 0.31, "test_accuracy": 0.91}, "best_epoch": 0, "seconds": 2.4,
//    "seconds_per_epoch": 0.12, "seed": 0, "started_at": "2024-05-01T12:00:00Z"}
// Doubles are written in their shortest form that reads back to the same bits (nlohmann's
// dump); NaN and infinities, which JSON cannot hold (a diverged trial's last losses), are
// written as the strings "nan", "inf" and "-inf" and read back as numbers. A history value
// that was not measured is null.
//
// Needs nlohmann/json; not included by strata.hpp.
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "../io/atomic_file.hpp"
#include "../train/fit.hpp"

namespace strata::experiment {

/// How a trial ended. `stopped_early` trials finished normally (early stopping); their
/// results are as valid as those of `completed` ones.
enum class TrialStatus { completed, diverged, stopped_early, failed };

/// The name written to JSON and shown in tables: "completed", "diverged", "stopped_early", "failed".
inline const char* to_string(TrialStatus s) {
  switch (s) {
    case TrialStatus::completed: return "completed";
    case TrialStatus::diverged: return "diverged";
    case TrialStatus::stopped_early: return "stopped_early";
    case TrialStatus::failed: return "failed";
  }
  return "unknown";
}

/// The inverse of to_string; nullopt for any other text.
inline std::optional<TrialStatus> parse_trial_status(std::string_view s) {
  for (auto t : {TrialStatus::completed, TrialStatus::diverged, TrialStatus::stopped_early, TrialStatus::failed})
    if (s == to_string(t)) return t;
  return std::nullopt;
}

/// A status for a fit's outcome: a callback stopping the fit counts as stopping early.
inline TrialStatus trial_status(FitStatus s) {
  switch (s) {
    case FitStatus::completed: return TrialStatus::completed;
    case FitStatus::diverged: return TrialStatus::diverged;
    case FitStatus::stopped_early:
    case FitStatus::stopped_by_callback: return TrialStatus::stopped_early;
  }
  return TrialStatus::failed;
}

/// Whether a trial finished normally, so that its results may be compared with others.
inline bool finished_normally(TrialStatus s) {
  return s == TrialStatus::completed || s == TrialStatus::stopped_early;
}

struct TrialRecord {
  std::string key;                 ///< canonical_key(params): identifies the configuration across runs
  std::size_t index = 0;           ///< position in the sweep
  nlohmann::ordered_json params;   ///< hyperparameters in display order, e.g. {"arch": "mlp 2x16 relu", "lr": 0.01}
  std::size_t parameter_count = 0;
  TrialStatus status = TrialStatus::completed;
  std::string message;             ///< why the trial diverged or failed
  std::size_t diverged_step = 0;   ///< global step (1-based) whose loss, gradients or parameters were not finite
  std::string diverged_reason;     ///< what was not finite: "loss", "gradient", "parameter", "val_loss" (FitResult)
  std::string metric_name;         ///< the metric in history ("accuracy", "rmse", ...)
  History history;                 ///< one record per finished epoch
  nlohmann::ordered_json results;  ///< final figures, e.g. {"train_loss": .., "val_loss": .., "test_accuracy": ..}
  std::size_t best_epoch = 0;
  double seconds = 0;              ///< wall time of the whole trial
  double seconds_per_epoch = 0;
  std::uint64_t seed = 0;
  std::string started_at;          ///< ISO-8601 UTC, e.g. "2024-05-01T12:00:00Z"
};

namespace detail {

/// A double as JSON: a number when finite, else "nan", "inf" or "-inf".
inline nlohmann::ordered_json number_to_json(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

/// The inverse of number_to_json for one of its strings; nullopt for any other text.
inline std::optional<double> non_finite_from_string(std::string_view s) {
  if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-inf") return -std::numeric_limits<double>::infinity();
  return std::nullopt;
}

/// Replaces every non-finite float inside `j` by its string (JSON has no NaN: nlohmann
/// would write null, losing the value).
template <class Json>
void encode_non_finite(Json& j) {
  if (j.is_number_float()) {
    const double v = j.template get<double>();
    if (!std::isfinite(v)) j = number_to_json(v).template get<std::string>();
  } else if (j.is_structured()) {
    for (auto& e : j) encode_non_finite(e);
  }
}

/// The inverse of encode_non_finite: "nan", "inf" and "-inf" strings become numbers again.
template <class Json>
void decode_non_finite(Json& j) {
  if (j.is_string()) {
    if (auto v = non_finite_from_string(j.template get_ref<const std::string&>())) j = *v;
  } else if (j.is_structured()) {
    for (auto& e : j) decode_non_finite(e);
  }
}

[[noreturn]] inline void throw_field(const std::string& field, const std::string& what) {
  throw data_error("strata: trial record: field '" + field + "': " + what);
}

template <class Json>
std::string type_of(const Json& j) {
  return j.type_name();
}

/// Reads a number written by number_to_json.
template <class Json>
double double_from_json(const Json& j, const std::string& field) {
  if (j.is_number()) return j.template get<double>();
  if (j.is_string())
    if (auto v = non_finite_from_string(j.template get_ref<const std::string&>())) return *v;
  throw_field(field, "expected a number or one of \"nan\", \"inf\", \"-inf\", found " + j.dump());
}

template <class Json>
std::optional<double> optional_from_json(const Json& j, const std::string& field) {
  if (j.is_null()) return std::nullopt;
  return double_from_json(j, field);
}

template <class Json>
std::uint64_t unsigned_from_json(const Json& j, const std::string& field) {
  if (j.is_number_unsigned()) return j.template get<std::uint64_t>();
  if (j.is_number_integer() && j.template get<std::int64_t>() >= 0)
    return static_cast<std::uint64_t>(j.template get<std::int64_t>());
  throw_field(field, "expected a non-negative integer, found " + j.dump());
}

template <class Json>
std::string string_from_json(const Json& j, const std::string& field) {
  if (!j.is_string()) throw_field(field, "expected a string, found " + type_of(j) + " " + j.dump());
  return j.template get<std::string>();
}

/// The member `name` of object `j`, or null when absent (older or hand-written records).
template <class Json>
const Json& member(const Json& j, const char* name) {
  static const Json null_value;
  const auto it = j.find(name);
  return it == j.end() ? null_value : *it;
}

template <class Json>
Json epoch_to_json(const EpochRecord& r) {
  const auto opt = [](const std::optional<double>& v) -> Json { return v ? Json(number_to_json(*v)) : Json(); };
  Json j = Json::object();
  j["epoch"] = r.epoch;
  j["train_loss"] = number_to_json(r.train_loss);
  j["train_metric"] = opt(r.train_metric);
  j["val_loss"] = opt(r.val_loss);
  j["val_metric"] = opt(r.val_metric);
  j["lr"] = number_to_json(r.lr);
  j["seconds"] = number_to_json(r.seconds);
  j["train_seconds"] = number_to_json(r.train_seconds);
  return j;
}

template <class Json>
EpochRecord epoch_from_json(const Json& j, const std::string& where) {
  if (!j.is_object()) throw_field(where, "expected an object, found " + type_of(j));
  const auto f = [&](const char* name) { return where + "." + name; };
  EpochRecord r;
  r.epoch = static_cast<std::size_t>(unsigned_from_json(member(j, "epoch"), f("epoch")));
  r.train_loss = double_from_json(member(j, "train_loss"), f("train_loss"));
  r.train_metric = optional_from_json(member(j, "train_metric"), f("train_metric"));
  r.val_loss = optional_from_json(member(j, "val_loss"), f("val_loss"));
  r.val_metric = optional_from_json(member(j, "val_metric"), f("val_metric"));
  if (const auto& v = member(j, "lr"); !v.is_null()) r.lr = double_from_json(v, f("lr"));
  if (const auto& v = member(j, "seconds"); !v.is_null()) r.seconds = double_from_json(v, f("seconds"));
  if (const auto& v = member(j, "train_seconds"); !v.is_null()) r.train_seconds = double_from_json(v, f("train_seconds"));
  return r;
}

/// The number of characters (UTF-8 code points) in `s`, for padding and layout.
inline std::size_t display_width(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// ---- small POSIX file helpers shared by the experiment headers ----

using io::detail::directory_of;
using io::detail::Fd;
using io::detail::quoted_path;
using io::detail::sync_directory;
using io::detail::throw_os;
using io::detail::write_all;
using io::write_file_atomically;

}  // namespace detail

/// The current time as ISO-8601 UTC with seconds, e.g. "2024-05-01T12:00:00Z" (for
/// TrialRecord::started_at).
inline std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/// The identity of a configuration: `params` as compact JSON with object keys sorted
/// (at every depth), so that the same settings give the same key whatever order they were
/// listed in. Numbers keep their JSON type: 32 and 32.0 are different keys.
///
/// **Example**: canonical_key({{"lr", 0.01}, {"batch_size", 32}}) == R"({"batch_size":32,"lr":0.01})"
inline std::string canonical_key(const nlohmann::ordered_json& params) {
  nlohmann::json sorted(params);  // nlohmann::json keeps object keys in a std::map
  detail::encode_non_finite(sorted);
  return sorted.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

/// The JSON form described at the top of this file. Works with nlohmann::json and
/// nlohmann::ordered_json (the latter keeps the fields in the order written).
template <class Json>
  requires std::is_same_v<Json, nlohmann::json> || std::is_same_v<Json, nlohmann::ordered_json>
void to_json(Json& j, const TrialRecord& t) {
  j = Json::object();
  j["key"] = t.key;
  j["index"] = t.index;
  Json params(t.params);
  detail::encode_non_finite(params);
  j["params"] = std::move(params);
  j["parameter_count"] = t.parameter_count;
  j["status"] = to_string(t.status);
  j["message"] = t.message;
  j["diverged_step"] = t.diverged_step;
  j["diverged_reason"] = t.diverged_reason;
  j["metric_name"] = t.metric_name;
  Json history = Json::array();
  for (const auto& r : t.history) history.push_back(detail::epoch_to_json<Json>(r));
  j["history"] = std::move(history);
  Json results(t.results);
  detail::encode_non_finite(results);
  j["results"] = std::move(results);
  j["best_epoch"] = t.best_epoch;
  j["seconds"] = detail::number_to_json(t.seconds);
  j["seconds_per_epoch"] = detail::number_to_json(t.seconds_per_epoch);
  j["seed"] = t.seed;
  j["started_at"] = t.started_at;
}

/// Reads the JSON form. Missing fields keep their defaults (except "key": when absent it
/// is computed from "params"); a field of the wrong type throws strata::data_error naming
/// the field, e.g. "strata: trial record: field 'history[2].val_loss': expected a number ...".
template <class Json>
  requires std::is_same_v<Json, nlohmann::json> || std::is_same_v<Json, nlohmann::ordered_json>
void from_json(const Json& j, TrialRecord& t) {
  using detail::member;
  if (!j.is_object()) detail::throw_field("(record)", "expected an object, found " + detail::type_of(j));
  t = TrialRecord{};
  const auto& params = member(j, "params");
  if (!params.is_null() && !params.is_object())
    detail::throw_field("params", "expected an object, found " + detail::type_of(params));
  t.params = params.is_null() ? nlohmann::ordered_json::object() : nlohmann::ordered_json(params);
  detail::decode_non_finite(t.params);
  const auto& key = member(j, "key");
  t.key = key.is_null() ? canonical_key(t.params) : detail::string_from_json(key, "key");
  if (const auto& v = member(j, "index"); !v.is_null())
    t.index = static_cast<std::size_t>(detail::unsigned_from_json(v, "index"));
  if (const auto& v = member(j, "parameter_count"); !v.is_null())
    t.parameter_count = static_cast<std::size_t>(detail::unsigned_from_json(v, "parameter_count"));
  if (const auto& v = member(j, "status"); !v.is_null()) {
    const auto s = detail::string_from_json(v, "status");
    const auto status = parse_trial_status(s);
    if (!status)
      detail::throw_field("status", "unknown status \"" + s + "\" (expected completed, diverged, stopped_early or failed)");
    t.status = *status;
  }
  if (const auto& v = member(j, "message"); !v.is_null()) t.message = detail::string_from_json(v, "message");
  if (const auto& v = member(j, "diverged_step"); !v.is_null())
    t.diverged_step = static_cast<std::size_t>(detail::unsigned_from_json(v, "diverged_step"));
  if (const auto& v = member(j, "diverged_reason"); !v.is_null())
    t.diverged_reason = detail::string_from_json(v, "diverged_reason");
  if (const auto& v = member(j, "metric_name"); !v.is_null()) t.metric_name = detail::string_from_json(v, "metric_name");
  if (const auto& v = member(j, "history"); !v.is_null()) {
    if (!v.is_array()) detail::throw_field("history", "expected an array, found " + detail::type_of(v));
    t.history.reserve(v.size());
    for (std::size_t e = 0; e < v.size(); ++e)
      t.history.push_back(detail::epoch_from_json(v[e], "history[" + std::to_string(e) + "]"));
  }
  const auto& results = member(j, "results");
  if (!results.is_null() && !results.is_object())
    detail::throw_field("results", "expected an object, found " + detail::type_of(results));
  t.results = results.is_null() ? nlohmann::ordered_json::object() : nlohmann::ordered_json(results);
  detail::decode_non_finite(t.results);
  if (const auto& v = member(j, "best_epoch"); !v.is_null())
    t.best_epoch = static_cast<std::size_t>(detail::unsigned_from_json(v, "best_epoch"));
  if (const auto& v = member(j, "seconds"); !v.is_null()) t.seconds = detail::double_from_json(v, "seconds");
  if (const auto& v = member(j, "seconds_per_epoch"); !v.is_null())
    t.seconds_per_epoch = detail::double_from_json(v, "seconds_per_epoch");
  if (const auto& v = member(j, "seed"); !v.is_null()) t.seed = detail::unsigned_from_json(v, "seed");
  if (const auto& v = member(j, "started_at"); !v.is_null()) t.started_at = detail::string_from_json(v, "started_at");
}

}  // namespace strata::experiment
