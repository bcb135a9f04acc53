-- Values of the tenant's custom fields of tasks (definitions in tasks.custom_fields), as the
-- contacts service keeps them: typed values in proto3 JSON, archived ones apart so reads never
-- need the definitions.
ALTER TABLE tasks
  ADD COLUMN custom_fields jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN archived_custom_fields jsonb NOT NULL DEFAULT '{}';
