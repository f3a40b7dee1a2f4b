-- expect: none
-- risk: Low
BEGIN
  EXECUTE IMMEDIATE 'TRUNCATE TABLE app.orders_staging';
END;
/
