-- Cluster-wide: one login role per service. Each role owns its schema in every CRM database and
-- nothing else, so a service cannot read another's tables. Idempotent.
DO $$
DECLARE
  service text;
BEGIN
  FOREACH service IN ARRAY ARRAY['contacts', 'pipeline', 'tasks', 'reporting'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = service) THEN
      EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS',
                     service);
    END IF;
  END LOOP;
END
$$;
