-- Per database: one schema per service, owned by that service's role. Run as a superuser;
-- idempotent. Production operators run the same file once per service database.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
-- Trigram search (contacts). Extensions need a superuser, so the bootstrap creates them.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;
DO $$
DECLARE
  service text;
BEGIN
  FOREACH service IN ARRAY ARRAY['contacts', 'pipeline', 'tasks', 'reporting'] LOOP
    EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', service, service);
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), service);
  END LOOP;
END
$$;
