#include "services/contacts/contact_importer.h"

#include <algorithm>
#include <future>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/api/errors.h"
#include "common/base/status_macros.h"
#include "common/db/transaction.h"
#include "common/events/record_changes.h"
#include "common/ids/uuid.h"
#include "common/text/normalize.h"
#include "services/contacts/contact_rules.h"

namespace crm::contacts {
namespace {

using Outcome = v1::ImportRowResult::Outcome;

constexpr int kBatchAttempts = 3;

void AddMissing(google::protobuf::RepeatedPtrField<std::string>* into,
                const google::protobuf::RepeatedPtrField<std::string>& from) {
  for (const std::string& value : from) {
    if (std::find(into->begin(), into->end(), value) == into->end()) *into->Add() = value;
  }
}

// The unique keys of a normalised contact: "email:<folded>" and "phone:<e164>".
std::vector<std::string> KeysOf(const v1::Contact& contact) {
  std::vector<std::string> keys;
  for (const std::string& key : EmailKeys(contact)) keys.push_back("email:" + key);
  for (const std::string& phone : contact.phones()) keys.push_back("phone:" + phone);
  return keys;
}

}  // namespace

ContactImporter::ContactImporter(ContactsStore& store, const auth::Principal& caller,
                                 std::string phone_region, const v1::ImportOptions& options,
                                 ImportCustomFields custom_fields)
    : store_(store),
      caller_(caller),
      phone_region_(std::move(phone_region)),
      options_(options),
      custom_fields_(std::move(custom_fields)) {
  report_.set_import_id(options.import_id());
}

absl::Status ContactImporter::CheckMappedCustomFields() const {
  constexpr absl::string_view kPrefix = "custom_fields.";
  for (size_t i = 0; i < mapping_.column_fields.size(); ++i) {
    absl::string_view field = mapping_.column_fields[i];
    if (!absl::ConsumePrefix(&field, kPrefix)) continue;
    const std::string column = absl::StrCat("column_mapping[", (*header_)[i], "]");
    const fields::Definition* found = nullptr;
    for (const auto& d : custom_fields_.snapshot->definitions) {
      if (d.key() == field) found = &d;
    }
    if (found == nullptr || found->archived()) {
      return api::InvalidField(column,
                               absl::StrCat("contacts have no live custom field '", field, "'"));
    }
    if (absl::Status s = fields::CanImport(*found); !s.ok()) {
      return api::InvalidField(column, s.message());
    }
  }
  return absl::OkStatus();
}

absl::Status ContactImporter::TypeCustomFields(const std::map<std::string, std::string>& cells,
                                               v1::Contact& contact) const {
  const auto& definitions = custom_fields_.snapshot->definitions;
  for (const auto& [key, text] : cells) {
    for (const auto& d : definitions) {
      if (d.key() != key) continue;
      absl::StatusOr<fields::Value> value = fields::ValueFromText(d, text);
      if (!value.ok()) {
        return api::InvalidField(absl::StrCat("custom_fields.", key), value.status().message());
      }
      (*contact.mutable_custom_fields())[key] = *std::move(value);
    }
  }
  return fields::NormalizeValues(*contact.mutable_custom_fields(), definitions, /*creating=*/true,
                                 nullptr, custom_fields_.normalizers, "custom_fields");
}

absl::Status ContactImporter::Feed(absl::string_view chunk) {
  std::vector<CsvRow> rows;
  RETURN_IF_ERROR(reader_.Feed(chunk, &rows));
  return TakeRows(std::move(rows));
}

absl::StatusOr<v1::ImportContactsResponse> ContactImporter::Finish() {
  std::vector<CsvRow> rows;
  RETURN_IF_ERROR(reader_.Finish(&rows));
  RETURN_IF_ERROR(TakeRows(std::move(rows)));
  if (!header_.has_value()) return api::InvalidField("chunk", "the file is empty: no header row");
  RETURN_IF_ERROR(WriteBatch());
  RETURN_IF_ERROR(AwaitWrite());
  std::sort(report_.mutable_rows()->begin(), report_.mutable_rows()->end(),
            [](const auto& a, const auto& b) { return a.line() < b.line(); });
  return report_;
}

absl::Status ContactImporter::TakeRows(std::vector<CsvRow> rows) {
  for (CsvRow& row : rows) {
    if (!header_.has_value()) {
      if (!row.error.empty()) return api::InvalidField("chunk", row.error);
      std::map<std::string, std::string> explicit_mapping(options_.column_mapping().begin(),
                                                          options_.column_mapping().end());
      ASSIGN_OR_RETURN(mapping_, MapHeader(row.fields, explicit_mapping));
      header_ = std::move(row.fields);
      RETURN_IF_ERROR(CheckMappedCustomFields());
      for (const std::string& ignored : mapping_.ignored_headers) {
        report_.add_ignored_columns(ignored);
      }
      continue;
    }
    auto invalid = [&](std::string error) {
      v1::ImportRowResult* result = report_.add_rows();
      result->set_line(row.number);
      result->set_outcome(v1::ImportRowResult::INVALID);
      result->set_error(std::move(error));
      report_.set_invalid(report_.invalid() + 1);
    };
    if (!row.error.empty()) {
      if (++rows_seen_ > kMaxRows) {
        return api::InvalidField(
            "chunk", absl::StrCat("an import holds at most ", kMaxRows, " rows; split the file"));
      }
      invalid(row.error);
      continue;
    }
    absl::StatusOr<ImportedRow> mapped = MapRow(mapping_, *header_, row.fields);
    if (!mapped.ok()) {
      invalid(std::string(mapped.status().message()));
      continue;
    }
    v1::Contact contact = std::move(mapped->contact);
    if (contact.owner().empty()) contact.set_owner(caller_.user);
    if (!mapped->company_name.empty()) {
      // Companies are matched by name; an unknown one is kept as an attribute for later.
      (*contact.mutable_attributes())["imported_company"] = mapped->company_name;
    }
    if (absl::Status s = NormalizeContact(contact, phone_region_, "row"); !s.ok()) {
      invalid(std::string(s.message()));
      continue;
    }
    if (absl::Status s = TypeCustomFields(mapped->custom_field_text, contact); !s.ok()) {
      google::rpc::BadRequest bad_request;
      const std::string field =
          api::GetDetail(s, &bad_request) && bad_request.field_violations_size() == 1
              ? bad_request.field_violations(0).field()
              : "custom_fields";
      invalid(absl::StrCat(field, ": ", s.message()));
      continue;
    }
    if (!caller_.CanChangeOwnedBy(contact.owner())) {
      invalid("owner: reps import contacts for themselves only");
      continue;
    }
    if (contact.emails().empty() && contact.phones().empty()) {
      invalid("row: needs an email or a phone, which is how duplicates are recognised");
      continue;
    }
    if (++rows_seen_ > kMaxRows) {
      return api::InvalidField(
          "chunk", absl::StrCat("an import holds at most ", kMaxRows, " rows; split the file"));
    }
    pending_.emplace_back(row.number, std::move(contact));
    if (static_cast<int>(pending_.size()) >= kBatchRows) RETURN_IF_ERROR(WriteBatch());
  }
  return absl::OkStatus();
}

absl::Status ContactImporter::WriteBatch() {
  RETURN_IF_ERROR(AwaitWrite());
  if (pending_.empty()) return absl::OkStatus();
  writing_ = std::async(std::launch::async,
                        [this, rows = std::move(pending_)] { return WriteRows(rows); });
  pending_.clear();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ContactImporter::Planned>> ContactImporter::WriteRows(
    const Rows& rows) const {
  absl::StatusOr<std::vector<Planned>> planned;
  // A concurrent create of the same email or phone (another rep's import) fails the batch as a
  // whole; planning again sees it and merges into it instead.
  for (int attempt = 0; attempt < kBatchAttempts; ++attempt) {
    planned = TryBatch(rows);
    if (planned.ok() || (planned.status().code() != absl::StatusCode::kAlreadyExists &&
                         planned.status().code() != absl::StatusCode::kAborted)) {
      break;
    }
  }
  return planned;
}

absl::Status ContactImporter::AwaitWrite() {
  if (!writing_.valid()) return absl::OkStatus();
  absl::StatusOr<std::vector<Planned>> planned = writing_.get();
  RETURN_IF_ERROR(planned.status());
  for (Planned& p : *planned) {
    v1::ImportRowResult* result = report_.add_rows();
    result->set_line(p.line);
    result->set_outcome(p.outcome);
    result->set_contact(std::move(p.contact));
    result->set_error(std::move(p.error));
    switch (p.outcome) {
      case v1::ImportRowResult::CREATED:
        report_.set_created(report_.created() + 1);
        break;
      case v1::ImportRowResult::MERGED:
        report_.set_merged(report_.merged() + 1);
        break;
      default:
        report_.set_duplicates(report_.duplicates() + 1);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ContactImporter::Planned>> ContactImporter::TryBatch(
    const Rows& rows) const {
  ASSIGN_OR_RETURN(db::Transaction tx, db::Transaction::Begin(store_.pool(), caller_.tenant,
                                                              absl::Now() + absl::Seconds(60)));
  if (custom_fields_.guard) custom_fields_.guard(tx);
  std::vector<std::string> email_keys, phones;
  for (const auto& [line, contact] : rows) {
    for (const std::string& key : EmailKeys(contact)) email_keys.push_back(key);
    for (const std::string& phone : contact.phones()) phones.push_back(phone);
  }
  ASSIGN_OR_RETURN(auto holders, store_.LookupKeys(tx, caller_.tenant, email_keys, phones));
  std::set<std::string> holder_ids;
  for (const auto& [key, name] : holders) holder_ids.insert(name.substr(kContactPrefix.size()));
  ASSIGN_OR_RETURN(auto contacts, store_.LockContacts(tx, caller_.tenant,
                                                      std::vector<std::string>(holder_ids.begin(),
                                                                               holder_ids.end())));
  // A holder deleted or merged between the key look-up and the lock: plan the batch again.
  for (const std::string& id : holder_ids) {
    if (contacts.count(absl::StrCat(kContactPrefix, id)) == 0) {
      return absl::AbortedError("a matching contact changed during the import; retrying");
    }
  }
  // Rows are decided in file order against the database and against earlier rows of the file.
  std::map<std::string, v1::Contact> current = std::move(contacts);  // name -> latest state
  std::map<std::string, v1::Contact> updated;                        // name -> state to write
  std::map<std::string, v1::Contact> created;                        // name -> new contact
  std::vector<std::string> created_order;
  std::vector<Planned> planned;
  for (const auto& [line, row_contact] : rows) {
    const std::vector<std::string> keys = KeysOf(row_contact);
    std::string target;
    for (const std::string& key : keys) {
      auto it = holders.find(key);
      if (it != holders.end()) {
        target = it->second;
        break;
      }
    }
    if (target.empty()) {
      // Written after planning, so later rows of the file that enrich it are included.
      v1::Contact contact = row_contact;
      contact.set_name(absl::StrCat(kContactPrefix, ids::NewUuidV7()));
      for (const std::string& key : keys) holders[key] = contact.name();
      created[contact.name()] = contact;
      created_order.push_back(contact.name());
      planned.push_back({line, v1::ImportRowResult::CREATED, contact.name(), ""});
      continue;
    }
    // Merge the row's new details into the holder (a contact of the database or of this file).
    const bool holder_is_new = created.count(target) > 0;
    auto existing = holder_is_new ? created.find(target) : current.find(target);
    if (existing == (holder_is_new ? created.end() : current.end())) {
      return absl::AbortedError("a matching contact changed during the import; retrying");
    }
    // A rep's import does not change another rep's contact: the row is a known duplicate.
    if (!holder_is_new && !caller_.CanChangeOwnedBy(existing->second.owner())) {
      planned.push_back({line, v1::ImportRowResult::DUPLICATE_SKIPPED, target,
                         "owned by another rep; not changed"});
      continue;
    }
    v1::Contact& base = existing->second;
    v1::Contact next = updated.count(target) ? updated[target] : base;
    const v1::Contact before = next;
    // Only keys nobody holds move in: a row bridging two contacts does not steal keys.
    for (const std::string& key : keys) {
      if (holders.count(key) > 0) continue;
      holders[key] = target;
    }
    for (const std::string& email : row_contact.emails()) {
      auto key = text::NormalizeEmail(email);
      const std::vector<std::string> next_keys = EmailKeys(next);
      if (next.emails_size() >= kMaxEmails) break;
      if (key.ok() && holders["email:" + *key] == target &&
          std::find(next_keys.begin(), next_keys.end(), *key) == next_keys.end()) {
        next.add_emails(email);
      }
    }
    for (const std::string& phone : row_contact.phones()) {
      if (next.phones_size() >= kMaxPhones) break;
      if (holders["phone:" + phone] == target &&
          std::find(next.phones().begin(), next.phones().end(), phone) == next.phones().end()) {
        next.add_phones(phone);
      }
    }
    if (next.tags_size() + row_contact.tags_size() <= kMaxTags) {
      AddMissing(next.mutable_tags(), row_contact.tags());
    }
    if (next.given_name().empty()) next.set_given_name(row_contact.given_name());
    if (next.family_name().empty()) next.set_family_name(row_contact.family_name());
    if (next.job_title().empty()) next.set_job_title(row_contact.job_title());
    if (next.lead_source() == v1::LEAD_SOURCE_UNSPECIFIED) {
      next.set_lead_source(row_contact.lead_source());
      next.set_campaign(row_contact.campaign());
    }
    for (const auto& [k, v] : row_contact.attributes()) {
      if (next.attributes_size() < kMaxAttributes) next.mutable_attributes()->insert({k, v});
    }
    // Values the contact lacks come from the row; the contact's own stay.
    for (const auto& [k, v] : row_contact.custom_fields())
      next.mutable_custom_fields()->insert({k, v});
    const bool changed = !events::ChangedPaths(before, next).empty();
    if (changed) {
      if (holder_is_new) {
        created[target] = next;
      } else {
        updated[target] = next;
      }
    }
    planned.push_back(
        {line, changed ? v1::ImportRowResult::MERGED : v1::ImportRowResult::DUPLICATE_SKIPPED,
         target, ""});
  }
  if (options_.dry_run()) {
    for (Planned& p : planned) {
      if (created.count(p.contact) > 0) p.contact.clear();  // nothing was created
    }
    return planned;
  }
  std::vector<v1::Contact> to_create;
  to_create.reserve(created_order.size());
  for (const std::string& name : created_order) to_create.push_back(created[name]);
  store_.QueueCreateMany(tx, caller_.tenant, to_create, caller_.user);
  for (auto& [name, next] : updated) {
    const v1::Contact& was = current[name];
    store_.QueueUpdate(tx, caller_.tenant, was, next, events::ChangedPaths(was, next),
                       caller_.user);
  }
  RETURN_IF_ERROR(tx.Commit());
  return planned;
}

}  // namespace crm::contacts
