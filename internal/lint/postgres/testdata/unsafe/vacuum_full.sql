-- expect: vacuum-full
-- risk: High
VACUUM FULL orders;
