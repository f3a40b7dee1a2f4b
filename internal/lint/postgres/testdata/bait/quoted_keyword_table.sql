-- risk: Low
CREATE TABLE "order" (id int, "select" text);
CREATE INDEX ON "order" (id);
