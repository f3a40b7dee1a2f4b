-- Release 42: billing schema changes
SET DEFINE OFF
PROMPT creating the invoice table
CREATE TABLE billing.invoice (
  id         NUMBER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer   NUMBER NOT NULL,
  note       VARCHAR2(200) DEFAULT 'n/a; none' -- a ; inside a string
);

CREATE INDEX billing.invoice_customer ON billing.invoice (customer) ONLINE;

/* A package spec and body, each ended by a slash line. */
CREATE OR REPLACE PACKAGE billing.invoice_api AS
  PROCEDURE add_invoice(p_customer IN NUMBER);
  FUNCTION total(p_customer IN NUMBER) RETURN NUMBER;
END invoice_api;
/
SHOW ERRORS

CREATE OR REPLACE PACKAGE BODY billing.invoice_api AS
  PROCEDURE add_invoice(p_customer IN NUMBER) IS
  BEGIN
    INSERT INTO billing.invoice (customer, note) VALUES (p_customer, q'[it's; done]');
  END add_invoice;

  FUNCTION total(p_customer IN NUMBER) RETURN NUMBER IS
    v NUMBER;
  BEGIN
    -- a comment with a slash
    SELECT count(*) INTO v FROM billing.invoice WHERE customer = p_customer; /* ; */
    RETURN v / 1;
  END total;
END invoice_api;
/

CREATE OR REPLACE TRIGGER billing.invoice_bi
BEFORE INSERT ON billing.invoice
FOR EACH ROW
BEGIN
  :new.note := NVL(:new.note, q'{a "quoted" ; note}');
END;
/

DECLARE
  v_msg VARCHAR2(100) := 'multi
/
line; string';
BEGIN
  EXECUTE IMMEDIATE 'ALTER TABLE billing.invoice ADD (paid_at DATE)';
  DBMS_OUTPUT.PUT_LINE(v_msg);
END;
/

BEGIN
  NULL;
END;
/
EXEC DBMS_STATS.GATHER_TABLE_STATS('BILLING', 'INVOICE');

CREATE TYPE billing.money_t AS OBJECT (amount NUMBER, currency CHAR(3));
/

ALTER TABLE billing.invoice ADD CONSTRAINT invoice_customer_fk
  FOREIGN KEY (customer) REFERENCES billing.customer (id) ENABLE NOVALIDATE
/
COMMENT ON TABLE "BILLING"."INVOICE" IS 'Invoices; one per order'
