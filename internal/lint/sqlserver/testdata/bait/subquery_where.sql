-- expect: update-without-where
-- risk: Medium
UPDATE dbo.users SET score = (SELECT max(s.score) FROM dbo.scores s WHERE s.user_id = 1);
