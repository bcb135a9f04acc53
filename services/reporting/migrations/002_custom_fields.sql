-- The custom field values of deals and contacts as their events carry them (proto3 JSON, the
-- form the owning services store), for reports grouped by or summing a custom field. Facts
-- applied before this migration have none until the read models are rebuilt from the outbox.
ALTER TABLE deals ADD COLUMN custom_fields jsonb NOT NULL DEFAULT '{}';
ALTER TABLE contacts ADD COLUMN custom_fields jsonb NOT NULL DEFAULT '{}';
