-- risk: Low
CREATE TABLE tmp_x (id int);
TRUNCATE tmp_x;
DROP TABLE tmp_x;
