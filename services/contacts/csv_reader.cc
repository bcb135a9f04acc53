#include "services/contacts/csv_reader.h"

#include <csv.h>

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"

namespace crm::contacts {
namespace {

constexpr absl::string_view kBom = "\xEF\xBB\xBF";
constexpr absl::string_view kLineBreaks = "\r\n";

// The size of the field libcsv is buffering is checked at each line break and at every multiple
// of this offset in the file, so that a field growing without end (typically an unterminated
// quote swallowing the rest of the file) is abandoned before it uses much memory. Checkpoints
// depend on the data only, never on chunk boundaries, so any chunking yields the same rows.
constexpr size_t kCheckpointBytes = 16 * 1024;

bool IsLineBreak(char c) { return c == '\r' || c == '\n'; }

// Strict UTF-8: no overlong forms, surrogates or code points above U+10FFFF.
bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char lead = static_cast<unsigned char>(s[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t continuation;
    char32_t code_point;
    char32_t min_code_point;
    if ((lead & 0xE0) == 0xC0) {
      continuation = 1, code_point = lead & 0x1F, min_code_point = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      continuation = 2, code_point = lead & 0x0F, min_code_point = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      continuation = 3, code_point = lead & 0x07, min_code_point = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i <= continuation) return false;
    for (size_t k = 1; k <= continuation; ++k) {
      const unsigned char byte = static_cast<unsigned char>(s[i + k]);
      if ((byte & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (byte & 0x3F);
    }
    if (code_point < min_code_point || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += continuation + 1;
  }
  return true;
}

}  // namespace

CsvReader::CsvReader(CsvLimits limits) : limits_(limits), parser_(std::make_unique<csv_parser>()) {
  // Strict mode makes libcsv stop at a misplaced quote instead of guessing what was meant.
  // csv_init only fails for a null parser.
  csv_init(parser_.get(), CSV_STRICT);
  csv_set_blk_size(parser_.get(), 4096);
}

CsvReader::~CsvReader() { csv_free(parser_.get()); }

absl::Status CsvReader::Feed(absl::string_view chunk, std::vector<CsvRow>* rows) {
  if (finished_) return absl::FailedPreconditionError("CSV input fed after Finish");
  RETURN_IF_ERROR(status_);
  if (chunk.size() > limits_.max_total_bytes - total_bytes_) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat("the file is larger than ", limits_.max_total_bytes, " bytes"));
    return status_;
  }
  total_bytes_ += chunk.size();
  out_ = rows;
  absl::Status status = ParseStart(chunk);
  out_ = nullptr;
  return status;
}

absl::Status CsvReader::Finish(std::vector<CsvRow>* rows) {
  if (finished_) return absl::FailedPreconditionError("CSV input finished twice");
  finished_ = true;
  RETURN_IF_ERROR(status_);
  out_ = rows;
  // A file shorter than a BOM that starts like one.
  if (!bom_resolved_) {
    bom_resolved_ = true;
    absl::Status status = Parse(bom_prefix_);
    if (!status.ok()) {
      out_ = nullptr;
      return status;
    }
  }
  // With CSV_STRICT_FINI, csv_fini fails exactly when the last field's opening quote is never
  // closed; otherwise it flushes a last row that has no line break.
  csv_set_opts(parser_.get(), CSV_STRICT | CSV_STRICT_FINI);
  const bool unclosed_quote = csv_fini(parser_.get(), &OnField, &OnRowEnd, this) != 0;
  csv_set_opts(parser_.get(), CSV_STRICT);
  if (unclosed_quote) {
    AbandonRow(
        absl::StrCat("field ", field_count_ + 1, " has an opening quote that is never closed"));
  }
  out_ = nullptr;
  return absl::OkStatus();
}

absl::Status CsvReader::ParseStart(absl::string_view chunk) {
  if (!bom_resolved_) {
    const size_t take = std::min(chunk.size(), kBom.size() - bom_prefix_.size());
    bom_prefix_.append(chunk.data(), take);
    chunk.remove_prefix(take);
    if (!absl::StartsWith(kBom, bom_prefix_)) {
      bom_resolved_ = true;
      RETURN_IF_ERROR(Parse(bom_prefix_));
    } else if (bom_prefix_.size() == kBom.size()) {
      bom_resolved_ = true;
    }
  }
  return Parse(chunk);
}

// Resynchronisation after a malformed row. When libcsv rejects a quote (strict mode), or a field
// still open at a checkpoint (see kCheckpointBytes) holds more than twice max_field_bytes, the
// row's extent can no longer be trusted: the row is reported, the rest of the physical line on
// which the problem was detected is discarded, and parsing starts afresh on the next line.
// Quote-counting would guess the row's real end only for some mistakes and would swallow every
// later row for others (one stray quote, as in `O"Brien`, would open a field to the end of the
// file); a line is what a person edits, and a following good row starts on a line of its own. If
// the problem lies inside a multi-line quoted field, that field's remaining lines are read as rows,
// and usually reported as malformed too since they end with its closing quote. Problems found once
// a row has ended (invalid UTF-8, too many fields, a field between the limit and twice the limit)
// cost that row only.
absl::Status CsvReader::Parse(absl::string_view data) {
  const size_t field_guard_bytes = 2 * limits_.max_field_bytes + 64;
  while (!data.empty()) {
    const size_t line_break = data.find_first_of(kLineBreaks);
    size_t size = line_break == absl::string_view::npos ? data.size() : line_break + 1;
    if (skipping_line_) {
      CountLineBreaks(data.substr(0, size));
      data.remove_prefix(size);
      offset_ += size;
      skipping_line_ = line_break == absl::string_view::npos;
      continue;
    }
    // A row ends only at a line break, and each piece ends at the first one, so a row starts in
    // a piece, on its line, iff the piece has the row's first byte that is not blank.
    size = std::min(size, kCheckpointBytes - offset_ % kCheckpointBytes);
    const absl::string_view piece = data.substr(0, size);
    if (awaiting_row_ && piece.find_first_not_of(" \t\r\n") != absl::string_view::npos) {
      awaiting_row_ = false;
      row_number_ = line_;
    }
    const size_t parsed =
        csv_parse(parser_.get(), piece.data(), piece.size(), &OnField, &OnRowEnd, this);
    if (parsed < piece.size()) {
      if (csv_error(parser_.get()) != CSV_EPARSE) {
        status_ = absl::ResourceExhaustedError(
            absl::StrCat("CSV parser: ", csv_strerror(csv_error(parser_.get()))));
        return status_;
      }
      AbandonRow(absl::StrCat("field ", field_count_ + 1,
                              " has a misplaced quote (a quoted field must end at a comma or line "
                              "break, and a quote inside it is written twice)"));
      skipping_line_ = true;
      data.remove_prefix(parsed);
      offset_ += parsed;
      continue;
    }
    CountLineBreaks(piece);
    data.remove_prefix(size);
    offset_ += size;
    const bool checkpoint = IsLineBreak(piece.back()) || offset_ % kCheckpointBytes == 0;
    if (checkpoint && parser_->entry_pos > field_guard_bytes) {
      AbandonRow(absl::StrCat("field ", field_count_ + 1, " is longer than ",
                              limits_.max_field_bytes, " bytes"));
      skipping_line_ = !IsLineBreak(piece.back());
    }
  }
  return absl::OkStatus();
}

void CsvReader::CountLineBreaks(absl::string_view data) {
  for (char c : data) {
    if (c == '\r') {
      ++line_;
    } else if (c == '\n' && !after_cr_) {
      ++line_;
    }
    after_cr_ = c == '\r';
  }
}

void CsvReader::OnField(void* data, size_t size, void* self) {
  static_cast<CsvReader*>(self)->AddField(absl::string_view(static_cast<char*>(data), size));
}

void CsvReader::OnRowEnd(int /*terminator*/, void* self) {
  static_cast<CsvReader*>(self)->EndRow();
}

void CsvReader::AddField(absl::string_view field) {
  ++field_count_;
  if (!field.empty()) row_has_data_ = true;
  if (!row_error_.empty()) return;
  if (field_count_ > limits_.max_fields) {
    SetRowError(absl::StrCat("more than ", limits_.max_fields, " fields"));
  } else if (field.size() > limits_.max_field_bytes) {
    SetRowError(absl::StrCat("field ", field_count_, " is longer than ", limits_.max_field_bytes,
                             " bytes"));
  } else if (!IsValidUtf8(field)) {
    SetRowError(absl::StrCat("field ", field_count_, " is not valid UTF-8"));
  } else {
    fields_.emplace_back(field);
  }
}

void CsvReader::EndRow() {
  if (row_has_data_) {
    CsvRow row;
    row.number = row_number_;
    if (row_error_.empty()) {
      row.fields = std::move(fields_);
    } else {
      row.error = std::move(row_error_);
    }
    out_->push_back(std::move(row));
  }
  fields_.clear();
  row_error_.clear();
  field_count_ = 0;
  row_has_data_ = false;
  awaiting_row_ = true;
}

void CsvReader::SetRowError(absl::string_view problem) {
  row_error_ = absl::StrCat("row ", row_number_, ": ", problem);
  fields_.clear();
}

void CsvReader::AbandonRow(absl::string_view problem) {
  // The first problem found in a row is the one reported.
  if (row_error_.empty()) SetRowError(problem);
  // Resets libcsv's state; without callbacks the partial field and row go nowhere.
  csv_fini(parser_.get(), nullptr, nullptr, nullptr);
  // Reported even when the cells read so far are empty.
  row_has_data_ = true;
  EndRow();
}

}  // namespace crm::contacts
