package oracle

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect/conformance"
)

// oracleSQL is Oracle's side of the conformance suite's statements.
var oracleSQL = conformance.SQL{
	CreateTable:   func(table string) string { return "CREATE TABLE " + table + " (id NUMBER)" },
	AddColumn:     func(table, column string) string { return "ALTER TABLE " + table + " ADD (" + column + " NUMBER)" },
	NoTransaction: func(table string) string { return "CREATE INDEX " + table + "_id ON " + table + " (id)" },
	Sleep:         func(seconds int) string { return "BEGIN DBMS_SESSION.SLEEP(" + strconv.Itoa(seconds) + "); END;" },
	Read:          func(table string) string { return "SELECT COUNT(*) FROM " + table },
	Begin:         "SET TRANSACTION NAME 'hold'",
	Commit:        "COMMIT",
	HoldLock:      func(table string) string { return "LOCK TABLE " + table + " IN ROW EXCLUSIVE MODE" },
	WithLiteral:   func(literal string) string { return "SELECT '" + literal + "' FROM hotswap_no_such_table" },
}

// TestConformanceOnTheDouble runs the suite every engine passes, with the
// statements above, against the driver double playing an Oracle server
// with Oracle's locking: readers take no lock, LOCK TABLE ... IN ROW
// EXCLUSIVE MODE holds a TM lock until COMMIT, and a DDL finding its
// table's TM lock taken fails at once with ORA-00054 (the suite's 200 ms
// lock timeout runs with ddl_lock_timeout = 0). It checks the executor's
// side of the contract; the server's side has not been checked against
// a real Oracle.
func TestConformanceOnTheDouble(t *testing.T) {
	conformance.Run(t, conformance.Factory{New: simInstance, SQL: oracleSQL})
}

// simInstance is a fresh simulated instance.
func simInstance(t *testing.T) conformance.Instance {
	f := newFake(t)
	db := &simDB{t: t, tables: map[string]map[string]bool{}, locks: map[string]lockHold{}, running: map[int]string{}}
	f.ddl, f.query = db.exec, db.answer
	c := newConn(sql.OpenDB(moduleConnector{Connector: fakeConnector{f}}), "sim:1521/ORCL", []string{"Tiger-Secret-42"})
	t.Cleanup(c.Close)
	apps := sql.OpenDB(fakeConnector{f})
	t.Cleanup(func() { _ = apps.Close() })
	return conformance.Instance{
		Conn:     c,
		Password: "Tiger-Secret-42",
		Session: func(t *testing.T) conformance.Session {
			conn, err := apps.Conn(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = conn.Close() })
			return appSession{conn}
		},
		Active: func(_ context.Context, text string) (int, error) { return db.active(text), nil },
	}
}

// appSession is an application's session on the double.
type appSession struct{ conn *sql.Conn }

// Exec runs one statement.
func (s appSession) Exec(ctx context.Context, q string) error {
	_, err := s.conn.ExecContext(ctx, q)
	return err
}

// lockHold is a TM lock a session's transaction holds.
type lockHold struct {
	sid   int
	since time.Time
}

// simDB is the simulated server's catalog, locks and running statements.
type simDB struct {
	t       *testing.T
	mu      sync.Mutex
	tables  map[string]map[string]bool // table -> columns
	locks   map[string]lockHold
	running map[int]string
}

// The statements the simulation knows.
var (
	simCreateTable = regexp.MustCompile(`^CREATE TABLE (\w+) \(`)
	simAddColumn   = regexp.MustCompile(`^ALTER TABLE (\w+) ADD \((\w+) `)
	simCreateIndex = regexp.MustCompile(`^CREATE INDEX \w+ ON (\w+) `)
	simLockTable   = regexp.MustCompile(`^LOCK TABLE (\w+) IN`)
	simSleep       = regexp.MustCompile(`^BEGIN DBMS_SESSION.SLEEP\((\d+)\); END;$`)
)

// exec runs a statement of the script or of an application session.
func (d *simDB) exec(ctx context.Context, q string) error {
	sid := sessionOf(ctx)
	if m := simSleep.FindStringSubmatch(q); m != nil {
		return d.sleep(ctx, sid, q)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	up := strings.ToUpper(q)
	switch {
	case strings.HasPrefix(up, "SET TRANSACTION"):
		return nil
	case up == "COMMIT":
		for name, h := range d.locks {
			if h.sid == sid {
				delete(d.locks, name)
			}
		}
		return nil
	case strings.HasPrefix(up, "SELECT"):
		if strings.Contains(up, "HOTSWAP_NO_SUCH_TABLE") {
			return oraErr(942, "table or view does not exist")
		}
		return nil
	}
	return d.ddl(sid, up)
}

// ddl runs a DDL or LOCK TABLE with Oracle's TM-lock semantics.
func (d *simDB) ddl(sid int, up string) error {
	if m := simCreateTable.FindStringSubmatch(up); m != nil {
		if d.tables[m[1]] != nil {
			return oraErr(955, "name is already used by an existing object")
		}
		d.tables[m[1]] = map[string]bool{"ID": true}
		return nil
	}
	var table string
	for _, re := range []*regexp.Regexp{simAddColumn, simCreateIndex, simLockTable} {
		if m := re.FindStringSubmatch(up); m != nil {
			table = m[1]
		}
	}
	cols := d.tables[table]
	switch {
	case table == "":
		d.t.Errorf("the simulation does not know %q", up)
		return oraErr(900, "invalid SQL statement")
	case cols == nil:
		return oraErr(942, "table or view does not exist")
	case simLockTable.MatchString(up):
		d.locks[table] = lockHold{sid: sid, since: time.Now()}
		return nil
	}
	if h, held := d.locks[table]; held && h.sid != sid {
		return oraErr(54, "resource busy and acquire with NOWAIT specified or timeout expired")
	}
	if m := simAddColumn.FindStringSubmatch(up); m != nil {
		if cols[m[2]] {
			return oraErr(1430, "column being added already exists in table")
		}
		cols[m[2]] = true
	}
	return nil
}

// sleep runs DBMS_SESSION.SLEEP until it ends or is cancelled.
func (d *simDB) sleep(ctx context.Context, sid int, q string) error {
	d.mu.Lock()
	d.running[sid] = q
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.running, sid)
		d.mu.Unlock()
	}()
	select {
	case <-ctx.Done():
		return oraErr(1013, "user requested cancel of current operation")
	case <-time.After(30 * time.Second):
		return nil
	}
}

// answer answers the executor's look-ups of locks and an application's reads.
func (d *simDB) answer(q string, args []driver.Value) (*fakeRows, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch q {
	case holdersSQL:
		if h, held := d.locks[args[1].(string)]; held {
			return rowsOf(row(int64(h.sid), int64(1), h.since, "INACTIVE", int64(1))), nil
		}
		return rowsOf(), nil
	case sessionTxSQL:
		for _, h := range d.locks {
			if int64(h.sid) == args[0].(int64) {
				return rowsOf(row(int64(1), h.since)), nil
			}
		}
		return rowsOf(row(int64(0), nil)), nil
	}
	return nil, nil
}

// active counts the statements running whose text contains text.
func (d *simDB) active(text string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, q := range d.running {
		if strings.Contains(q, text) {
			n++
		}
	}
	return n
}
