// Package pgbouncer is the agent-side manager of the PgBouncer that runs next
// to it, the pooler a BlueGreen rollout switches traffic through: Switch
// points one [databases] entry at another server (green, or back to blue on
// rollback) without a client seeing an error.
//
// A switch is PAUSE <db> on the admin console (PgBouncer waits for in-flight
// transactions to finish and closes its server connections while new queries
// queue), a rewrite of that entry's line in pgbouncer.ini, RELOAD, a check
// with SHOW DATABASES that PgBouncer now routes the entry to the new server,
// and RESUME <db>. Whatever fails after PAUSE, the database is resumed (and
// the ini restored) before Switch returns.
//
// The admin console only speaks the simple query protocol and has no
// transactions, so the manager talks to it with pgx in
// QueryExecModeSimpleProtocol and caches no statements. Errors and events
// never carry the admin password: they go through dialect.Scrub.
package pgbouncer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hotswap-db/hotswap/internal/dialect"
)

// Defaults and event levels.
const (
	// DefaultPauseTimeout bounds how long PAUSE may wait for in-flight
	// transactions when Config.PauseTimeout is 0.
	DefaultPauseTimeout = 10 * time.Second
	// defaultPort is PgBouncer's default for an entry without port=.
	defaultPort = 5432
	// cleanupTimeout bounds the restore and RESUME done after a failure,
	// even when the caller's context has ended.
	cleanupTimeout = 10 * time.Second

	levelInfo  = "info"
	levelWarn  = "warn"
	levelError = "error"
)

// Config says which PgBouncer to manage and which entry to switch.
type Config struct {
	// AdminDSN logs in to the admin console, as a member of admin_users:
	// postgres://user:pass@host:port/pgbouncer.
	AdminDSN string
	// ConfigFile is the pgbouncer.ini the agent may rewrite; PgBouncer must
	// read this file on RELOAD.
	ConfigFile string
	// Database is the [databases] entry to switch, as clients name it.
	Database string
	// PauseTimeout bounds how long PAUSE may wait for in-flight transactions
	// to finish; 0 means DefaultPauseTimeout. The context given to Switch
	// bounds it too.
	PauseTimeout time.Duration
}

// Target is the server a [databases] entry points at.
type Target struct {
	Host   string // host name or address (host=)
	Port   int    // TCP port (port=)
	DBName string // database on that server (dbname=)
}

// String returns host:port/dbname.
func (t Target) String() string { return fmt.Sprintf("%s:%d/%s", t.Host, t.Port, t.DBName) }

// validate refuses a target PgBouncer could not be pointed at, or whose
// text would break the ini line.
func (t Target) validate() error {
	if t.Host == "" || t.DBName == "" {
		return errors.New("target needs a host and a database name")
	}
	if t.Port < 1 || t.Port > 65535 {
		return fmt.Errorf("target port %d out of range", t.Port)
	}
	if strings.ContainsFunc(t.Host+t.DBName, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return errors.New("target host or database name holds a control character")
	}
	return nil
}

// Manager manages one PgBouncer. Switch calls are serialised; Current may
// run at any time.
type Manager struct {
	cfg     Config
	secrets []string
	mu      sync.Mutex // held for the whole of a Switch
}

// New returns a manager of the PgBouncer cfg describes. It connects to
// nothing until it is used.
func New(cfg Config) *Manager {
	if cfg.PauseTimeout <= 0 {
		cfg.PauseTimeout = DefaultPauseTimeout
	}
	return &Manager{cfg: cfg, secrets: secretsOf(cfg.AdminDSN)}
}

// secretsOf lists what must never appear in an error: the DSN itself and
// its password, raw and decoded.
func secretsOf(dsn string) []string {
	secrets := []string{dsn}
	if c, err := pgconn.ParseConfig(dsn); err == nil && c.Password != "" {
		secrets = append(secrets, c.Password)
	}
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			secrets = append(secrets, p, url.QueryEscape(p), url.PathEscape(p))
		}
	}
	return secrets
}

// Current returns the server the Database entry of the ini points at, as
// PgBouncer will route it after its next RELOAD. A missing port is 5432,
// a missing dbname the entry's name, a missing host "" (the Unix socket).
func (m *Manager) Current(ctx context.Context) (Target, error) {
	if err := ctx.Err(); err != nil {
		return Target{}, fmt.Errorf("pgbouncer: current target: %w", err)
	}
	data, err := os.ReadFile(m.cfg.ConfigFile)
	if err != nil {
		return Target{}, fmt.Errorf("pgbouncer: read config: %w", err)
	}
	line, err := findEntry(data, m.cfg.Database)
	if err != nil {
		return Target{}, fmt.Errorf("pgbouncer: %s: %w", m.cfg.ConfigFile, err)
	}
	return line.target(m.cfg.Database)
}

// Switch points the Database entry at to without a client error: PAUSE,
// rewrite the ini, RELOAD, check with SHOW DATABASES, RESUME. PAUSE waits
// at most Config.PauseTimeout (and never past ctx's deadline) for in-flight
// transactions; on timeout the database is resumed on its old target and
// Switch fails. Any failure after PAUSE restores the ini, reloads and
// resumes before Switch returns. events, if not nil, receives progress
// ("info", "warn", "error") as it happens.
func (m *Manager) Switch(ctx context.Context, to Target, events func(level, msg string)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := &switchRun{m: m, to: to, events: events}
	if err := r.run(ctx); err != nil {
		return dialect.ScrubError(err, m.secrets...)
	}
	return nil
}

// switchRun is the state of one Switch.
type switchRun struct {
	m       *Manager
	to      Target
	events  func(level, msg string)
	admin   *pgx.Conn // admin console session; reopened when lost
	orig    []byte    // the ini as found
	written bool      // the ini on disk is the rewritten one
}

// run performs the switch; every error is wrapped with what was being done.
func (r *switchRun) run(ctx context.Context) error {
	db := r.m.cfg.Database
	if err := r.to.validate(); err != nil {
		return fmt.Errorf("pgbouncer: switch %s: %w", db, err)
	}
	updated, err := r.prepare()
	if err != nil {
		return fmt.Errorf("pgbouncer: switch %s: %w", db, err)
	}
	if r.admin, err = r.m.connect(ctx); err != nil {
		return fmt.Errorf("pgbouncer: switch %s: %w", db, err)
	}
	defer func() { r.admin.Close(context.WithoutCancel(ctx)) }()
	if err := r.preflight(ctx); err != nil {
		return err
	}
	if err := r.pause(ctx); err != nil {
		return r.abort(ctx, err)
	}
	if err := r.apply(ctx, updated); err != nil {
		return r.abort(ctx, err)
	}
	ctx, cancel := cleanupContext(ctx)
	defer cancel()
	return r.resume(ctx)
}

// cleanupContext bounds what must happen after PAUSE even when the
// caller's context has ended: restoring and resuming.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}

// prepare reads the ini and computes its new text, before anything is
// paused, so that a bad config file never stops traffic.
func (r *switchRun) prepare() ([]byte, error) {
	data, err := os.ReadFile(r.m.cfg.ConfigFile)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	updated, err := rewriteEntry(data, r.m.cfg.Database, r.to)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.m.cfg.ConfigFile, err)
	}
	r.orig = data
	return updated, nil
}

// preflight checks, before PAUSE, that PgBouncer knows the entry, and warns
// when it is already paused or routed elsewhere than the ini says.
func (r *switchRun) preflight(ctx context.Context) error {
	db := r.m.cfg.Database
	st, err := r.showDatabase(ctx)
	if err != nil {
		return err
	}
	if st.paused {
		r.emit(levelWarn, fmt.Sprintf("%s is already paused (by an operator or an interrupted switch); the switch resumes it", db))
	}
	if e, err := findEntry(r.orig, db); err == nil {
		if inIni, err := e.target(db); err == nil && inIni != st.target {
			r.emit(levelWarn, fmt.Sprintf("PgBouncer routes %s to %s but %s says %s: is it the file PgBouncer reads?", db, st.target, r.m.cfg.ConfigFile, inIni))
		}
	}
	r.emit(levelInfo, fmt.Sprintf("switching %s from %s to %s", db, st.target, r.to))
	return nil
}

// pause runs PAUSE <db>, which returns once the database's server
// connections are released, bounded by the pause timeout.
func (r *switchRun) pause(ctx context.Context) error {
	db, limit := r.m.cfg.Database, r.m.cfg.PauseTimeout
	r.emit(levelInfo, fmt.Sprintf("pausing %s: waiting at most %s for in-flight transactions", db, limit))
	pctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	start := time.Now()
	if _, err := r.admin.Exec(pctx, "PAUSE "+quoteIdent(db)); err != nil {
		waited := time.Since(start).Round(time.Millisecond)
		if ctx.Err() == nil && pctx.Err() != nil {
			return fmt.Errorf("pgbouncer: pause %s: in-flight transactions still running after %s: %w", db, waited, pctx.Err())
		}
		return fmt.Errorf("pgbouncer: pause %s (after %s): %w", db, waited, err)
	}
	r.emit(levelInfo, fmt.Sprintf("paused %s in %s", db, time.Since(start).Round(time.Millisecond)))
	return nil
}

// apply writes the new ini, reloads it and checks the result.
func (r *switchRun) apply(ctx context.Context, updated []byte) error {
	if err := writeFileAtomic(r.m.cfg.ConfigFile, updated); err != nil {
		return fmt.Errorf("pgbouncer: write config: %w", err)
	}
	r.written = true
	r.emit(levelInfo, fmt.Sprintf("pointed %s at %s in %s", r.m.cfg.Database, r.to, r.m.cfg.ConfigFile))
	if err := r.exec(ctx, "RELOAD"); err != nil {
		return err
	}
	st, err := r.showDatabase(ctx)
	if err != nil {
		return err
	}
	if st.target != r.to {
		return fmt.Errorf("pgbouncer: after RELOAD, SHOW DATABASES routes %s to %s, not %s", r.m.cfg.Database, st.target, r.to)
	}
	r.emit(levelInfo, fmt.Sprintf("reloaded: PgBouncer routes %s to %s", r.m.cfg.Database, st.target))
	return nil
}

// abort undoes a switch that failed after PAUSE: the old ini back and
// reloaded if the new one was written, then RESUME. It returns cause, with
// whatever the undo could not do.
func (r *switchRun) abort(ctx context.Context, cause error) error {
	r.emit(levelError, cause.Error())
	ctx, cancel := cleanupContext(ctx)
	defer cancel()
	errs := []error{cause}
	if r.written {
		errs = append(errs, r.restore(ctx))
	}
	errs = append(errs, r.resume(ctx))
	return errors.Join(errs...)
}

// restore puts the original ini back and reloads it.
func (r *switchRun) restore(ctx context.Context) error {
	if err := writeFileAtomic(r.m.cfg.ConfigFile, r.orig); err != nil {
		return fmt.Errorf("pgbouncer: restore config: %w", err)
	}
	r.written = false
	if err := r.exec(ctx, "RELOAD"); err != nil {
		return fmt.Errorf("pgbouncer: reload restored config: %w", err)
	}
	r.emit(levelWarn, fmt.Sprintf("restored %s and reloaded it", r.m.cfg.ConfigFile))
	return nil
}

// resume runs RESUME <db>, on a new session if the pause's was lost (a
// timed-out PAUSE closes it, and PgBouncer keeps the database paused).
// A database that is not paused any more counts as resumed.
func (r *switchRun) resume(ctx context.Context) error {
	db := r.m.cfg.Database
	err := r.exec(ctx, "RESUME "+quoteIdent(db))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && strings.Contains(pgErr.Message, "is not paused") {
		r.emit(levelWarn, fmt.Sprintf("%s was not paused any more", db))
		return nil
	}
	if err != nil {
		return fmt.Errorf("pgbouncer: %s stays PAUSED: %w", db, err)
	}
	r.emit(levelInfo, fmt.Sprintf("resumed %s", db))
	return nil
}

// exec runs one idempotent admin command. When the session is gone (a
// timed-out PAUSE closes it) or fails below the protocol, it runs it once
// more on a new session. An error PgBouncer answered is returned as is.
func (r *switchRun) exec(ctx context.Context, cmd string) error {
	if !r.admin.IsClosed() {
		_, err := r.admin.Exec(ctx, cmd)
		var pgErr *pgconn.PgError
		if err == nil || errors.As(err, &pgErr) || ctx.Err() != nil {
			return wrapCmd(cmd, err)
		}
	}
	if err := r.reconnect(ctx); err != nil {
		return wrapCmd(cmd, err)
	}
	_, err := r.admin.Exec(ctx, cmd)
	return wrapCmd(cmd, err)
}

// reconnect replaces the admin session with a new one.
func (r *switchRun) reconnect(ctx context.Context) error {
	conn, err := r.m.connect(ctx)
	if err != nil {
		return err
	}
	r.admin.Close(ctx)
	r.admin = conn
	return nil
}

// wrapCmd says which admin command failed; nil stays nil.
func wrapCmd(cmd string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("pgbouncer: %s: %w", cmd, err)
}

// dbState is one row of SHOW DATABASES.
type dbState struct {
	target Target
	paused bool
}

// showDatabase returns SHOW DATABASES' row for the entry: where PgBouncer
// routes it and whether it is paused.
func (r *switchRun) showDatabase(ctx context.Context) (dbState, error) {
	db := r.m.cfg.Database
	rows, err := showDatabases(ctx, r.admin)
	if err != nil {
		return dbState{}, fmt.Errorf("pgbouncer: SHOW DATABASES: %w", err)
	}
	for _, row := range rows {
		if row["name"] != db {
			continue
		}
		port, err := strconv.Atoi(row["port"])
		if err != nil {
			return dbState{}, fmt.Errorf("pgbouncer: SHOW DATABASES: port %q of %s: %w", row["port"], db, err)
		}
		t := Target{Host: row["host"], Port: port, DBName: row["database"]}
		return dbState{target: t, paused: row["paused"] == "1"}, nil
	}
	return dbState{}, fmt.Errorf("pgbouncer: SHOW DATABASES has no entry %s: PgBouncer does not serve it", db)
}

// showDatabases returns SHOW DATABASES' rows as column name -> text.
func showDatabases(ctx context.Context, conn *pgx.Conn) ([]map[string]string, error) {
	rows, err := conn.Query(ctx, "SHOW DATABASES")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []map[string]string
	for rows.Next() {
		row := map[string]string{}
		for i, fd := range rows.FieldDescriptions() {
			row[fd.Name] = string(rows.RawValues()[i])
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// emit delivers a scrubbed event, if anyone listens.
func (r *switchRun) emit(level, msg string) {
	if r.events != nil {
		r.events(level, dialect.Scrub(msg, r.m.secrets...))
	}
}

// connect opens an admin console session: simple protocol, no statement
// or description cache (the console has no extended protocol).
func (m *Manager) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(m.cfg.AdminDSN)
	if err != nil {
		return nil, fmt.Errorf("admin DSN: %w", err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	cfg.StatementCacheCapacity, cfg.DescriptionCacheCapacity = 0, 0
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to admin console: %w", err)
	}
	return conn, nil
}

// plainIdent is a name the admin console takes unquoted.
var plainIdent = regexp.MustCompile(`^[0-9A-Za-z_]+$`)

// quoteIdent writes a database name for an admin command, double-quoted
// when it is not a plain word.
func quoteIdent(name string) string {
	if plainIdent.MatchString(name) {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// writeFileAtomic replaces path's content with data through a temporary
// file in the same folder and a rename, keeping the file's mode and owner.
// A symbolic link is followed: its target is replaced.
func writeFileAtomic(path string, data []byte) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	fi, err := os.Stat(real)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(real), "."+filepath.Base(real)+".hotswap-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if err := fillTemp(tmp, data, fi); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), real)
}

// fillTemp writes data to tmp, syncs and closes it, and gives it fi's mode
// and owner.
func fillTemp(tmp *os.File, data []byte, fi os.FileInfo) error {
	_, err := tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), fi.Mode().Perm())
	}
	if err != nil {
		return err
	}
	want, ok := fi.Sys().(*syscall.Stat_t)
	got, err := os.Stat(tmp.Name())
	if err != nil || !ok {
		return err
	}
	if have, ok := got.Sys().(*syscall.Stat_t); ok && have.Uid == want.Uid && have.Gid == want.Gid {
		return nil
	}
	return os.Chown(tmp.Name(), int(want.Uid), int(want.Gid))
}

// entry is the [databases] line of one database in the ini.
type entry struct {
	valueAt, valueEnd int    // the connection string's bytes in the file
	pairs             []pair // the connection string, parsed as PgBouncer does
}

// pair is one key=value of a connection string, with its text in the file.
type pair struct{ key, value, raw string }

// findEntry finds name's line in the ini's [databases] section(s).
func findEntry(data []byte, name string) (entry, error) {
	var found []entry
	section := ""
	for start := 0; start < len(data); {
		end := bytes.IndexByte(data[start:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += start
		}
		e, sect, ok, err := parseLine(data, start, end, name)
		if err != nil {
			return entry{}, err
		}
		switch {
		case sect != "":
			section = sect
		case ok && section == "databases":
			found = append(found, e)
		}
		start = end + 1
	}
	switch len(found) {
	case 0:
		return entry{}, fmt.Errorf("no entry %q in [databases]", name)
	case 1:
		return found[0], nil
	}
	return entry{}, fmt.Errorf("entry %q appears %d times in [databases]", name, len(found))
}

// parseLine reads the line data[start:end]: a section header (its name in
// lower case), name's key = value line (ok), or anything else.
func parseLine(data []byte, start, end int, name string) (e entry, section string, ok bool, err error) {
	line := strings.TrimRight(string(data[start:end]), " \t\r")
	trimmed := strings.TrimLeft(line, " \t")
	lead := len(line) - len(trimmed)
	switch {
	case trimmed == "" || trimmed[0] == ';' || trimmed[0] == '#':
		return entry{}, "", false, nil
	case trimmed[0] == '[':
		return entry{}, strings.ToLower(strings.Trim(trimmed, "[] \t")), false, nil
	}
	key, rest, found := splitKey(trimmed)
	if !found || key != name {
		return entry{}, "", false, nil
	}
	valueAt := start + lead + len(trimmed) - len(strings.TrimLeft(rest, " \t"))
	e = entry{valueAt: valueAt, valueEnd: start + len(line)}
	if e.pairs, err = parsePairs(string(data[e.valueAt:e.valueEnd])); err != nil {
		return entry{}, "", false, fmt.Errorf("entry %q: %w", name, err)
	}
	return e, "", true, nil
}

// splitKey splits "key = value" into the key (unquoted when written as a
// "quoted" identifier) and what follows the '='.
func splitKey(s string) (key, rest string, ok bool) {
	if strings.HasPrefix(s, `"`) {
		for i := 1; i < len(s); i++ {
			if s[i] != '"' {
				continue
			}
			if i+1 < len(s) && s[i+1] == '"' {
				i++
				continue
			}
			after := strings.TrimLeft(s[i+1:], " \t")
			if !strings.HasPrefix(after, "=") {
				return "", "", false
			}
			return strings.ReplaceAll(s[1:i], `""`, `"`), after[1:], true
		}
		return "", "", false
	}
	k, v, ok := strings.Cut(s, "=")
	return strings.TrimRight(k, " \t"), v, ok
}

// parsePairs parses a connection string as PgBouncer does: key=value pairs
// separated by spaces, a value in single quotes doubling a quote inside.
func parsePairs(s string) ([]pair, error) {
	var pairs []pair
	for i := skipSpaces(s, 0); i < len(s); i = skipSpaces(s, i) {
		p, next, err := parsePair(s, i)
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, p)
		i = next
	}
	return pairs, nil
}

// parsePair parses the pair starting at s[i] and returns where it ends.
func parsePair(s string, i int) (pair, int, error) {
	start := i
	for i < len(s) && s[i] != '=' && s[i] != ' ' {
		i++
	}
	key := s[start:i]
	i = skipSpaces(s, i)
	if key == "" || i >= len(s) || s[i] != '=' {
		return pair{}, 0, fmt.Errorf("connection string: expected key=value at %q", s[start:])
	}
	i = skipSpaces(s, i+1)
	value, next, err := parseValue(s, i)
	if err != nil {
		return pair{}, 0, fmt.Errorf("connection string: value of %s: %w", key, err)
	}
	return pair{key: key, value: value, raw: s[start:next]}, next, nil
}

// parseValue reads a value, 'quoted' or up to the next space.
func parseValue(s string, i int) (string, int, error) {
	if i < len(s) && s[i] == '\'' {
		var b strings.Builder
		for j := i + 1; j < len(s); j++ {
			if s[j] != '\'' {
				b.WriteByte(s[j])
				continue
			}
			if j+1 < len(s) && s[j+1] == '\'' {
				b.WriteByte('\'')
				j++
				continue
			}
			if b.Len() == 0 {
				return "", 0, errors.New("empty value")
			}
			return b.String(), j + 1, nil
		}
		return "", 0, errors.New("unterminated quote")
	}
	end := i
	for end < len(s) && s[end] != ' ' {
		end++
	}
	if end == i {
		return "", 0, errors.New("empty value")
	}
	return s[i:end], end, nil
}

// skipSpaces returns the index of the first non-space byte from i.
func skipSpaces(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

// target is where the entry points, with PgBouncer's defaults.
func (e entry) target(name string) (Target, error) {
	t := Target{Port: defaultPort, DBName: name}
	for _, p := range e.pairs {
		switch p.key {
		case "host":
			t.Host = p.value
		case "dbname":
			t.DBName = p.value
		case "port":
			port, err := strconv.Atoi(p.value)
			if err != nil || port < 1 || port > 65535 {
				return Target{}, fmt.Errorf("pgbouncer: entry %q: bad port %q", name, p.value)
			}
			t.Port = port
		}
	}
	return t, nil
}

// rewriteEntry returns data with name's connection string pointed at to:
// host, port and dbname replaced (or added), every other pair, and every
// other byte of the file, unchanged.
func rewriteEntry(data []byte, name string, to Target) ([]byte, error) {
	e, err := findEntry(data, name)
	if err != nil {
		return nil, err
	}
	repl := map[string]string{"host": to.Host, "port": strconv.Itoa(to.Port), "dbname": to.DBName}
	done := map[string]bool{}
	var parts []string
	for _, p := range e.pairs {
		v, ok := repl[p.key]
		if !ok {
			parts = append(parts, p.raw)
			continue
		}
		parts = append(parts, p.key+"="+quoteValue(v))
		done[p.key] = true
	}
	for _, k := range []string{"host", "port", "dbname"} {
		if !done[k] {
			parts = append(parts, k+"="+quoteValue(repl[k]))
		}
	}
	out := make([]byte, 0, len(data)+64)
	out = append(out, data[:e.valueAt]...)
	if e.valueAt > 0 && data[e.valueAt-1] == '=' {
		out = append(out, ' ')
	}
	out = append(out, strings.Join(parts, " ")...)
	return append(out, data[e.valueEnd:]...), nil
}

// quoteValue writes a connection string value, 'quoted' when it must be.
func quoteValue(v string) string {
	if v != "" && !strings.ContainsAny(v, " '\t") {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}
