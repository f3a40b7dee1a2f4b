-- expect: none
-- risk: Low
SET DEFINE OFF
CREATE TABLE billing.invoice (id NUMBER PRIMARY KEY, customer NUMBER NOT NULL);
CREATE INDEX billing.invoice_customer ON billing.invoice (customer);

CREATE OR REPLACE PACKAGE billing.invoice_api AS
  PROCEDURE add_invoice(p_customer IN NUMBER);
END invoice_api;
/
SHOW ERRORS

CREATE OR REPLACE PACKAGE BODY billing.invoice_api AS
  PROCEDURE add_invoice(p_customer IN NUMBER) IS
  BEGIN
    INSERT INTO billing.invoice (id, customer) VALUES (1, p_customer);
    DELETE FROM billing.invoice;
  END add_invoice;
END invoice_api;
/

CREATE OR REPLACE TRIGGER billing.invoice_bi
BEFORE INSERT ON billing.invoice FOR EACH ROW
BEGIN
  NULL;
END;
/
