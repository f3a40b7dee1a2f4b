// Package openapi writes the OpenAPI 3.1 description of the HotSwap HTTP
// API from the API's own declarations: the endpoint table of internal/api
// and, by reflection, the Go types each endpoint reads and writes. The
// description is therefore the wire format and cannot drift from it; a test
// in controlplane/httpapi checks it against the routes the server registers
// and validates the server's answers with it.
//
// To describe a new route, add it to api.Endpoints; nothing here changes.
package openapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// Version is the OpenAPI version of the document.
const Version = "3.1.0"

// Document returns the OpenAPI description of the API as JSON, serverVersion
// being the build version of the server that serves it.
func Document(serverVersion string) ([]byte, error) {
	doc := Build(api.Endpoints(), serverVersion)
	raw, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("openapi: encode the document: %w", err)
	}
	return raw, nil
}

// Build describes endpoints as an OpenAPI document (a JSON object).
func Build(endpoints []api.Endpoint, serverVersion string) map[string]any {
	s := newSchemas(enums())
	errorRef := s.of(reflect.TypeFor[api.ErrorBody](), output)
	paths := map[string]map[string]any{}
	ops := make([]map[string]any, len(endpoints))
	// Every answer first, then every request: see freeName.
	for i, e := range endpoints {
		ops[i] = operation(s, e, errorRef)
	}
	for i, e := range endpoints {
		if b, ok := e.Request.(api.Binary); ok {
			ops[i]["requestBody"] = map[string]any{"required": true, "content": binaryContent(b)}
		} else if e.Request != nil {
			ops[i]["requestBody"] = map[string]any{"required": true,
				"content": jsonContent(s.of(reflect.TypeOf(e.Request), input))}
		}
		if paths[e.Path] == nil {
			paths[e.Path] = map[string]any{}
		}
		paths[e.Path][strings.ToLower(e.Method)] = ops[i]
	}
	return map[string]any{
		"openapi": Version,
		"info": map[string]any{"title": "HotSwap API", "version": serverVersion,
			"description": "The HTTP API of a HotSwap control plane. Any server of the cluster answers; " +
				"writes are forwarded to the leader. Send an API token as 'Authorization: Bearer TOKEN'."},
		"tags":     tags(),
		"paths":    paths,
		"security": []any{map[string]any{"bearer": []string{}}},
		"components": map[string]any{
			"schemas":         s.components,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
		},
	}
}

// operation describes one endpoint but its request body.
func operation(s *schemas, e api.Endpoint, errorRef schema) map[string]any {
	op := map[string]any{"operationId": e.Name, "summary": e.Summary, "tags": []string{e.Tag}}
	if e.Public {
		op["security"] = []any{}
	}
	if params := parameters(e); len(params) > 0 {
		op["parameters"] = params
	}
	responses := map[string]any{"default": map[string]any{
		"description": "the request was refused or failed (the API's error format)", "content": jsonContent(errorRef)}}
	for status, body := range e.Responses {
		r := map[string]any{"description": http.StatusText(status)}
		switch b := body.(type) {
		case nil:
		case string:
			r["content"] = map[string]any{"text/plain": map[string]any{"schema": schema{"type": "string"}}}
		case api.Text:
			content := map[string]any{}
			for _, t := range b.Types {
				content[t] = map[string]any{"schema": schema{"type": "string"}}
			}
			r["content"] = content
		case api.Binary:
			r["content"] = binaryContent(b)
		default:
			r["content"] = jsonContent(s.of(reflect.TypeOf(body), output))
		}
		responses[strconv.Itoa(status)] = r
	}
	for status, why := range bodyRefusals(e) {
		responses[strconv.Itoa(status)] = map[string]any{"description": why, "content": jsonContent(errorRef)}
	}
	op["responses"] = responses
	return op
}

// bodyRefusals are the answers every operation that reads a body may give
// before it looks at the body's fields: 413 when the body is over the
// operation's limit, 415 when it is not in the body's media type.
func bodyRefusals(e api.Endpoint) map[int]string {
	if e.Request == nil {
		return nil
	}
	media := "JSON, sent with 'Content-Type: application/json'"
	if b, ok := e.Request.(api.Binary); ok {
		media = strings.Join(b.Types, " or ")
	}
	return map[int]string{
		http.StatusRequestEntityTooLarge: "the request body is over this operation's size limit (the message says the limit)",
		http.StatusUnsupportedMediaType:  "the request body is not " + media,
	}
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// parameters are the endpoint's path parameters, then its query.
func parameters(e api.Endpoint) []any {
	var out []any
	for _, m := range pathParam.FindAllStringSubmatch(e.Path, -1) {
		out = append(out, map[string]any{"name": m[1], "in": "path", "required": true, "schema": schema{"type": "string"}})
	}
	for _, q := range e.Query {
		sc := schema{"type": q.Type}
		if len(q.Enum) > 0 {
			sc["enum"] = q.Enum
		}
		p := map[string]any{"name": q.Name, "in": "query", "schema": sc}
		if q.Description != "" {
			p["description"] = q.Description
		}
		out = append(out, p)
	}
	return out
}

// binaryContent describes a file body: any bytes, in each of its media types.
func binaryContent(b api.Binary) map[string]any {
	content := map[string]any{}
	for _, t := range b.Types {
		content[t] = map[string]any{"schema": schema{"type": "string", "contentMediaType": t}}
	}
	return content
}

func jsonContent(sc schema) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": sc}}
}

func tags() []any {
	desc := map[string]string{
		api.TagServer:     "health, metrics and this description (no token)",
		api.TagCluster:    "the Raft group of control plane servers",
		api.TagAgents:     "the agents on database hosts",
		api.TagDatabases:  "registered databases, their health and history",
		api.TagMigrations: "schema migrations",
		api.TagExecutions: "rolling a migration out, watching and rolling back",
	}
	names := make([]string, 0, len(desc))
	for n := range desc {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]any, len(names))
	for i, n := range names {
		out[i] = map[string]any{"name": n, "description": desc[n]}
	}
	return out
}

// enums are the string types whose values the domain lists.
func enums() map[reflect.Type][]string {
	return map[reflect.Type][]string{
		reflect.TypeFor[domain.DatabaseType]():    strs(domain.DatabaseTypes),
		reflect.TypeFor[domain.Environment]():     strs(domain.Environments),
		reflect.TypeFor[domain.InstanceRole]():    strs(domain.InstanceRoles),
		reflect.TypeFor[domain.Strategy]():        strs(domain.Strategies),
		reflect.TypeFor[domain.RiskLevel]():       strs(domain.RiskLevels),
		reflect.TypeFor[domain.NeverFreePolicy](): strs(domain.NeverFreePolicies),
		reflect.TypeFor[domain.MigrationStatus](): strs(domain.MigrationStatuses),
	}
}

func strs[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}
