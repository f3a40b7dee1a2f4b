package httpapi

import (
	"fmt"
	"net/http"

	"github.com/hotswap-db/hotswap/controlplane/httpapi/swaggerui"
	"github.com/hotswap-db/hotswap/internal/api/openapi"
)

// describe is the OpenAPI description of the API, written once per server.
// Building it cannot fail but by a bug in the generator: then the document
// says so, and the description test fails.
func describe(version string) []byte {
	doc, err := openapi.Document(version)
	if err != nil {
		return fmt.Appendf(nil, `{"error":%q}`, err.Error())
	}
	return doc
}

// serveOpenAPI answers GET /openapi.json; no token is needed.
func (a *API) serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(a.openAPI)
}

// serveSwagger mounts Swagger UI over /openapi.json at /swagger; no token
// is needed. It is a page for people, not a route of the API, so it is not
// in the description.
func serveSwagger(mux *http.ServeMux) {
	ui := swaggerui.Handler()
	mux.Handle("GET /swagger", ui)
	mux.Handle("GET /swagger/{file}", ui)
}
