-- Products, line items on deals, what won deals bought (purchases with contracts), renewals,
-- and the local copy of the tenant settings this service needs.

CREATE TABLE products (
  tenant_id        text NOT NULL,
  id               uuid NOT NULL,
  sku              text NOT NULL,
  display_name     text NOT NULL,
  list_price_minor bigint NOT NULL DEFAULT 0,
  currency_code    text NOT NULL,
  billing          text NOT NULL CHECK (billing IN ('one_time', 'subscription')),
  term_months      integer NOT NULL DEFAULT 0,
  complementary    uuid[] NOT NULL DEFAULT '{}',
  version          bigint NOT NULL DEFAULT 1,
  create_time      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, sku)
);

CREATE TABLE line_items (
  tenant_id        text NOT NULL,
  deal_id          uuid NOT NULL,
  position         integer NOT NULL,
  product_id       uuid NOT NULL,
  quantity         integer NOT NULL CHECK (quantity > 0),
  unit_price_minor bigint NOT NULL,
  currency_code    text NOT NULL,
  PRIMARY KEY (tenant_id, deal_id, position),
  FOREIGN KEY (tenant_id, deal_id) REFERENCES deals (tenant_id, id),
  FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id)
);

-- Generated contract numbers count per tenant; the row lock orders concurrent wins.
CREATE TABLE contract_counters (
  tenant_id text PRIMARY KEY,
  last      bigint NOT NULL
);

CREATE TABLE purchases (
  tenant_id        text NOT NULL,
  id               uuid NOT NULL,
  deal_id          uuid NOT NULL,
  product_id       uuid NOT NULL,
  contract_number  text NOT NULL,
  billing          text NOT NULL,
  term_months      integer NOT NULL,
  quantity         integer NOT NULL,
  unit_price_minor bigint NOT NULL,
  currency_code    text NOT NULL,
  start_date       date NOT NULL,
  end_date         date,
  contact_id       uuid,
  company_id       uuid,
  owner            text NOT NULL,
  renewal_deal_id  uuid,
  create_time      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, contract_number),
  FOREIGN KEY (tenant_id, deal_id) REFERENCES deals (tenant_id, id),
  FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id)
);
-- The renewal job's work list: subscriptions without a renewal yet, by end date.
CREATE INDEX purchases_renewal_due ON purchases (end_date)
  WHERE billing = 'subscription' AND renewal_deal_id IS NULL;
CREATE INDEX purchases_company ON purchases (tenant_id, company_id) WHERE company_id IS NOT NULL;
CREATE INDEX purchases_contact ON purchases (tenant_id, contact_id) WHERE contact_id IS NOT NULL;

-- Fed by the contacts service's TenantSettingsChanged events; defaults apply until one arrives.
CREATE TABLE tenant_settings (
  tenant_id         text PRIMARY KEY,
  renewal_lead_days integer NOT NULL,
  default_currency  text NOT NULL,
  time_zone         text NOT NULL
);

ALTER TABLE products ENABLE ROW LEVEL SECURITY;
ALTER TABLE products FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON products
  USING (tenant_id = current_setting('app.tenant', true))
  WITH CHECK (tenant_id = current_setting('app.tenant', true));
ALTER TABLE line_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE line_items FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON line_items
  USING (tenant_id = current_setting('app.tenant', true))
  WITH CHECK (tenant_id = current_setting('app.tenant', true));
ALTER TABLE contract_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE contract_counters FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON contract_counters
  USING (tenant_id = current_setting('app.tenant', true))
  WITH CHECK (tenant_id = current_setting('app.tenant', true));
-- The renewal job finds due purchases across tenants as system; writes stay per tenant.
ALTER TABLE purchases ENABLE ROW LEVEL SECURITY;
ALTER TABLE purchases FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_or_system ON purchases
  USING (tenant_id = current_setting('app.tenant', true)
         OR current_setting('app.all_tenants', true) = 'on')
  WITH CHECK (tenant_id = current_setting('app.tenant', true));
ALTER TABLE tenant_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_or_system ON tenant_settings
  USING (tenant_id = current_setting('app.tenant', true)
         OR current_setting('app.all_tenants', true) = 'on')
  WITH CHECK (tenant_id = current_setting('app.tenant', true));
