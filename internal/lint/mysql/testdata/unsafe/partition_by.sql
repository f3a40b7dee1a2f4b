-- expect: mysql-partitioning-copy
-- risk: High
ALTER TABLE metrics PARTITION BY RANGE (YEAR(created_at)) (PARTITION p2023 VALUES LESS THAN (2024), PARTITION pmax VALUES LESS THAN MAXVALUE);
