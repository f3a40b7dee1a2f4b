-- risk: Low
INSERT INTO settings (k, v) VALUES ('checkout.v2', 'on') ON DUPLICATE KEY UPDATE v = VALUES(v);
