package deploy

// A model of the parts of the compose specification the offline checks
// read. Compose accepts several spellings for most fields (a string or a
// list, a map or a list of KEY=VALUE, short or long volume and port
// syntax); each type below takes all of them.

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

type composeFile struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
	Networks map[string]any     `yaml:"networks"`
	Configs  map[string]fileRef `yaml:"configs"`
	Secrets  map[string]fileRef `yaml:"secrets"`
}

type fileRef struct {
	File string `yaml:"file"`
}

type service struct {
	Image       string         `yaml:"image"`
	Build       *buildSpec     `yaml:"build"`
	Entrypoint  stringList     `yaml:"entrypoint"`
	Command     stringList     `yaml:"command"`
	Environment envMap         `yaml:"environment"`
	EnvFile     stringList     `yaml:"env_file"`
	DependsOn   dependsOn      `yaml:"depends_on"`
	Networks    stringSet      `yaml:"networks"`
	Volumes     []volumeMount  `yaml:"volumes"`
	Ports       []portBinding  `yaml:"ports"`
	Configs     []serviceFile  `yaml:"configs"`
	Secrets     []serviceFile  `yaml:"secrets"`
	Labels      envMap         `yaml:"labels"`
	Healthcheck map[string]any `yaml:"healthcheck"`
}

// buildSpec is `build: DIR` or `build: {context, dockerfile}`.
type buildSpec struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

func (b *buildSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		b.Context = n.Value
		return nil
	}
	type plain buildSpec
	return n.Decode((*plain)(b))
}

// stringList is a string (split on blanks, as compose does for command)
// or a list of strings.
type stringList []string

func (s *stringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = strings.Fields(n.Value)
		return nil
	}
	return n.Decode((*[]string)(s))
}

// stringSet is a list of names or a map keyed by them.
type stringSet []string

func (s *stringSet) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		for i := 0; i < len(n.Content); i += 2 {
			*s = append(*s, n.Content[i].Value)
		}
		return nil
	}
	return n.Decode((*[]string)(s))
}

// dependsOn is a list of services or a map of service → condition.
type dependsOn map[string]string

func (d *dependsOn) UnmarshalYAML(n *yaml.Node) error {
	*d = dependsOn{}
	if n.Kind == yaml.SequenceNode {
		var names []string
		if err := n.Decode(&names); err != nil {
			return err
		}
		for _, name := range names {
			(*d)[name] = "service_started"
		}
		return nil
	}
	var m map[string]struct {
		Condition string `yaml:"condition"`
	}
	if err := n.Decode(&m); err != nil {
		return err
	}
	for name, v := range m {
		(*d)[name] = v.Condition
	}
	return nil
}

// envMap is a map or a list of KEY=VALUE.
type envMap map[string]string

func (e *envMap) UnmarshalYAML(n *yaml.Node) error {
	*e = envMap{}
	if n.Kind == yaml.SequenceNode {
		var items []string
		if err := n.Decode(&items); err != nil {
			return err
		}
		for _, it := range items {
			k, v, _ := strings.Cut(it, "=")
			(*e)[k] = v
		}
		return nil
	}
	return n.Decode((*map[string]string)(e))
}

// volumeMount is `SOURCE:TARGET[:MODE]` or the long syntax.
type volumeMount struct {
	Type, Source, Target string
}

func (v *volumeMount) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		var long struct{ Type, Source, Target string }
		if err := n.Decode(&long); err != nil {
			return err
		}
		*v = volumeMount(long)
		return nil
	}
	parts := strings.Split(n.Value, ":")
	switch len(parts) {
	case 1:
		*v = volumeMount{Type: "volume", Target: parts[0]}
		return nil
	case 2, 3:
		v.Source, v.Target = parts[0], parts[1]
	default:
		return fmt.Errorf("line %d: volume %q: want SOURCE:TARGET[:MODE]", n.Line, n.Value)
	}
	v.Type = "volume"
	if strings.HasPrefix(v.Source, ".") || strings.HasPrefix(v.Source, "/") || strings.HasPrefix(v.Source, "~") {
		v.Type = "bind"
	}
	return nil
}

// portBinding is a published port: [IP:]HOST:CONTAINER[/PROTO] or long.
type portBinding struct {
	HostIP, Protocol    string
	Published, Target   int
	PublishedUnassigned bool // CONTAINER only: Docker picks the host port
}

var rePort = regexp.MustCompile(`^(?:(\d+\.\d+\.\d+\.\d+|\[[0-9a-fA-F:]+\]):)?(?:(\d+):)?(\d+)(?:/(tcp|udp|sctp))?$`)

func (p *portBinding) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		var long struct {
			HostIP    string `yaml:"host_ip"`
			Published string `yaml:"published"`
			Target    int    `yaml:"target"`
			Protocol  string `yaml:"protocol"`
		}
		if err := n.Decode(&long); err != nil {
			return err
		}
		pub, _ := strconv.Atoi(long.Published)
		*p = portBinding{HostIP: long.HostIP, Protocol: long.Protocol, Published: pub, Target: long.Target, PublishedUnassigned: pub == 0}
	} else {
		m := rePort.FindStringSubmatch(n.Value)
		if m == nil {
			return fmt.Errorf("line %d: port %q: want [IP:]HOST:CONTAINER[/PROTO] (ranges are not used here)", n.Line, n.Value)
		}
		p.HostIP, p.Protocol = m[1], m[4]
		p.Target, _ = strconv.Atoi(m[3])
		p.Published, _ = strconv.Atoi(m[2])
		p.PublishedUnassigned = m[2] == ""
	}
	if p.Protocol == "" {
		p.Protocol = "tcp"
	}
	return nil
}

// serviceFile is a config or secret used by a service: a name or {source}.
type serviceFile struct{ Source string }

func (f *serviceFile) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		f.Source = n.Value
		return nil
	}
	var long struct{ Source string }
	err := n.Decode(&long)
	f.Source = long.Source
	return err
}

// reInterp matches ${VAR}, ${VAR:-default} and ${VAR-default}.
var reInterp = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}`)

// interpolate resolves compose's ${VAR:-default} from env (missing: the
// default, or empty), the way `docker compose` does before parsing.
func interpolate(text string, env map[string]string) string {
	return reInterp.ReplaceAllStringFunc(text, func(m string) string {
		sub := reInterp.FindStringSubmatch(m)
		if v, ok := env[sub[1]]; ok && v != "" {
			return v
		}
		return sub[2]
	})
}

// parseCompose parses compose YAML after interpolation with no variables
// set, i.e. with the file's own defaults.
func parseCompose(text string) (*composeFile, error) {
	var f composeFile
	if err := yaml.Unmarshal([]byte(interpolate(text, nil)), &f); err != nil {
		return nil, err
	}
	if len(f.Services) == 0 {
		return nil, fmt.Errorf("no services")
	}
	return &f, nil
}

// loadCompose reads and parses the repository's compose file.
func loadCompose(path string) (*composeFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseCompose(string(b))
}
