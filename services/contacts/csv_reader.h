// Incremental CSV reader for contact imports: turns a spreadsheet streamed in chunks of arbitrary
// size (a row, a quoted field or a UTF-8 character may be split between chunks) into rows, each
// with the line number it starts on and its own error when malformed. Wraps libcsv in strict mode.
//
// Format: RFC 4180 quoting, UTF-8 with or without a BOM, "\n", "\r\n" or "\r" line endings.
// Rows whose cells are all empty (blank lines, and the ",,," lines spreadsheets export for blank
// formatted rows) yield nothing. As in libcsv, spaces and tabs around unquoted fields are dropped;
// quoted fields are kept as written.
//
// The rows never depend on where the chunks split the file. A field is buffered up to about
// twice max_field_bytes (plus 16 KiB) before it is abandoned, so memory stays bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

struct csv_parser;  // From libcsv's <csv.h>, kept out of this header.

namespace crm::contacts {

struct CsvLimits {
  size_t max_field_bytes = 64 * 1024;
  size_t max_fields = 200;
  size_t max_total_bytes = 256 << 20;
};

struct CsvRow {
  // 1-based line number of the row's first line in the file; the header is row 1.
  int64_t number = 0;
  // The cells of the row; empty when `error` is set.
  std::vector<std::string> fields;
  // Non-empty if the row is malformed: "row 7: field 3 is not valid UTF-8".
  std::string error;
};

// Not thread-safe; one reader per imported file.
class CsvReader {
 public:
  explicit CsvReader(CsvLimits limits = {});
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Feeds the next chunk; complete rows are appended to *rows. Returns INVALID_ARGUMENT only for
  // errors that make the rest unreadable (total size over the limit; RESOURCE_EXHAUSTED if libcsv
  // runs out of memory), and then keeps returning it; per-row problems go into CsvRow::error.
  // A malformed row costs the rest of the line it is detected on; see Parse in the .cc file.
  absl::Status Feed(absl::string_view chunk, std::vector<CsvRow>* rows);

  // End of input: flushes a last row without trailing newline; reports an unterminated quoted
  // field as a row error. The reader accepts no more input afterwards.
  absl::Status Finish(std::vector<CsvRow>* rows);

 private:
  static void OnField(void* data, size_t size, void* self);
  static void OnRowEnd(int terminator, void* self);

  // Strips a BOM at the very start of the file, holding back the first bytes until it is known.
  absl::Status ParseStart(absl::string_view chunk);
  // Runs libcsv over `data`, a line at a time so that row starts get their line numbers.
  absl::Status Parse(absl::string_view data);
  void CountLineBreaks(absl::string_view data);
  void AddField(absl::string_view field);
  void EndRow();
  void SetRowError(absl::string_view problem);
  // Reports the current row as malformed and resets libcsv; the caller resynchronises.
  void AbandonRow(absl::string_view problem);

  const CsvLimits limits_;
  const std::unique_ptr<csv_parser> parser_;
  absl::Status status_;
  bool finished_ = false;
  size_t total_bytes_ = 0;
  // Output of the Feed or Finish call in progress.
  std::vector<CsvRow>* out_ = nullptr;

  // Byte-order mark detection.
  bool bom_resolved_ = false;
  std::string bom_prefix_;

  // Offset in the file (after any BOM) of the next byte.
  uint64_t offset_ = 0;
  // Line of the next byte, and whether the previous byte was a CR (so "\r\n" counts once).
  int64_t line_ = 1;
  bool after_cr_ = false;
  // Discarding input up to the end of the line, after a malformed row.
  bool skipping_line_ = false;

  // The row being read.
  bool awaiting_row_ = true;
  int64_t row_number_ = 0;
  size_t field_count_ = 0;
  bool row_has_data_ = false;
  std::vector<std::string> fields_;
  std::string row_error_;
};

}  // namespace crm::contacts
