-- expect: mysql-online-rebuild
-- risk: Medium
OPTIMIZE TABLE sessions;
