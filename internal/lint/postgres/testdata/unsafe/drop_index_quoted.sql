-- expect: require-concurrent-index-deletion
-- risk: Medium
-- setup: CREATE INDEX "Accounts_Name" ON "Accounts" ("DisplayName");
DROP INDEX IF EXISTS "Accounts_Name";
