-- expect: oracle-move-not-online
-- risk: High
ALTER TABLE app.orders MOVE TABLESPACE data2;
