#!/bin/sh
# PostgreSQL image init step for deploy/compose.yaml: the service roles (bootstrap_roles.sql) get
# the compose password, since the image's network connections need one.
set -e
for role in contacts pipeline tasks reporting; do
  psql -v ON_ERROR_STOP=1 -U postgres -d crm -c "ALTER ROLE $role PASSWORD '$POSTGRES_PASSWORD'"
done
