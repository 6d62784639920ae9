// libFuzzer target: the results-journal reader (experiment/journal.hpp) through
// parse_journal. Every record read must write back (to_json) and read again to the same
// key, as Journal::append and a later load do.
#include <cstdint>
#include <string_view>

#include <strata/experiment/journal.hpp>

#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  strata::experiment::JournalContents contents;
  try {
    contents = strata::experiment::parse_journal(text, "fuzz-input.jsonl");
  } catch (const strata::error&) {
    return 0;
  }
  for (const auto& record : contents.records) {
    // As Journal::append writes a record (invalid UTF-8 replaced) and load reads it back;
    // a record read once must read again, so these must not throw at all.
    nlohmann::ordered_json j = record;
    const std::string line = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
    const auto again = strata::experiment::parse_journal(line, "fuzz-roundtrip.jsonl");
    strata::fuzz::check(again.records.size() == 1 && again.records[0].key == record.key,
                        "journal: a record read once does not read back with the same key");
  }
  return 0;
}
