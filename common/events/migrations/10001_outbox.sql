-- The transactional outbox and the consumer checkpoints, in every service's own schema.
--
-- position = (transaction id << 20) + ordinal within the transaction. The stream hands out only
-- positions below the oldest transaction still in flight (pg_snapshot_xmin), so an event is never
-- skipped when transactions commit out of order. The outbox is the service's one log across
-- tenants, so its key is the position; tenant_id is still on every row (and under RLS).
CREATE TABLE outbox (
  position       bigint PRIMARY KEY,
  event_id       uuid NOT NULL,
  tenant_id      text NOT NULL,
  aggregate_type text NOT NULL,
  aggregate_id   text NOT NULL,
  event_type     text NOT NULL,
  actor          text NOT NULL DEFAULT '',
  occurred_at    timestamptz NOT NULL,
  payload        bytea NOT NULL
);
CREATE INDEX outbox_occurred_at ON outbox (occurred_at);
-- A tenant's subscriber reads only its rows, however quiet it is among busy tenants.
CREATE INDEX outbox_tenant_position ON outbox (tenant_id, position);

-- The highest position retention has deleted: a subscriber asking for older events is told so.
CREATE TABLE outbox_retention (
  singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  pruned_through bigint NOT NULL DEFAULT 0
);
INSERT INTO outbox_retention DEFAULT VALUES;

ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox FORCE ROW LEVEL SECURITY;
-- Producers write their own tenant's events; the stream reads a tenant's, or all as system.
CREATE POLICY tenant_or_system ON outbox
  USING (tenant_id = current_setting('app.tenant', true)
         OR current_setting('app.all_tenants', true) = 'on')
  WITH CHECK (tenant_id = current_setting('app.tenant', true)
              OR current_setting('app.all_tenants', true) = 'on');

-- Where each consumer of other services' streams has got to, committed with each effect.
CREATE TABLE consumer_checkpoints (
  consumer   text PRIMARY KEY,
  position   bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Events a consumer could not apply (a permanent error), kept for an operator to look at.
CREATE TABLE consumer_dead_letters (
  consumer    text NOT NULL,
  position    bigint NOT NULL,
  event_id    uuid NOT NULL,
  event_type  text NOT NULL,
  error       text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, position)
);
