-- The activity timeline, merge tombstones, search, segments and imports.

ALTER TABLE contacts
  ADD COLUMN last_contacted_time timestamptz,
  ADD COLUMN last_contacted_by   text NOT NULL DEFAULT '',
  ADD COLUMN merged_into         uuid,
  -- Names, emails, phones and the company's name, written by the service on every change.
  ADD COLUMN search_text         text NOT NULL DEFAULT '';

-- Trigram GiST indexes serve partial and misspelled input in any script, nearest first
-- (KNN: ORDER BY query <<-> text), within the tenant (btree_gist for tenant_id); lower() keeps
-- them case-insensitive. The extensions come from the database bootstrap (superuser only).
CREATE INDEX contacts_search_trgm ON contacts
  USING gist (tenant_id, lower(search_text) public.gist_trgm_ops) WHERE delete_time IS NULL;
CREATE INDEX companies_name_trgm ON companies
  USING gist (tenant_id, lower(display_name) public.gist_trgm_ops) WHERE delete_time IS NULL;
-- Likely-duplicate look-ups: same name (case-insensitive) within a tenant.
CREATE INDEX contacts_name ON contacts (tenant_id, lower(given_name), lower(family_name))
  WHERE delete_time IS NULL;

CREATE TABLE activities (
  tenant_id         text NOT NULL,
  id                uuid NOT NULL,
  kind              text NOT NULL CHECK (kind IN ('call', 'email', 'meeting', 'note')),
  contact_id        uuid NOT NULL,
  company_id        uuid,
  opportunity       text NOT NULL DEFAULT '',
  author            text NOT NULL,
  occur_time        timestamptz NOT NULL,
  duration_ms       bigint NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
  outcome           text NOT NULL DEFAULT '',
  subject           text NOT NULL DEFAULT '',
  body              text NOT NULL DEFAULT '',
  create_request_id text,
  create_time       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id),
  FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id)
);
-- Timelines newest first, paged by (occur_time, id).
CREATE INDEX activities_contact_timeline ON activities (tenant_id, contact_id, occur_time DESC, id DESC);
CREATE INDEX activities_company_timeline ON activities (tenant_id, company_id, occur_time DESC, id DESC)
  WHERE company_id IS NOT NULL;
CREATE UNIQUE INDEX activities_request_key ON activities (tenant_id, create_request_id)
  WHERE create_request_id IS NOT NULL;

CREATE TABLE segments (
  tenant_id         text NOT NULL,
  id                uuid NOT NULL,
  display_name      text NOT NULL,
  filter            text NOT NULL,
  owner             text NOT NULL,
  create_request_id text,
  version           bigint NOT NULL DEFAULT 1,
  create_time       timestamptz NOT NULL DEFAULT now(),
  update_time       timestamptz NOT NULL DEFAULT now(),
  delete_time       timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX segments_request_key ON segments (tenant_id, create_request_id)
  WHERE create_request_id IS NOT NULL;

-- Finished imports by client id: a retried import returns the stored report.
CREATE TABLE imports (
  tenant_id   text NOT NULL,
  import_id   text NOT NULL,
  author      text NOT NULL,
  report      bytea NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, import_id)
);

ALTER TABLE activities ENABLE ROW LEVEL SECURITY;
ALTER TABLE activities FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON activities
  USING (tenant_id = current_setting('app.tenant', true))
  WITH CHECK (tenant_id = current_setting('app.tenant', true));

ALTER TABLE segments ENABLE ROW LEVEL SECURITY;
ALTER TABLE segments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON segments
  USING (tenant_id = current_setting('app.tenant', true))
  WITH CHECK (tenant_id = current_setting('app.tenant', true));

ALTER TABLE imports ENABLE ROW LEVEL SECURITY;
ALTER TABLE imports FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON imports
  USING (tenant_id = current_setting('app.tenant', true))
  WITH CHECK (tenant_id = current_setting('app.tenant', true));
UPDATE contacts SET search_text = concat_ws(' ', given_name, family_name, array_to_string(emails, ' '), array_to_string(phones, ' '));
