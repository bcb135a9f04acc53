-- Idempotency keys (request_id) belong to the caller who sent them: another user reusing a key
-- creates a record of their own instead of receiving the first caller's.
DROP INDEX deals_request_key;
CREATE UNIQUE INDEX deals_request_key ON deals (tenant_id, creator, create_request_id)
  WHERE create_request_id IS NOT NULL;
ALTER TABLE pipelines ADD COLUMN creator text;
DROP INDEX pipelines_request_key;
CREATE UNIQUE INDEX pipelines_request_key ON pipelines (tenant_id, creator, create_request_id)
  WHERE create_request_id IS NOT NULL;
