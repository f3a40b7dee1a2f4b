-- expect: none
-- risk: Low
ALTER TABLE app.orders MOVE ONLINE TABLESPACE data2;
