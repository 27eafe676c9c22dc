package vaultsrv

import (
	"encoding/json"
	"errors"
	"net/http"
)

// response is Vault's JSON envelope for every successful logical request
// (sdk/logical HTTPResponse). Vault always sends every key, with null for
// empty ones; api.ParseSecret (api/secret.go) reads it into *api.Secret.
type response struct {
	RequestID     string         `json:"request_id"`
	LeaseID       string         `json:"lease_id"`
	Renewable     bool           `json:"renewable"`
	LeaseDuration int            `json:"lease_duration"`
	Data          map[string]any `json:"data"`
	WrapInfo      any            `json:"wrap_info"`
	Warnings      []string       `json:"warnings"`
	Auth          *authBlock     `json:"auth"`
	MountType     string         `json:"mount_type"`
}

// authBlock is Vault's HTTPAuth, the "auth" object of a login or token
// renewal (read by the client as api.SecretAuth).
type authBlock struct {
	ClientToken      string            `json:"client_token"`
	Accessor         string            `json:"accessor"`
	Policies         []string          `json:"policies"`
	TokenPolicies    []string          `json:"token_policies,omitempty"`
	IdentityPolicies []string          `json:"identity_policies,omitempty"`
	Metadata         map[string]string `json:"metadata"`
	LeaseDuration    int               `json:"lease_duration"`
	Renewable        bool              `json:"renewable"`
	EntityID         string            `json:"entity_id"`
	TokenType        string            `json:"token_type"`
	Orphan           bool              `json:"orphan"`
	MFARequirement   any               `json:"mfa_requirement"`
	NumUses          int               `json:"num_uses"`
}

// errorBody is Vault's error body, {"errors":[...]}, always an array and
// never null (sdk/logical/response_util.go RespondError).
type errorBody struct {
	Errors []string `json:"errors"`
}

// apiError is an error with the HTTP status and messages Vault would send.
type apiError struct {
	status   int
	messages []string
}

func (e *apiError) Error() string {
	if len(e.messages) == 0 {
		return http.StatusText(e.status)
	}
	return e.messages[0]
}

// Vault's fixed errors.
var (
	// errPermissionDenied: logical.ErrPermissionDenied, 403 for a missing
	// or unknown token (Vault 1.17+ also says "invalid token" for an
	// unknown one; see the package doc).
	errPermissionDenied = &apiError{http.StatusForbidden, []string{"permission denied"}}
	// errSealed: consts.ErrSealed, turned into 503 by AdjustErrorStatusCode.
	errSealed = &apiError{http.StatusServiceUnavailable, []string{"Vault is sealed"}}
	// errNotFound: an empty LIST, or a path outside /v1/: 404 with an
	// empty list.
	errNotFound = &apiError{http.StatusNotFound, []string{}}
	// errUnsupportedOperation: logical.ErrUnsupportedOperation, 405, for a
	// known path that does not take the request's method.
	errUnsupportedOperation = &apiError{http.StatusMethodNotAllowed, []string{"unsupported operation"}}
	// errMethodNotAllowed: an HTTP method Vault maps to no operation
	// (http/logical.go buildLogicalRequestNoAuth), 405 with an empty list.
	errMethodNotAllowed = &apiError{http.StatusMethodNotAllowed, []string{}}
)

// badRequest is logical.ErrorResponse(msg) with a nil error, which
// RespondErrorCommon turns into 400.
func badRequest(msg string) error {
	return &apiError{http.StatusBadRequest, []string{msg}}
}

// writeJSON sends v with Vault's headers.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError sends err as Vault's error body; errors that are not apiErrors
// are internal errors (500), as in Vault.
func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{http.StatusInternalServerError, []string{err.Error()}}
	}
	writeJSON(w, ae.status, errorBody{Errors: ae.messages})
}

// writeResponse sends a logical response, or 204 No Content for none, as
// Vault's respondOk does (e.g. sys/leases/revoke).
func writeResponse(w http.ResponseWriter, resp *response) {
	if resp == nil {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if resp.RequestID == "" {
		resp.RequestID = NewUUID()
	}
	writeJSON(w, http.StatusOK, resp)
}
