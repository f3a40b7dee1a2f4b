package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// Statement fingerprints: a queryid is computed from the parse tree with
// the OIDs of the tables it names, so the same application statement has
// another queryid on another server (a BlueGreen's green, a clone). Its
// normalized text is the same, so a sample's statements carry a hash of
// it, by which the control plane matches them with another instance's
// baseline. Reading texts makes the server read its query-text file, so
// each query id's fingerprint is read once, when it first shows among the
// sample's statements, by a second query in that sample only.

const (
	// maxFingerprints bounds the fingerprints a Sampler keeps; past it
	// they are forgotten and read again as statements show.
	maxFingerprints = 4 * maxTrackedStatements
	// fingerprintLen is how many hex digits of the text's md5 are kept.
	fingerprintLen = 16
)

// fingerprintSQL reads the fingerprints of the query ids $1: the md5 of
// the normalized text with runs of white space made one space.
const fingerprintSQL = samplerTag + ` SELECT t.queryid, left(md5(regexp_replace(t.query, '\s+', ' ', 'g')), %d)
FROM %s.pg_stat_statements(true) t
WHERE t.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND t.queryid = ANY($1)`

// fingerprintCache is what a Sampler knows of its statements' texts.
type fingerprintCache struct {
	known   map[int64]string // "" when the text could not be found
	retryAt time.Time        // after a failed read, no new one before
}

// fingerprint fills the Fingerprint of ss, reading those not known yet.
// A failure leaves them empty (the statements are then judged by id only)
// and is tried again after statementsRetry.
func (s *Sampler) fingerprint(ctx context.Context, ss []domain.StatementSample) {
	if len(ss) == 0 || !s.stmts.inUse() {
		return
	}
	fc := &s.texts
	if fc.known == nil || len(fc.known) > maxFingerprints {
		fc.known = map[int64]string{}
	}
	var missing []int64
	for _, st := range ss {
		id, err := strconv.ParseInt(st.ID, 10, 64)
		if _, ok := fc.known[id]; err == nil && !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 && !s.now().Before(fc.retryAt) {
		if err := s.readFingerprints(ctx, missing); err != nil {
			fc.retryAt = s.now().Add(statementsRetry)
		}
	}
	for i := range ss {
		if id, err := strconv.ParseInt(ss[i].ID, 10, 64); err == nil {
			ss[i].Fingerprint = fc.known[id]
		}
	}
}

// readFingerprints reads the fingerprints of ids into the cache.
func (s *Sampler) readFingerprints(ctx context.Context, ids []int64) error {
	sql := fmt.Sprintf(fingerprintSQL, fingerprintLen, pgx.Identifier{s.stmts.ext.schema}.Sanitize())
	s.countOwnTransactions(sql)
	rows, err := s.session.Query(ctx, sql, ids)
	if err != nil {
		return fmt.Errorf("read statement texts: %w", err)
	}
	found := map[int64]string{}
	for rows.Next() {
		var id int64
		var fp string
		if err := rows.Scan(&id, &fp); err != nil {
			rows.Close()
			return fmt.Errorf("read statement texts: %w", err)
		}
		found[id] = fp
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read statement texts: %w", err)
	}
	for _, id := range ids {
		s.texts.known[id] = found[id]
	}
	return nil
}
