-- risk: Low
CREATE INDEX idx_email ON users (email) ALGORITHM=INPLACE LOCK=NONE;
CREATE UNIQUE INDEX uq_users_handle ON users (handle);
