-- Pipelines and their stages, deals, and the stage history every move is recorded in.

CREATE TABLE pipelines (
  tenant_id         text NOT NULL,
  id                uuid NOT NULL,
  display_name      text NOT NULL,
  is_default        boolean NOT NULL DEFAULT false,
  create_request_id text,
  version           bigint NOT NULL DEFAULT 1,
  create_time       timestamptz NOT NULL DEFAULT now(),
  update_time       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
-- One default pipeline per tenant, created on first use: the index makes concurrent first uses
-- agree on one.
CREATE UNIQUE INDEX pipelines_default ON pipelines (tenant_id) WHERE is_default;
CREATE UNIQUE INDEX pipelines_request_key ON pipelines (tenant_id, create_request_id)
  WHERE create_request_id IS NOT NULL;

CREATE TABLE stages (
  tenant_id           text NOT NULL,
  id                  uuid NOT NULL,
  pipeline_id         uuid NOT NULL,
  position            integer NOT NULL,
  display_name        text NOT NULL,
  probability_percent integer NOT NULL CHECK (probability_percent BETWEEN 0 AND 100),
  forecast_category   text NOT NULL,
  kind                text NOT NULL CHECK (kind IN ('open', 'won', 'lost')),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, pipeline_id) REFERENCES pipelines (tenant_id, id)
);
CREATE INDEX stages_pipeline ON stages (tenant_id, pipeline_id, position);

CREATE TABLE deals (
  tenant_id              text NOT NULL,
  id                     uuid NOT NULL,
  display_name           text NOT NULL,
  contact_id             uuid,
  company_id             uuid,
  owner                  text NOT NULL,
  creator                text NOT NULL,
  amount_minor           bigint NOT NULL DEFAULT 0,
  currency_code          text NOT NULL,
  expected_close_date    date,
  pipeline_id            uuid NOT NULL,
  stage_id               uuid NOT NULL,
  probability_percent    integer NOT NULL CHECK (probability_percent BETWEEN 0 AND 100),
  probability_overridden boolean NOT NULL DEFAULT false,
  next_step              text NOT NULL DEFAULT '',
  lead_source            text NOT NULL DEFAULT '',
  lost_reason            text NOT NULL DEFAULT '',
  close_time             timestamptz,
  contact_missing        boolean NOT NULL DEFAULT false,
  create_request_id      text,
  version                bigint NOT NULL DEFAULT 1,
  create_time            timestamptz NOT NULL DEFAULT now(),
  update_time            timestamptz NOT NULL DEFAULT now(),
  delete_time            timestamptz,
  PRIMARY KEY (tenant_id, id),
  -- A stage holding deals cannot be removed before its deals are moved.
  FOREIGN KEY (tenant_id, stage_id) REFERENCES stages (tenant_id, id),
  FOREIGN KEY (tenant_id, pipeline_id) REFERENCES pipelines (tenant_id, id)
);
CREATE UNIQUE INDEX deals_request_key ON deals (tenant_id, create_request_id)
  WHERE create_request_id IS NOT NULL;
CREATE INDEX deals_contact ON deals (tenant_id, contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX deals_company ON deals (tenant_id, company_id) WHERE company_id IS NOT NULL;

-- Every move, written in the move's transaction. Stage ids are kept even after a stage is
-- removed, so time in stage stays derivable.
CREATE TABLE stage_history (
  tenant_id   text NOT NULL,
  id          uuid NOT NULL,
  deal_id     uuid NOT NULL,
  from_stage  uuid,
  to_stage    uuid NOT NULL,
  actor       text NOT NULL,
  change_time timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, deal_id) REFERENCES deals (tenant_id, id)
);
CREATE INDEX stage_history_deal ON stage_history (tenant_id, deal_id, change_time, id);

ALTER TABLE pipelines ENABLE ROW LEVEL SECURITY;
ALTER TABLE pipelines FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pipelines
  USING (tenant_id = current_setting('app.tenant', true))
  WITH CHECK (tenant_id = current_setting('app.tenant', true));
ALTER TABLE stages ENABLE ROW LEVEL SECURITY;
ALTER TABLE stages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON stages
  USING (tenant_id = current_setting('app.tenant', true))
  WITH CHECK (tenant_id = current_setting('app.tenant', true));
ALTER TABLE deals ENABLE ROW LEVEL SECURITY;
ALTER TABLE deals FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON deals
  USING (tenant_id = current_setting('app.tenant', true))
  WITH CHECK (tenant_id = current_setting('app.tenant', true));
ALTER TABLE stage_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE stage_history FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON stage_history
  USING (tenant_id = current_setting('app.tenant', true))
  WITH CHECK (tenant_id = current_setting('app.tenant', true));
