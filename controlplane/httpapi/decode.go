package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// Body size limits: a migration carries two scripts of up to 10 MB each.
const (
	smallBodyLimit     = 1 << 20
	migrationBodyLimit = 2*domain.MaxScriptBytes + 1<<20
)

// readBody reads at most limit bytes of the request body, which must not
// be empty.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	body, err := readRaw(r, limit)
	if err == nil && len(body) == 0 {
		return nil, badRequest("request body is empty; send a JSON object")
	}
	return body, err
}

// readOptionalBody is readBody for requests whose fields are all
// optional: an empty body is an empty object.
func readOptionalBody(r *http.Request, limit int64) ([]byte, error) {
	body, err := readRaw(r, limit)
	if err == nil && len(body) == 0 {
		return []byte("{}"), nil
	}
	return body, err
}

func readRaw(r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, badRequest("could not read the request body: " + err.Error())
	}
	if int64(len(body)) > limit {
		return nil, badRequest(fmt.Sprintf("request body exceeds the limit of %d bytes", limit))
	}
	return bytes.TrimSpace(body), nil
}

// decodeStrict decodes one JSON object into dst, refusing unknown fields so
// a misspelt field is an error, not silently ignored.
func decodeStrict(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return badRequest("invalid JSON: " + describeJSONError(err))
	}
	if dec.More() {
		return badRequest("invalid JSON: unexpected data after the object")
	}
	return nil
}

func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("field %q must be a %s", te.Field, te.Type)
	case errors.As(err, &se):
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	return err.Error()
}

var (
	credentialKey   = regexp.MustCompile(`(?i)(connection_?string|password|passwd|pwd|dsn|secret|credential)`)
	credentialValue = regexp.MustCompile(`(?i)(\b(password|pwd)\s*=)|(://[^/\s:@]+:[^@\s/]+@)`)
)

// errCredentials tells the user where credentials belong.
func errCredentials(field string) error {
	return badRequest("connection strings and passwords are not accepted by the control plane",
		domain.FieldError{Field: field, Message: "put the DSN with its credentials in the hotswap-agent config on the database host " +
			"(instances: id, engine, dsn) and register the instance here by reference: {\"agent\": NAME, \"instanceId\": ID, \"role\": \"Master\"}"})
}

// refuseCredentials looks through a JSON body for anything that looks like a
// connection string or a password and refuses it before anything is stored.
func refuseCredentials(body []byte) error {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return badRequest("invalid JSON: " + describeJSONError(err))
	}
	if field := findCredential("", v); field != "" {
		return errCredentials(field)
	}
	return nil
}

func findCredential(path string, v any) string {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := strings.TrimPrefix(path+"."+k, ".")
			if credentialKey.MatchString(k) {
				return p
			}
			if f := findCredential(p, t[k]); f != "" {
				return f
			}
		}
	case []any:
		for i, e := range t {
			if f := findCredential(fmt.Sprintf("%s[%d]", path, i), e); f != "" {
				return f
			}
		}
	case string:
		if credentialValue.MatchString(t) {
			return path
		}
	}
	return ""
}
