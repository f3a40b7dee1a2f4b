-- expect: mysql-blocking-index
-- risk: Medium
ALTER TABLE articles ADD FULLTEXT INDEX ft_body (body);
