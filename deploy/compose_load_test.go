package deploy

// The compose file is read by compose-go, the Compose specification's own
// loader: schema validation (an unknown or misspelled field is an error),
// interpolation, normalization and its consistency checks (undeclared
// networks, volumes, configs and secrets, unknown services in depends_on,
// depends_on cycles). The checks in compose_test.go run on what it loads.

import (
	"context"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// composeProject is the project name the loader is given.
const composeProject = "authbench"

// loadComposeFile loads the compose file at path, with no variables set
// (every ${VAR:-default} takes its default) and paths resolved against
// its directory.
func loadComposeFile(path string) (*types.Project, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	return loadComposeDetails(types.ConfigDetails{
		WorkingDir:  filepath.Dir(abs),
		ConfigFiles: []types.ConfigFile{{Filename: abs}},
		Environment: types.Mapping{},
	})
}

// parseCompose loads compose YAML text as if it were a file in dir.
func parseCompose(text, dir string) (*types.Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return loadComposeDetails(types.ConfigDetails{
		WorkingDir:  abs,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(abs, "compose.yml"), Content: []byte(text)}},
		Environment: types.Mapping{},
	})
}

func loadComposeDetails(d types.ConfigDetails) (*types.Project, error) {
	return loader.LoadWithContext(context.Background(), d, func(o *loader.Options) {
		o.SetProjectName(composeProject, true)
		o.ResolvePaths = true
	})
}

// envOf returns a service's environment as plain strings (a variable
// declared without a value is "").
func envOf(s types.ServiceConfig) map[string]string {
	out := make(map[string]string, len(s.Environment))
	for k, v := range s.Environment {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}
