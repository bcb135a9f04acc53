#include "common/fields/custom_field_filters.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fields/unique_values.h"

namespace crm::fields {
namespace {

using api::FilterField;
using api::FilterType;

// The stored member of a value: (custom_fields -> 'tier' ->> 'option'). Keys are snake_case
// (checked when the definition was made), so they are safe between quotes.
std::string Member(absl::string_view column, absl::string_view key, absl::string_view member) {
  return absl::StrCat("(", column, " -> '", key, "' ->> '", member, "')");
}

std::string Cast(const std::string& sql, absl::string_view type) {
  return absl::StrCat("(", sql, ")::", type);
}

// A select option by id or by label (any case), to the stored id.
std::function<std::optional<std::string>(absl::string_view)> OptionOf(const Definition& d) {
  return [options = d.options()](absl::string_view literal) -> std::optional<std::string> {
    for (const auto& option : options) {
      if (option.id() == literal || absl::EqualsIgnoreCase(option.label(), literal)) {
        return option.id();
      }
    }
    return std::nullopt;
  };
}

// `field = "v"` on a unique field: the record whose claim holds v's compared form (UniqueForm:
// emails case-folded, the rest as stored). An initplan array keeps the record's primary key
// usable for the outer scan.
void UseClaims(FilterField& field, const Definition& d, const UniqueLookup& unique) {
  field.index_sql = absl::StrCat(
      unique.id_column, " = ANY(ARRAY(SELECT split_part(u.record, '/', 2)::uuid FROM ",
      unique.table,
      " u WHERE u.tenant_id = current_setting('app.tenant', true) AND u.object_type = '",
      unique.object_type, "' AND u.key = '", d.key(), "' AND u.value = $value))");
  if (d.type() == common::v1::CUSTOM_FIELD_TYPE_EMAIL) {
    field.index_value = UniqueValues::FoldEmail;
  }
}

}  // namespace

std::vector<FilterField> FilterFields(const std::vector<Definition>& definitions,
                                      absl::string_view column, const UniqueLookup* unique) {
  std::vector<FilterField> fields;
  for (const Definition& d : definitions) {
    if (d.archived()) continue;
    const std::string name = absl::StrCat("custom_fields.", d.key());
    const std::string& key = d.key();
    const size_t before = fields.size();
    switch (d.type()) {
      case common::v1::CUSTOM_FIELD_TYPE_TEXT:
      case common::v1::CUSTOM_FIELD_TYPE_LONG_TEXT:
        fields.push_back({name, Member(column, key, "text"), FilterType::kString, nullptr});
        break;
      case common::v1::CUSTOM_FIELD_TYPE_NUMBER:
        fields.push_back(
            {name, Cast(Member(column, key, "number"), "numeric"), FilterType::kDecimal, nullptr});
        break;
      case common::v1::CUSTOM_FIELD_TYPE_PERCENT:
        fields.push_back(
            {name, Cast(Member(column, key, "percent"), "numeric"), FilterType::kDecimal, nullptr});
        break;
      case common::v1::CUSTOM_FIELD_TYPE_MONEY:
        fields.push_back({absl::StrCat(name, ".amount_minor"),
                          Cast(absl::StrCat("(", column, " -> '", key,
                                            "' -> 'money' ->> "
                                            "'amount_minor')"),
                               "bigint"),
                          FilterType::kInt, nullptr});
        fields.push_back(
            {absl::StrCat(name, ".currency_code"),
             absl::StrCat("(", column, " -> '", key, "' -> 'money' ->> 'currency_code')"),
             FilterType::kString, nullptr});
        break;
      case common::v1::CUSTOM_FIELD_TYPE_DATE:  // "YYYY-MM-DD" orders as text
        fields.push_back({name, Member(column, key, "date"), FilterType::kString, nullptr});
        break;
      case common::v1::CUSTOM_FIELD_TYPE_DATE_TIME:
        fields.push_back({name, Cast(Member(column, key, "date_time"), "timestamptz"),
                          FilterType::kTimestamp, nullptr});
        break;
      case common::v1::CUSTOM_FIELD_TYPE_BOOLEAN:
        fields.push_back(
            {name, Cast(Member(column, key, "boolean"), "boolean"), FilterType::kBool, nullptr});
        break;
      case common::v1::CUSTOM_FIELD_TYPE_SINGLE_SELECT:
        fields.push_back({name, Member(column, key, "option"), FilterType::kEnum, OptionOf(d)});
        break;
      case common::v1::CUSTOM_FIELD_TYPE_MULTI_SELECT:
        fields.push_back({name,
                          absl::StrCat("ARRAY(SELECT jsonb_array_elements_text(", column, " -> '",
                                       key, "' -> 'options' -> 'ids'))"),
                          FilterType::kStringList, nullptr});
        break;
      case common::v1::CUSTOM_FIELD_TYPE_URL:
        fields.push_back({name, Member(column, key, "url"), FilterType::kString, nullptr});
        break;
      case common::v1::CUSTOM_FIELD_TYPE_EMAIL:
        fields.push_back({name, Member(column, key, "email"), FilterType::kString, nullptr});
        break;
      case common::v1::CUSTOM_FIELD_TYPE_PHONE:
        fields.push_back({name, Member(column, key, "phone"), FilterType::kString, nullptr});
        break;
      case common::v1::CUSTOM_FIELD_TYPE_USER:
        fields.push_back({name, Member(column, key, "user"), FilterType::kString, nullptr});
        break;
      case common::v1::CUSTOM_FIELD_TYPE_RELATION:
        fields.push_back({name, Member(column, key, "record"), FilterType::kString, nullptr});
        break;
      default:
        break;
    }
    const bool claimed = d.type() == common::v1::CUSTOM_FIELD_TYPE_TEXT ||
                         d.type() == common::v1::CUSTOM_FIELD_TYPE_EMAIL ||
                         d.type() == common::v1::CUSTOM_FIELD_TYPE_PHONE ||
                         d.type() == common::v1::CUSTOM_FIELD_TYPE_URL;
    if (unique != nullptr && d.unique() && claimed && fields.size() == before + 1) {
      UseClaims(fields.back(), d, *unique);
    }
  }
  return fields;
}

std::map<std::string, std::string> SortColumns(const std::vector<Definition>& definitions,
                                               absl::string_view column) {
  std::map<std::string, std::string> columns;
  for (auto& field : FilterFields(definitions, column)) {
    if (field.type != FilterType::kStringList) columns[field.name] = std::move(field.sql);
  }
  return columns;
}

api::FilterSchema WithCustomFields(const api::FilterSchema& base,
                                   const std::vector<Definition>& definitions,
                                   absl::string_view column, const UniqueLookup* unique) {
  api::FilterSchema schema = base;
  for (auto& field : FilterFields(definitions, column, unique)) {
    schema.fields.push_back(std::move(field));
  }
  return schema;
}

}  // namespace crm::fields
