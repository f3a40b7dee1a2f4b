-- expect: require-concurrent-index-creation
-- risk: Medium
CREATE INDEX "Accounts_DisplayName_idx" ON "Accounts" ("DisplayName");
