#include "services/contacts/import_mapping.h"

#include <cstddef>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/api/errors.h"
#include "common/base/status_macros.h"
#include "crm/contacts/v1/contacts_enums.pb.h"

namespace crm::contacts {
namespace {

using crm::contacts::v1::Contact;
using crm::contacts::v1::LeadSource;
using crm::contacts::v1::LifecycleStage;

constexpr absl::string_view kAttributePrefix = "attributes.";
constexpr absl::string_view kCustomFieldPrefix = "custom_fields.";

struct FieldInfo {
  absl::string_view name;
  // Whether several columns may feed the field (it is a list).
  bool multi_column;
};

constexpr FieldInfo kFields[] = {
    {"given_name", false},      {"family_name", false},
    {"full_name", false},       {"email", true},
    {"emails", true},           {"phone", true},
    {"phones", true},           {"job_title", false},
    {"company", false},         {"owner", false},
    {"lifecycle_stage", false}, {"lead_source", false},
    {"campaign", false},        {"tags", true},
};

struct Synonym {
  absl::string_view header;  // In the form of CanonicalHeader.
  absl::string_view field;
};

constexpr Synonym kSynonyms[] = {
    {"first name", "given_name"}, {"given name", "given_name"}, {"last name", "family_name"},
    {"surname", "family_name"},   {"name", "full_name"},        {"e-mail", "email"},
    {"email address", "email"},   {"mobile", "phone"},          {"telephone", "phone"},
    {"phone number", "phone"},    {"title", "job_title"},       {"organization", "company"},
    {"organisation", "company"},  {"company name", "company"},  {"source", "lead_source"},
};

// Lower-case ASCII with runs of whitespace and '_' turned into one space, trimmed, so that
// "First_Name", "first name" and " FIRST  NAME " compare equal.
std::string CanonicalHeader(absl::string_view header) {
  std::string out;
  bool gap = false;
  for (char c : header) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) || c == '_') {
      gap = true;
      continue;
    }
    if (gap && !out.empty()) out.push_back(' ');
    gap = false;
    out.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string MappingPath(absl::string_view header) {
  return absl::StrCat("column_mapping[", header, "]");
}

// "attributes.<key>" for a valid key. Mirrors NormalizeAttributes' key rule, so that a bad key
// fails the whole import once instead of every row.
absl::StatusOr<std::string> AttributeField(absl::string_view key, absl::string_view path) {
  key = absl::StripAsciiWhitespace(key);
  if (key.empty() || key.size() > 64 ||
      key.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
          absl::string_view::npos) {
    return api::InvalidField(
        path, "attribute keys are 1-64 characters of letters, digits, '_', '-', '.'");
  }
  return absl::StrCat(kAttributePrefix, key);
}

// "custom_fields.<key>" for a key of custom field shape; whether the tenant has such a field is
// the importer's check, once per file.
absl::StatusOr<std::string> CustomField(absl::string_view key, absl::string_view path) {
  key = absl::StripAsciiWhitespace(key);
  if (key.empty() || key.size() > 64 ||
      key.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != absl::string_view::npos) {
    return api::InvalidField(path, "custom field keys are 1-64 characters of a-z, 0-9 and '_'");
  }
  return absl::StrCat(kCustomFieldPrefix, key);
}

// The field an explicit mapping names: a field name (in any case), "attributes.<key>",
// "custom_fields.<key>", or "" to ignore the column.
absl::StatusOr<std::string> ExplicitField(absl::string_view value, absl::string_view path) {
  value = absl::StripAsciiWhitespace(value);
  if (value.empty()) return std::string();
  if (absl::StartsWithIgnoreCase(value, kAttributePrefix)) {
    return AttributeField(value.substr(kAttributePrefix.size()), path);
  }
  if (absl::StartsWithIgnoreCase(value, kCustomFieldPrefix)) {
    return CustomField(value.substr(kCustomFieldPrefix.size()), path);
  }
  const std::string canonical = CanonicalHeader(value);
  for (const FieldInfo& field : kFields) {
    if (CanonicalHeader(field.name) == canonical) return std::string(field.name);
  }
  return api::InvalidField(path, absl::StrCat("unknown contact field '", value, "'"));
}

// The field a header maps to without explicit mapping; "" if none.
absl::StatusOr<std::string> DefaultField(absl::string_view header) {
  header = absl::StripAsciiWhitespace(header);
  if (absl::StartsWithIgnoreCase(header, kAttributePrefix)) {
    return AttributeField(header.substr(kAttributePrefix.size()), MappingPath(header));
  }
  if (absl::StartsWithIgnoreCase(header, kCustomFieldPrefix)) {
    return CustomField(header.substr(kCustomFieldPrefix.size()), MappingPath(header));
  }
  const std::string canonical = CanonicalHeader(header);
  for (const FieldInfo& field : kFields) {
    if (CanonicalHeader(field.name) == canonical) return std::string(field.name);
  }
  for (const Synonym& synonym : kSynonyms) {
    if (synonym.header == canonical) return std::string(synonym.field);
  }
  return std::string();
}

bool IsMultiColumn(absl::string_view field) {
  for (const FieldInfo& info : kFields) {
    if (info.name == field) return info.multi_column;
  }
  return false;  // attributes.<key>, custom_fields.<key>
}

// The column's name in errors: its header, or its 1-based position when it has none.
std::string ColumnName(const std::vector<std::string>& header, size_t column) {
  absl::string_view name =
      column < header.size() ? absl::StripAsciiWhitespace(header[column]) : absl::string_view();
  return name.empty() ? absl::StrCat("column ", column + 1) : std::string(name);
}

// A cell quoted in an error, cut short (at a UTF-8 character boundary) if long.
std::string Excerpt(absl::string_view value) {
  constexpr size_t kMaxBytes = 64;
  if (value.size() <= kMaxBytes) return std::string(value);
  size_t end = kMaxBytes;
  while (end > 0 && (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80) --end;
  return absl::StrCat(value.substr(0, end), "...");
}

// "Paid Ads", "paid-ads", "lead_source_paid_ads" -> "LEAD_SOURCE_PAID_ADS".
std::string EnumValueName(absl::string_view value, absl::string_view prefix) {
  std::string name;
  bool gap = false;
  for (char c : value) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) || c == '_' || c == '-') {
      gap = true;
      continue;
    }
    if (gap && !name.empty()) name.push_back('_');
    gap = false;
    name.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  if (!absl::StartsWith(name, prefix)) name = absl::StrCat(prefix, name);
  return name;
}

void AppendList(absl::string_view value, google::protobuf::RepeatedPtrField<std::string>* out) {
  for (absl::string_view item : absl::StrSplit(value, absl::ByAnyChar(";,"))) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) out->Add(std::string(item));
  }
}

// Sets `field` from a non-empty, trimmed cell. full_name is only collected: whether it is used
// depends on the row's other cells.
absl::Status SetField(absl::string_view field, absl::string_view value, absl::string_view column,
                      ImportedRow& row, std::string& full_name) {
  Contact& contact = row.contact;
  if (field == "given_name") {
    contact.set_given_name(std::string(value));
  } else if (field == "family_name") {
    contact.set_family_name(std::string(value));
  } else if (field == "full_name") {
    full_name = std::string(value);
  } else if (field == "email" || field == "phone") {
    // One value per cell: a phone may carry ";ext=".
    auto* list = field == "email" ? contact.mutable_emails() : contact.mutable_phones();
    list->Add(std::string(value));
  } else if (field == "emails") {
    AppendList(value, contact.mutable_emails());
  } else if (field == "phones") {
    AppendList(value, contact.mutable_phones());
  } else if (field == "tags") {
    AppendList(value, contact.mutable_tags());
  } else if (field == "job_title") {
    contact.set_job_title(std::string(value));
  } else if (field == "company") {
    row.company_name = std::string(value);
  } else if (field == "owner") {
    contact.set_owner(std::string(value));
  } else if (field == "campaign") {
    contact.set_campaign(std::string(value));
  } else if (field == "lifecycle_stage") {
    LifecycleStage stage;
    if (!v1::LifecycleStage_Parse(EnumValueName(value, "LIFECYCLE_STAGE_"), &stage) ||
        stage == v1::LIFECYCLE_STAGE_UNSPECIFIED) {
      return api::InvalidField(column,
                               absl::StrCat("unknown lifecycle stage '", Excerpt(value), "'"));
    }
    contact.set_lifecycle_stage(stage);
  } else if (field == "lead_source") {
    LeadSource source;
    if (!v1::LeadSource_Parse(EnumValueName(value, "LEAD_SOURCE_"), &source) ||
        source == v1::LEAD_SOURCE_UNSPECIFIED) {
      return api::InvalidField(column, absl::StrCat("unknown lead source '", Excerpt(value), "'"));
    }
    contact.set_lead_source(source);
  } else if (absl::StartsWith(field, kAttributePrefix)) {
    (*contact.mutable_attributes())[std::string(field.substr(kAttributePrefix.size()))] =
        std::string(value);
  } else if (absl::StartsWith(field, kCustomFieldPrefix)) {
    row.custom_field_text[std::string(field.substr(kCustomFieldPrefix.size()))] =
        std::string(value);
  } else {
    // MapHeader only produces the fields above.
    return absl::InternalError(absl::StrCat("unexpected import field '", field, "'"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ImportMapping> MapHeader(
    const std::vector<std::string>& header,
    const std::map<std::string, std::string>& explicit_mapping) {
  ImportMapping mapping;
  mapping.column_fields.resize(header.size());
  std::vector<std::string> canonical(header.size());
  for (size_t i = 0; i < header.size(); ++i) canonical[i] = CanonicalHeader(header[i]);

  std::vector<bool> mapped_explicitly(header.size(), false);
  for (const auto& [key, value] : explicit_mapping) {
    const std::string path = MappingPath(key);
    ASSIGN_OR_RETURN(std::string field, ExplicitField(value, path));
    const std::string wanted = CanonicalHeader(key);
    bool found = false;
    for (size_t i = 0; i < header.size(); ++i) {
      if (canonical[i] != wanted) continue;
      // Keys differing only in case or spacing name the same column.
      if (mapped_explicitly[i] && mapping.column_fields[i] != field) {
        return api::InvalidField(path, "another entry maps the same column to another field");
      }
      mapping.column_fields[i] = field;
      mapped_explicitly[i] = true;
      found = true;
    }
    if (!found) return api::InvalidField(path, "no column has this header");
  }
  for (size_t i = 0; i < header.size(); ++i) {
    if (!mapped_explicitly[i]) {
      ASSIGN_OR_RETURN(mapping.column_fields[i], DefaultField(header[i]));
    }
  }

  std::map<std::string, size_t> column_of_field;
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string& field = mapping.column_fields[i];
    if (field.empty()) {
      absl::string_view name = absl::StripAsciiWhitespace(header[i]);
      if (!name.empty()) mapping.ignored_headers.emplace_back(name);
      continue;
    }
    if (IsMultiColumn(field)) continue;
    const auto [it, inserted] = column_of_field.emplace(field, i);
    if (!inserted) {
      return api::InvalidField(MappingPath(absl::StripAsciiWhitespace(header[i])),
                               absl::StrCat("columns '", ColumnName(header, it->second), "' and '",
                                            ColumnName(header, i), "' both map to ", field,
                                            "; map one of them to \"\" to ignore it"));
    }
  }
  return mapping;
}

absl::StatusOr<ImportedRow> MapRow(const ImportMapping& mapping,
                                   const std::vector<std::string>& header,
                                   const std::vector<std::string>& fields) {
  ImportedRow row;
  std::string full_name;
  const size_t columns = mapping.column_fields.size();
  for (size_t i = 0; i < fields.size(); ++i) {
    const absl::string_view value = absl::StripAsciiWhitespace(fields[i]);
    if (i >= columns) {
      // Spreadsheets often export trailing empty cells; data without a header is a mistake.
      if (!value.empty()) {
        return api::InvalidField(absl::StrCat("column ", i + 1),
                                 absl::StrCat("a value in column ", i + 1,
                                              " but the header has only ", columns, " columns"));
      }
      continue;
    }
    const std::string& field = mapping.column_fields[i];
    if (field.empty() || value.empty()) continue;
    RETURN_IF_ERROR(SetField(field, value, ColumnName(header, i), row, full_name));
  }
  Contact& contact = row.contact;
  if (!full_name.empty() && contact.given_name().empty() && contact.family_name().empty()) {
    const size_t space = full_name.find_last_of(' ');
    if (space == std::string::npos) {
      contact.set_given_name(full_name);
    } else {
      contact.set_given_name(std::string(
          absl::StripTrailingAsciiWhitespace(absl::string_view(full_name).substr(0, space))));
      contact.set_family_name(full_name.substr(space + 1));
    }
  }
  return row;
}

}  // namespace crm::contacts
