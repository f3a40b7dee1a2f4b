-- expect: cluster
-- risk: High
CLUSTER orders USING orders_pkey;
