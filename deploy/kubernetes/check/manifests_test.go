package check

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// dir is the manifests' folder.
const dir = ".."

// manifests are the decoded objects, by kind.
type manifests struct {
	services     []corev1.Service
	configMaps   []corev1.ConfigMap
	namespaces   []corev1.Namespace
	statefulSets []appsv1.StatefulSet
	pdbs         []policyv1.PodDisruptionBudget
}

// decodeStrict decodes one document into out, refusing unknown fields.
func decodeStrict(doc []byte, out any) error {
	return yaml.UnmarshalStrict(doc, out)
}

// load decodes every document of every manifest the kustomization lists.
func load(t *testing.T) manifests {
	t.Helper()
	var kust struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Resources  []string `json:"resources"`
		Images     []struct {
			Name    string `json:"name"`
			NewName string `json:"newName"`
			NewTag  string `json:"newTag"`
		} `json:"images"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := decodeStrict(data, &kust); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, f := range files {
		if base := filepath.Base(f); base != "kustomization.yaml" && !slices.Contains(kust.Resources, base) {
			t.Errorf("%s is not listed in kustomization.yaml", base)
		}
	}
	var m manifests
	for _, res := range kust.Resources {
		data, err := os.ReadFile(filepath.Join(dir, res))
		if err != nil {
			t.Fatalf("kustomization.yaml lists %s: %v", res, err)
		}
		for i, doc := range bytes.Split(data, []byte("\n---\n")) {
			if err := m.add(doc); err != nil {
				t.Errorf("%s, document %d: %v", res, i+1, err)
			}
		}
	}
	return m
}

// add decodes one document by its kind.
func (m *manifests) add(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	var err error
	switch tm.APIVersion + "/" + tm.Kind {
	case "v1/Service":
		var o corev1.Service
		err = decodeStrict(doc, &o)
		m.services = append(m.services, o)
	case "v1/ConfigMap":
		var o corev1.ConfigMap
		err = decodeStrict(doc, &o)
		m.configMaps = append(m.configMaps, o)
	case "v1/Namespace":
		var o corev1.Namespace
		err = decodeStrict(doc, &o)
		m.namespaces = append(m.namespaces, o)
	case "apps/v1/StatefulSet":
		var o appsv1.StatefulSet
		err = decodeStrict(doc, &o)
		m.statefulSets = append(m.statefulSets, o)
	case "policy/v1/PodDisruptionBudget":
		var o policyv1.PodDisruptionBudget
		err = decodeStrict(doc, &o)
		m.pdbs = append(m.pdbs, o)
	default:
		return fmt.Errorf("kind %s/%s: add it to this check", tm.APIVersion, tm.Kind)
	}
	return err
}

func (m manifests) statefulSet(t *testing.T, name string) appsv1.StatefulSet {
	t.Helper()
	for _, s := range m.statefulSets {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no StatefulSet %s", name)
	return appsv1.StatefulSet{}
}

func (m manifests) service(name, ns string) (corev1.Service, bool) {
	for _, s := range m.services {
		if s.Name == name && s.Namespace == ns {
			return s, true
		}
	}
	return corev1.Service{}, false
}

// TestManifestsDecodeStrictly checks every document against the API types
// and that every namespaced object names a namespace the manifests create.
func TestManifestsDecodeStrictly(t *testing.T) {
	m := load(t)
	ns := map[string]bool{}
	for _, n := range m.namespaces {
		ns[n.Name] = true
	}
	var objs []metav1.ObjectMeta
	for _, o := range m.services {
		objs = append(objs, o.ObjectMeta)
	}
	for _, o := range m.statefulSets {
		objs = append(objs, o.ObjectMeta)
	}
	for _, o := range m.pdbs {
		objs = append(objs, o.ObjectMeta)
	}
	for _, o := range m.configMaps {
		objs = append(objs, o.ObjectMeta)
	}
	for _, o := range objs {
		if !ns[o.Namespace] {
			t.Errorf("%s: namespace %q is not created by the manifests", o.Name, o.Namespace)
		}
	}
}

// TestHotswapdStatefulSet checks the control plane's StatefulSet.
func TestHotswapdStatefulSet(t *testing.T) {
	m := load(t)
	s := m.statefulSet(t, "hotswapd")
	if s.Spec.Replicas == nil || *s.Spec.Replicas != 3 {
		t.Errorf("replicas = %v, want 3", s.Spec.Replicas)
	}
	if s.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
		t.Errorf("podManagementPolicy = %q, want Parallel (no server is ready before a leader exists)", s.Spec.PodManagementPolicy)
	}
	checkSelector(t, "StatefulSet hotswapd", s.Spec.Selector, s.Spec.Template.Labels)
	headless, ok := m.service(s.Spec.ServiceName, s.Namespace)
	switch {
	case !ok:
		t.Errorf("serviceName %q: no such Service", s.Spec.ServiceName)
	case headless.Spec.ClusterIP != corev1.ClusterIPNone:
		t.Errorf("Service %s is not headless", headless.Name)
	case !headless.Spec.PublishNotReadyAddresses:
		t.Errorf("Service %s must publish not-ready addresses, or Raft peers cannot find each other", headless.Name)
	}
	if len(s.Spec.VolumeClaimTemplates) == 0 {
		t.Error("no volumeClaimTemplates: the Raft log would not survive a pod")
	}
	c := container(t, s.Spec.Template.Spec, "hotswapd")
	checkProbes(t, c)
	checkMounts(t, s.Spec.Template.Spec, s.Spec.VolumeClaimTemplates, c)
	checkFlags(t, c.Args, "../../../controlplane/cmd/hotswapd")
	checkPeers(t, s, headless.Name)
	if !slices.ContainsFunc(s.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool {
		return v.Secret != nil && slices.ContainsFunc(c.Args, func(a string) bool {
			return strings.HasPrefix(a, "--bootstrap-token-file=") && mountedFrom(c, v.Name, a)
		})
	}) {
		t.Error("the bootstrap token is not read from a mounted Secret")
	}
	pdbOK := false
	for _, p := range m.pdbs {
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err == nil && p.Namespace == s.Namespace && sel.Matches(labels.Set(s.Spec.Template.Labels)) {
			pdbOK = p.Spec.MaxUnavailable != nil && p.Spec.MaxUnavailable.IntValue() == 1
		}
	}
	if !pdbOK {
		t.Error("no PodDisruptionBudget with maxUnavailable 1 selects the hotswapd pods")
	}
	for _, svc := range m.services {
		if svc.Namespace == s.Namespace {
			checkServicePorts(t, svc, c)
		}
	}
}

// TestAgentSidecar checks that the database pod runs the agent beside it.
func TestAgentSidecar(t *testing.T) {
	m := load(t)
	s := m.statefulSet(t, "app-db")
	checkSelector(t, "StatefulSet app-db", s.Spec.Selector, s.Spec.Template.Labels)
	spec := s.Spec.Template.Spec
	a := container(t, spec, "hotswap-agent")
	container(t, spec, "postgres")
	if len(a.Command) == 0 || a.Command[0] != "/usr/bin/hotswap-agent" {
		t.Errorf("agent command = %v, want /usr/bin/hotswap-agent", a.Command)
	}
	checkFlags(t, a.Args, "../../../agent/cmd/hotswap-agent")
	checkMounts(t, spec, s.Spec.VolumeClaimTemplates, a)
	for _, arg := range a.Args {
		if strings.HasPrefix(arg, "--config=") && !mountedFromSecret(spec, a, strings.TrimPrefix(arg, "--config=")) {
			t.Errorf("agent config %s is not in a Secret: it holds the database's credentials", arg)
		}
	}
}

func checkSelector(t *testing.T, what string, sel *metav1.LabelSelector, podLabels map[string]string) {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() || !s.Matches(labels.Set(podLabels)) {
		t.Errorf("%s: selector %v does not select its pods' labels %v (%v)", what, sel, podLabels, err)
	}
}

func container(t *testing.T, spec corev1.PodSpec, name string) corev1.Container {
	t.Helper()
	for _, c := range spec.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %s", name)
	return corev1.Container{}
}

// checkProbes wants readiness and liveness on GET /health at a declared port.
func checkProbes(t *testing.T, c corev1.Container) {
	t.Helper()
	for name, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/health" {
			t.Errorf("%s: %s probe is not GET /health", c.Name, name)
			continue
		}
		if !hasPort(c, p.HTTPGet.Port.String()) {
			t.Errorf("%s: %s probe port %s is not a container port", c.Name, name, p.HTTPGet.Port.String())
		}
	}
}

func hasPort(c corev1.Container, port string) bool {
	return slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool {
		return p.Name == port || fmt.Sprint(p.ContainerPort) == port
	})
}

// checkServicePorts wants every Service target port to be one the pods declare.
func checkServicePorts(t *testing.T, svc corev1.Service, c corev1.Container) {
	t.Helper()
	for _, p := range svc.Spec.Ports {
		if !hasPort(c, p.TargetPort.String()) {
			t.Errorf("Service %s: target port %s is not a port of %s", svc.Name, p.TargetPort.String(), c.Name)
		}
	}
}

// checkMounts wants every mount to name a volume of the pod or a claim.
func checkMounts(t *testing.T, spec corev1.PodSpec, claims []corev1.PersistentVolumeClaim, c corev1.Container) {
	t.Helper()
	for _, vm := range c.VolumeMounts {
		ok := slices.ContainsFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == vm.Name }) ||
			slices.ContainsFunc(claims, func(p corev1.PersistentVolumeClaim) bool { return p.Name == vm.Name })
		if !ok {
			t.Errorf("%s: mount %s names no volume", c.Name, vm.Name)
		}
	}
}

// checkFlags wants every --flag to be declared in the program's sources.
func checkFlags(t *testing.T, args []string, srcDir string) {
	t.Helper()
	var src bytes.Buffer
	files, _ := filepath.Glob(filepath.Join(srcDir, "*.go"))
	if len(files) == 0 {
		t.Fatalf("no sources in %s", srcDir)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
	}
	for _, a := range args {
		flag, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") || !bytes.Contains(src.Bytes(), []byte(`Name: "`+flag+`"`)) {
			t.Errorf("argument %q is not a flag of %s", a, srcDir)
		}
	}
}

// checkPeers wants --peers to list every replica at its stable name under
// the headless Service, with its pod name as server id.
func checkPeers(t *testing.T, s appsv1.StatefulSet, headless string) {
	t.Helper()
	c := container(t, s.Spec.Template.Spec, "hotswapd")
	var peers string
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "--peers="); ok {
			peers = v
		}
	}
	var want []string
	for i := range int(*s.Spec.Replicas) {
		pod := fmt.Sprintf("%s-%d", s.Name, i)
		want = append(want, fmt.Sprintf("%s=%s.%s.%s.svc:5002", pod, pod, headless, s.Namespace))
	}
	if peers != strings.Join(want, ",") {
		t.Errorf("--peers=%s\nwant      %s", peers, strings.Join(want, ","))
	}
}

// mountedFrom tells whether the file a --flag=PATH names lies under the
// mount of volume vol.
func mountedFrom(c corev1.Container, vol, arg string) bool {
	_, path, _ := strings.Cut(arg, "=")
	return slices.ContainsFunc(c.VolumeMounts, func(vm corev1.VolumeMount) bool {
		return vm.Name == vol && strings.HasPrefix(path, vm.MountPath+"/")
	})
}

func mountedFromSecret(spec corev1.PodSpec, c corev1.Container, path string) bool {
	return slices.ContainsFunc(spec.Volumes, func(v corev1.Volume) bool {
		return v.Secret != nil && mountedFrom(c, v.Name, "x="+path)
	})
}
