#pragma once
// The results journal of a sweep: one TrialRecord per line as JSON (JSON Lines), appended
// as each trial ends, so that a sweep killed half way resumes where it stopped: finished
// configurations (by TrialRecord::key) are skipped.
//
// Durability: each record is one write(2) of the whole line, newline included, on a file
// opened with O_APPEND, followed by fsync; the first record of a new file also syncs the
// directory. A process killed during a write can leave at most one incomplete final line
// (without its newline); load() ignores it with a warning and the next append() truncates
// it away, so the file stays valid JSON Lines. Threads of one process may share a Journal
// (appends are serialised by a mutex); two processes must not append to the same file.
//
// Needs nlohmann/json; not included by strata.hpp.
//
// **Example**:
// ```
// experiment::Journal journal("runs/sweep.jsonl");
// for (auto& trial : trials) {
//   if (journal.contains(trial.key)) continue;  // finished in an earlier run
//   journal.append(run(trial));
// }
// const auto table = experiment::Table(journal.load());
// ```
#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "trial.hpp"

namespace strata::experiment {

/// What a journal's text holds: its records (the first of each key, in file order), the
/// warnings about what was skipped, and whether it ends in an incomplete line.
struct JournalContents {
  std::vector<TrialRecord> records;
  std::vector<std::string> warnings;
  bool incomplete_tail = false;  ///< the text ends in a line without its newline (ignored)
};

namespace detail {

inline std::string journal_where(const std::filesystem::path& file, std::size_t line_no) {
  return "strata: results journal " + quoted_path(file) + ", line " + std::to_string(line_no);
}

/// The deepest nesting of arrays and objects accepted in a journal line. Records nest a few
/// levels (params and results are usually flat); reading one recurses once per level
/// (copies, decode_non_finite, canonical_key), so 100,000 '[' would overflow the stack.
inline constexpr int max_journal_depth = 256;

inline TrialRecord parse_journal_line(const std::filesystem::path& file, std::string_view line, std::size_t line_no) {
  using Event = nlohmann::ordered_json::parse_event_t;
  const auto limit_depth = [&](int depth, Event event, nlohmann::ordered_json&) {
    if ((event == Event::object_start || event == Event::array_start) && depth >= max_journal_depth)
      throw data_error(journal_where(file, line_no) + ": arrays and objects nested more than " +
                       std::to_string(max_journal_depth) + " levels deep, expected a trial record (a few levels); "
                       "the journal was edited or written by something else: fix or delete that line");
    return true;
  };
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(line, limit_depth);
  } catch (const nlohmann::ordered_json::exception& e) {  // parse_error, or out_of_range for 1e400
    throw data_error(journal_where(file, line_no) + ": not valid JSON (" + e.what() +
                     "); the journal was edited or written by something else: fix or delete that line");
  }
  try {
    return j.template get<TrialRecord>();
  } catch (const data_error& e) {
    std::string what = e.what();
    if (what.rfind("strata: ", 0) == 0) what.erase(0, 8);
    throw data_error(journal_where(file, line_no) + ": " + what);
  } catch (const nlohmann::ordered_json::exception& e) {
    throw data_error(journal_where(file, line_no) + ": not a trial record (" + e.what() + ")");
  }
}

}  // namespace detail

/// Parses the text of a results journal (JSON Lines, see Journal) already in memory, as
/// Journal::load reads its file: `file` only names the journal in messages and warnings.
/// Throws strata::data_error naming the file and the 1-based line for a line that is not a
/// valid record; an incomplete final line and later duplicates of a key are skipped with a
/// warning.
///
/// **Example**:
/// ```
/// const auto contents = experiment::parse_journal(text, "received.jsonl");
/// const auto table = experiment::Table(contents.records);
/// ```
inline JournalContents parse_journal(std::string_view text, const std::filesystem::path& file) {
  JournalContents out;
  std::map<std::string, std::size_t> first_line;  // key -> line where it was first seen
  std::size_t line_no = 0;
  std::size_t begin = 0;
  while (begin < text.size()) {
    ++line_no;
    const std::size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) {
      out.warnings.push_back(detail::journal_where(file, line_no) + ": an incomplete final line (" +
                             std::to_string(text.size() - begin) +
                             " bytes without a newline, left by an interrupted write) was ignored; the next append "
                             "removes it");
      out.incomplete_tail = true;
      break;
    }
    const std::string_view line = text.substr(begin, end - begin);
    begin = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    TrialRecord record = detail::parse_journal_line(file, line, line_no);
    const auto [it, inserted] = first_line.emplace(record.key, line_no);
    if (!inserted) {
      out.warnings.push_back(detail::journal_where(file, line_no) + ": a second record for configuration " +
                             record.key + " was ignored (the first, line " + std::to_string(it->second) +
                             ", is kept)");
      continue;
    }
    out.records.push_back(std::move(record));
  }
  return out;
}

class Journal {
 public:
  /// Opens (without creating) the journal at `file` and reads the keys of its finished
  /// trials. A missing file is an empty journal; the file and its directory are created by
  /// the first append (the directory must exist). Throws as load() does.
  explicit Journal(std::filesystem::path file) : path_(std::move(file)) { load(); }

  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  /// Every record in the file, in file order, the first of each key only. An incomplete
  /// final line (a write interrupted by a crash) and later duplicates of a key are skipped
  /// with a warning (see warnings()). Throws strata::data_error naming the file and the
  /// 1-based line number for any other line that is not a valid record, and
  /// strata::io_error when the file exists but cannot be read.
  std::vector<TrialRecord> load() const {
    std::lock_guard lock(mutex_);
    warnings_.clear();
    std::string text;
    if (!read_file(text)) {
      keys_.clear();
      return {};
    }
    JournalContents contents = parse_journal(text, path_);
    warnings_ = std::move(contents.warnings);
    if (contents.incomplete_tail) tail_checked_ = false;
    keys_.clear();
    for (const auto& r : contents.records) keys_.insert(r.key);
    return std::move(contents.records);
  }

  /// Whether a trial with this configuration key was loaded or appended.
  bool contains(const std::string& key) const {
    std::lock_guard lock(mutex_);
    return keys_.count(key) != 0;
  }

  /// The number of distinct configurations loaded or appended.
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return keys_.size();
  }

  /// Appends one record as one line and syncs it to disk before returning. Thread-safe.
  /// Throws strata::io_error naming the file and the OS error when the file cannot be
  /// opened, written (a full disk: ENOSPC) or synced; the journal is then unchanged or ends
  /// in an incomplete line that load() ignores and the next append removes.
  /// A record without a key is written with key = canonical_key(record.params).
  void append(const TrialRecord& record) {
    nlohmann::ordered_json j = record;
    if (record.key.empty()) j["key"] = canonical_key(record.params);
    const std::string key = j["key"].get<std::string>();
    std::string line = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    line += '\n';

    std::lock_guard lock(mutex_);
    bool created = false;
    detail::Fd fd(::open(path_.c_str(), O_RDWR | O_APPEND | O_CLOEXEC));
    while (fd.fd < 0 && errno == ENOENT) {
      fd.fd = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd.fd >= 0) {
        created = true;
      } else if (errno == EEXIST) {
        fd.fd = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);  // created meanwhile
      } else if (errno == ENOENT) {
        detail::throw_os(path_, "cannot create the results journal (does its directory exist?)", errno);
      }
    }
    if (fd.fd < 0) detail::throw_os(path_, "cannot open the results journal for appending", errno);
    if (!tail_checked_) {
      remove_incomplete_tail(fd.fd);
      tail_checked_ = true;
    }

    ssize_t written = -1;
    do {
      written = ::write(fd.fd, line.data(), line.size());  // one call: a record is never interleaved
    } while (written < 0 && errno == EINTR);
    if (written < 0) {
      const int err = errno;
      tail_checked_ = false;
      detail::throw_os(path_, "cannot append a record to the results journal", err);
    }
    if (static_cast<std::size_t>(written) != line.size()) {
      tail_checked_ = false;
      throw io_error("strata: " + detail::quoted_path(path_) + ": cannot append a record to the results journal: only " +
                     std::to_string(written) + " of " + std::to_string(line.size()) +
                     " bytes were written (is the disk full?); the incomplete line is removed by the next append");
    }
    if (::fsync(fd.fd) != 0) detail::throw_os(path_, "cannot sync the results journal to disk (fsync)", errno);
    if (fd.close() != 0) detail::throw_os(path_, "cannot close the results journal", errno);
    if (created) detail::sync_directory(path_);
    keys_.insert(key);
  }

  const std::filesystem::path& path() const { return path_; }

  /// What the last load() skipped (an incomplete final line, duplicate keys) and what the
  /// appends since then repaired, one sentence each, naming the file and line.
  std::vector<std::string> warnings() const {
    std::lock_guard lock(mutex_);
    return warnings_;
  }

 private:
  /// Reads the whole file into `text`; false when it does not exist.
  bool read_file(std::string& text) const {
    detail::Fd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.fd < 0) {
      if (errno == ENOENT) return false;
      detail::throw_os(path_, "cannot open the results journal for reading", errno);
    }
    char buf[1 << 16];
    for (;;) {
      const ssize_t n = ::read(fd.fd, buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        detail::throw_os(path_, "cannot read the results journal", errno);
      }
      if (n == 0) break;
      text.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }

  /// Truncates the file after its last newline when it ends in an incomplete line.
  void remove_incomplete_tail(int fd) const {
    struct stat st {};
    if (::fstat(fd, &st) != 0) detail::throw_os(path_, "cannot stat the results journal", errno);
    off_t end = st.st_size;
    if (end == 0) return;
    char last = 0;
    if (::pread(fd, &last, 1, end - 1) != 1) detail::throw_os(path_, "cannot read the results journal", errno);
    if (last == '\n') return;
    // Search backwards, a block at a time, for the newline that ends the last whole line.
    off_t keep = 0;
    char buf[4096];
    for (off_t hi = end; hi > 0 && keep == 0;) {
      const off_t lo = hi > static_cast<off_t>(sizeof buf) ? hi - static_cast<off_t>(sizeof buf) : 0;
      const auto n = static_cast<std::size_t>(hi - lo);
      if (::pread(fd, buf, n, lo) != static_cast<ssize_t>(n))
        detail::throw_os(path_, "cannot read the results journal", errno);
      for (std::size_t k = n; k-- > 0;)
        if (buf[k] == '\n') {
          keep = lo + static_cast<off_t>(k) + 1;
          break;
        }
      hi = lo;
    }
    if (::ftruncate(fd, keep) != 0)
      detail::throw_os(path_, "cannot remove the incomplete final line of the results journal (ftruncate)", errno);
    warnings_.push_back("strata: results journal " + detail::quoted_path(path_) + ": removed an incomplete final line (" +
                        std::to_string(end - keep) + " bytes) left by an interrupted write");
  }

  std::filesystem::path path_;
  mutable std::mutex mutex_;
  mutable std::set<std::string> keys_;
  mutable std::vector<std::string> warnings_;
  mutable bool tail_checked_ = false;  // whether append has made sure the file ends in a newline
};

}  // namespace strata::experiment
