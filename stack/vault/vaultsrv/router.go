package vaultsrv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Vault's logical operations (sdk/logical Operation), named by the HTTP
// method that selects them in http/logical.go buildLogicalRequestNoAuth.
const (
	opRead   = "read"
	opUpdate = "update"
	opDelete = "delete"
	opList   = "list"
	opHeader = "header"
	opPatch  = "patch"
)

// maxBodyBytes caps a request body; Vault's default max_request_size is 32 MiB,
// and nothing here needs more than a few hundred bytes.
const maxBodyBytes = 1 << 20

// request is one API call after method mapping and token check.
type request struct {
	ctx   context.Context
	op    string
	path  string // after /v1/
	param string // the path's trailing variable: role name or URL lease ID
	token *token // nil on unauthenticated paths
	body  map[string]any
}

// handler answers one operation on one path. A nil response means 204.
type handler func(req *request) (*response, error)

// route is what a path resolves to.
type route struct {
	ops    map[string]handler
	unauth bool
	mount  string // reported as mount_type
}

// operation maps the HTTP method to Vault's operation; false for methods
// Vault does not map, which get 405 with an empty error list.
func operation(r *http.Request) (string, bool) {
	switch r.Method {
	case http.MethodGet:
		if r.URL.Query().Get("list") == "true" {
			return opList, true
		}
		return opRead, true
	case http.MethodPut, http.MethodPost:
		return opUpdate, true
	case http.MethodDelete:
		return opDelete, true
	case "LIST":
		return opList, true
	case http.MethodHead:
		return opHeader, true
	case http.MethodPatch:
		return opPatch, true
	}
	return "", false
}

// serveHTTP checks a request in Vault's order: method, seal, token, route,
// operation; then runs the handler.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		writeError(w, errNotFound)
		return
	}
	if path == "sys/health" {
		s.handleHealth(w, r)
		return
	}
	op, ok := operation(r)
	if !ok {
		writeError(w, errMethodNotAllowed)
		return
	}
	if s.Sealed() {
		writeError(w, errSealed)
		return
	}
	resp, err := s.handle(r, path, op)
	if err != nil {
		writeError(w, err)
		return
	}
	writeResponse(w, resp)
}

// handle resolves the route, authenticates and calls the handler.
func (s *Server) handle(r *http.Request, path, op string) (*response, error) {
	rt, param := s.resolve(path)
	req := &request{ctx: r.Context(), op: op, path: path, param: param}
	if rt == nil || !rt.unauth {
		tok, err := s.authenticate(r)
		if err != nil {
			return nil, err
		}
		req.token = tok
	}
	if rt == nil {
		return nil, s.routeNotFound(path)
	}
	h, ok := rt.ops[op]
	if !ok {
		return nil, errUnsupportedOperation
	}
	if op == opUpdate {
		body, err := readBody(r)
		if err != nil {
			return nil, err
		}
		req.body = body
	}
	resp, err := h(req)
	if resp != nil && resp.MountType == "" {
		resp.MountType = rt.mount
	}
	return resp, err
}

// resolve maps a path to its route and trailing parameter; nil when no
// route answers it.
func (s *Server) resolve(path string) (*route, string) {
	if rt := s.fixedRoute(path); rt != nil {
		return rt, ""
	}
	for _, prefix := range []string{"sys/leases/renew/", "sys/renew/"} {
		if id, ok := strings.CutPrefix(path, prefix); ok && id != "" {
			return &route{ops: map[string]handler{opUpdate: s.handleRenew}, mount: "system"}, id
		}
	}
	if p, ok := strings.CutPrefix(path, "sys/leases/lookup/"); ok && p != "" {
		return &route{ops: map[string]handler{opList: s.handleLeaseList}, mount: "system"}, p
	}
	if p, ok := strings.CutPrefix(path, "sys/leases/revoke-prefix/"); ok && p != "" {
		return &route{ops: map[string]handler{opUpdate: s.handleRevokePrefix}, mount: "system"}, p
	}
	for _, prefix := range []string{"sys/leases/revoke/", "sys/revoke/"} {
		if id, ok := strings.CutPrefix(path, prefix); ok && id != "" {
			return &route{ops: map[string]handler{opUpdate: s.handleRevoke}, mount: "system"}, id
		}
	}
	return s.mountRoute(path)
}

// fixedRoute resolves the paths without variables.
func (s *Server) fixedRoute(path string) *route {
	switch path {
	case "auth/approle/login":
		if s.cfg.AppRole.RoleID == "" {
			return nil
		}
		return &route{ops: map[string]handler{opUpdate: s.handleAppRoleLogin}, unauth: true, mount: "approle"}
	case "auth/token/lookup-self":
		return &route{ops: map[string]handler{opRead: s.handleLookupSelf}, mount: "token"}
	case "auth/token/renew-self":
		return &route{ops: map[string]handler{opUpdate: s.handleRenewSelf}, mount: "token"}
	case "auth/token/revoke-self":
		return &route{ops: map[string]handler{opUpdate: s.handleRevokeSelf}, mount: "token"}
	case "sys/leases/lookup":
		return &route{ops: map[string]handler{opUpdate: s.handleLeaseLookup}, mount: "system"}
	case "sys/leases/renew", "sys/renew":
		return &route{ops: map[string]handler{opUpdate: s.handleRenew}, mount: "system"}
	case "sys/leases/revoke", "sys/revoke":
		return &route{ops: map[string]handler{opUpdate: s.handleRevoke}, mount: "system"}
	}
	return nil
}

// mountRoute resolves <mount>/creds/<name> and <mount>/static-creds/<name>.
// A name that is not a Vault role name matches no route, as in Vault's
// framework (GenericNameRegex).
func (s *Server) mountRoute(path string) (*route, string) {
	rest, ok := strings.CutPrefix(path, s.cfg.Mount+"/")
	if !ok {
		return nil, ""
	}
	kind, name, ok := strings.Cut(rest, "/")
	if !ok || !roleNameRE.MatchString(name) {
		return nil, ""
	}
	switch kind {
	case "creds":
		return &route{ops: map[string]handler{opRead: s.handleCreds}, mount: "database"}, name
	case "static-creds":
		return &route{ops: map[string]handler{opRead: s.handleStaticCreds}, mount: "database"}, name
	}
	return nil, ""
}

// routeNotFound is Vault's 404 for a path no route answers: inside a
// mount the backend's "unsupported path" (logical.ErrUnsupportedPath in a
// multierror, as OpenBao sends it), elsewhere the router's "no handler for
// route" naming the path.
func (s *Server) routeNotFound(path string) error {
	mounts := []string{s.cfg.Mount + "/", "sys/", "auth/token/", "cubbyhole/", "identity/"}
	if s.cfg.AppRole.RoleID != "" {
		mounts = append(mounts, "auth/approle/")
	}
	for _, m := range mounts {
		if strings.HasPrefix(path+"/", m) {
			return &apiError{http.StatusNotFound, []string{"1 error occurred:\n\t* unsupported path\n\n"}}
		}
	}
	return &apiError{http.StatusNotFound, []string{fmt.Sprintf("no handler for route %q. route entry not found.", path)}}
}

// readBody parses a JSON object body; an empty body is an empty object.
// Vault answers unparsable input with 400 "failed to parse JSON input".
func readBody(r *http.Request) (map[string]any, error) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	if err != nil {
		return nil, badRequest(fmt.Sprintf("failed to read request body: %v", err))
	}
	body := map[string]any{}
	if len(bytes.TrimSpace(raw)) == 0 {
		return body, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		return nil, badRequest(fmt.Sprintf("failed to parse JSON input: %v", err))
	}
	return body, nil
}

// stringField returns body[key] as a trimmed string ("" when absent).
func stringField(body map[string]any, key string) string {
	v, _ := body[key].(string)
	return strings.TrimSpace(v)
}
