package replay

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	pgquery "github.com/pganalyze/pg_query_go/v6"
)

// CaptureLog takes a workload from a PostgreSQL server log written with
// log_min_duration_statement = 0 in the stderr format: up to limit read
// statements logged at or after since, the most recent ones, in log order
// (a statement run often appears often: the workload keeps its mix).
//
// It reads the "duration: X ms  statement: SQL" lines of the simple query
// protocol and the "duration: X ms  execute NAME: SQL" lines of the extended
// protocol, whose parameters it binds from the "DETAIL:  parameters: $1 =
// '...'" line that follows, as untyped literals. Parse and bind lines are
// ignored (the execute line stands for the statement). Statements are kept
// on the same terms as a Collector's (reads of user tables, not HotSwap's own),
// except that they carry literal values.
//
// The time of an entry is read from the start of the line prefix (the
// default log_line_prefix '%m [%p] ', or %t); a zone abbreviation unknown to
// the local time zone is read as UTC. Entries whose time cannot be read are
// kept only when since is zero. Parameter values cut by
// log_parameter_max_length are replayed as cut.
func CaptureLog(path string, since time.Time, limit int) (Workload, error) {
	if limit < 1 {
		return Workload{}, fmt.Errorf("capture from log %s: %w", path, ErrBadLimit)
	}
	f, err := os.Open(path)
	if err != nil {
		return Workload{}, fmt.Errorf("capture from log: %w", err)
	}
	defer f.Close()
	p := &logParser{since: since, limit: limit}
	if err := p.read(bufio.NewReader(f)); err != nil {
		return Workload{}, fmt.Errorf("capture from log %s: %w", path, err)
	}
	return p.workload(), nil
}

// logEntry is one line of the log with the tab-indented lines that continue
// it.
type logEntry struct {
	prefix string // log_line_prefix output, before the level
	level  string // "LOG", "DETAIL", ...
	text   string // the message, continuation lines joined with "\n"
}

// logParser turns log entries into a workload.
type logParser struct {
	since   time.Time
	limit   int
	pending *logEntry // an execute entry that may get a Parameters detail
	pendSQL string
	kept    []string
	skipped int
}

// read parses the whole log.
func (p *logParser) read(r *bufio.Reader) error {
	var cur *logEntry
	for {
		line, err := r.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "\t") && cur != nil:
			cur.text += "\n" + line[1:]
		case line != "":
			p.handle(cur)
			cur = parseLogLine(line)
		}
		if err != nil {
			p.handle(cur)
			p.flush()
			return nil
		}
	}
}

// logLevels are the message levels CaptureLog looks for.
var logLevels = []string{"LOG:  ", "DETAIL:  "}

// parseLogLine splits a line that starts an entry; nil when it carries none
// of logLevels.
func parseLogLine(line string) *logEntry {
	best, level := -1, ""
	for _, l := range logLevels {
		if i := strings.Index(line, l); i >= 0 && (best < 0 || i < best) {
			best, level = i, l
		}
	}
	if best < 0 {
		return nil
	}
	return &logEntry{
		prefix: line[:best],
		level:  strings.TrimSuffix(level, ":  "),
		text:   line[best+len(level):],
	}
}

// handle takes one entry in log order.
func (p *logParser) handle(e *logEntry) {
	if e == nil {
		return
	}
	if e.level == "DETAIL" {
		if p.pending != nil && e.prefix == p.pending.prefix {
			p.bindPending(e.text)
		}
		return
	}
	p.flush()
	kind, sql, ok := durationStatement(e.text)
	if !ok || !p.recent(e.prefix) {
		return
	}
	if kind == "execute" {
		p.pending, p.pendSQL = e, sql
		return
	}
	p.offer(sql)
}

// bindPending offers the pending execute with the detail's parameters.
func (p *logParser) bindPending(detail string) {
	sql := p.pendSQL
	p.pending, p.pendSQL = nil, ""
	params, ok := parseParameters(detail)
	if !ok {
		p.skipped++
		return
	}
	bound, err := bindParameters(sql, params)
	if err != nil {
		p.skipped++
		return
	}
	p.offer(bound)
}

// flush offers a pending execute that got no Parameters detail, as it is.
func (p *logParser) flush() {
	if p.pending != nil {
		sql := p.pendSQL
		p.pending, p.pendSQL = nil, ""
		p.offer(sql)
	}
}

// offer keeps a replayable statement among the most recent limit ones.
func (p *logParser) offer(sql string) {
	sql = strings.TrimSpace(sql)
	if !replayable(PostgreSQL, sql) {
		p.skipped++
		return
	}
	p.kept = append(p.kept, sql)
	if len(p.kept) >= 2*p.limit {
		p.kept = append(p.kept[:0], p.kept[len(p.kept)-p.limit:]...)
	}
}

// workload returns the most recent limit statements kept.
func (p *logParser) workload() Workload {
	kept := p.kept[max(len(p.kept)-p.limit, 0):]
	return Workload{Statements: append([]string(nil), kept...), Skipped: p.skipped}
}

// recent reports whether an entry with this prefix was logged at or after
// since.
func (p *logParser) recent(prefix string) bool {
	if p.since.IsZero() {
		return true
	}
	t, ok := prefixTime(prefix)
	return ok && !t.Before(p.since)
}

// timeLayouts are the forms of %m and %t, zone named or numeric.
var timeLayouts = []string{
	"2006-01-02 15:04:05 MST",
	"2006-01-02 15:04:05 -07",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 -07:00",
}

// prefixTime reads the timestamp the line prefix starts with.
func prefixTime(prefix string) (time.Time, bool) {
	f := strings.Fields(prefix)
	if len(f) < 3 {
		return time.Time{}, false
	}
	s := f[0] + " " + f[1] + " " + f[2]
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// durationStatement reads "duration: X ms  statement: SQL" and
// "duration: X ms  execute NAME: SQL" messages.
func durationStatement(text string) (kind, sql string, ok bool) {
	rest, ok := strings.CutPrefix(text, "duration: ")
	if !ok {
		return "", "", false
	}
	if _, rest, ok = strings.Cut(rest, " ms  "); !ok {
		return "", "", false
	}
	if sql, ok := strings.CutPrefix(rest, "statement: "); ok {
		return "statement", sql, true
	}
	if rest, ok := strings.CutPrefix(rest, "execute "); ok {
		if _, sql, ok := strings.Cut(rest, ": "); ok {
			return "execute", sql, true
		}
	}
	return "", "", false
}

// parseParameters reads "parameters: $1 = '42', $2 = NULL" into SQL
// literals by parameter number.
func parseParameters(detail string) (map[int]string, bool) {
	const label = "parameters: " // "Parameters: " from PostgreSQL 16 on
	if len(detail) < len(label) || !strings.EqualFold(detail[:len(label)], label) {
		return nil, false
	}
	rest := detail[len(label):]
	params := make(map[int]string)
	for rest != "" {
		num, after, ok := strings.Cut(rest, " = ")
		n, err := strconv.Atoi(strings.TrimPrefix(num, "$"))
		if !ok || err != nil || !strings.HasPrefix(num, "$") {
			return nil, false
		}
		var val string
		if val, rest, ok = cutLiteral(after); !ok {
			return nil, false
		}
		params[n] = val
		rest = strings.TrimPrefix(rest, ", ")
	}
	return params, true
}

// cutLiteral cuts NULL or a single-quoted literal (a doubled quote stands
// for a quote) from the front of s.
func cutLiteral(s string) (lit, rest string, ok bool) {
	if r, ok := strings.CutPrefix(s, "NULL"); ok {
		return "NULL", r, true
	}
	if !strings.HasPrefix(s, "'") {
		return "", "", false
	}
	for i := 1; i < len(s); i++ {
		if s[i] != '\'' {
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			i++
			continue
		}
		return s[:i+1], s[i+1:], true
	}
	return "", "", false
}

// bindParameters replaces the $n tokens of sql (found by PostgreSQL's
// scanner, so never inside strings or comments) with their literals.
func bindParameters(sql string, params map[int]string) (string, error) {
	scan, err := pgquery.Scan(sql)
	if err != nil {
		return "", fmt.Errorf("scan statement: %w", err)
	}
	var b strings.Builder
	last := 0
	for _, t := range scan.GetTokens() {
		if t.GetToken() != pgquery.Token_PARAM {
			continue
		}
		start, end := int(t.GetStart()), int(t.GetEnd())
		n, err := strconv.Atoi(strings.TrimPrefix(sql[start:end], "$"))
		val, ok := params[n]
		if err != nil || !ok {
			return "", fmt.Errorf("no value for parameter %s", sql[start:end])
		}
		b.WriteString(sql[last:start])
		b.WriteString(val)
		last = end
	}
	b.WriteString(sql[last:])
	return b.String(), nil
}
