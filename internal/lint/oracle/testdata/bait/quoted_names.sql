-- expect: none
-- risk: Low
CREATE TABLE "App"."Drop" ("online" NUMBER);
CREATE INDEX "App"."Drop_online" ON "App"."Drop" ("online");
DROP TABLE "App"."Drop";
