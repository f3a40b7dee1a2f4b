package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/credscan"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// Body size limits. A migration's body holds its two scripts: each is at
// most 10 MB (the reference's limit) and the body at most 10 MB and a quarter,
// so the scripts together fit in about 10 MB; every other body is at most 1 MB.
const (
	smallBodyLimit     = 1 << 20
	migrationBodyLimit = domain.MaxScriptBytes + 256<<10
)

// maxTextBytes bounds any string of a request body the routes do not bound
// more tightly (scripts excepted): no free-text field is unbounded.
const maxTextBytes = 64 << 10

// readBody reads at most limit bytes of the request body, which must not
// be empty, must be JSON, and must carry no credential outside the exempt
// fields (paths such as "password" or "migrationScript").
func readBody(r *http.Request, limit int64, exempt ...string) ([]byte, error) {
	body, err := readRaw(r, limit, exempt)
	if err == nil && len(body) == 0 {
		return nil, badRequest("request body is empty; send a JSON object")
	}
	return body, err
}

// readOptionalBody is readBody for requests whose fields are all
// optional: an empty body is an empty object.
func readOptionalBody(r *http.Request, limit int64, exempt ...string) ([]byte, error) {
	body, err := readRaw(r, limit, exempt)
	if err == nil && len(body) == 0 {
		return []byte("{}"), nil
	}
	return body, err
}

func readRaw(r *http.Request, limit int64, exempt []string) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, errTooLarge(limit)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, badRequest("could not read the request body: " + err.Error())
	}
	if int64(len(body)) > limit {
		return nil, errTooLarge(limit)
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return body, nil
	}
	if err := requireJSON(r); err != nil {
		return nil, err
	}
	return body, refuseCredentials(body, exempt)
}

func errTooLarge(limit int64) error {
	return &apiError{http.StatusRequestEntityTooLarge, api.CodePayloadTooLarge,
		fmt.Sprintf("request body exceeds the limit of %d bytes (%s)", limit, humanBytes(limit)), nil}
}

func humanBytes(n int64) string {
	if n >= 1<<20 {
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', -1, 64) + " MB"
	}
	return strconv.FormatInt(n>>10, 10) + " KB"
}

// requireJSON refuses a body that does not say it is JSON.
func requireJSON(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return &apiError{http.StatusUnsupportedMediaType, api.CodeUnsupportedMediaType,
		fmt.Sprintf("Content-Type %q is not accepted: send the body as JSON with 'Content-Type: application/json'", ct), nil}
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

// errCredentials tells the user where credentials belong.
func errCredentials(field, what string) error {
	return badRequest("connection strings and passwords are not accepted by the control plane",
		domain.FieldError{Field: field, Message: "this field holds " + what + ": put the DSN with its credentials in the hotswap-agent config " +
			"on the database host (instances: id, engine, dsn) and register the instance here by reference: " +
			"{\"agent\": NAME, \"instanceId\": ID, \"role\": \"Master\"}; keep secrets out of names, descriptions and labels"})
}

// refuseCredentials looks through a JSON body for anything that looks like
// a connection string or a password, and for over-long text, and refuses
// it before anything is stored. Exempt paths (a user's password, the SQL
// scripts) are not looked into.
func refuseCredentials(body []byte, exempt []string) error {
	var v any
	// The first value only: decodeStrict reports data after it.
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&v); err != nil {
		return badRequest("invalid JSON: " + describeJSONError(err))
	}
	skip := map[string]bool{}
	for _, e := range exempt {
		skip[e] = true
	}
	return scan("", v, skip)
}

func scan(path string, v any, skip map[string]bool) error {
	if skip[path] {
		return nil
	}
	switch t := v.(type) {
	case map[string]any:
		return scanObject(path, t, skip)
	case []any:
		for i, e := range t {
			if err := scan(fmt.Sprintf("%s[%d]", path, i), e, skip); err != nil {
				return err
			}
		}
	case string:
		if len(t) > maxTextBytes {
			return badRequest("a text field is too long", domain.FieldError{Field: path,
				Message: fmt.Sprintf("at most %d bytes", maxTextBytes)})
		}
		if what, found := credscan.Text(t); found {
			return errCredentials(path, what)
		}
	}
	return nil
}

func scanObject(path string, obj map[string]any, skip map[string]bool) error {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := strings.TrimPrefix(path+"."+k, ".")
		if skip[p] {
			continue
		}
		if credscan.Key(k) {
			return errCredentials(p, "a credential (its name says so)")
		}
		if err := scan(p, obj[k], skip); err != nil {
			return err
		}
	}
	return nil
}
