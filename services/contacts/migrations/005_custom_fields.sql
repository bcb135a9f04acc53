-- Values of custom fields (definitions: fields/migrations), each in proto3 JSON by key. Values of
-- archived fields wait in archived_custom_fields until the field is unarchived or deleted.
ALTER TABLE contacts ADD COLUMN custom_fields jsonb NOT NULL DEFAULT '{}';
ALTER TABLE contacts ADD COLUMN archived_custom_fields jsonb NOT NULL DEFAULT '{}';
ALTER TABLE companies ADD COLUMN custom_fields jsonb NOT NULL DEFAULT '{}';
ALTER TABLE companies ADD COLUMN archived_custom_fields jsonb NOT NULL DEFAULT '{}';
