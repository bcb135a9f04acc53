-- Values of the tenant's custom fields of products, kept as deals keep theirs (004).
ALTER TABLE products
  ADD COLUMN custom_fields jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN archived_custom_fields jsonb NOT NULL DEFAULT '{}';
