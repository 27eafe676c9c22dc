package deploy

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

const (
	k8sDir       = "k8s"
	k8sNamespace = "authbench"
)

func mustLoadK8s(t *testing.T) []*k8sObject {
	t.Helper()
	objs, err := loadK8s(k8sDir)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// indexedJob returns the drivers' Job and its authbench container.
func indexedJob(t *testing.T, objs []*k8sObject) (*batchv1.Job, corev1.Container) {
	t.Helper()
	for _, o := range objs {
		if o.job == nil || o.job.Spec.CompletionMode == nil || *o.job.Spec.CompletionMode != batchv1.IndexedCompletion {
			continue
		}
		for _, c := range o.job.Spec.Template.Spec.Containers {
			if len(c.Command) > 0 && c.Command[0] == "authbench" {
				return o.job, c
			}
		}
		t.Fatalf("%s: the Indexed Job has no container running authbench", o.file)
	}
	t.Fatal("no Job with completionMode: Indexed in deploy/k8s")
	return nil, corev1.Container{}
}

func TestK8sManifestsAreObjects(t *testing.T) {
	objs := mustLoadK8s(t)
	for _, o := range objs {
		if o.meta.Name == "" {
			t.Errorf("%s: %s has no metadata.name", o.file, o.Kind)
		}
		if o.Kind != "Namespace" && o.meta.Namespace != k8sNamespace {
			t.Errorf("%s: %s %s is in namespace %q, want %q", o.file, o.Kind, o.meta.Name, o.meta.Namespace, k8sNamespace)
		}
	}
}

func TestK8sReferencesResolve(t *testing.T) {
	objs := mustLoadK8s(t)
	defined := map[string]bool{}
	for _, o := range objs {
		defined[o.Kind+"/"+o.meta.Name] = true
	}
	for _, o := range objs {
		if o.job == nil {
			continue
		}
		pod := o.job.Spec.Template.Spec
		if pod.ServiceAccountName != "" && !defined["ServiceAccount/"+pod.ServiceAccountName] {
			t.Errorf("%s: service account %s is not defined", o.file, pod.ServiceAccountName)
		}
		volumes := map[string]bool{}
		for _, v := range pod.Volumes {
			volumes[v.Name] = true
			if v.Secret != nil && !defined["Secret/"+v.Secret.SecretName] {
				t.Errorf("%s: volume %s uses Secret %s, which is not defined", o.file, v.Name, v.Secret.SecretName)
			}
			if v.ConfigMap != nil && !defined["ConfigMap/"+v.ConfigMap.Name] {
				t.Errorf("%s: volume %s uses ConfigMap %s, which is not defined", o.file, v.Name, v.ConfigMap.Name)
			}
		}
		for _, c := range pod.Containers {
			for _, m := range c.VolumeMounts {
				if !volumes[m.Name] {
					t.Errorf("%s: container %s mounts %s, which is not a volume of the pod", o.file, c.Name, m.Name)
				}
			}
			for _, ef := range c.EnvFrom {
				if ef.ConfigMapRef != nil && !defined["ConfigMap/"+ef.ConfigMapRef.Name] {
					t.Errorf("%s: container %s takes env from ConfigMap %s, which is not defined", o.file, c.Name, ef.ConfigMapRef.Name)
				}
			}
			env := containerEnv(c, objs)
			for _, a := range append(append([]string{}, c.Command...), c.Args...) {
				if _, missing := expandK8s(a, env); len(missing) > 0 {
					t.Errorf("%s: container %s uses $(%s) in %q, but declares no such variable", o.file, c.Name, strings.Join(missing, ", $("), a)
				}
			}
		}
	}
}

func TestK8sDriversStartTogetherAndExposeMetrics(t *testing.T) {
	objs := mustLoadK8s(t)
	job, c := indexedJob(t, objs)
	spec := job.Spec
	if spec.Completions == nil || spec.Parallelism == nil || *spec.Completions != *spec.Parallelism || *spec.Completions < 2 {
		t.Errorf("completions and parallelism must be equal (every driver runs at once) and > 1")
	}
	if rp := spec.Template.Spec.RestartPolicy; rp != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q: a restarted driver would start after the others; want Never", rp)
	}
	args := append(c.Command[1:], c.Args...)
	if len(args) < 2 || args[0] != "run" {
		t.Fatalf("the driver runs %q, want `authbench run WORKLOAD …`", args)
	}
	if v, ok := flagValue(args, "start-at"); !ok || !strings.Contains(v, "$(") {
		t.Errorf("--start-at = %q: want one wall-clock time for every pod, from the environment", v)
	}
	if v, _ := flagValue(args, "out"); !strings.Contains(v, "$(JOB_COMPLETION_INDEX)") {
		t.Errorf("--out = %q: each pod needs its own run directory, by completion index", v)
	}
	env := containerEnv(c, objs)
	if env["JOB_COMPLETION_INDEX"] != "0" {
		t.Error("JOB_COMPLETION_INDEX is not taken from the completion-index annotation")
	}
	addr, _ := flagValue(args, "metrics-addr")
	host, port, _ := strings.Cut(addr, ":")
	if host != "0.0.0.0" || port == "" {
		t.Errorf("--metrics-addr = %q: Prometheus scrapes the pod's IP, so listen on 0.0.0.0", addr)
	}
	ann := spec.Template.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != port || ann["prometheus.io/path"] != "/metrics" {
		t.Errorf("pod annotations %v: want prometheus.io/scrape=true, port=%s, path=/metrics", ann, port)
	}
	exposed := false
	for _, p := range c.Ports {
		exposed = exposed || p.ContainerPort > 0 && port == strconv.Itoa(int(p.ContainerPort))
	}
	if !exposed {
		t.Errorf("the container does not declare port %s", port)
	}
	out, _ := flagValue(args, "out")
	shared := 0
	for _, other := range spec.Template.Spec.Containers {
		for _, m := range other.VolumeMounts {
			if strings.HasPrefix(out, m.MountPath+"/") {
				shared++
			}
		}
	}
	if shared < 2 {
		t.Errorf("--out %s is not on a volume another container (the collector) also mounts: kubectl cp needs a running container", out)
	}
}

func TestK8sScrapeConfigDiscoversPods(t *testing.T) {
	var cfg struct {
		ScrapeConfigs []struct {
			JobName string `yaml:"job_name"`
			SD      []struct {
				Role       string `yaml:"role"`
				Namespaces struct {
					Names []string `yaml:"names"`
				} `yaml:"namespaces"`
			} `yaml:"kubernetes_sd_configs"`
			Relabel []struct {
				SourceLabels []string `yaml:"source_labels"`
				Action       string   `yaml:"action"`
				Regex        string   `yaml:"regex"`
			} `yaml:"relabel_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, "k8s/prometheus/scrape-authbench.yml")), &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.ScrapeConfigs) != 1 || len(cfg.ScrapeConfigs[0].SD) != 1 {
		t.Fatalf("want one scrape job with one kubernetes_sd_configs entry, got %+v", cfg)
	}
	sc := cfg.ScrapeConfigs[0]
	if sd := sc.SD[0]; sd.Role != "pod" || len(sd.Namespaces.Names) != 1 || sd.Namespaces.Names[0] != k8sNamespace {
		t.Errorf("kubernetes_sd_configs %+v: want role pod in namespace %s", sd, k8sNamespace)
	}
	var keeps, port bool
	for _, r := range sc.Relabel {
		src := strings.Join(r.SourceLabels, ",")
		keeps = keeps || r.Action == "keep" && src == "__meta_kubernetes_pod_annotation_prometheus_io_scrape" && r.Regex == "true"
		port = port || strings.Contains(src, "__meta_kubernetes_pod_annotation_prometheus_io_port")
	}
	if !keeps || !port {
		t.Errorf("relabel_configs must keep pods annotated prometheus.io/scrape=true and use prometheus.io/port (keep %v, port %v)", keeps, port)
	}
}

func TestExpandK8sFollowsTheKubelet(t *testing.T) {
	got, missing := expandK8s("--out=/r/$(I) $$(I) $(date +%s) $(NOPE)", map[string]string{"I": "3"})
	if got != "--out=/r/3 $(I) $(date +%s) $(NOPE)" || len(missing) != 1 || missing[0] != "NOPE" {
		t.Errorf("expandK8s = %q, missing %v", got, missing)
	}
}

// TestK8sDecodingIsStrict feeds the decoder manifests with one mistake
// each: the API types must refuse them, naming the culprit.
func TestK8sDecodingIsStrict(t *testing.T) {
	const job = `apiVersion: batch/v1
kind: Job
metadata: {name: j, namespace: authbench}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: c
          image: busybox
`
	if objs, err := parseK8s("ok.yaml", []byte("# a comment\n---\n"+job)); err != nil || len(objs) != 1 || objs[0].job == nil {
		t.Fatalf("a valid Job: %v, %d objects", err, len(objs))
	}
	for _, c := range []struct{ name, doc, want string }{
		{"misspelled container field", strings.Replace(job, "image: busybox", "imagePullPolicyy: Always", 1), "imagePullPolicyy"},
		{"misspelled pod field", strings.Replace(job, "restartPolicy: Never", "restartPolcy: Never", 1), "restartPolcy"},
		{"field at the wrong level", strings.Replace(job, "spec:\n  template:", "spec:\n  restartPolicy: Never\n  template:", 1), "restartPolicy"},
		{"duplicate field", strings.Replace(job, "      restartPolicy: Never", "      restartPolicy: Never\n      restartPolicy: OnFailure", 1), "restartPolicy"},
		{"wrong type", strings.Replace(job, "spec:\n  template:", "spec:\n  completions: four\n  template:", 1), "completions"},
		{"misspelled ConfigMap field", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndatta: {A: b}\n", "datta"},
		{"unknown kind", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n", "Deployment"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseK8s("broken.yaml", []byte(c.doc))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("decode error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

// TestK8sRejectsOurManifestsMisspelled decodes our own manifests with one
// field misspelled at a time: each copy must be refused, naming the field.
func TestK8sRejectsOurManifestsMisspelled(t *testing.T) {
	for _, c := range []struct{ file, field, typo string }{
		{"drivers-job.yaml", "imagePullPolicy:", "imagePulPolicy:"},
		{"drivers-job.yaml", "completionMode:", "completionmode:"},
		{"drivers-job.yaml", "ttlSecondsAfterFinished:", "ttlSecondsAfterFinish:"},
		{"drivers-job.yaml", "whenUnsatisfiable:", "whenUnsatisfied:"},
		{"init-job.yaml", "restartPolicy:", "restartpolicy:"},
		{"secrets.yaml", "stringData:", "stringdata:"},
		{"config.yaml", "data:", "date:"},
		{"namespace.yaml", "automountServiceAccountToken:", "automountServiceToken:"},
	} {
		ours := readFile(t, filepath.Join(k8sDir, c.file))
		if _, err := parseK8s(c.file, []byte(ours)); err != nil {
			t.Fatalf("%s as committed: %v", c.file, err)
		}
		broken := strings.Replace(ours, c.field, c.typo, 1)
		if broken == ours {
			t.Fatalf("%q is no longer in %s: pick another field", c.field, c.file)
		}
		word := strings.TrimSuffix(c.typo, ":")
		if _, err := parseK8s(c.file, []byte(broken)); err == nil || !strings.Contains(err.Error(), word) {
			t.Errorf("%s with %s misspelled %s: decode error %v, want one naming it", c.file, c.field, word, err)
		}
	}
}
