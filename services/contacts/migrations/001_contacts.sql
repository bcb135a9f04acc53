-- Companies, contacts and the unique keys that make duplicate leads impossible by construction.
-- Every key leads with tenant_id (sharding by tenant stays possible); row-level security on
-- app.tenant is the second wall behind the tenant filter every query carries.

CREATE TABLE tenant_settings (
  tenant_id               text PRIMARY KEY,
  display_name            text NOT NULL DEFAULT '',
  default_phone_region    text NOT NULL,
  time_zone               text NOT NULL,
  default_currency        text NOT NULL,
  fiscal_year_start_month integer NOT NULL CHECK (fiscal_year_start_month BETWEEN 1 AND 12),
  renewal_lead_days       integer NOT NULL CHECK (renewal_lead_days BETWEEN 0 AND 3650),
  version                 bigint NOT NULL DEFAULT 1,
  update_time             timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE companies (
  tenant_id         text NOT NULL,
  id                uuid NOT NULL,
  display_name      text NOT NULL,
  domain            text,
  industry          text NOT NULL DEFAULT '',
  owner             text NOT NULL,
  creator           text NOT NULL,
  lifecycle_stage   text NOT NULL DEFAULT '',
  lead_source       text NOT NULL DEFAULT '',
  campaign          text NOT NULL DEFAULT '',
  tags              text[] NOT NULL DEFAULT '{}',
  attributes        jsonb NOT NULL DEFAULT '{}',
  create_request_id text,
  version           bigint NOT NULL DEFAULT 1,
  create_time       timestamptz NOT NULL DEFAULT now(),
  update_time       timestamptz NOT NULL DEFAULT now(),
  delete_time       timestamptz,
  PRIMARY KEY (tenant_id, id)
);
-- A deleted company frees its domain.
CREATE UNIQUE INDEX companies_domain_key ON companies (tenant_id, domain)
  WHERE domain IS NOT NULL AND delete_time IS NULL;
CREATE UNIQUE INDEX companies_request_key ON companies (tenant_id, create_request_id)
  WHERE create_request_id IS NOT NULL;

CREATE TABLE contacts (
  tenant_id         text NOT NULL,
  id                uuid NOT NULL,
  given_name        text NOT NULL DEFAULT '',
  family_name       text NOT NULL DEFAULT '',
  emails            text[] NOT NULL DEFAULT '{}',
  phones            text[] NOT NULL DEFAULT '{}',
  company_id        uuid,
  job_title         text NOT NULL DEFAULT '',
  owner             text NOT NULL,
  creator           text NOT NULL,
  lifecycle_stage   text NOT NULL DEFAULT '',
  lead_source       text NOT NULL DEFAULT '',
  campaign          text NOT NULL DEFAULT '',
  tags              text[] NOT NULL DEFAULT '{}',
  attributes        jsonb NOT NULL DEFAULT '{}',
  create_request_id text,
  version           bigint NOT NULL DEFAULT 1,
  create_time       timestamptz NOT NULL DEFAULT now(),
  update_time       timestamptz NOT NULL DEFAULT now(),
  delete_time       timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id)
);
CREATE UNIQUE INDEX contacts_request_key ON contacts (tenant_id, create_request_id)
  WHERE create_request_id IS NOT NULL;
CREATE INDEX contacts_company ON contacts (tenant_id, company_id) WHERE company_id IS NOT NULL;

-- One row per live email or phone: the primary key is the dedup guarantee, enforced by the
-- database under any concurrency (never check-then-insert). A contact's rows go when it is
-- deleted, so the address can be used again.
CREATE TABLE contact_keys (
  tenant_id  text NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('email', 'phone')),
  value      text NOT NULL,
  contact_id uuid NOT NULL,
  PRIMARY KEY (tenant_id, kind, value),
  FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id)
);
CREATE INDEX contact_keys_contact ON contact_keys (tenant_id, contact_id);

ALTER TABLE tenant_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_settings
  USING (tenant_id = current_setting('app.tenant', true))
  WITH CHECK (tenant_id = current_setting('app.tenant', true));

ALTER TABLE companies ENABLE ROW LEVEL SECURITY;
ALTER TABLE companies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON companies
  USING (tenant_id = current_setting('app.tenant', true))
  WITH CHECK (tenant_id = current_setting('app.tenant', true));

ALTER TABLE contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE contacts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON contacts
  USING (tenant_id = current_setting('app.tenant', true))
  WITH CHECK (tenant_id = current_setting('app.tenant', true));

ALTER TABLE contact_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE contact_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON contact_keys
  USING (tenant_id = current_setting('app.tenant', true))
  WITH CHECK (tenant_id = current_setting('app.tenant', true));
