-- The values of unique custom fields, one row per value a record holds. The primary key is the
-- rule: two records of a tenant's object cannot hold one value of a unique field, whatever the
-- interleaving of their writes (the second insert waits for the first, then fails).
CREATE TABLE custom_field_unique (
  tenant_id   text NOT NULL,
  object_type text NOT NULL,
  key         text NOT NULL,
  -- The compared form (emails case-folded), see fields::UniqueForm.
  value       text NOT NULL,
  -- The holder's resource name ("contacts/<uuid>"), so a conflict names it.
  record      text NOT NULL,
  CONSTRAINT custom_field_unique_value PRIMARY KEY (tenant_id, object_type, key, value)
);
CREATE INDEX custom_field_unique_by_record ON custom_field_unique (tenant_id, object_type, record);

ALTER TABLE custom_field_unique ENABLE ROW LEVEL SECURITY;
ALTER TABLE custom_field_unique FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON custom_field_unique
  USING (tenant_id = current_setting('app.tenant', true))
  WITH CHECK (tenant_id = current_setting('app.tenant', true));
