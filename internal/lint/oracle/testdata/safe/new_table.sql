-- expect: none
-- risk: Low
CREATE TABLE app.refunds (id NUMBER PRIMARY KEY, order_id NUMBER NOT NULL, amount NUMBER(12,2));
CREATE INDEX app.refunds_order ON app.refunds (order_id);
ALTER TABLE app.refunds ADD CONSTRAINT refunds_order_fk FOREIGN KEY (order_id) REFERENCES app.orders (id);
