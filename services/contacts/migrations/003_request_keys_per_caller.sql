-- Idempotency keys (request_id, import_id) belong to the caller who sent them: rep B reusing rep
-- A's key creates a record of her own instead of receiving A's. Keys stored before this change
-- (their creator was not part of the key) stay unique per creator too.
DROP INDEX contacts_request_key;
CREATE UNIQUE INDEX contacts_request_key ON contacts (tenant_id, creator, create_request_id)
  WHERE create_request_id IS NOT NULL;
DROP INDEX companies_request_key;
CREATE UNIQUE INDEX companies_request_key ON companies (tenant_id, creator, create_request_id)
  WHERE create_request_id IS NOT NULL;
DROP INDEX activities_request_key;
CREATE UNIQUE INDEX activities_request_key ON activities (tenant_id, author, create_request_id)
  WHERE create_request_id IS NOT NULL;
-- A segment's owner may be another user; the caller who created it is its own column.
ALTER TABLE segments ADD COLUMN creator text;
DROP INDEX segments_request_key;
CREATE UNIQUE INDEX segments_request_key ON segments (tenant_id, creator, create_request_id)
  WHERE create_request_id IS NOT NULL;
ALTER TABLE imports DROP CONSTRAINT imports_pkey;
ALTER TABLE imports ADD PRIMARY KEY (tenant_id, author, import_id);
