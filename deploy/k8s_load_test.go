package deploy

// The manifests in deploy/k8s are decoded into the Kubernetes API's own
// types (k8s.io/api) strictly, as the API server's strict field validation
// (`kubectl apply --validate=strict`) does: sigs.k8s.io/yaml turns each
// document into JSON, refusing a key given twice, and sigs.k8s.io/json's
// UnmarshalStrict refuses a field the type does not have, also one that
// differs only in case. (sigs.k8s.io/yaml's own UnmarshalStrict decodes
// with encoding/json, which matches field names case-insensitively: it
// lets completionmode pass for completionMode.) The checks in k8s_test.go
// read the typed objects.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// k8sObject is one document of a manifest, decoded into its API type.
type k8sObject struct {
	file string // name#document
	metav1.TypeMeta
	meta *metav1.ObjectMeta
	// job and configMap are set for those kinds; the checks read them.
	job       *batchv1.Job
	configMap *corev1.ConfigMap
}

// k8sKinds are the kinds deploy/k8s uses, by apiVersion/kind; a manifest
// of another kind is an error until it is added here.
var k8sKinds = map[string]func() (any, *metav1.ObjectMeta){
	"v1/Namespace":      func() (any, *metav1.ObjectMeta) { o := &corev1.Namespace{}; return o, &o.ObjectMeta },
	"v1/ServiceAccount": func() (any, *metav1.ObjectMeta) { o := &corev1.ServiceAccount{}; return o, &o.ObjectMeta },
	"v1/ConfigMap":      func() (any, *metav1.ObjectMeta) { o := &corev1.ConfigMap{}; return o, &o.ObjectMeta },
	"v1/Secret":         func() (any, *metav1.ObjectMeta) { o := &corev1.Secret{}; return o, &o.ObjectMeta },
	"batch/v1/Job":      func() (any, *metav1.ObjectMeta) { o := &batchv1.Job{}; return o, &o.ObjectMeta },
}

// decodeK8s decodes one YAML document strictly into the type its
// apiVersion and kind name.
func decodeK8s(doc []byte) (*k8sObject, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return nil, err
	}
	newObj, ok := k8sKinds[tm.APIVersion+"/"+tm.Kind]
	if !ok {
		return nil, fmt.Errorf("apiVersion %q kind %q is not a kind deploy/k8s uses (add it to k8sKinds)", tm.APIVersion, tm.Kind)
	}
	obj, meta := newObj()
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tm.Kind, err)
	}
	strict, err := kjson.UnmarshalStrict(js, obj)
	if err == nil {
		err = errors.Join(strict...)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tm.Kind, err)
	}
	o := &k8sObject{TypeMeta: tm, meta: meta}
	o.job, _ = obj.(*batchv1.Job)
	o.configMap, _ = obj.(*corev1.ConfigMap)
	return o, nil
}

// parseK8s decodes every non-empty document of a multi-document manifest.
func parseK8s(name string, data []byte) ([]*k8sObject, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []*k8sObject
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s document %d: %w", name, i, err)
		}
		if isEmptyYAML(doc) {
			continue
		}
		o, err := decodeK8s(doc)
		if err != nil {
			return nil, fmt.Errorf("%s document %d: %w", name, i, err)
		}
		o.file = fmt.Sprintf("%s#%d", name, i)
		out = append(out, o)
	}
}

// isEmptyYAML reports a document of only comments and blank lines.
func isEmptyYAML(doc []byte) bool {
	for _, line := range strings.Split(string(doc), "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") && l != "---" {
			return false
		}
	}
	return true
}

// loadK8s decodes every document of every *.yaml file directly in dir.
func loadK8s(dir string) ([]*k8sObject, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no manifests in %s (%v)", dir, err)
	}
	sort.Strings(files)
	var out []*k8sObject
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		objs, err := parseK8s(filepath.Base(name), b)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// completionIndexPath is the field a pod's completion index comes from.
const completionIndexPath = "metadata.annotations['batch.kubernetes.io/job-completion-index']"

// containerEnv returns what a container sees: its ConfigMaps' data, then
// its own env (a completion-index field is "0", other fields "x").
func containerEnv(c corev1.Container, objs []*k8sObject) map[string]string {
	env := map[string]string{}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil {
			continue
		}
		for _, o := range objs {
			if o.configMap != nil && o.meta.Name == ef.ConfigMapRef.Name {
				for k, v := range o.configMap.Data {
					env[k] = v
				}
			}
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == completionIndexPath:
			env[e.Name] = "0"
		case e.ValueFrom != nil:
			env[e.Name] = "x"
		default:
			env[e.Name] = e.Value
		}
	}
	return env
}

var reK8sRef = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expandK8s expands $(VAR) the way the kubelet does in command and args:
// declared variables are replaced, $$ is a literal $, anything else stays.
// It also returns the names that were referenced but not declared.
func expandK8s(s string, env map[string]string) (string, []string) {
	var missing []string
	out := reK8sRef.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		name := m[2 : len(m)-1]
		if v, ok := env[name]; ok {
			return v
		}
		missing = append(missing, name)
		return m
	})
	return out, missing
}

// flagValue returns the value of --name in args (--name=V or --name V).
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}
