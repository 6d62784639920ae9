#pragma once
// Training progress on a stream: a one-line bar with rate and ETA, redrawn in place, when
// the stream is a terminal; plain lines (one per epoch) when it is a file or a pipe, or
// when the CI environment variable is set.
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <ostream>
#include <sstream>
#include <string>

#include <unistd.h>

namespace strata {

enum class Progress {
  automatic,  ///< bar on a terminal (std::cout or std::cerr), lines elsewhere and under CI
  bar,        ///< always the bar (carriage returns)
  lines,      ///< one line per epoch
  none        ///< nothing, not even the epoch lines
};

namespace detail {

/// Whether `os` is std::cout or std::cerr attached to a terminal, outside CI.
inline bool stream_is_terminal(const std::ostream* os) {
  if (const char* ci = std::getenv("CI"); ci != nullptr && *ci != '\0' && std::string(ci) != "false") return false;
  if (os == &std::cout) return ::isatty(STDOUT_FILENO) == 1;
  if (os == &std::cerr || os == &std::clog) return ::isatty(STDERR_FILENO) == 1;
  return false;
}

/// "1:05", "12:03:09".
inline std::string format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "--:--";
  const auto s = static_cast<long long>(seconds + 0.5);
  std::ostringstream o;
  o << std::setfill('0');
  if (s >= 3600) o << s / 3600 << ':' << std::setw(2) << (s / 60) % 60 << ':' << std::setw(2) << s % 60;
  else o << s / 60 << ':' << std::setw(2) << s % 60;
  return o.str();
}

/// Draws the in-epoch bar at most every `interval` seconds.
class ProgressBar {
 public:
  ProgressBar(std::ostream* os, Progress mode, double interval = 0.1)
      : os_(os), interval_(interval) {
    if (os_ == nullptr || mode == Progress::none) {
      bar_ = lines_ = false;
    } else {
      bar_ = mode == Progress::bar || (mode == Progress::automatic && stream_is_terminal(os_));
      lines_ = true;
    }
  }

  bool lines() const { return lines_; }

  void start_epoch(std::size_t epoch, std::size_t epochs, std::size_t samples) {
    epoch_ = epoch, epochs_ = epochs, samples_ = samples;
    start_ = last_ = std::chrono::steady_clock::now();
    drawn_ = false;
  }

  /// After each batch: `done` samples of the epoch so far, running mean loss.
  void update(std::size_t done, double loss) {
    if (!bar_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < samples_ && std::chrono::duration<double>(now - last_).count() < interval_ && drawn_) return;
    last_ = now;
    drawn_ = true;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
    const double eta = rate > 0 ? static_cast<double>(samples_ - done) / rate : -1.0;
    constexpr std::size_t width = 24;
    const std::size_t fill = samples_ ? width * done / samples_ : width;
    std::ostringstream o;
    o << "\repoch " << epoch_ << '/' << epochs_ << " [" << std::string(fill, '=')
      << (fill < width ? ">" : "") << std::string(width - fill - (fill < width ? 1 : 0), ' ') << "] " << done << '/'
      << samples_ << "  " << static_cast<long long>(rate) << " samples/s  ETA " << format_duration(eta) << "  loss "
      << std::setprecision(4) << loss << "   ";
    *os_ << o.str() << std::flush;
  }

  /// Replaces the bar with the epoch's summary line.
  void end_epoch(const std::string& summary) {
    if (!lines_) return;
    if (bar_ && drawn_) *os_ << '\r' << std::string(100, ' ') << '\r';
    *os_ << summary << '\n' << std::flush;
  }

  /// A message on a line of its own.
  void message(const std::string& text) {
    if (!lines_) return;
    if (bar_ && drawn_) *os_ << '\n';
    drawn_ = false;
    *os_ << text << '\n' << std::flush;
  }

 private:
  std::ostream* os_;
  double interval_;
  bool bar_ = false, lines_ = false, drawn_ = false;
  std::size_t epoch_ = 0, epochs_ = 0, samples_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace detail
}  // namespace strata
