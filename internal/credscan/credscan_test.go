package credscan

import "testing"

func TestTextFindsCredentials(t *testing.T) {
	bad := []string{
		"postgres://app:s3cret@db1:5432/app",
		"postgresql://app:pa/ss/word@db1/app",         // a '/' in the password
		"mysql://root:p@ss:w0rd@10.0.0.1:3306/shop",   // '@' and ':' in the password
		"see sqlserver://sa:Str0ng!Pass@10.0.0.2 too", // inside a sentence
		"root:hunter2@tcp(10.0.0.1:3306)/shop",        // Go MySQL DSN
		"host=db1 user=app password=hunter2 dbname=app",
		"Server=db;User Id=sa;Password=Str0ng!;",
		"Password: hunter2",
		"password : 'hunter2'",
		`{"password": "hunter2"}`,
		"pwd=hunter2",
		"PGPASSWORD=hunter2 psql -h db1",
		"export MYSQL_PWD=hunter2",
		"DB_PASSWORD = hunter2",
		"AWS_SECRET_ACCESS_KEY=abcd1234",
		"HOTSWAP_TOKEN=hst_0123",
		"$env:PGPASSWORD=hunter2",
		"api_key: abc123",
		"secret=abc",
		"-----BEGIN EC PRIVATE KEY-----\nMHc...",
		"-----BEGIN PRIVATE KEY-----",
	}
	for _, s := range bad {
		if what, ok := Text(s); !ok {
			t.Errorf("Text(%q) = not found, want a credential", s)
		} else if what == "" {
			t.Errorf("Text(%q) found a credential without saying which form", s)
		}
	}
}

func TestTextLeavesOrdinaryTextAlone(t *testing.T) {
	good := []string{
		"",
		"Add the orders.customer_id index",
		"add column password_hash to users",
		"rotate the passwords of every service account next week",
		"https://wiki.example.com/runbooks/migrations#rollback",
		"http://10.0.0.1:5000/api/v1/migrations",
		"postgres://db1:5432/app",
		"mailto:dba@example.com",
		"user@example.com",
		"team=payments",
		"owner: dba-team",
	}
	for _, s := range good {
		if what, ok := Text(s); ok {
			t.Errorf("Text(%q) = %q, want nothing found", s, what)
		}
	}
}

func TestKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"password", true}, {"Password", true}, {"dsn", true}, {"connectionString", true},
		{"connection_string", true}, {"db_secret", true}, {"api_key", true}, {"apiKey", true},
		{"private_key", true}, {"credentials", true},
		{"name", false}, {"team", false}, {"description", false}, {"region", false},
	} {
		if got := Key(tc.name); got != tc.want {
			t.Errorf("Key(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
