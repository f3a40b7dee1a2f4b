-- risk: Low
COMMENT ON TABLE orders IS 'never VACUUM FULL or CLUSTER this table; use pg_repack';
