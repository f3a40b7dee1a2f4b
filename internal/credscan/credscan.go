// Package credscan recognises credentials in free text and in field names,
// so the control plane can refuse them before they reach the Raft log, a
// snapshot or an API response. It is the one detector every free-text field
// goes through: connection URLs with a password, key=value and "key: value"
// forms, environment variable assignments, MySQL DSNs and private keys.
package credscan

import "regexp"

// keyPattern matches a field name that holds a credential.
var keyPattern = regexp.MustCompile(`(?i)(connection_?string|password|passwd|pwd|passphrase|dsn|secret|credential|private_?key|api_?key|access_?key)`)

// finding is one form of credential and how to describe it.
type finding struct {
	what    string
	pattern *regexp.Regexp
}

// findings are the forms looked for in text, most specific first.
var findings = []finding{
	// scheme://user:password@host, where the password may hold '/', ':'
	// or anything but white space and '@'.
	{"a URL with a password (scheme://user:password@host)",
		regexp.MustCompile(`(?i)[a-z][a-z0-9+.-]*://[^\s/?#@:]*:[^\s@]+@`)},
	// Go MySQL driver DSN: user:password@tcp(host:port)/db.
	{"a MySQL DSN with a password (user:password@tcp(...))",
		regexp.MustCompile(`(?i)[^\s:@/]+:[^\s@]+@(tcp|unix|udp)\(`)},
	// PGPASSWORD=x, MYSQL_PWD=x, export DB_PASSWORD=x, AWS_SECRET_ACCESS_KEY=x,
	// HOTSWAP_TOKEN=x, $env:PGPASSWORD = "x".
	{"an environment variable holding a secret (NAME=value)",
		regexp.MustCompile(`\b[A-Z0-9_]*(PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_KEY|APIKEY|ACCESS_KEY|PASSPHRASE)[A-Z0-9_]*\s*=\s*[^\s=]`)},
	// password=x, Password: x, pwd = 'x', "password": "x", secret_key=x
	// (libpq, JDBC, ODBC and YAML forms).
	{"a password or secret as key=value or key: value",
		regexp.MustCompile(`(?i)(^|[^a-z0-9])(password|passwd|pwd|passphrase|secret|secret_?key|api_?key|access_?key|private_?key|auth_?token)["']?\s*[=:]\s*["']?[^\s"',;&]`)},
	{"a private key", regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`)},
}

// Key reports whether a field or label name says it holds a credential
// ("password", "dsn", "connectionString", "api_key", ...).
func Key(name string) bool { return keyPattern.MatchString(name) }

// Text reports whether s carries a credential, and which form it found.
func Text(s string) (what string, found bool) {
	for _, f := range findings {
		if f.pattern.MatchString(s) {
			return f.what, true
		}
	}
	return "", false
}
