// The rules of custom fields, shared by every service whose objects carry them: what a definition
// may say, how an update may change it, and what a record's values must be. Pure functions (the
// service supplies the normalisers it owns, such as phone parsing); no database.
#pragma once

#include <google/protobuf/field_mask.pb.h>
#include <google/protobuf/map.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crm/common/v1/custom_fields.pb.h"

namespace crm::fields {

using Definition = common::v1::CustomFieldDefinition;
using Value = common::v1::CustomFieldValue;
using Values = google::protobuf::Map<std::string, Value>;

inline constexpr int kMaxDefinitionsPerObject = 200;
inline constexpr int kMaxOptions = 500;
inline constexpr size_t kMaxKeyChars = 64;
inline constexpr size_t kMaxTextChars = 1000;
inline constexpr size_t kMaxLongTextChars = 10000;

// A definition's key: snake_case words starting with letters ("arr_q1"), up to 64 characters;
// safe to splice into SQL between quotes.
bool IsFieldKey(absl::string_view key);

// "contact" <-> OBJECT_TYPE_CONTACT, the segment of resource names ("objectTypes/contact").
absl::string_view ObjectSegment(common::v1::ObjectType type);
common::v1::ObjectType ObjectFromSegment(absl::string_view segment);
// The resource name prefix of a record of `type` ("companies/").
absl::string_view RecordPrefix(common::v1::ObjectType type);

// "objectTypes/contact" -> OBJECT_TYPE_CONTACT; INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<common::v1::ObjectType> ParseParent(absl::string_view parent,
                                                   absl::string_view field);
struct DefinitionName {
  common::v1::ObjectType object;
  std::string key;
};
// "objectTypes/contact/customFields/tier".
absl::StatusOr<DefinitionName> ParseDefinitionName(absl::string_view name, absl::string_view field);
std::string DefinitionNameOf(common::v1::ObjectType object, absl::string_view key);

// What a service lends the rules: its text, email and phone normalisers.
struct Normalizers {
  // Trims and checks text of at most `max_chars` characters (errors describe the fault).
  std::function<absl::StatusOr<std::string>(absl::string_view, size_t max_chars)> text;
  std::function<absl::StatusOr<std::string>(absl::string_view)> email;
  std::function<absl::StatusOr<std::string>(absl::string_view)> phone;
};

// Checks a definition to create for `object` and fills what the rules derive (option ids from
// labels). Errors name the field under `field` ("custom_field.options[2].label").
absl::Status NormalizeNewDefinition(Definition& definition, common::v1::ObjectType object,
                                    const Normalizers& normalizers, absl::string_view field);

// Applies an update of label, description, options, required, default_value and archived to
// `target`; immutable fields and removed options are INVALID_ARGUMENT. Then checks the result.
absl::Status ApplyDefinitionUpdate(const Definition& patch, const google::protobuf::FieldMask& mask,
                                   const Normalizers& normalizers, Definition& target);

// Checks and normalises a record's `values` against the definitions of its object (archived
// ones included): unknown or archived keys, values of the wrong type, out of range or naming an
// option that is not offered are INVALID_ARGUMENT naming "<field>.<key>". `creating` fills
// defaults in. Required fields must hold a value afterwards. `previous` (the stored values, on an
// update) lets a record keep an archived option it already holds.
absl::Status NormalizeValues(Values& values, const std::vector<Definition>& definitions,
                             bool creating, const Values* previous, const Normalizers& normalizers,
                             absl::string_view field);

// A cell of an imported file as a value of `definition`, before NormalizeValues checks it:
// booleans from true/false/yes/no/1/0, selects by option id or label (multi: split on ';' or
// ','), percent with or without '%', date-times in RFC 3339. UNIMPLEMENTED for money and
// relation fields (CanImport says so once per file).
absl::StatusOr<Value> ValueFromText(const Definition& definition, absl::string_view text);
// Values from "key=value" assignments (a command line's --field flags), each typed by its
// definition as an import cell is. INVALID_ARGUMENT naming "<field>.<key>" for an unknown or
// archived key, a missing '=' or a value of the wrong type.
absl::StatusOr<Values> ValuesFromAssignments(const std::vector<Definition>& definitions,
                                             const std::vector<std::string>& assignments,
                                             absl::string_view field);

// A value as an export cell, in the form ValueFromText reads back: option ids (multi joined by
// ';'), booleans as true/false, date-times in RFC 3339, others as stored; money (not imported
// yet) as "<amount_minor> <currency>".
std::string ValueToText(const Value& value);
absl::Status CanImport(const Definition& definition);

// The form unique fields compare: the value as text, emails case-folded by `fold`.
std::string UniqueForm(const Definition& definition, const Value& value,
                       const std::function<std::string(absl::string_view)>& fold);

// Values of archived or unknown definitions are not shown on records.
void HideArchived(Values& values, const std::vector<Definition>& definitions);

}  // namespace crm::fields
