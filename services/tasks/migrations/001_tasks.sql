-- Tasks and their reminders, the notifications fired reminders become, and webhooks.
--
-- Every table is under row-level security by tenant. The scheduler and the webhook dispatcher
-- work across tenants, so the policies also admit a transaction that set app.all_tenants (only
-- the service's own background jobs do).

CREATE TABLE tasks (
  tenant_id          text NOT NULL,
  id                 uuid NOT NULL,
  title              text NOT NULL,
  description        text NOT NULL DEFAULT '',
  assignee           text NOT NULL,
  creator            text NOT NULL,
  contact_id         uuid,
  company_id         uuid,
  deal_id            uuid,
  priority           text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
  status             text NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
  due_time           timestamptz,
  reminder_time      timestamptz,
  -- True while the reminder for reminder_time is still to fire: set when a reminder is set or
  -- moved on an open task, cleared when it fires or the task is done, cancelled or deleted.
  reminder_pending   boolean NOT NULL DEFAULT false,
  reminder_fire_time timestamptz,
  time_zone          text NOT NULL DEFAULT 'UTC',
  complete_time      timestamptz,
  origin             text NOT NULL DEFAULT '',
  -- Tasks made from events carry the event's subject here, so each is made once.
  origin_key         text,
  create_request_id  text,
  version            bigint NOT NULL DEFAULT 1,
  create_time        timestamptz NOT NULL DEFAULT now(),
  update_time        timestamptz NOT NULL DEFAULT now(),
  delete_time        timestamptz,
  PRIMARY KEY (tenant_id, id),
  CHECK (NOT reminder_pending OR reminder_time IS NOT NULL)
);
-- A request id is its creator's: two users reusing "1" get two tasks.
CREATE UNIQUE INDEX tasks_request_key ON tasks (tenant_id, creator, create_request_id)
  WHERE create_request_id IS NOT NULL;
CREATE UNIQUE INDEX tasks_origin_key ON tasks (tenant_id, origin_key) WHERE origin_key IS NOT NULL;
CREATE INDEX tasks_assignee_due ON tasks (tenant_id, assignee, due_time) WHERE delete_time IS NULL;
CREATE INDEX tasks_contact ON tasks (tenant_id, contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX tasks_deal ON tasks (tenant_id, deal_id) WHERE deal_id IS NOT NULL;
-- The scheduler's queue across tenants: armed reminders only, so it stays small.
CREATE INDEX tasks_armed_reminders ON tasks (reminder_time) WHERE reminder_pending;

-- Names of contacts and companies as the contacts service last published them, so a task reads
-- "call Anna Petrosyan, Acme" without a call to that service.
CREATE TABLE contact_names (
  tenant_id    text NOT NULL,
  contact_id   uuid NOT NULL,
  display_name text NOT NULL,
  company_id   uuid,
  PRIMARY KEY (tenant_id, contact_id)
);

CREATE TABLE company_names (
  tenant_id    text NOT NULL,
  company_id   uuid NOT NULL,
  display_name text NOT NULL,
  PRIMARY KEY (tenant_id, company_id)
);

CREATE TABLE notifications (
  tenant_id   text NOT NULL,
  id          uuid NOT NULL,
  recipient   text NOT NULL,
  task_id     uuid NOT NULL,
  title       text NOT NULL,
  body        text NOT NULL,
  due_time    timestamptz NOT NULL,
  late        boolean NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now(),
  read_time   timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX notifications_inbox ON notifications (tenant_id, recipient, id);
CREATE INDEX notifications_recent ON notifications (tenant_id, recipient, create_time);

CREATE TABLE webhooks (
  tenant_id   text NOT NULL,
  id          uuid NOT NULL,
  url         text NOT NULL,
  description text NOT NULL DEFAULT '',
  secret      text NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now(),
  delete_time timestamptz,
  PRIMARY KEY (tenant_id, id)
);

-- One notification on its way to one webhook. A dispatcher claims a due delivery by moving
-- next_attempt_time past its attempt's timeout (a lease), so a replica that dies mid-attempt
-- leaves it to another.
CREATE TABLE webhook_deliveries (
  tenant_id         text NOT NULL,
  id                uuid NOT NULL,
  webhook_id        uuid NOT NULL,
  notification_id   uuid NOT NULL,
  body              text NOT NULL,
  state             text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'succeeded', 'failed')),
  attempts          integer NOT NULL DEFAULT 0,
  next_attempt_time timestamptz NOT NULL DEFAULT now(),
  create_time       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, webhook_id) REFERENCES webhooks (tenant_id, id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_time)
  WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (tenant_id, webhook_id, id);

CREATE TABLE webhook_attempts (
  tenant_id    text NOT NULL,
  delivery_id  uuid NOT NULL,
  attempt      integer NOT NULL,
  attempt_time timestamptz NOT NULL,
  http_status  integer NOT NULL,
  error        text NOT NULL,
  duration_ms  bigint NOT NULL,
  PRIMARY KEY (tenant_id, delivery_id, attempt),
  FOREIGN KEY (tenant_id, delivery_id) REFERENCES webhook_deliveries (tenant_id, id)
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tasks', 'contact_names', 'company_names', 'notifications',
                           'webhooks', 'webhook_deliveries', 'webhook_attempts'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_or_system ON %I
      USING (tenant_id = current_setting('app.tenant', true)
             OR current_setting('app.all_tenants', true) = 'on')
      WITH CHECK (tenant_id = current_setting('app.tenant', true)
                  OR current_setting('app.all_tenants', true) = 'on')$p$, t);
  END LOOP;
END $$;
