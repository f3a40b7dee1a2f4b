-- expect: none
-- risk: Low
ALTER TABLE app.orders ADD (note VARCHAR2(100));
ALTER TABLE app.orders ADD (status VARCHAR2(10) DEFAULT 'new' NOT NULL);
ALTER TABLE app.orders ADD (region VARCHAR2(8) DEFAULT 'EU');
ALTER TABLE app.orders MODIFY (note DEFAULT 'none');
