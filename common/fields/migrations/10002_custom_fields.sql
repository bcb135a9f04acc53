-- Custom field definitions, in the schema of every service whose objects carry them. Values live
-- on the records themselves (a `custom_fields` jsonb column of each object's table).
CREATE TABLE custom_fields (
  tenant_id   text NOT NULL,
  object_type text NOT NULL,
  key         text NOT NULL,
  -- The crm.common.v1.CustomFieldDefinition in proto3 JSON, without name, times and etag.
  definition  jsonb NOT NULL,
  version     bigint NOT NULL DEFAULT 1,
  create_time timestamptz NOT NULL,
  update_time timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, object_type, key)
);

-- Bumped by every change to an object's definitions. A write of a record validated against
-- cached definitions checks, in its own transaction, that the version it used is still current.
CREATE TABLE custom_field_versions (
  tenant_id   text NOT NULL,
  object_type text NOT NULL,
  version     bigint NOT NULL,
  PRIMARY KEY (tenant_id, object_type)
);

ALTER TABLE custom_fields ENABLE ROW LEVEL SECURITY;
ALTER TABLE custom_fields FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON custom_fields
  USING (tenant_id = current_setting('app.tenant', true))
  WITH CHECK (tenant_id = current_setting('app.tenant', true));

ALTER TABLE custom_field_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE custom_field_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON custom_field_versions
  USING (tenant_id = current_setting('app.tenant', true))
  WITH CHECK (tenant_id = current_setting('app.tenant', true));

-- Writers of records hold the object's lock shared, changes of definitions hold it exclusively,
-- so a record is never written against definitions that changed under it. Each statement of a
-- volatile function takes its own snapshot: the version is read after the lock is granted.
CREATE FUNCTION custom_fields_lock_key(p_tenant text, p_object text) RETURNS bigint
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT hashtextextended(current_schema() || '/' || p_tenant || '/' || p_object, 0) $$
  SET search_path FROM CURRENT;

CREATE FUNCTION custom_fields_check_version(p_object text, p_version bigint) RETURNS void
  LANGUAGE plpgsql VOLATILE
  AS $$
DECLARE
  current_version bigint;
BEGIN
  PERFORM pg_advisory_xact_lock_shared(
    custom_fields_lock_key(current_setting('app.tenant', true), p_object));
  SELECT version INTO current_version FROM custom_field_versions
    WHERE tenant_id = current_setting('app.tenant', true) AND object_type = p_object;
  IF coalesce(current_version, 0) <> p_version THEN
    RAISE EXCEPTION 'custom field definitions changed during the write; retry'
      USING ERRCODE = '40001';
  END IF;
END
$$
  SET search_path FROM CURRENT;
