-- risk: Low
CREATE FUNCTION reset_flags() RETURNS void LANGUAGE sql AS $$ UPDATE users SET active = true $$;
CREATE OR REPLACE FUNCTION purge() RETURNS void LANGUAGE plpgsql AS $body$ BEGIN DELETE FROM sessions; END $body$;
