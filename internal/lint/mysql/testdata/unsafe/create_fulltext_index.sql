-- expect: mysql-blocking-index
-- risk: Medium
CREATE FULLTEXT INDEX ft_title ON posts (title);
