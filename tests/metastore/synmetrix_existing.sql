-- A metadata database as Synmetrix's Hasura migrations leave it (written by hand for the adoption
-- test, in the style of those migrations: Hasura-generated CREATE TABLEs, constraints added by
-- create_constraint_if_not_exists, the hdb_catalog schema Hasura keeps next to it), with data.
-- sqlgate must adopt it: keep every row and object, drop nothing, add only sqlgate's own column.

CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE EXTENSION IF NOT EXISTS citext;
CREATE SCHEMA IF NOT EXISTS auth;
CREATE SCHEMA IF NOT EXISTS hdb_catalog;

CREATE TABLE hdb_catalog.hdb_version (
  hasura_uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  version text NOT NULL,
  upgraded_on timestamptz NOT NULL
);
INSERT INTO hdb_catalog.hdb_version (version, upgraded_on) VALUES ('47', now());

CREATE OR REPLACE FUNCTION create_constraint_if_not_exists (t_name text, c_name text, constraint_sql text)
  RETURNS void AS $BODY$
  BEGIN
    IF NOT EXISTS (SELECT constraint_name FROM information_schema.constraint_column_usage
                   WHERE constraint_name = c_name) THEN
        EXECUTE 'ALTER TABLE ' || t_name || ' ADD CONSTRAINT ' || c_name || ' ' || constraint_sql;
    END IF;
  END;
$BODY$ LANGUAGE plpgsql VOLATILE;

CREATE OR REPLACE FUNCTION "public"."set_current_timestamp_updated_at"()
RETURNS TRIGGER AS $$
BEGIN
  NEW."updated_at" = NOW();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

-- auth (hasura-backend-plus) -------------------------------------------------------------------
CREATE TABLE "public"."users" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), "display_name" text, "avatar_url" text);
CREATE TABLE "auth"."roles" ("role" text NOT NULL);
CREATE TABLE "auth"."providers" ("provider" text NOT NULL);
CREATE TABLE "auth"."accounts" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), "user_id" uuid NOT NULL, "active" boolean NOT NULL DEFAULT false, "email" citext, "new_email" citext, "password_hash" text, "default_role" text NOT NULL DEFAULT 'user', "is_anonymous" boolean NOT NULL DEFAULT false, "custom_register_data" jsonb, "otp_secret" text, "mfa_enabled" boolean NOT NULL DEFAULT false, "ticket" uuid NOT NULL DEFAULT gen_random_uuid(), "ticket_expires_at" timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT proper_email CHECK (email OPERATOR(public.~*) '^[A-Za-z0-9._+%-]+@[A-Za-z0-9.-]+[.][A-Za-z]+$'::public.citext),
  CONSTRAINT proper_new_email CHECK (new_email OPERATOR(public.~*) '^[A-Za-z0-9._+%-]+@[A-Za-z0-9.-]+[.][A-Za-z]+$'::public.citext));
CREATE TABLE "auth"."account_providers" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), "account_id" uuid NOT NULL, "auth_provider" text NOT NULL, "auth_provider_unique_id" text NOT NULL);
CREATE TABLE "auth"."refresh_tokens" ("refresh_token" uuid NOT NULL, "created_at" timestamptz NOT NULL DEFAULT now(), "expires_at" timestamptz NOT NULL, "account_id" uuid NOT NULL);
CREATE TABLE "auth"."account_roles" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" timestamptz NOT NULL DEFAULT now(), "account_id" uuid NOT NULL, "role" text NOT NULL);

SELECT create_constraint_if_not_exists('auth.account_providers', 'account_providers_account_id_auth_provider_key', 'UNIQUE (account_id, auth_provider);');
SELECT create_constraint_if_not_exists('auth.account_providers', 'account_providers_auth_provider_auth_provider_unique_id_key', 'UNIQUE (auth_provider, auth_provider_unique_id);');
SELECT create_constraint_if_not_exists('auth.account_providers', 'account_providers_pkey', 'PRIMARY KEY (id);');
SELECT create_constraint_if_not_exists('auth.account_roles', 'account_roles_pkey', 'PRIMARY KEY (id);');
SELECT create_constraint_if_not_exists('auth.accounts', 'accounts_email_key', 'UNIQUE (email);');
SELECT create_constraint_if_not_exists('auth.accounts', 'accounts_new_email_key', 'UNIQUE (new_email);');
SELECT create_constraint_if_not_exists('auth.accounts', 'accounts_pkey', 'PRIMARY KEY (id);');
SELECT create_constraint_if_not_exists('auth.accounts', 'accounts_user_id_key', 'UNIQUE (user_id);');
SELECT create_constraint_if_not_exists('auth.providers', 'providers_pkey', 'PRIMARY KEY (provider);');
SELECT create_constraint_if_not_exists('auth.refresh_tokens', 'refresh_tokens_pkey', 'PRIMARY KEY (refresh_token);');
SELECT create_constraint_if_not_exists('auth.roles', 'roles_pkey', 'PRIMARY KEY (role);');
SELECT create_constraint_if_not_exists('auth.account_roles', 'user_roles_account_id_role_key', 'UNIQUE (account_id, role);');
SELECT create_constraint_if_not_exists('public.users', 'users_pkey', 'PRIMARY KEY (id);');
SELECT create_constraint_if_not_exists('auth.account_providers', 'account_providers_account_id_fkey', 'FOREIGN KEY (account_id) REFERENCES auth.accounts(id) ON UPDATE CASCADE ON DELETE CASCADE;');
SELECT create_constraint_if_not_exists('auth.account_providers', 'account_providers_auth_provider_fkey', 'FOREIGN KEY (auth_provider) REFERENCES auth.providers(provider) ON UPDATE RESTRICT ON DELETE RESTRICT;');
SELECT create_constraint_if_not_exists('auth.account_roles', 'account_roles_account_id_fkey', 'FOREIGN KEY (account_id) REFERENCES auth.accounts(id) ON UPDATE CASCADE ON DELETE CASCADE;');
SELECT create_constraint_if_not_exists('auth.account_roles', 'account_roles_role_fkey', 'FOREIGN KEY (role) REFERENCES auth.roles(role) ON UPDATE CASCADE ON DELETE RESTRICT;');
SELECT create_constraint_if_not_exists('auth.accounts', 'accounts_default_role_fkey', 'FOREIGN KEY (default_role) REFERENCES auth.roles(role) ON UPDATE CASCADE ON DELETE RESTRICT;');
SELECT create_constraint_if_not_exists('auth.accounts', 'accounts_user_id_fkey', 'FOREIGN KEY (user_id) REFERENCES public.users(id) ON UPDATE CASCADE ON DELETE CASCADE;');
SELECT create_constraint_if_not_exists('auth.refresh_tokens', 'refresh_tokens_account_id_fkey', 'FOREIGN KEY (account_id) REFERENCES auth.accounts(id) ON UPDATE CASCADE ON DELETE CASCADE;');

CREATE TRIGGER set_auth_account_providers_updated_at BEFORE UPDATE ON auth.account_providers FOR EACH ROW EXECUTE FUNCTION public.set_current_timestamp_updated_at();
CREATE TRIGGER set_auth_accounts_updated_at BEFORE UPDATE ON auth.accounts FOR EACH ROW EXECUTE FUNCTION public.set_current_timestamp_updated_at();
CREATE TRIGGER set_public_users_updated_at BEFORE UPDATE ON public.users FOR EACH ROW EXECUTE FUNCTION public.set_current_timestamp_updated_at();

INSERT INTO auth.roles (role) VALUES ('user'), ('anonymous'), ('me') ON CONFLICT DO NOTHING;
INSERT INTO auth.providers (provider) VALUES ('github'), ('facebook'), ('twitter'), ('google'), ('apple'), ('linkedin'), ('windowslive'), ('spotify') ON CONFLICT DO NOTHING;

-- public ------------------------------------------------------------------------------------------
CREATE TABLE "public"."teams" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text NOT NULL, "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), "user_id" uuid NOT NULL, PRIMARY KEY ("id"), FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON UPDATE cascade ON DELETE cascade, UNIQUE ("user_id", "name"));
CREATE TRIGGER "set_public_teams_updated_at" BEFORE UPDATE ON "public"."teams" FOR EACH ROW EXECUTE PROCEDURE "public"."set_current_timestamp_updated_at"();

CREATE TABLE "public"."datasources" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), "user_id" uuid NOT NULL, "name" text NOT NULL, "db_type" text NOT NULL, "db_params" jsonb NOT NULL DEFAULT '{}'::jsonb, "team_id" uuid, PRIMARY KEY ("id"), FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON UPDATE cascade ON DELETE cascade, FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON UPDATE set null ON DELETE set null);
CREATE TRIGGER "set_public_datasources_updated_at" BEFORE UPDATE ON "public"."datasources" FOR EACH ROW EXECUTE PROCEDURE "public"."set_current_timestamp_updated_at"();

-- Hasura computed field db_params_computed; the parameter name differs from sqlgate's on purpose.
CREATE OR REPLACE FUNCTION public.hide_password(ds datasources) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_set(ds.db_params, '{password}', '""')
$$;

CREATE TABLE "public"."branch_statuses" ("status" text NOT NULL, PRIMARY KEY ("status"));
INSERT INTO "public"."branch_statuses" ("status") VALUES ('active'), ('created'), ('archived');

CREATE TABLE "public"."branches" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), "name" text NOT NULL DEFAULT 'main', "user_id" uuid NOT NULL, "datasource_id" uuid NOT NULL, "status" text NOT NULL DEFAULT 'created', PRIMARY KEY ("id"), FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON UPDATE cascade ON DELETE cascade, FOREIGN KEY ("datasource_id") REFERENCES "public"."datasources"("id") ON UPDATE cascade ON DELETE cascade, FOREIGN KEY ("status") REFERENCES "public"."branch_statuses"("status") ON UPDATE restrict ON DELETE restrict, CONSTRAINT "branches_datasource_id_name_key" UNIQUE ("datasource_id", "name"));
CREATE TRIGGER "set_public_branches_updated_at" BEFORE UPDATE ON "public"."branches" FOR EACH ROW EXECUTE PROCEDURE "public"."set_current_timestamp_updated_at"();

CREATE TABLE "public"."versions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), "branch_id" uuid NOT NULL, "checksum" text NOT NULL, "user_id" uuid NOT NULL, "markdown_doc" text, PRIMARY KEY ("id"), FOREIGN KEY ("branch_id") REFERENCES "public"."branches"("id") ON UPDATE cascade ON DELETE cascade, FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON UPDATE cascade ON DELETE cascade);
CREATE TRIGGER "set_public_versions_updated_at" BEFORE UPDATE ON "public"."versions" FOR EACH ROW EXECUTE PROCEDURE "public"."set_current_timestamp_updated_at"();

CREATE TABLE "public"."dataschemas" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), "user_id" uuid NOT NULL, "datasource_id" uuid NOT NULL, "name" text NOT NULL, "code" text NOT NULL, "checksum" text, "version_id" uuid, CONSTRAINT "dataschemas_pkey" PRIMARY KEY ("id"), FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON UPDATE cascade ON DELETE cascade, FOREIGN KEY ("datasource_id") REFERENCES "public"."datasources"("id") ON UPDATE cascade ON DELETE cascade, FOREIGN KEY ("version_id") REFERENCES "public"."versions"("id") ON UPDATE cascade ON DELETE cascade);
CREATE TRIGGER "set_public_dataschemas_updated_at" BEFORE UPDATE ON "public"."dataschemas" FOR EACH ROW EXECUTE PROCEDURE "public"."set_current_timestamp_updated_at"();
CREATE OR REPLACE FUNCTION public.set_dataschema_checksum() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.checksum = MD5(concat(NEW.name, '-', NEW.code));
  RETURN NEW;
END;
$$;
CREATE TRIGGER set_public_dataschemas_checksum BEFORE INSERT OR UPDATE ON public.dataschemas FOR EACH ROW EXECUTE PROCEDURE public.set_dataschema_checksum();

CREATE TABLE "public"."explorations" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), "user_id" uuid NOT NULL, "datasource_id" uuid NOT NULL, "playground_state" jsonb NOT NULL DEFAULT '{}'::jsonb, "playground_settings" jsonb NOT NULL DEFAULT '{}'::jsonb, "branch_id" uuid, PRIMARY KEY ("id"), FOREIGN KEY ("datasource_id") REFERENCES "public"."datasources"("id") ON UPDATE cascade ON DELETE cascade, FOREIGN KEY ("branch_id") REFERENCES "public"."branches"("id") ON UPDATE cascade ON DELETE cascade);
CREATE TRIGGER "set_public_explorations_updated_at" BEFORE UPDATE ON "public"."explorations" FOR EACH ROW EXECUTE PROCEDURE "public"."set_current_timestamp_updated_at"();

CREATE TABLE "public"."members" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), "user_id" uuid NOT NULL, "team_id" uuid NOT NULL, PRIMARY KEY ("id"), FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON UPDATE no action ON DELETE cascade, FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON UPDATE no action ON DELETE cascade);
ALTER TABLE "public"."members" ADD CONSTRAINT "members_user_id_team_id_key" UNIQUE ("user_id", "team_id");
CREATE TRIGGER "set_public_members_updated_at" BEFORE UPDATE ON "public"."members" FOR EACH ROW EXECUTE PROCEDURE "public"."set_current_timestamp_updated_at"();

CREATE TABLE "public"."team_roles" ("name" text NOT NULL, PRIMARY KEY ("name"));
INSERT INTO "public"."team_roles" ("name") VALUES ('owner'), ('member'), ('admin');

CREATE TABLE "public"."access_lists" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), "config" jsonb NOT NULL DEFAULT jsonb_build_object(), "name" text NOT NULL DEFAULT 'Empty access list', "team_id" uuid NOT NULL, PRIMARY KEY ("id"), FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON UPDATE cascade ON DELETE cascade);
CREATE TRIGGER "set_public_access_lists_updated_at" BEFORE UPDATE ON "public"."access_lists" FOR EACH ROW EXECUTE PROCEDURE "public"."set_current_timestamp_updated_at"();

CREATE TABLE "public"."member_roles" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "member_id" uuid NOT NULL, "team_role" text NOT NULL, "access_list_id" uuid, "created_at" timestamptz DEFAULT now(), "updated_at" timestamptz DEFAULT now(), PRIMARY KEY ("id"), FOREIGN KEY ("member_id") REFERENCES "public"."members"("id") ON UPDATE cascade ON DELETE cascade, FOREIGN KEY ("team_role") REFERENCES "public"."team_roles"("name") ON UPDATE cascade ON DELETE set null, FOREIGN KEY ("access_list_id") REFERENCES "public"."access_lists"("id") ON UPDATE cascade, UNIQUE ("member_id", "team_role"));
CREATE TRIGGER "set_public_member_roles_updated_at" BEFORE UPDATE ON "public"."member_roles" FOR EACH ROW EXECUTE PROCEDURE "public"."set_current_timestamp_updated_at"();

CREATE TABLE "public"."reports" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), "user_id" uuid NOT NULL, "team_id" uuid, "exploration_id" uuid NOT NULL, "name" text NOT NULL, "schedule" text NOT NULL, "delivery_type" text NOT NULL, "delivery_config" jsonb NOT NULL, PRIMARY KEY ("id"), FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON UPDATE cascade ON DELETE cascade, FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON UPDATE cascade ON DELETE cascade, FOREIGN KEY ("exploration_id") REFERENCES "public"."explorations"("id") ON UPDATE cascade ON DELETE cascade);
CREATE TRIGGER "set_public_reports_updated_at" BEFORE UPDATE ON "public"."reports" FOR EACH ROW EXECUTE PROCEDURE "public"."set_current_timestamp_updated_at"();

CREATE TABLE "public"."sql_credentials" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), "datasource_id" uuid NOT NULL, "user_id" uuid NOT NULL, "username" text NOT NULL, "password" text, PRIMARY KEY ("id"), FOREIGN KEY ("datasource_id") REFERENCES "public"."datasources"("id") ON UPDATE no action ON DELETE cascade, FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON UPDATE no action ON DELETE cascade, UNIQUE ("datasource_id", "user_id", "username"));
ALTER TABLE "public"."sql_credentials" ADD CONSTRAINT "sql_credentials_username_key" UNIQUE ("username");
CREATE TRIGGER "set_public_sql_credentials_updated_at" BEFORE UPDATE ON "public"."sql_credentials" FOR EACH ROW EXECUTE PROCEDURE "public"."set_current_timestamp_updated_at"();

CREATE TABLE "public"."alerts" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), "user_id" uuid NOT NULL, "team_id" uuid, "exploration_id" uuid NOT NULL, "name" text NOT NULL, "delivery_type" text NOT NULL, "delivery_config" jsonb NOT NULL, "trigger_config" jsonb NOT NULL, "schedule" text NOT NULL, "locks_config" jsonb NOT NULL DEFAULT jsonb_build_object(), PRIMARY KEY ("id"), FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON UPDATE cascade ON DELETE cascade, FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON UPDATE set null ON DELETE set null, FOREIGN KEY ("exploration_id") REFERENCES "public"."explorations"("id") ON UPDATE cascade ON DELETE cascade);
CREATE TRIGGER "set_public_alerts_updated_at" BEFORE UPDATE ON "public"."alerts" FOR EACH ROW EXECUTE PROCEDURE "public"."set_current_timestamp_updated_at"();

CREATE TABLE "public"."dashboards" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), "user_id" uuid NOT NULL, "name" text NOT NULL, "layout" jsonb, "team_id" uuid, PRIMARY KEY ("id"), FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON UPDATE no action ON DELETE cascade);
CREATE TRIGGER "set_public_dashboards_updated_at" BEFORE UPDATE ON "public"."dashboards" FOR EACH ROW EXECUTE PROCEDURE "public"."set_current_timestamp_updated_at"();

CREATE TABLE "public"."pinned_items" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), "user_id" uuid NOT NULL, "dashboard_id" uuid NOT NULL, "exploration_id" uuid NOT NULL, "name" text NOT NULL, "spec" jsonb NOT NULL DEFAULT '{}'::jsonb, "spec_config" jsonb NOT NULL DEFAULT '{}'::jsonb, PRIMARY KEY ("id"), FOREIGN KEY ("dashboard_id") REFERENCES "public"."dashboards"("id") ON UPDATE cascade ON DELETE cascade, FOREIGN KEY ("exploration_id") REFERENCES "public"."explorations"("id") ON UPDATE cascade ON DELETE cascade);
CREATE TRIGGER "set_public_pinned_items_updated_at" BEFORE UPDATE ON "public"."pinned_items" FOR EACH ROW EXECUTE PROCEDURE "public"."set_current_timestamp_updated_at"();

CREATE TABLE "public"."events" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), "data" jsonb NOT NULL DEFAULT '{}'::jsonb, "page_context" jsonb NOT NULL DEFAULT '{}'::jsonb, "device_context" jsonb NOT NULL DEFAULT '{}'::jsonb, "user" jsonb NOT NULL DEFAULT '{}'::jsonb, PRIMARY KEY ("id"));
CREATE TRIGGER "set_public_events_updated_at" BEFORE UPDATE ON "public"."events" FOR EACH ROW EXECUTE PROCEDURE "public"."set_current_timestamp_updated_at"();

CREATE TABLE IF NOT EXISTS "public"."request_logs" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), "request_id" text NOT NULL, "user_id" uuid NOT NULL, "datasource_id" uuid NOT NULL, "start_time" timestamptz NOT NULL, "end_time" timestamptz NOT NULL, "path" text, PRIMARY KEY ("id"), FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON UPDATE cascade ON DELETE cascade, FOREIGN KEY ("datasource_id") REFERENCES "public"."datasources"("id") ON UPDATE cascade ON DELETE cascade, UNIQUE ("request_id"));
CREATE TRIGGER "set_public_request_logs_updated_at" BEFORE UPDATE ON "public"."request_logs" FOR EACH ROW EXECUTE FUNCTION "public"."set_current_timestamp_updated_at"();
CREATE OR REPLACE FUNCTION public.duration(request_logs_row request_logs) RETURNS double precision LANGUAGE sql STABLE AS $function$
  SELECT EXTRACT(EPOCH FROM request_logs_row.end_time - request_logs_row.start_time) * 1000
$function$;

CREATE TABLE IF NOT EXISTS "public"."request_event_logs" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), "request_id" Text NOT NULL, "event" text NOT NULL, "duration" numeric, "queue_prefix" text, "time_in_queue" numeric, "path" text, "query_key" jsonb DEFAULT jsonb_build_array(), "query_key_md5" text, "query" jsonb, "query_sql" text, "timestamp" timestamptz, "error" text, PRIMARY KEY ("id"), FOREIGN KEY ("request_id") REFERENCES "public"."request_logs"("request_id") ON UPDATE cascade ON DELETE cascade);
CREATE TRIGGER "set_public_request_event_logs_updated_at" BEFORE UPDATE ON "public"."request_event_logs" FOR EACH ROW EXECUTE PROCEDURE "public"."set_current_timestamp_updated_at"();
CREATE INDEX IF NOT EXISTS request_event_logs_request_id_index ON public.request_event_logs USING hash (request_id);

-- data (shaped like Synmetrix's seed) -------------------------------------------------------------
INSERT INTO public.users (id, display_name) VALUES ('bd254cd6-1111-4c5e-9a1e-000000000001', 'demo@synmetrix.org');
INSERT INTO auth.accounts (id, user_id, active, email, password_hash, default_role)
  VALUES ('bd254cd6-2222-4c5e-9a1e-000000000001', 'bd254cd6-1111-4c5e-9a1e-000000000001', true, 'demo@synmetrix.org',
          '$2a$10$8Jl7vxOQe3rA3xq0M2m9y.2C5sxXh7J6Rr8XN8mTQ2nWm0pYv0J8W', 'user');
INSERT INTO auth.account_roles (account_id, role) VALUES ('bd254cd6-2222-4c5e-9a1e-000000000001', 'user');
INSERT INTO public.teams (id, name, user_id) VALUES ('02db13fa-0000-4e1f-8d8a-000000000001', 'Default team', 'bd254cd6-1111-4c5e-9a1e-000000000001');
INSERT INTO public.members (id, user_id, team_id) VALUES ('0a000000-0000-4000-8000-000000000001', 'bd254cd6-1111-4c5e-9a1e-000000000001', '02db13fa-0000-4e1f-8d8a-000000000001');
INSERT INTO public.member_roles (member_id, team_role) VALUES ('0a000000-0000-4000-8000-000000000001', 'owner');
INSERT INTO public.access_lists (id, name, team_id, config)
  VALUES ('0c000000-0000-4000-8000-000000000001', 'Analysts', '02db13fa-0000-4e1f-8d8a-000000000001',
          '{"datasources": {"f9401258-0000-4b47-9f4e-000000000001": {"cubes": {"Orders": {"measures": ["Orders.count"], "dimensions": ["Orders.status"], "segments": []}}}}}');
INSERT INTO public.datasources (id, user_id, team_id, name, db_type, db_params)
  VALUES ('f9401258-0000-4b47-9f4e-000000000001', 'bd254cd6-1111-4c5e-9a1e-000000000001', '02db13fa-0000-4e1f-8d8a-000000000001',
          'demo_pg', 'POSTGRES', '{"host": "demo-db-examples.cube.dev", "port": "5432", "user": "cube", "database": "ecom", "password": "12345"}');
INSERT INTO public.branches (id, name, user_id, datasource_id, status)
  VALUES ('0b000000-0000-4000-8000-000000000001', 'main', 'bd254cd6-1111-4c5e-9a1e-000000000001', 'f9401258-0000-4b47-9f4e-000000000001', 'active');
INSERT INTO public.versions (id, branch_id, checksum, user_id)
  VALUES ('0d000000-0000-4000-8000-000000000001', '0b000000-0000-4000-8000-000000000001', 'a3f5c0c2e1b9d8e7f6a5b4c3d2e1f0a9', 'bd254cd6-1111-4c5e-9a1e-000000000001');
INSERT INTO public.dataschemas (user_id, datasource_id, version_id, name, code) VALUES
  ('bd254cd6-1111-4c5e-9a1e-000000000001', 'f9401258-0000-4b47-9f4e-000000000001', '0d000000-0000-4000-8000-000000000001', 'Orders.yml',
   E'cubes:\n  - name: Orders\n    sql: SELECT * FROM public.orders\n    measures:\n      - name: count\n        type: count\n    dimensions:\n      - name: status\n        sql: status\n        type: string\n'),
  ('bd254cd6-1111-4c5e-9a1e-000000000001', 'f9401258-0000-4b47-9f4e-000000000001', '0d000000-0000-4000-8000-000000000001', 'Users.yml',
   E'cubes:\n  - name: Users\n    sql: SELECT * FROM public.users\n    measures:\n      - name: count\n        type: count\n');
INSERT INTO public.sql_credentials (id, datasource_id, user_id, username, password)
  VALUES ('0e000000-0000-4000-8000-000000000001', 'f9401258-0000-4b47-9f4e-000000000001', 'bd254cd6-1111-4c5e-9a1e-000000000001', 'demo_pg_user', 'demo_pg_pass');
