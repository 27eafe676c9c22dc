package vaultsrv

import (
	"net/http"
	"strconv"
	"time"
)

// Version is the version sys/health reports: a Vault release line, marked
// in its build metadata as this stand-in.
const Version = "1.20.0+authbench.vaultsrv"

// ClusterName is the cluster_name sys/health reports while unsealed.
const ClusterName = "authbench-vaultsrv"

// healthResponse is sys/health's body (http/sys_health.go HealthResponse,
// read by the client as api.HealthResponse).
type healthResponse struct {
	Initialized                bool   `json:"initialized"`
	Sealed                     bool   `json:"sealed"`
	Standby                    bool   `json:"standby"`
	PerformanceStandby         bool   `json:"performance_standby"`
	ReplicationPerformanceMode string `json:"replication_performance_mode"`
	ReplicationDRMode          string `json:"replication_dr_mode"`
	ServerTimeUTC              int64  `json:"server_time_utc"`
	Version                    string `json:"version"`
	Enterprise                 bool   `json:"enterprise"`
	ClusterName                string `json:"cluster_name,omitempty"`
	ClusterID                  string `json:"cluster_id,omitempty"`
	EchoDurationMillis         int64  `json:"echo_duration_ms"`
	ClockSkewMillis            int64  `json:"clock_skew_ms"`
	ReplicationPrimaryCanary   int64  `json:"replication_primary_canary_age_ms"`
}

// handleHealth is sys/health (API docs /sys/health; http/sys_health.go):
// GET or HEAD, no token, 200 when active and 503 when sealed, each
// overridable with the activecode and sealedcode parameters (the api
// client's Sys().Health() sends sealedcode=299 so that a sealed server is
// not an error). A sealed node reports standby and no cluster name or ID.
// Other methods get 405; an unparsable code 400.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, errMethodNotAllowed)
		return
	}
	sealed := s.Sealed()
	code, ok := healthCode(r, sealed)
	if !ok {
		writeError(w, &apiError{http.StatusBadRequest, []string{}})
		return
	}
	if r.Method == http.MethodHead {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		return
	}
	writeJSON(w, code, s.healthBody(sealed))
}

// healthCode picks the status: sealedcode (503) or activecode (200).
func healthCode(r *http.Request, sealed bool) (int, bool) {
	if sealed {
		return statusParam(r, "sealedcode", http.StatusServiceUnavailable)
	}
	return statusParam(r, "activecode", http.StatusOK)
}

// statusParam reads an integer status code parameter.
func statusParam(r *http.Request, name string, def int) (int, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, true
	}
	code, err := strconv.Atoi(v)
	if err != nil || code < 100 || code > 999 {
		return 0, false
	}
	return code, true
}

func (s *Server) healthBody(sealed bool) healthResponse {
	h := healthResponse{
		Initialized:                true,
		Sealed:                     sealed,
		Standby:                    sealed,
		ReplicationPerformanceMode: "disabled",
		ReplicationDRMode:          "disabled",
		ServerTimeUTC:              time.Now().UTC().Unix(),
		Version:                    Version,
	}
	if !sealed {
		h.ClusterName, h.ClusterID = ClusterName, s.clusterID
	}
	return h
}
