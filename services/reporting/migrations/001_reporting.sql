-- Read models of the reporting service, fed only by the other services' events (never by
-- reading their tables). Every handler is idempotent: facts are upserts keyed by the source's id
-- and applied only when newer (by the record's version), history rows are keyed by what they
-- record, and rollups change by the difference a fact's change makes. So a replay from position 0
-- into empty tables (a rebuild) reproduces the same figures.

CREATE TABLE tenant_settings (
  tenant_id               text PRIMARY KEY,
  time_zone               text NOT NULL DEFAULT 'UTC',
  fiscal_year_start_month integer NOT NULL DEFAULT 1 CHECK (fiscal_year_start_month BETWEEN 1 AND 12)
);

CREATE TABLE stages (
  tenant_id           text NOT NULL,
  stage_id            uuid NOT NULL,
  pipeline_id         uuid NOT NULL,
  position            integer NOT NULL,
  display_name        text NOT NULL,
  kind                text NOT NULL,
  forecast_category   text NOT NULL,
  probability_percent integer NOT NULL,
  PRIMARY KEY (tenant_id, stage_id)
);

CREATE TABLE deals (
  tenant_id           text NOT NULL,
  deal_id             uuid NOT NULL,
  version             bigint NOT NULL,
  owner               text NOT NULL,
  pipeline_id         uuid,
  stage_id            uuid,
  amount_minor        bigint NOT NULL,
  currency_code       text NOT NULL,
  probability_percent integer NOT NULL,
  lead_source         text NOT NULL,
  expected_close_date date,
  create_time         timestamptz NOT NULL,
  close_time          timestamptz,
  -- 'open', 'won' or 'lost' (from the stage kind the deal is in).
  outcome             text NOT NULL,
  deleted             boolean NOT NULL DEFAULT false,
  PRIMARY KEY (tenant_id, deal_id)
);
CREATE INDEX deals_expected_close ON deals (tenant_id, expected_close_date) WHERE NOT deleted;
CREATE INDEX deals_close_time ON deals (tenant_id, close_time) WHERE close_time IS NOT NULL;

-- Each time a deal entered a stage, and when it left it (time in stage, conversion).
CREATE TABLE stage_entries (
  tenant_id  text NOT NULL,
  deal_id    uuid NOT NULL,
  stage_id   uuid NOT NULL,
  enter_time timestamptz NOT NULL,
  leave_time timestamptz,
  PRIMARY KEY (tenant_id, deal_id, enter_time, stage_id)
);
CREATE INDEX stage_entries_enter ON stage_entries (tenant_id, enter_time);

-- Closed deals per local day (in the tenant's time zone), owner, currency, source and outcome:
-- what won/lost reports sum, so a year by month by rep reads hundreds of rows, not a million.
CREATE TABLE closed_deals_daily (
  tenant_id     text NOT NULL,
  day           date NOT NULL,
  owner         text NOT NULL,
  currency_code text NOT NULL,
  lead_source   text NOT NULL,
  outcome       text NOT NULL,
  deals         bigint NOT NULL,
  amount_minor  bigint NOT NULL,
  cycle_seconds bigint NOT NULL,
  PRIMARY KEY (tenant_id, day, owner, currency_code, lead_source, outcome)
);

CREATE TABLE activities (
  tenant_id   text NOT NULL,
  activity_id uuid NOT NULL,
  kind        text NOT NULL,
  author      text NOT NULL,
  occur_time  timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, activity_id)
);
CREATE INDEX activities_occur ON activities (tenant_id, occur_time);

-- Activities per local day, author and kind: what activity reports sum.
CREATE TABLE activities_daily (
  tenant_id  text NOT NULL,
  day        date NOT NULL,
  author     text NOT NULL,
  kind       text NOT NULL,
  activities bigint NOT NULL,
  PRIMARY KEY (tenant_id, day, author, kind)
);

CREATE TABLE tasks (
  tenant_id     text NOT NULL,
  task_id       uuid NOT NULL,
  version       bigint NOT NULL,
  assignee      text NOT NULL,
  status        text NOT NULL,
  create_time   timestamptz NOT NULL,
  due_time      timestamptz,
  complete_time timestamptz,
  deleted       boolean NOT NULL DEFAULT false,
  PRIMARY KEY (tenant_id, task_id)
);

CREATE TABLE contacts (
  tenant_id       text NOT NULL,
  contact_id      uuid NOT NULL,
  version         bigint NOT NULL,
  owner           text NOT NULL,
  lead_source     text NOT NULL,
  lifecycle_stage text NOT NULL,
  create_time     timestamptz NOT NULL,
  deleted         boolean NOT NULL DEFAULT false,
  PRIMARY KEY (tenant_id, contact_id)
);
CREATE INDEX contacts_created ON contacts (tenant_id, create_time);

-- How far each source's events have been applied (the reports' freshness). Positions and times
-- only; no tenant data.
CREATE TABLE source_progress (
  source     text PRIMARY KEY,
  position   bigint NOT NULL DEFAULT 0,
  event_time timestamptz
);
INSERT INTO source_progress (source) VALUES ('contacts'), ('pipeline'), ('tasks');

CREATE TABLE report_schedules (
  tenant_id     text NOT NULL,
  id            uuid NOT NULL,
  display_name  text NOT NULL,
  spec          bytea NOT NULL,
  next_run_time timestamptz NOT NULL,
  create_time   timestamptz NOT NULL DEFAULT now(),
  delete_time   timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX report_schedules_due ON report_schedules (next_run_time) WHERE delete_time IS NULL;

-- One run per schedule and period: the unique key makes a second replica's run a no-op.
CREATE TABLE report_runs (
  tenant_id   text NOT NULL,
  id          uuid NOT NULL,
  schedule_id uuid NOT NULL,
  period_from date NOT NULL,
  report      bytea NOT NULL,
  run_time    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, schedule_id, period_from),
  FOREIGN KEY (tenant_id, schedule_id) REFERENCES report_schedules (tenant_id, id)
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tenant_settings', 'stages', 'deals', 'stage_entries',
                           'closed_deals_daily', 'activities', 'activities_daily', 'tasks',
                           'contacts',
                           'report_schedules', 'report_runs'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_or_system ON %I
      USING (tenant_id = current_setting('app.tenant', true)
             OR current_setting('app.all_tenants', true) = 'on')
      WITH CHECK (tenant_id = current_setting('app.tenant', true)
                  OR current_setting('app.all_tenants', true) = 'on')$p$, t);
  END LOOP;
END $$;
