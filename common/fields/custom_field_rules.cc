#include "common/fields/custom_field_rules.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "common/api/errors.h"
#include "common/api/field_mask.h"
#include "common/base/status_macros.h"
#include "common/ids/uuid.h"

namespace crm::fields {
namespace {

using common::v1::CustomFieldType;
using common::v1::ObjectType;

constexpr absl::string_view kObjectTypesPrefix = "objectTypes/";
constexpr absl::string_view kCustomFieldsSegment = "/customFields/";
constexpr size_t kMaxLabelChars = 200;
constexpr size_t kMaxDescriptionChars = 1000;
constexpr size_t kMaxUrlChars = 2048;
constexpr size_t kMaxUserChars = 128;
constexpr int kMaxScale = 9;
constexpr int kMaxIntegerDigits = 18;

std::string Path(absl::string_view field, absl::string_view member) {
  return absl::StrCat(field, ".", member);
}

bool IsSnakeCase(absl::string_view key) {
  if (key.empty() || key.size() > kMaxKeyChars || !absl::ascii_islower(key[0])) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_';
  });
}

// "Gold tier" -> "gold_tier"; empty for labels without ASCII letters or digits.
std::string IdFromLabel(absl::string_view label) {
  std::string id;
  for (char c : label) {
    if (absl::ascii_isalnum(c)) {
      id.push_back(absl::ascii_tolower(c));
    } else if (!id.empty() && id.back() != '_') {
      id.push_back('_');
    }
  }
  while (!id.empty() && id.back() == '_') id.pop_back();
  if (!id.empty() && !absl::ascii_islower(id[0])) id.insert(0, "o_");
  if (id.size() > kMaxKeyChars) id.resize(kMaxKeyChars);
  return id;
}

bool IsSelect(CustomFieldType type) {
  return type == common::v1::CUSTOM_FIELD_TYPE_SINGLE_SELECT ||
         type == common::v1::CUSTOM_FIELD_TYPE_MULTI_SELECT;
}

bool IsDecimal(CustomFieldType type) {
  return type == common::v1::CUSTOM_FIELD_TYPE_NUMBER ||
         type == common::v1::CUSTOM_FIELD_TYPE_PERCENT;
}

bool CanBeUnique(CustomFieldType type) {
  switch (type) {
    case common::v1::CUSTOM_FIELD_TYPE_TEXT:
    case common::v1::CUSTOM_FIELD_TYPE_NUMBER:
    case common::v1::CUSTOM_FIELD_TYPE_EMAIL:
    case common::v1::CUSTOM_FIELD_TYPE_PHONE:
    case common::v1::CUSTOM_FIELD_TYPE_URL:
      return true;
    default:
      return false;
  }
}

// The member of CustomFieldValue that a field of `type` holds.
Value::KindCase KindOf(CustomFieldType type) {
  switch (type) {
    case common::v1::CUSTOM_FIELD_TYPE_TEXT:
    case common::v1::CUSTOM_FIELD_TYPE_LONG_TEXT:
      return Value::kText;
    case common::v1::CUSTOM_FIELD_TYPE_NUMBER:
      return Value::kNumber;
    case common::v1::CUSTOM_FIELD_TYPE_MONEY:
      return Value::kMoney;
    case common::v1::CUSTOM_FIELD_TYPE_PERCENT:
      return Value::kPercent;
    case common::v1::CUSTOM_FIELD_TYPE_DATE:
      return Value::kDate;
    case common::v1::CUSTOM_FIELD_TYPE_DATE_TIME:
      return Value::kDateTime;
    case common::v1::CUSTOM_FIELD_TYPE_BOOLEAN:
      return Value::kBoolean;
    case common::v1::CUSTOM_FIELD_TYPE_SINGLE_SELECT:
      return Value::kOption;
    case common::v1::CUSTOM_FIELD_TYPE_MULTI_SELECT:
      return Value::kOptions;
    case common::v1::CUSTOM_FIELD_TYPE_URL:
      return Value::kUrl;
    case common::v1::CUSTOM_FIELD_TYPE_EMAIL:
      return Value::kEmail;
    case common::v1::CUSTOM_FIELD_TYPE_PHONE:
      return Value::kPhone;
    case common::v1::CUSTOM_FIELD_TYPE_USER:
      return Value::kUser;
    case common::v1::CUSTOM_FIELD_TYPE_RELATION:
      return Value::kRecord;
    default:
      return Value::KIND_NOT_SET;
  }
}

std::string KindName(Value::KindCase kind) {
  const auto* field = Value::descriptor()->FindFieldByNumber(kind);
  return field == nullptr ? "nothing" : field->name();
}

// Canonical decimal: no '+', no leading zeros, "-0" is "0"; the fraction as written.
absl::StatusOr<std::string> NormalizeDecimal(absl::string_view text, int scale) {
  absl::string_view rest = text;
  const bool negative = absl::ConsumePrefix(&rest, "-");
  const auto point = rest.find('.');
  absl::string_view integer = rest.substr(0, point);
  absl::string_view fraction = point == absl::string_view::npos ? "" : rest.substr(point + 1);
  const auto digits = [](absl::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return absl::ascii_isdigit(c); });
  };
  if (integer.empty() || !digits(integer) || !digits(fraction) ||
      (point != absl::string_view::npos && fraction.empty())) {
    return absl::InvalidArgumentError("must be a decimal number such as \"-12.5\"");
  }
  if (static_cast<int>(fraction.size()) > scale) {
    return absl::InvalidArgumentError(
        absl::StrCat("has more than ", scale, " digits after the decimal point"));
  }
  while (integer.size() > 1 && integer[0] == '0') integer.remove_prefix(1);
  if (static_cast<int>(integer.size()) > kMaxIntegerDigits) {
    return absl::InvalidArgumentError(
        absl::StrCat("has more than ", kMaxIntegerDigits, " digits before the decimal point"));
  }
  const bool zero = integer == "0" &&
                    std::all_of(fraction.begin(), fraction.end(), [](char c) { return c == '0'; });
  return absl::StrCat(negative && !zero ? "-" : "", integer, fraction.empty() ? "" : ".", fraction);
}

absl::Status CheckDate(absl::string_view text) {
  absl::CivilDay day;
  if (text.size() != 10 || !absl::ParseCivilTime(text, &day) || day.year() < 1 ||
      day.year() > 9999 || absl::FormatCivilTime(day) != text) {
    return absl::InvalidArgumentError("must be a calendar date \"YYYY-MM-DD\"");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> NormalizeUrl(absl::string_view text) {
  const std::string url(absl::StripAsciiWhitespace(text));
  if (url.size() > kMaxUrlChars) {
    return absl::InvalidArgumentError(absl::StrCat("must be at most ", kMaxUrlChars, " bytes"));
  }
  const auto scheme_end = url.find("://");
  const std::string scheme =
      scheme_end == std::string::npos ? "" : absl::AsciiStrToLower(url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") {
    return absl::InvalidArgumentError("must be an absolute http:// or https:// URL");
  }
  const std::string after = url.substr(scheme_end + 3);
  const auto host_end = after.find_first_of("/?#");
  if (after.substr(0, host_end).empty()) return absl::InvalidArgumentError("must name a host");
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError("must not contain spaces or control characters");
    }
  }
  return absl::StrCat(scheme, url.substr(scheme_end));
}

const common::v1::SelectOption* FindOption(const Definition& definition, absl::string_view id) {
  for (const auto& option : definition.options()) {
    if (option.id() == id) return &option;
  }
  return nullptr;
}

// An option the value may name: offered, or archived and already held by the record.
absl::Status CheckOption(const Definition& definition, absl::string_view id, bool held_before) {
  const auto* option = FindOption(definition, id);
  if (option == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", api::EscapedEcho(id, 64), "' is not an option of this field"));
  }
  if (option->archived() && !held_before) {
    return absl::InvalidArgumentError(
        absl::StrCat("option '", id, "' is archived and no longer accepted"));
  }
  return absl::OkStatus();
}

bool HeldBefore(const Value* previous, absl::string_view id) {
  if (previous == nullptr) return false;
  if (previous->kind_case() == Value::kOption) return previous->option() == id;
  if (previous->kind_case() != Value::kOptions) return false;
  const auto& ids = previous->options().ids();
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

size_t CountChars(absl::string_view utf8) {
  return std::count_if(utf8.begin(), utf8.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

absl::StatusOr<std::string> NormalizeLongText(absl::string_view text,
                                              const Normalizers& normalizers) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::ConsumeSuffix(&line, "\r");
    ASSIGN_OR_RETURN(std::string clean, normalizers.text(line, kMaxLongTextChars));
    lines.push_back(std::move(clean));
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  while (!lines.empty() && lines.front().empty()) lines.erase(lines.begin());
  std::string joined = absl::StrJoin(lines, "\n");
  if (CountChars(joined) > kMaxLongTextChars) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be at most ", kMaxLongTextChars, " characters"));
  }
  return joined;
}

// Checks one value against its definition, normalising it in place. Errors are plain
// descriptions; the caller names the field.
absl::Status NormalizeValue(const Definition& d, Value& value, const Value* previous,
                            const Normalizers& normalizers) {
  const Value::KindCase expected = KindOf(d.type());
  if (value.kind_case() != expected) {
    return absl::InvalidArgumentError(
        absl::StrCat("a ", CustomFieldType_Name(d.type()), " field takes \"", KindName(expected),
                     "\", not \"", KindName(value.kind_case()), "\""));
  }
  switch (d.type()) {
    case common::v1::CUSTOM_FIELD_TYPE_TEXT: {
      if (absl::StrContains(value.text(), '\n') || absl::StrContains(value.text(), '\r')) {
        return absl::InvalidArgumentError("must be one line (use a LONG_TEXT field)");
      }
      ASSIGN_OR_RETURN(*value.mutable_text(), normalizers.text(value.text(), kMaxTextChars));
      break;
    }
    case common::v1::CUSTOM_FIELD_TYPE_LONG_TEXT: {
      ASSIGN_OR_RETURN(*value.mutable_text(), NormalizeLongText(value.text(), normalizers));
      break;
    }
    case common::v1::CUSTOM_FIELD_TYPE_NUMBER: {
      ASSIGN_OR_RETURN(*value.mutable_number(), NormalizeDecimal(value.number(), d.scale()));
      break;
    }
    case common::v1::CUSTOM_FIELD_TYPE_PERCENT: {
      ASSIGN_OR_RETURN(*value.mutable_percent(), NormalizeDecimal(value.percent(), d.scale()));
      break;
    }
    case common::v1::CUSTOM_FIELD_TYPE_MONEY: {
      const std::string& code = value.money().currency_code();
      if (code.size() != 3 || !std::all_of(code.begin(), code.end(), absl::ascii_isupper)) {
        return absl::InvalidArgumentError("money needs a three-letter ISO 4217 currency_code");
      }
      if (!d.currency_code().empty() && code != d.currency_code()) {
        return absl::InvalidArgumentError(
            absl::StrCat("this field holds ", d.currency_code(), " amounts, not ", code));
      }
      break;
    }
    case common::v1::CUSTOM_FIELD_TYPE_DATE:
      RETURN_IF_ERROR(CheckDate(value.date()));
      break;
    case common::v1::CUSTOM_FIELD_TYPE_DATE_TIME: {
      const auto& t = value.date_time();
      // 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, as google.protobuf.Timestamp allows.
      if (t.seconds() < -62135596800 || t.seconds() > 253402300799 || t.nanos() < 0 ||
          t.nanos() > 999999999) {
        return absl::InvalidArgumentError("must be between years 1 and 9999");
      }
      break;
    }
    case common::v1::CUSTOM_FIELD_TYPE_BOOLEAN:
      break;
    case common::v1::CUSTOM_FIELD_TYPE_SINGLE_SELECT:
      RETURN_IF_ERROR(CheckOption(d, value.option(), HeldBefore(previous, value.option())));
      break;
    case common::v1::CUSTOM_FIELD_TYPE_MULTI_SELECT: {
      std::set<std::string> seen;
      for (const std::string& id : value.options().ids()) {
        RETURN_IF_ERROR(CheckOption(d, id, HeldBefore(previous, id)));
        if (!seen.insert(id).second) {
          return absl::InvalidArgumentError(absl::StrCat("option '", id, "' is named twice"));
        }
      }
      break;
    }
    case common::v1::CUSTOM_FIELD_TYPE_URL: {
      ASSIGN_OR_RETURN(*value.mutable_url(), NormalizeUrl(value.url()));
      break;
    }
    case common::v1::CUSTOM_FIELD_TYPE_EMAIL: {
      ASSIGN_OR_RETURN(*value.mutable_email(), normalizers.email(value.email()));
      break;
    }
    case common::v1::CUSTOM_FIELD_TYPE_PHONE: {
      ASSIGN_OR_RETURN(*value.mutable_phone(), normalizers.phone(value.phone()));
      break;
    }
    case common::v1::CUSTOM_FIELD_TYPE_USER: {
      const std::string& user = value.user();
      if (user.empty() || user.size() > kMaxUserChars ||
          !std::all_of(user.begin(), user.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
        return absl::InvalidArgumentError(
            absl::StrCat("must be a user id: 1 to ", kMaxUserChars, " printable ASCII characters"));
      }
      break;
    }
    case common::v1::CUSTOM_FIELD_TYPE_RELATION: {
      const absl::string_view prefix = RecordPrefix(d.relation_object());
      absl::string_view record = value.record();
      if (!absl::ConsumePrefix(&record, prefix) || !ids::IsCanonicalUuid(record)) {
        return absl::InvalidArgumentError(absl::StrCat("must name a record \"", prefix, "{id}\""));
      }
      break;
    }
    default:
      return absl::InvalidArgumentError("the field has no known type");
  }
  return absl::OkStatus();
}

// The rules every definition meets, after create or update.
absl::Status CheckDefinition(Definition& d, const Normalizers& normalizers,
                             absl::string_view field) {
  absl::StatusOr<std::string> label = normalizers.text(d.label(), kMaxLabelChars);
  if (!label.ok()) return api::InvalidField(Path(field, "label"), label.status().message());
  if (label->empty()) return api::InvalidField(Path(field, "label"), "required");
  d.set_label(*label);
  absl::StatusOr<std::string> description = normalizers.text(d.description(), kMaxDescriptionChars);
  if (!description.ok()) {
    return api::InvalidField(Path(field, "description"), description.status().message());
  }
  d.set_description(*description);

  if (IsSelect(d.type())) {
    if (d.options().empty() || d.options_size() > kMaxOptions) {
      return api::InvalidField(Path(field, "options"),
                               absl::StrCat("a select field has 1 to ", kMaxOptions, " options"));
    }
    std::set<std::string> ids;
    for (int i = 0; i < d.options_size(); ++i) {
      auto& option = *d.mutable_options(i);
      const std::string at = absl::StrCat(field, ".options[", i, "]");
      absl::StatusOr<std::string> option_label = normalizers.text(option.label(), kMaxLabelChars);
      if (!option_label.ok()) {
        return api::InvalidField(Path(at, "label"), option_label.status().message());
      }
      if (option_label->empty()) return api::InvalidField(Path(at, "label"), "required");
      option.set_label(*option_label);
      if (option.id().empty()) {
        std::string id = IdFromLabel(option.label());
        if (id.empty() || ids.count(id) > 0) id = absl::StrCat("option_", i + 1);
        option.set_id(id);
      }
      if (!IsSnakeCase(option.id())) {
        return api::InvalidField(Path(at, "id"),
                                 "must be snake_case ([a-z][a-z0-9_]*), up to 64 characters");
      }
      if (!ids.insert(option.id()).second) {
        return api::InvalidField(Path(at, "id"), absl::StrCat("'", option.id(), "' is used twice"));
      }
    }
  } else if (!d.options().empty()) {
    return api::InvalidField(Path(field, "options"), "only select fields have options");
  }

  if (d.has_default_value()) {
    if (d.unique()) {
      return api::InvalidField(Path(field, "default_value"),
                               "a unique field cannot have a default: every record would share it");
    }
    if (d.default_value().kind_case() == Value::KIND_NOT_SET) {
      d.clear_default_value();
    } else if (absl::Status s = NormalizeValue(d, *d.mutable_default_value(), nullptr, normalizers);
               !s.ok()) {
      return api::InvalidField(Path(field, "default_value"), s.message());
    }
  }
  return absl::OkStatus();
}

}  // namespace

// A key is also a field-mask path segment ("custom_fields.<key>"), which proto3 JSON writes in
// lowerCamelCase: "_" must be followed by a letter, so that every key reads back as itself.
bool IsFieldKey(absl::string_view key) {
  if (!IsSnakeCase(key) || key.back() == '_') return false;
  for (size_t i = 0; i + 1 < key.size(); ++i) {
    if (key[i] == '_' && !absl::ascii_islower(key[i + 1])) return false;
  }
  return true;
}

absl::string_view ObjectSegment(ObjectType type) {
  switch (type) {
    case common::v1::OBJECT_TYPE_CONTACT:
      return "contact";
    case common::v1::OBJECT_TYPE_COMPANY:
      return "company";
    case common::v1::OBJECT_TYPE_DEAL:
      return "deal";
    case common::v1::OBJECT_TYPE_TASK:
      return "task";
    case common::v1::OBJECT_TYPE_PRODUCT:
      return "product";
    default:
      return "";
  }
}

ObjectType ObjectFromSegment(absl::string_view segment) {
  for (ObjectType type : {common::v1::OBJECT_TYPE_CONTACT, common::v1::OBJECT_TYPE_COMPANY,
                          common::v1::OBJECT_TYPE_DEAL, common::v1::OBJECT_TYPE_TASK,
                          common::v1::OBJECT_TYPE_PRODUCT}) {
    if (ObjectSegment(type) == segment) return type;
  }
  return common::v1::OBJECT_TYPE_UNSPECIFIED;
}

absl::string_view RecordPrefix(ObjectType type) {
  switch (type) {
    case common::v1::OBJECT_TYPE_CONTACT:
      return "contacts/";
    case common::v1::OBJECT_TYPE_COMPANY:
      return "companies/";
    case common::v1::OBJECT_TYPE_DEAL:
      return "deals/";
    case common::v1::OBJECT_TYPE_TASK:
      return "tasks/";
    case common::v1::OBJECT_TYPE_PRODUCT:
      return "products/";
    default:
      return "";
  }
}

absl::StatusOr<ObjectType> ParseParent(absl::string_view parent, absl::string_view field) {
  absl::string_view rest = parent;
  const ObjectType object = absl::ConsumePrefix(&rest, kObjectTypesPrefix)
                                ? ObjectFromSegment(rest)
                                : common::v1::OBJECT_TYPE_UNSPECIFIED;
  if (object == common::v1::OBJECT_TYPE_UNSPECIFIED) {
    return api::InvalidField(field,
                             "must be \"objectTypes/{object}\", object one of contact, company, "
                             "deal, task, product");
  }
  return object;
}

absl::StatusOr<DefinitionName> ParseDefinitionName(absl::string_view name,
                                                   absl::string_view field) {
  const auto at = name.find(kCustomFieldsSegment);
  const absl::string_view key =
      at == absl::string_view::npos ? "" : name.substr(at + kCustomFieldsSegment.size());
  absl::StatusOr<ObjectType> object =
      ParseParent(at == absl::string_view::npos ? name : name.substr(0, at), field);
  if (!object.ok() || !IsFieldKey(key)) {
    return api::InvalidField(field, "must be \"objectTypes/{object}/customFields/{key}\"");
  }
  return DefinitionName{*object, std::string(key)};
}

std::string DefinitionNameOf(ObjectType object, absl::string_view key) {
  return absl::StrCat(kObjectTypesPrefix, ObjectSegment(object), kCustomFieldsSegment, key);
}

absl::Status NormalizeNewDefinition(Definition& d, ObjectType object,
                                    const Normalizers& normalizers, absl::string_view field) {
  if (!IsFieldKey(d.key())) {
    return api::InvalidField(Path(field, "key"),
                             "required: snake_case words starting with letters (\"arr_q1\", "
                             "not \"arr_2026\" or \"arr__x\"), up to 64 characters");
  }
  d.set_object_type(object);
  d.set_name(DefinitionNameOf(object, d.key()));
  d.clear_create_time();
  d.clear_update_time();
  d.clear_etag();
  if (!common::v1::CustomFieldType_IsValid(d.type()) ||
      d.type() == common::v1::CUSTOM_FIELD_TYPE_UNSPECIFIED) {
    return api::InvalidField(Path(field, "type"), "required");
  }
  if (IsDecimal(d.type())) {
    if (d.scale() < 0 || d.scale() > kMaxScale) {
      return api::InvalidField(Path(field, "scale"),
                               absl::StrCat("must be 0 to ", kMaxScale, " digits"));
    }
  } else if (d.scale() != 0) {
    return api::InvalidField(Path(field, "scale"), "only number and percent fields have a scale");
  }
  if (d.type() == common::v1::CUSTOM_FIELD_TYPE_MONEY) {
    const std::string& code = d.currency_code();
    if (!code.empty() &&
        (code.size() != 3 || !std::all_of(code.begin(), code.end(), absl::ascii_isupper))) {
      return api::InvalidField(Path(field, "currency_code"),
                               "must be a three-letter ISO 4217 code such as USD");
    }
  } else if (!d.currency_code().empty()) {
    return api::InvalidField(Path(field, "currency_code"), "only money fields have a currency");
  }
  if (d.type() == common::v1::CUSTOM_FIELD_TYPE_RELATION) {
    if (RecordPrefix(d.relation_object()).empty()) {
      return api::InvalidField(Path(field, "relation_object"),
                               "required for a relation: the object its values name");
    }
  } else if (d.relation_object() != common::v1::OBJECT_TYPE_UNSPECIFIED) {
    return api::InvalidField(Path(field, "relation_object"), "only relation fields name one");
  }
  if (d.unique() && !CanBeUnique(d.type())) {
    return api::InvalidField(Path(field, "unique"),
                             "only text, number, email, phone and URL fields can be unique");
  }
  return CheckDefinition(d, normalizers, field);
}

absl::Status ApplyDefinitionUpdate(const Definition& patch, const google::protobuf::FieldMask& mask,
                                   const Normalizers& normalizers, Definition& target) {
  static const auto* writable = new std::set<std::string>{"label",    "description",   "options",
                                                          "required", "default_value", "archived"};
  const Definition before = target;
  RETURN_IF_ERROR(api::ApplyUpdateMask(patch, mask, *writable, target).status());
  // Records store option ids: an option may be archived, never removed or renumbered.
  for (const auto& option : before.options()) {
    if (FindOption(target, option.id()) == nullptr) {
      return api::InvalidField("custom_field.options",
                               absl::StrCat("option '", option.id(),
                                            "' cannot be removed (records may hold it); set "
                                            "archived on it instead"));
    }
  }
  return CheckDefinition(target, normalizers, "custom_field");
}

absl::Status NormalizeValues(Values& values, const std::vector<Definition>& definitions,
                             bool creating, const Values* previous, const Normalizers& normalizers,
                             absl::string_view field) {
  auto find = [&](absl::string_view key) -> const Definition* {
    for (const auto& d : definitions) {
      if (d.key() == key) return &d;
    }
    return nullptr;
  };
  std::vector<std::string> cleared;
  for (auto& [key, value] : values) {
    const std::string at = Path(field, api::EscapedEcho(key, kMaxKeyChars));
    const Definition* d = find(key);
    if (d == nullptr) return api::InvalidField(at, "no custom field of this object has this key");
    if (d->archived()) return api::InvalidField(at, "this custom field is archived");
    if (value.kind_case() == Value::KIND_NOT_SET) {  // {} clears the field
      cleared.push_back(key);
      continue;
    }
    const Value* held = nullptr;
    if (previous != nullptr) {
      auto it = previous->find(key);
      if (it != previous->end()) held = &it->second;
    }
    if (absl::Status s = NormalizeValue(*d, value, held, normalizers); !s.ok()) {
      return api::InvalidField(at, s.message());
    }
  }
  for (const std::string& key : cleared) values.erase(key);
  for (const auto& d : definitions) {
    if (d.archived()) continue;
    if (creating && d.has_default_value() && !values.contains(d.key())) {
      values[d.key()] = d.default_value();
    }
    if (d.required() && !values.contains(d.key())) {
      return api::InvalidField(Path(field, d.key()), "required");
    }
  }
  return absl::OkStatus();
}

absl::Status CanImport(const Definition& d) {
  if (d.type() == common::v1::CUSTOM_FIELD_TYPE_RELATION) {
    return absl::UnimplementedError(
        absl::StrCat("custom field '", d.key(), "': relation fields are not imported yet"));
  }
  if (d.unique()) {
    return absl::UnimplementedError(absl::StrCat(
        "custom field '", d.key(), "': unique fields are not imported yet; set them by update"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Value> ValueFromText(const Definition& d, absl::string_view text) {
  RETURN_IF_ERROR(CanImport(d));
  text = absl::StripAsciiWhitespace(text);
  auto option_id = [&](absl::string_view literal) {
    literal = absl::StripAsciiWhitespace(literal);
    for (const auto& option : d.options()) {
      if (option.id() == literal || absl::EqualsIgnoreCase(option.label(), literal)) {
        return option.id();
      }
    }
    return std::string(literal);  // refused by NormalizeValues, naming the field
  };
  Value value;
  switch (d.type()) {
    case common::v1::CUSTOM_FIELD_TYPE_TEXT:
    case common::v1::CUSTOM_FIELD_TYPE_LONG_TEXT:
      value.set_text(std::string(text));
      break;
    case common::v1::CUSTOM_FIELD_TYPE_NUMBER:
      value.set_number(std::string(text));
      break;
    case common::v1::CUSTOM_FIELD_TYPE_PERCENT:
      value.set_percent(std::string(absl::StripAsciiWhitespace(absl::StripSuffix(text, "%"))));
      break;
    case common::v1::CUSTOM_FIELD_TYPE_DATE:
      value.set_date(std::string(text));
      break;
    case common::v1::CUSTOM_FIELD_TYPE_DATE_TIME: {
      absl::Time t;
      std::string error;
      if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
        return absl::InvalidArgumentError("must be an RFC 3339 time such as 2026-03-01T09:30:00Z");
      }
      value.mutable_date_time()->set_seconds(absl::ToUnixSeconds(t));
      value.mutable_date_time()->set_nanos(static_cast<int32_t>(
          absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(absl::ToUnixSeconds(t)))));
      break;
    }
    case common::v1::CUSTOM_FIELD_TYPE_BOOLEAN: {
      const std::string lower = absl::AsciiStrToLower(text);
      if (lower == "true" || lower == "yes" || lower == "1") {
        value.set_boolean(true);
      } else if (lower == "false" || lower == "no" || lower == "0") {
        value.set_boolean(false);
      } else {
        return absl::InvalidArgumentError("must be true, false, yes, no, 1 or 0");
      }
      break;
    }
    case common::v1::CUSTOM_FIELD_TYPE_SINGLE_SELECT:
      value.set_option(option_id(text));
      break;
    case common::v1::CUSTOM_FIELD_TYPE_MULTI_SELECT:
      for (absl::string_view part :
           absl::StrSplit(text, absl::ByAnyChar(";,"), absl::SkipEmpty())) {
        if (!absl::StripAsciiWhitespace(part).empty()) {
          value.mutable_options()->add_ids(option_id(part));
        }
      }
      break;
    case common::v1::CUSTOM_FIELD_TYPE_URL:
      value.set_url(std::string(text));
      break;
    case common::v1::CUSTOM_FIELD_TYPE_EMAIL:
      value.set_email(std::string(text));
      break;
    case common::v1::CUSTOM_FIELD_TYPE_PHONE:
      value.set_phone(std::string(text));
      break;
    case common::v1::CUSTOM_FIELD_TYPE_USER:
      value.set_user(std::string(text));
      break;
    case common::v1::CUSTOM_FIELD_TYPE_MONEY: {
      // As ValueToText writes it: "12345 USD" (minor units, then the currency), or the currency
      // first; the amount alone when the field fixes its currency. NormalizeValues checks the code.
      std::vector<absl::string_view> parts = absl::StrSplit(text, ' ', absl::SkipWhitespace());
      if (parts.size() == 2 && !parts[0].empty() && absl::ascii_isalpha(parts[0][0])) {
        std::swap(parts[0], parts[1]);
      }
      int64_t minor = 0;
      if (parts.empty() || parts.size() > 2 || !absl::SimpleAtoi(parts[0], &minor)) {
        return absl::InvalidArgumentError(
            "must be an amount in minor units and a currency, such as \"12345 USD\" for 123.45 "
            "USD");
      }
      value.mutable_money()->set_amount_minor(minor);
      value.mutable_money()->set_currency_code(parts.size() == 2 ? std::string(parts[1])
                                                                 : d.currency_code());
      break;
    }
    default:
      return absl::InvalidArgumentError("the field has no known type");
  }
  return value;
}

absl::StatusOr<Values> ValuesFromAssignments(const std::vector<Definition>& definitions,
                                             const std::vector<std::string>& assignments,
                                             absl::string_view field) {
  Values values;
  for (const std::string& assignment : assignments) {
    const size_t eq = assignment.find('=');
    if (eq == std::string::npos) {
      return api::InvalidField(field, absl::StrCat("write custom fields as key=value, not '",
                                                   api::EscapedEcho(assignment, 64), "'"));
    }
    const std::string key = assignment.substr(0, eq);
    const std::string at = Path(field, api::EscapedEcho(key, kMaxKeyChars));
    const auto d = std::find_if(definitions.begin(), definitions.end(),
                                [&key](const Definition& def) { return def.key() == key; });
    if (d == definitions.end() || d->archived()) {
      return api::InvalidField(at, "no live custom field of this object has this key");
    }
    absl::StatusOr<Value> value = ValueFromText(*d, assignment.substr(eq + 1));
    if (!value.ok()) return api::InvalidField(at, value.status().message());
    values[key] = *std::move(value);
  }
  return values;
}

std::string ValueToText(const Value& value) {
  switch (value.kind_case()) {
    case Value::kText:
      return value.text();
    case Value::kNumber:
      return value.number();
    case Value::kMoney:
      return absl::StrCat(value.money().amount_minor(), " ", value.money().currency_code());
    case Value::kPercent:
      return value.percent();
    case Value::kDate:
      return value.date();
    case Value::kDateTime:
      return google::protobuf::util::TimeUtil::ToString(value.date_time());
    case Value::kBoolean:
      return value.boolean() ? "true" : "false";
    case Value::kOption:
      return value.option();
    case Value::kOptions:
      return absl::StrJoin(value.options().ids(), ";");
    case Value::kUrl:
      return value.url();
    case Value::kEmail:
      return value.email();
    case Value::kPhone:
      return value.phone();
    case Value::kUser:
      return value.user();
    case Value::kRecord:
      return value.record();
    default:
      return "";
  }
}

std::string UniqueForm(const Definition& d, const Value& value,
                       const std::function<std::string(absl::string_view)>& fold) {
  switch (value.kind_case()) {
    case Value::kText:
      return value.text();
    case Value::kNumber:
      return value.number();
    case Value::kEmail:
      return fold(value.email());
    case Value::kPhone:
      return value.phone();
    case Value::kUrl:
      return value.url();
    default:
      (void)d;
      return "";
  }
}

void HideArchived(Values& values, const std::vector<Definition>& definitions) {
  std::vector<std::string> hidden;
  for (const auto& entry : values) {
    const std::string& key = entry.first;
    const auto it = std::find_if(definitions.begin(), definitions.end(),
                                 [&key](const Definition& d) { return d.key() == key; });
    if (it == definitions.end() || it->archived()) hidden.push_back(key);
  }
  for (const std::string& key : hidden) values.erase(key);
}

}  // namespace crm::fields
