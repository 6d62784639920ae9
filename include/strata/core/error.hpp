#pragma once
// Runtime errors. Every error strata throws derives from strata::error and says
// what was wrong, where, and what to do about it.
#include <stdexcept>
#include <string>

namespace strata {

/// Base of every exception strata throws.
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A runtime shape did not match a static one (e.g. a data matrix whose rows
/// do not match the network's input shape).
class shape_error : public error {
 public:
  using error::error;
};

/// A hyperparameter or option is out of its domain (batch size 0, lr NaN, ...).
class option_error : public error {
 public:
  using error::error;
};

/// A data file or in-memory data set is malformed.
class data_error : public error {
 public:
  using error::error;
};

/// The operating system refused a file operation (open, write, fsync, rename); the
/// message names the file, the operation and the OS error.
class io_error : public error {
 public:
  using error::error;
};

namespace detail {
[[noreturn]] inline void throw_option(const std::string& what) { throw option_error("strata: " + what); }
}  // namespace detail

}  // namespace strata
