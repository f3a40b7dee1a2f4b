package openapi_test

import (
	"context"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/api/openapi"
)

// TestDocumentIsValidOpenAPI31 loads the document with kin-openapi and
// validates it as OpenAPI 3.1.
func TestDocumentIsValidOpenAPI31(t *testing.T) {
	raw, err := openapi.Document("test")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("load the document: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi = %q, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}
	for _, e := range api.Endpoints() {
		op := doc.Paths.Find(e.Path).GetOperation(e.Method)
		if op == nil || op.OperationID != e.Name {
			t.Errorf("%s %s: operation %+v, want %s", e.Method, e.Path, op, e.Name)
		}
	}
}

// TestBodyOperationsListRefusals: every operation that reads a body
// describes its 413 (too large) and 415 (wrong media type) answers in the
// API's error format; the others do not.
func TestBodyOperationsListRefusals(t *testing.T) {
	raw, err := openapi.Document("test")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range api.Endpoints() {
		op := doc.Paths.Find(e.Path).GetOperation(e.Method)
		for _, code := range []int{413, 415} {
			r := op.Responses.Status(code)
			if got, want := r != nil, e.Request != nil; got != want {
				t.Errorf("%s: answer %d described = %v, want %v", e.Name, code, got, want)
				continue
			}
			if r != nil && r.Value.Content.Get("application/json") == nil {
				t.Errorf("%s: answer %d has no error body", e.Name, code)
			}
		}
	}
}
