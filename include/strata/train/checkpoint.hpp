#pragma once
// Checkpoints: a Model's parameters, buffers (batch-norm running statistics), optimizer
// state and step counters in one safetensors file (io/safetensors.hpp), restored
// bit-identically, so that training resumed from a checkpoint takes the same steps as
// training that never stopped (given the same batches; the Dropout stream is not saved).
//
// Contents:
//   "<state_dict name>"     each parameter and buffer under PyTorch's nn.Sequential name and
//                           shape ("0.weight" [out, in], "3.running_mean" [C]); the model's
//                           scalar dtype, except num_batches_tracked, an I64 scalar as in
//                           PyTorch. A PyTorch model's load_state_dict reads these directly.
//   "optimizer.<field>"     each array of the optimizer state as a flat 1-D tensor
//                           ("optimizer.m", "optimizer.v", "optimizer.momentum_buffer", ...)
//   metadata                "strata.format" = "strata-checkpoint-1", "strata.network" (the
//                           stack's summary), "strata.parameter_count", "strata.scalar",
//                           "strata.optimizer" (its settings), "strata.optimizer_type",
//                           "strata.loss", "strata.schedule", "strata.steps",
//                           "strata.schedule_steps", "strata.optimizer_<counter>" (e.g.
//                           "strata.optimizer_steps"), and the caller's extra keys.
//
// Needs nlohmann/json and zlib, as io/safetensors.hpp; not included by strata.hpp.
//
// **Example**:
// ```
// save_checkpoint(model, "run/last.safetensors", {{"strata.epoch", std::to_string(epoch)}});
// ...
// Model<Net, loss::CrossEntropy, optim::Adam> resumed({.optimizer = {.lr = 1e-3}});
// const auto meta = load_checkpoint(resumed, "run/last.safetensors");
// const auto epoch = std::stoul(meta.at("strata.epoch"));
// ```
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/segment.hpp"
#include "../io/safetensors.hpp"
#include "fit.hpp"
#include "model.hpp"

namespace strata {

/// The value of metadata "strata.format" in files written by save_checkpoint.
inline constexpr const char* checkpoint_format = "strata-checkpoint-1";

namespace detail {

/// Buffers that count (PyTorch keeps them as int64); checkpoints store them as I64.
constexpr bool is_count_buffer(const Segment& s) { return s.param == "num_batches_tracked"; }

inline std::vector<std::size_t> segment_shape(const Segment& s) {
  return std::vector<std::size_t>(s.dims.begin(), s.dims.begin() + static_cast<std::ptrdiff_t>(s.rank));
}

/// The Network inside a Model, or the Network itself.
template <class M>
auto& network_of(M& m) {
  if constexpr (requires { m.network(); })
    return m.network();
  else
    return m;
}

template <class X>
std::string describe_or_name(const X& x) {
  if constexpr (requires { x.describe(); })
    return x.describe();
  else
    return std::string(X::name);
}

/// The optimizer's type name ("adam", "sgd", ...); for an optimizer chosen at run time
/// (one with kind()), the chosen one's, so that its state loads into the plain type too.
template <class O>
std::string optimizer_kind(const O& o) {
  if constexpr (requires { o.kind(); })
    return o.kind();
  else
    return std::string(O::name);
}

[[noreturn]] inline void throw_checkpoint(const std::filesystem::path& file, const std::string& what) {
  throw data_error("strata: checkpoint " + io::detail::quoted_path(file) + ": " + what);
}

/// Metadata `key` as an unsigned integer, or a data_error naming the key and the value.
inline std::size_t metadata_count(const std::filesystem::path& file, const std::map<std::string, std::string>& meta,
                                  const std::string& key) {
  const auto it = meta.find(key);
  if (it == meta.end()) throw_checkpoint(file, "metadata \"" + key + "\" is missing (expected an unsigned integer)");
  const std::string& v = it->second;
  std::size_t pos = 0;
  unsigned long long n = 0;
  bool ok = !v.empty() && v[0] != '-' && v[0] != '+';
  if (ok) {
    try {
      n = std::stoull(v, &pos, 10);
    } catch (const std::exception&) {
      ok = false;
    }
  }
  if (!ok || pos != v.size())
    throw_checkpoint(file, "metadata \"" + key + "\" must be an unsigned integer, found \"" + v + "\"");
  return static_cast<std::size_t>(n);
}

/// Plan for copying one named tensor of the file into the model: checked completely
/// before anything is written, so that a refused file leaves the model untouched.
template <class T>
struct Restore {
  const io::Tensor* from;
  T* to;
  std::size_t count;
};

/// Checks the file's tensor for segment `s` (its name, dtype, shape) and returns where to
/// copy it. Count buffers may be I64 (PyTorch's and save_checkpoint's choice) or T.
template <class T>
Restore<T> plan_segment(const std::filesystem::path& file, const io::SafetensorsFile& f, const Segment& s, T* base,
                        const char* kind) {
  const std::string name = s.name();
  const auto shape = segment_shape(s);
  const auto it = f.tensors.find(name);
  if (it == f.tensors.end())
    throw_checkpoint(file, std::string("no tensor '") + name + "', the model's " + kind + " of shape " +
                               io::shape_string(shape) + ": the file holds a different architecture (or was not " +
                               "written for this network)");
  const io::Tensor& t = it->second;
  const bool dtype_ok = t.dtype == io::dtype_of<T>() || (is_count_buffer(s) && t.dtype == io::Dtype::I64);
  if (!dtype_ok)
    throw_checkpoint(file, "tensor '" + name + "' has dtype " + std::string(io::dtype_name(t.dtype)) +
                               ", but the model's " + kind + " is " + std::string(io::dtype_name(io::dtype_of<T>())) +
                               (t.dtype == io::Dtype::F32   ? ": load it into a model whose scalar type is float"
                                : t.dtype == io::Dtype::F64 ? ": load it into a model whose scalar type is double"
                                                            : std::string()));
  if (t.shape != shape)
    throw_checkpoint(file, "tensor '" + name + "' has shape " + io::shape_string(t.shape) + ", but the model's " +
                               kind + " has shape " + io::shape_string(shape) +
                               ": the file holds a different architecture");
  return {&t, base + s.offset, s.size};
}

template <class T>
void copy_in(const Restore<T>& r) {
  if (r.from->dtype == io::Dtype::I64) {
    const auto v = r.from->template values<std::int64_t>();
    for (std::size_t i = 0; i < r.count; ++i) r.to[i] = static_cast<T>(v[i]);
  } else if (r.count != 0) {
    std::memcpy(r.to, r.from->bytes.data(), r.count * sizeof(T));
  }
}

/// Plans the parameters and buffers of `net` from `f`; adds their names to `known`.
template <class NetworkT>
void plan_network(const std::filesystem::path& file, const io::SafetensorsFile& f, NetworkT& net,
                  std::vector<Restore<typename NetworkT::Scalar>>& plan, std::set<std::string>& known) {
  using Net = typename NetworkT::NetType;
  for (const auto& s : Net::segments) {
    plan.push_back(plan_segment(file, f, s, net.parameters().data(), "parameter"));
    known.insert(s.name());
  }
  for (const auto& s : Net::buffer_segments) {
    plan.push_back(plan_segment(file, f, s, net.buffers().data(), "buffer"));
    known.insert(s.name());
  }
}

}  // namespace detail

/// Saves `model` (parameters, buffers, optimizer state, counters) to `file` atomically,
/// with `extra_metadata` (e.g. {"strata.epoch", "12"}) added to the metadata; see the top
/// of this header for the contents. Throws strata::option_error when an extra key is one
/// save_checkpoint writes itself, strata::io_error when the file cannot be written (any
/// previous file is then unchanged).
///
/// `extra_tensors` are stored as given; their names must start with "fit." (the trainer's
/// own state, e.g. the best epoch's parameters), which load_checkpoint leaves alone.
template <class M>
void save_checkpoint(const M& model, const std::filesystem::path& file,
                     const std::map<std::string, std::string>& extra_metadata = {},
                     std::span<const io::TensorRef> extra_tensors = {}) {
  using T = typename M::Scalar;
  using Net = typename M::NetworkType::NetType;
  const auto& net = model.network();
  const auto params = net.parameters();
  const auto buffers = net.buffers();

  std::vector<io::TensorRef> tensors;
  tensors.reserve(Net::segments.size() + Net::buffer_segments.size() + 4);
  for (const auto& s : Net::segments)
    tensors.push_back(io::tensor_ref(s.name(), params.subspan(s.offset, s.size), detail::segment_shape(s)));
  std::vector<std::int64_t> counts;
  counts.reserve(Net::buffer_segments.size());  // no reallocation: tensors view its elements
  for (const auto& s : Net::buffer_segments) {
    if (detail::is_count_buffer(s) && s.size == 1) {
      counts.push_back(static_cast<std::int64_t>(buffers[s.offset]));
      tensors.push_back(io::tensor_ref(s.name(), std::span<const std::int64_t>(&counts.back(), 1),
                                       detail::segment_shape(s)));
    } else {
      tensors.push_back(io::tensor_ref(s.name(), buffers.subspan(s.offset, s.size), detail::segment_shape(s)));
    }
  }

  std::map<std::string, std::string> meta;
  meta["strata.format"] = checkpoint_format;
  meta["strata.network"] = Net::summary();
  meta["strata.parameter_count"] = std::to_string(Net::parameter_count);
  meta["strata.scalar"] = std::string(io::dtype_name(io::dtype_of<T>()));
  meta["strata.optimizer"] = model.optimizer().describe();
  meta["strata.optimizer_type"] = detail::optimizer_kind(model.optimizer());
  meta["strata.loss"] = detail::describe_or_name(model.config().loss);
  meta["strata.schedule"] = detail::describe_or_name(model.config().schedule);
  meta["strata.steps"] = std::to_string(model.steps());
  meta["strata.schedule_steps"] = std::to_string(model.schedule_steps());

  const auto& state = model.optimizer_state();
  state.for_each_array([&](const char* name, const AlignedVector<T>& a) {
    if (!a.empty()) tensors.push_back(io::tensor_ref(std::string("optimizer.") + name, std::span<const T>(a)));
  });
  state.for_each_counter(
      [&](const char* name, const std::size_t& v) { meta[std::string("strata.optimizer_") + name] = std::to_string(v); });

  for (const auto& t : extra_tensors) {
    if (t.name.rfind("fit.", 0) != 0)
      throw option_error("strata: save_checkpoint: extra tensor '" + t.name + "' must be named \"fit.<...>\"");
    tensors.push_back(t);
  }
  for (const auto& [k, v] : extra_metadata) {
    if (meta.count(k) != 0 || k == io::crc32_key || k == io::header_crc32_key)
      throw option_error("strata: save_checkpoint: metadata key \"" + k +
                         "\" is written by save_checkpoint itself; choose another name (e.g. \"strata.epoch\")");
    meta[k] = v;
  }
  io::write_safetensors(file, tensors, meta);
}

/// load_checkpoint on the bytes of a checkpoint file already in memory: `file` only names
/// the data in messages. Throws as the path form does (less the OS errors).
template <class M>
std::map<std::string, std::string> load_checkpoint(M& model, std::span<const std::byte> bytes,
                                                   const std::filesystem::path& file) {
  using T = typename M::Scalar;
  using Net = typename M::NetworkType::NetType;
  using detail::throw_checkpoint;
  io::SafetensorsFile f = io::parse_safetensors(bytes, file);
  const auto& meta = f.metadata;

  // Every byte of a checkpoint is covered by a checksum (parse_safetensors checked both).
  for (const char* key : {io::crc32_key, io::header_crc32_key})
    if (meta.count(key) == 0 && io::checksums_enforced)
      throw_checkpoint(file, std::string("metadata \"") + key +
                                 "\" is missing: strata writes it in every checkpoint (a file without it was "
                                 "written by another program, or is corrupt)");
  const auto format = meta.find("strata.format");
  if (format == meta.end() || format->second != checkpoint_format)
    throw_checkpoint(file, std::string("not a strata checkpoint: metadata \"strata.format\" is ") +
                               (format == meta.end() ? std::string("missing") : "\"" + format->second + "\"") +
                               ", expected \"" + checkpoint_format +
                               "\" (load_parameters reads the parameters alone from any safetensors file)");
  const std::size_t count = detail::metadata_count(file, meta, "strata.parameter_count");
  if (count != Net::parameter_count) {
    const auto net = meta.find("strata.network");
    throw_checkpoint(file, "the checkpoint's network has " + std::to_string(count) + " parameters, this model's " +
                               std::to_string(Net::parameter_count) + ": a different architecture" +
                               (net != meta.end() ? " (the checkpoint's network:\n" + net->second + ")" : ""));
  }

  auto& net = model.network();
  std::vector<detail::Restore<T>> plan;
  std::set<std::string> known;
  detail::plan_network(file, f, net, plan, known);
  // The tensors fit; layers without tensors (activations, pooling) must match too.
  if (const auto theirs = meta.find("strata.network"); theirs == meta.end() || theirs->second != Net::summary()) {
    const std::string ours = Net::summary();
    const std::string their = theirs == meta.end() ? std::string() : theirs->second;
    const auto line = [](const std::string& text, std::size_t k) {
      std::size_t begin = 0;
      for (std::size_t i = 0; i < k && begin != std::string::npos; ++i) {
        begin = text.find('\n', begin);
        if (begin != std::string::npos) ++begin;
      }
      if (begin == std::string::npos || begin >= text.size()) return std::string("(nothing)");
      return text.substr(begin, text.find('\n', begin) - begin);
    };
    std::size_t k = 0;
    const std::size_t lines = std::max(ours.size(), their.size()) + 1;  // a bound on the line count
    while (k < lines && line(ours, k) == line(their, k)) ++k;
    throw_checkpoint(file, "the checkpoint's network differs from this model's at line " + std::to_string(k + 1) +
                               " of its summary: the checkpoint has \"" + line(their, k) + "\", the model \"" +
                               line(ours, k) + "\" (load_parameters loads the tensors alone where the difference "
                               "is intended)");
  }

  const auto type = meta.find("strata.optimizer_type");
  const std::string ours = detail::optimizer_kind(model.optimizer());
  if (type == meta.end() || type->second != ours) {
    const auto described = meta.find("strata.optimizer");
    throw_checkpoint(file, "the checkpoint's optimizer is " +
                               (type == meta.end() ? std::string("not recorded") : "\"" + type->second + "\"") +
                               (described != meta.end() ? " (" + described->second + ")" : std::string()) +
                               ", this model's is \"" + ours + "\" (" + model.optimizer().describe() +
                               "): its state cannot be restored into another optimizer; use load_parameters to "
                               "start a new optimizer from the saved parameters");
  }
  auto& state = model.optimizer_state_mut();
  std::vector<std::pair<const io::Tensor*, AlignedVector<T>*>> arrays;
  state.for_each_array([&](const char* field, AlignedVector<T>& a) {
    const std::string name = std::string("optimizer.") + field;
    known.insert(name);
    const auto it = f.tensors.find(name);
    if (a.empty()) {
      if (it != f.tensors.end()) {
        const auto theirs = meta.find("strata.optimizer");
        throw_checkpoint(file, "tensor '" + name + "' is optimizer state that this model's optimizer (" +
                                   model.optimizer().describe() + ") does not keep: its settings differ from the " +
                                   "checkpoint's" + (theirs != meta.end() ? " (" + theirs->second + ")" : ""));
      }
      return;
    }
    if (it == f.tensors.end())
      throw_checkpoint(file, "no tensor '" + name + "', optimizer state that this model's optimizer (" +
                                 model.optimizer().describe() + ") keeps: its settings differ from the checkpoint's");
    const io::Tensor& t = it->second;
    if (t.dtype != io::dtype_of<T>() || t.shape != std::vector<std::size_t>{a.size()})
      throw_checkpoint(file, "tensor '" + name + "' is " + std::string(io::dtype_name(t.dtype)) + " " +
                                 io::shape_string(t.shape) + ", but the model's optimizer state is " +
                                 std::string(io::dtype_name(io::dtype_of<T>())) + " [" + std::to_string(a.size()) +
                                 "]");
    arrays.emplace_back(&t, &a);
  });
  for (const auto& [name, t] : f.tensors)
    if (known.count(name) == 0 && name.rfind("fit.", 0) != 0)
      throw_checkpoint(file, "tensor '" + name + "' " + io::shape_string(t.shape) +
                                 " has no counterpart in this model: the file holds a different architecture");

  std::vector<std::pair<std::size_t*, std::size_t>> counters;
  state.for_each_counter([&](const char* field, std::size_t& c) {
    counters.emplace_back(&c, detail::metadata_count(file, meta, std::string("strata.optimizer_") + field));
  });
  const std::size_t steps = detail::metadata_count(file, meta, "strata.steps");
  const std::size_t schedule_steps = detail::metadata_count(file, meta, "strata.schedule_steps");

  // Everything fits: copy.
  for (const auto& r : plan) detail::copy_in(r);
  for (const auto& [t, a] : arrays) std::memcpy(a->data(), t->bytes.data(), a->size() * sizeof(T));
  for (const auto& [c, v] : counters) *c = v;
  model.restore_counters(steps, schedule_steps);
  return std::move(f.metadata);
}

/// Restores everything save_checkpoint wrote into `model` (bit-identical parameters,
/// buffers, optimizer state and counters) and returns the file's metadata, so that a
/// trainer can read its own keys back. The model keeps its configuration (learning rate
/// and other settings are not read from the file).
///
/// Throws strata::data_error naming the file and the tensor when the file is not a
/// strata checkpoint, is corrupt, or does not fit the model: a missing tensor, a different
/// shape or dtype, a different parameter count, an unknown tensor, another network summary
/// (a different architecture, including layers without tensors), another optimizer type, or optimizer state the model's optimizer settings
/// do not keep (or lack). Nothing is changed unless the whole file fits.
template <class M>
std::map<std::string, std::string> load_checkpoint(M& model, const std::filesystem::path& file) {
  return load_checkpoint(model, io::detail::read_whole_file(file), file);
}

/// Loads only the parameters and buffers of `model` (a Model or a Network) from a
/// safetensors file with PyTorch state_dict names, e.g. one written by save_checkpoint or
/// by safetensors.torch.save_file(torch_model.state_dict()) for the equivalent
/// nn.Sequential; "optimizer.*" tensors are ignored. For inference, or to fine-tune with a
/// fresh optimizer. Returns the file's metadata.
///
/// Throws strata::data_error naming the file and the tensor for a missing tensor, a
/// different shape or dtype, or a tensor the model does not have (other than
/// "optimizer.*"); nothing is changed then.
template <class M>
std::map<std::string, std::string> load_parameters(M& model, const std::filesystem::path& file) {
  auto& net = detail::network_of(model);
  using T = typename std::remove_reference_t<decltype(net)>::Scalar;
  io::SafetensorsFile f = io::read_safetensors(file);
  std::vector<detail::Restore<T>> plan;
  std::set<std::string> known;
  detail::plan_network(file, f, net, plan, known);
  for (const auto& [name, t] : f.tensors)
    if (known.count(name) == 0 && name.rfind("optimizer.", 0) != 0 && name.rfind("fit.", 0) != 0)
      detail::throw_checkpoint(file, "tensor '" + name + "' " + io::shape_string(t.shape) +
                                         " has no counterpart in this model: the file holds a different architecture");
  for (const auto& r : plan) detail::copy_in(r);
  return std::move(f.metadata);
}


namespace detail {

inline nlohmann::json opt_json(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }
inline std::optional<double> json_opt(const nlohmann::json& j) {
  return j.is_null() ? std::nullopt : std::optional<double>(j.get<double>());
}

/// The trainer's state as the "fit.state" metadata entry (JSON; doubles round-trip exactly).
inline std::string fit_state_json(const FitState& s) {
  nlohmann::json h = nlohmann::json::array();
  for (const auto& r : s.history)
    h.push_back({{"epoch", r.epoch}, {"train_loss", r.train_loss}, {"train_metric", opt_json(r.train_metric)},
                 {"val_loss", opt_json(r.val_loss)}, {"val_metric", opt_json(r.val_metric)}, {"lr", r.lr},
                 {"seconds", r.seconds}, {"train_seconds", r.train_seconds}});
  nlohmann::json j = {{"epoch", s.epoch}, {"best_epoch", s.best_epoch}, {"wait", s.wait}, {"history", h}};
  j["best"] = s.best_epoch > 0 ? nlohmann::json(s.best) : nlohmann::json();
  return j.dump();
}

inline FitState parse_fit_state(const std::filesystem::path& file, const std::string& text) {
  try {
    const auto j = nlohmann::json::parse(text);
    FitState s;
    s.epoch = j.at("epoch").get<std::size_t>();
    s.best_epoch = j.at("best_epoch").get<std::size_t>();
    s.wait = j.at("wait").get<std::size_t>();
    if (!j.at("best").is_null()) s.best = j.at("best").get<double>();
    for (const auto& r : j.at("history")) {
      EpochRecord e;
      e.epoch = r.at("epoch").get<std::size_t>();
      e.train_loss = r.at("train_loss").get<double>();
      e.train_metric = json_opt(r.at("train_metric"));
      e.val_loss = json_opt(r.at("val_loss"));
      e.val_metric = json_opt(r.at("val_metric"));
      e.lr = r.at("lr").get<double>();
      e.seconds = r.at("seconds").get<double>();
      e.train_seconds = r.at("train_seconds").get<double>();
      s.history.push_back(e);
    }
    if (s.history.size() != s.epoch) throw std::runtime_error("history holds " + std::to_string(s.history.size()) + " epochs, expected " + std::to_string(s.epoch));
    return s;
  } catch (const std::exception& e) {
    throw_checkpoint(file, std::string("metadata \"fit.state\" is not a valid trainer state: ") + e.what());
  }
}

}  // namespace detail

/// Checkpoints for fit: after every `every` epochs (and the last), the model, its optimizer
/// state and the trainer's state (epoch, history, early-stopping state and best parameters)
/// go atomically to `file`; with `resume`, a fit that finds `file` loads it and continues
/// after its epoch, exactly as if it had not stopped. A file that does not fit the model
/// (or is corrupt) is refused with strata::data_error, never silently ignored.
///
/// **Example**:
/// ```
/// auto r = fit(model, train, val, {.epochs = 50, .checkpoint = checkpoints(model, "run/ckpt.safetensors")});
/// // killed at epoch 30? run the same line again: it resumes after epoch 30.
/// ```
template <class M>
CheckpointHook checkpoints(M& model, std::filesystem::path file, std::size_t every = 1, bool resume = true) {
  CheckpointHook h;
  h.every = every;
  h.save = [&model, file](const FitState& s) {
    std::vector<io::TensorRef> extra;
    if (!s.best_parameters.empty()) {
      extra.push_back(io::tensor_ref("fit.best_parameters", std::span<const double>(s.best_parameters)));
      if (!s.best_buffers.empty())
        extra.push_back(io::tensor_ref("fit.best_buffers", std::span<const double>(s.best_buffers)));
    }
    save_checkpoint(model, file, {{"fit.state", detail::fit_state_json(s)}}, extra);
  };
  if (resume)
    h.restore = [&model, file](FitState& s) {
      if (!std::filesystem::exists(file)) return false;
      const auto meta = load_checkpoint(model, file);
      const auto it = meta.find("fit.state");
      if (it == meta.end())
        detail::throw_checkpoint(file, "no \"fit.state\" metadata: the checkpoint was not written by fit, so there "
                                       "is no epoch to resume after (load_checkpoint reads it into a model)");
      s = detail::parse_fit_state(file, it->second);
      const auto f = io::read_safetensors(file);
      if (const auto b = f.tensors.find("fit.best_parameters"); b != f.tensors.end())
        s.best_parameters = b->second.template values<double>();
      if (const auto b = f.tensors.find("fit.best_buffers"); b != f.tensors.end())
        s.best_buffers = b->second.template values<double>();
      return true;
    };
  return h;
}

}  // namespace strata
