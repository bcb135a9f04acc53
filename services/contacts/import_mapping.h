// Mapping of an imported spreadsheet's columns to contact fields, and of each row to a Contact.
//
// Pure functions. Values are only split and trimmed here: emails, phones and names are validated
// and normalised afterwards by NormalizeContact, with the tenant's phone region.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "crm/contacts/v1/contact.pb.h"

namespace crm::contacts {

// How CSV columns map to contact fields: column header (case-insensitive, trimmed) -> field.
//
// Fields: given_name, family_name, full_name (split on the last space into given/family; used
// only when the row has neither given_name nor family_name), email, emails (split on ';' or ','),
// phone, phones (split on ';' or ','), job_title, company (a company display name, returned as
// ImportedRow::company_name), owner, lifecycle_stage, lead_source, campaign, tags (split on ';'
// or ','), attributes.<key> (custom attribute; key as written, 1-64 of [A-Za-z0-9_.-]),
// custom_fields.<key> (a custom field; its text is typed by the definition later, see
// fields::ValueFromText).
//
// Default mapping: headers equal to a field name, plus synonyms: "first name", "given name" ->
// given_name; "last name", "surname" -> family_name; "name" -> full_name; "e-mail", "email
// address" -> email; "mobile", "telephone", "phone number" -> phone; "title" -> job_title;
// "organization", "organisation", "company name" -> company; "source" -> lead_source. In headers,
// ASCII case is ignored and runs of spaces and '_' are equivalent ("First_Name" = "first name").
// Other headers are ignored and listed in ignored_headers.
//
// Several columns may feed email, emails, phone, phones and tags (values are appended in column
// order); every other field, and each attribute key, takes at most one column.
struct ImportMapping {
  // Per column: field name, or "" when the column is ignored.
  std::vector<std::string> column_fields;
  // Headers (trimmed) of the ignored columns that have one, in column order.
  std::vector<std::string> ignored_headers;
};

// `explicit_mapping` (header -> field) overrides the default mapping; its headers match columns
// like the defaults do, and the field "" ignores a column. INVALID_ARGUMENT naming
// "column_mapping[<header>]" for an unknown field, a header no column has, or a second column
// for a single-valued field (map one of them to "" to resolve it).
absl::StatusOr<ImportMapping> MapHeader(const std::vector<std::string>& header,
                                        const std::map<std::string, std::string>& explicit_mapping);

struct ImportedRow {
  crm::contacts::v1::Contact contact;
  // Display name of the contact's company; resolving it to a company is the caller's job.
  std::string company_name;
  // Custom field key -> the cell's text, typed by the caller against the definitions.
  std::map<std::string, std::string> custom_field_text;
};

// Builds the contact from a data row (cells already trimmed of ASCII whitespace here). Empty
// cells are skipped. Enum columns accept value names case-insensitively, with spaces, '-' or '_'
// between words and with or without the enum prefix ("Paid Ads", "paid_ads",
// "LEAD_SOURCE_PAID_ADS"). Errors are INVALID_ARGUMENT naming the column header, e.g. field
// "lead_source", description "unknown lead source 'tv'". Cells beyond the header are ignored if
// empty, else an error naming "column <n>".
absl::StatusOr<ImportedRow> MapRow(const ImportMapping& mapping,
                                   const std::vector<std::string>& header,
                                   const std::vector<std::string>& fields);

}  // namespace crm::contacts
