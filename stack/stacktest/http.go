package stacktest

import (
	"encoding/json"
	"net/http"
)

// GetJSON decodes the JSON answer to a GET of u (a stack server's API,
// such as Prometheus's) into v. It returns what went wrong, "" when
// nothing did, so that polling loops can report the last failure.
func GetJSON(u string, v any) string {
	resp, err := http.Get(u)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return resp.Status + ": " + err.Error()
	}
	return ""
}
