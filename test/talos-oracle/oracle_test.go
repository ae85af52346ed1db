package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/configpatcher"
	"github.com/siderolabs/talos/pkg/machinery/config/encoder"
	"go.yaml.in/yaml/v4"
)

const fixedNow = "2026-01-01T00:00:00Z"

// must unwraps a (value, error) pair; an error panics, which fails the test with a stack.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}

	return v
}

// machineryDir finds Talos's module in the module cache: its stability golden
// files are the reference the generator is held to.
func machineryDir(t *testing.T) string {
	t.Helper()

	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", machineryModule).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}

	return strings.TrimSpace(string(out))
}

func documents(t *testing.T, text string) []map[string]any {
	t.Helper()

	var docs []map[string]any

	decoder := yaml.NewDecoder(strings.NewReader(text))

	for {
		var doc map[string]any

		err := decoder.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}

		if err != nil {
			t.Fatal(err)
		}

		docs = append(docs, doc)
	}
}

func findDoc(docs []map[string]any, kind string) map[string]any {
	for _, doc := range docs {
		if kind == "v1alpha1" && doc["version"] == "v1alpha1" {
			return doc
		}

		if doc["kind"] == kind {
			return doc
		}
	}

	return nil
}

func dig(doc map[string]any, path ...string) any {
	var cur any = doc

	for _, key := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}

		cur = m[key]
	}

	return cur
}

func testBundle(t *testing.T, talosVersion string) string {
	t.Helper()

	// ECDSA service-account keys keep the tests fast; the RSA path has its own test.
	return must(genSecrets(genSecretsParams{TalosVersion: talosVersion, Now: fixedNow, ECDSAServiceAccountKey: true})).Bundle
}

// generated renders an unpatched config for a fresh bundle of the same contract.
func generated(t *testing.T, talosVersion, machineType, kubernetesVersion string) string {
	t.Helper()

	return must(genConfig(genConfigParams{
		ClusterName: "c", Endpoint: "https://10.5.0.2:6443", KubernetesVersion: kubernetesVersion,
		TalosVersion: talosVersion, MachineType: machineType, Bundle: testBundle(t, talosVersion),
	})).Config
}

func TestGenConfigReproducesTalosStabilityGoldens(t *testing.T) {
	dir := filepath.Join(machineryDir(t), "config/types/v1alpha1/testdata/stability")
	bundle := string(must(os.ReadFile(filepath.Join(dir, "secrets.yaml"))))

	for _, contract := range must(listContracts(struct{}{})).Contracts {
		for _, machineType := range []string{"controlplane", "worker"} {
			want := string(must(os.ReadFile(filepath.Join(dir, contract, "base-"+machineType+".yaml"))))

			got := must(genConfig(genConfigParams{
				ClusterName: "base", Endpoint: "https://base:6443", KubernetesVersion: "1.28.0",
				TalosVersion: contract, MachineType: machineType, Bundle: bundle,
			})).Config

			if got != want {
				t.Errorf("%s %s differs from Talos's golden file", contract, machineType)
			}
		}
	}
}

func TestGenSecretsFollowsContractAndLoadsBack(t *testing.T) {
	for _, tc := range []struct {
		talosVersion string
		saKeyLabel   string
	}{
		{"v1.6", "EC PRIVATE KEY"},
		{"v1.7", "RSA PRIVATE KEY"},
	} {
		bundle := must(genSecrets(genSecretsParams{TalosVersion: tc.talosVersion, Now: fixedNow})).Bundle
		docs := documents(t, bundle)

		saKey := dig(docs[0], "certs", "k8sserviceaccount", "key").(string)
		if !strings.Contains(string(must(decodeBase64(saKey))), tc.saKeyLabel) {
			t.Errorf("%s: service-account key is not %s", tc.talosVersion, tc.saKeyLabel)
		}

		loaded := must(loadSecrets(loadSecretsParams{Bundle: bundle, TalosVersion: tc.talosVersion}))
		if loaded.Bundle != bundle {
			t.Errorf("%s: bundle does not survive load + encode unchanged", tc.talosVersion)
		}

		if len(loaded.ValidationErrors) != 0 {
			t.Errorf("%s: fresh bundle invalid: %v", tc.talosVersion, loaded.ValidationErrors)
		}
	}
}

func TestLoadSecretsReadsLegacyLayoutWithoutClusterIdentity(t *testing.T) {
	docs := documents(t, testBundle(t, "v1.5"))

	part := func(key string) string { return string(must(yaml.Marshal(docs[0][key]))) }

	loaded := must(loadSecrets(loadSecretsParams{Legacy: &legacyBundle{
		Certs: part("certs"), KubeSecrets: part("secrets"), TrustdInfo: part("trustdinfo"),
	}}))

	got := documents(t, loaded.Bundle)[0]
	if dig(got, "trustdinfo", "token") != dig(docs[0], "trustdinfo", "token") ||
		dig(got, "certs", "os", "crt") != dig(docs[0], "certs", "os", "crt") {
		t.Errorf("legacy parts were not carried over: %v", loaded.Bundle)
	}

	if dig(got, "cluster", "id") != "" || !strings.Contains(strings.Join(loaded.ValidationErrors, "\n"), "cluster.id is required") {
		t.Errorf("legacy bundle should have no cluster id and fail validation, got %v", loaded.ValidationErrors)
	}

	if _, err := loadSecrets(loadSecretsParams{Legacy: &legacyBundle{Certs: part("certs")}}); err == nil {
		t.Error("legacy bundle without kubeSecrets should be an error")
	}

	if _, err := loadSecrets(loadSecretsParams{Bundle: ""}); err == nil {
		t.Error("empty bundle should be an error")
	}
}

func TestHostnameFollowsContract(t *testing.T) {
	for _, tc := range []struct {
		talosVersion string
		multidoc     bool
	}{
		{"v1.11", false},
		{"v1.12", true},
		{"v1.14", true},
	} {
		cfg := must(genConfig(genConfigParams{
			ClusterName: "c", Endpoint: "https://10.5.0.2:6443", KubernetesVersion: "1.33.1",
			TalosVersion: tc.talosVersion, MachineType: "worker", Bundle: testBundle(t, tc.talosVersion), Hostname: "node-a",
		})).Config
		docs := documents(t, cfg)
		legacy := dig(findDoc(docs, "v1alpha1"), "machine", "network", "hostname")
		hostnameDoc := findDoc(docs, "HostnameConfig")

		if tc.multidoc {
			if legacy != nil || dig(hostnameDoc, "hostname") != "node-a" || dig(hostnameDoc, "auto") != "off" {
				t.Errorf("%s: want HostnameConfig{auto: off, hostname: node-a} only, got\n%s", tc.talosVersion, cfg)
			}
		} else if legacy != "node-a" || hostnameDoc != nil {
			t.Errorf("%s: want machine.network.hostname only, got\n%s", tc.talosVersion, cfg)
		}

		if v := must(validateConfig(validateParams{Config: cfg, Mode: "cloud", Strict: true})); !v.Valid {
			t.Errorf("%s: %v", tc.talosVersion, v.Errors)
		}
	}
}

func TestJSONPatchesApplyToTheV1Alpha1DocumentOfMultiDocConfigs(t *testing.T) {
	base := generated(t, "v1.14", "controlplane", "1.34.0")

	// Talos's own patcher refuses this: the reason our engine extends it.
	patch := must(configpatcher.LoadPatch([]byte(`[{"op":"add","path":"/machine/certSANs/-","value":"10.5.0.100"}]`)))
	if _, err := configpatcher.Apply(configpatcher.WithBytes([]byte(base)), []configpatcher.Patch{patch}); err == nil {
		t.Fatal("expected Talos to refuse RFC 6902 patches on a multi-document config")
	}

	patched := must(patchConfig(patchParams{
		Config:        base,
		ConfigPatches: []json.RawMessage{json.RawMessage(`{"op":"add","path":"/machine/certSANs/-","value":"10.5.0.100"}`)},
	})).Config

	before, after := documents(t, base), documents(t, patched)
	if len(before) != len(after) {
		t.Fatalf("document count changed: %d → %d", len(before), len(after))
	}

	sans := dig(findDoc(after, "v1alpha1"), "machine", "certSANs")
	if list, ok := sans.([]any); !ok || len(list) != 1 || list[0] != "10.5.0.100" {
		t.Errorf("certSANs not patched: %v", sans)
	}

	for i := 1; i < len(before); i++ {
		if !bytes.Equal(must(yaml.Marshal(before[i])), must(yaml.Marshal(after[i]))) {
			t.Errorf("document %d changed", i)
		}
	}

	if _, err := patchConfig(patchParams{
		Config:        base,
		ConfigPatches: []json.RawMessage{json.RawMessage(`{"op":"replace","path":"/machine/install/disk","value":"/dev/sda"}`)},
	}); err == nil {
		t.Error("replace of a missing path should fail")
	}

	// The seed documents patch /machine/kernel/args, which is no Talos field:
	// strict decoding rejects the result.
	_, err := patchConfig(patchParams{
		Config:        base,
		ConfigPatches: []json.RawMessage{json.RawMessage(`{"op":"add","path":"/machine/kernel","value":{"args":["console=ttyS0"]}}`)},
	})
	if err == nil || !strings.Contains(err.Error(), "unknown keys") {
		t.Errorf("want an unknown-keys error, got %v", err)
	}
}

func TestStrategicPatchesMergeAndDelete(t *testing.T) {
	base := generated(t, "v1.8", "controlplane", "1.30.0")

	patched := must(patchConfig(patchParams{Config: base, StrategicPatches: []string{
		"machine:\n  time:\n    servers: [time.cloudflare.com]\n",
		"cluster:\n  apiServer:\n    admissionControl:\n      - name: PodSecurity\n        $patch: delete\n",
	}})).Config
	v1 := findDoc(documents(t, patched), "v1alpha1")

	if servers, _ := dig(v1, "machine", "time", "servers").([]any); len(servers) != 1 {
		t.Errorf("time servers not merged: %v", dig(v1, "machine", "time"))
	}

	if ac, _ := dig(v1, "cluster", "apiServer", "admissionControl").([]any); len(ac) != 0 {
		t.Errorf("PodSecurity not deleted: %v", ac)
	}
}

func TestValidateModes(t *testing.T) {
	bundle := testBundle(t, "v1.6")
	cfg := must(genConfig(genConfigParams{
		ClusterName: "c", Endpoint: "https://10.5.0.2:6443", KubernetesVersion: "1.29.0",
		TalosVersion: "v1.6", MachineType: "controlplane", Bundle: bundle,
	})).Config

	check := func(config, mode string, strict, wantValid bool) validateResult {
		t.Helper()

		got := must(validateConfig(validateParams{Config: config, Mode: mode, Strict: strict}))
		if got.Valid != wantValid {
			t.Errorf("%s strict=%v: valid=%v, want %v (%v)", mode, strict, got.Valid, wantValid, got.Errors)
		}

		return got
	}

	check(cfg, "cloud", true, true)
	check(cfg, "metal", true, false)     // no install disk
	check(cfg, "container", true, false) // hostDNS only from contract 1.7

	withDisk := must(patchConfig(patchParams{Config: cfg, ConfigPatches: []json.RawMessage{
		json.RawMessage(`{"op":"add","path":"/machine/install/disk","value":"/dev/sda"}`),
	}})).Config
	check(withDisk, "metal", true, true)

	withExtensions := must(patchConfig(patchParams{Config: withDisk, ConfigPatches: []json.RawMessage{
		json.RawMessage(`{"op":"add","path":"/machine/install/extensions","value":[{"image":"ghcr.io/siderolabs/qemu-guest-agent:9.0.0"}]}`),
	}})).Config
	if lenient := check(withExtensions, "metal", false, true); len(lenient.Warnings) == 0 {
		t.Error("extensions should warn")
	}

	check(withExtensions, "metal", true, false)

	if bad := check(cfg+"\nunknownKey: 1\n", "cloud", false, false); bad.LoadError == "" {
		t.Error("unknown keys should fail strict decoding")
	}

	if _, err := validateConfig(validateParams{Config: cfg, Mode: "moon"}); err == nil {
		t.Error("unknown mode should be an error")
	}
}

func TestTalosconfigLoadsAndChainsToTheBundleCA(t *testing.T) {
	bundle := testBundle(t, "v1.13")
	talosconfig := must(genTalosconfig(genTalosconfigParams{
		Bundle: bundle, ClusterName: "demo", Endpoints: []string{"10.5.0.2", "[fd00::2]:50000"}, Now: fixedNow,
	})).Talosconfig

	loaded := must(loadTalosconfig(loadTalosconfigParams{Talosconfig: talosconfig, Bundle: bundle}))

	ctx := loaded.Contexts["demo"]
	if loaded.Context != "demo" || len(ctx.Endpoints) != 2 || !ctx.HasCA {
		t.Errorf("unexpected contexts: %+v", loaded)
	}

	c := loaded.Client
	if !c.ChainsToCA || len(c.Roles) != 1 || c.Roles[0] != "os:admin" || !c.OnlyClientAuthEKU || c.IsCA ||
		c.KeyAlgorithm != "Ed25519" || c.NotBefore != fixedNow || c.NotAfter != "2027-01-01T00:00:00Z" {
		t.Errorf("unexpected client certificate: %+v", c)
	}

	if loaded.CAMatchesBundle == nil || !*loaded.CAMatchesBundle {
		t.Error("CA should match the bundle")
	}

	other := must(loadTalosconfig(loadTalosconfigParams{Talosconfig: talosconfig, Bundle: testBundle(t, "v1.13")}))
	if *other.CAMatchesBundle {
		t.Error("CA should not match another bundle")
	}
}

func TestCheckKubernetesVersion(t *testing.T) {
	if r := must(checkKubernetesVersion(checkKubernetesVersionParams{KubernetesVersion: "1.26.1", TalosVersion: "v1.3.0"})); !r.Supported {
		t.Error(r.Reason)
	}

	if r := must(checkKubernetesVersion(checkKubernetesVersionParams{KubernetesVersion: "1.27.0", TalosVersion: "v1.3.0"})); r.Supported {
		t.Error("1.27 on Talos 1.3 should be unsupported")
	}
}

func TestServeAnswersEachLineAndSurvivesBadInput(t *testing.T) {
	in := strings.NewReader(`{"id":1,"op":"contracts"}` + "\n" + `not json` + "\n" +
		`{"id":3,"op":"nope"}` + "\n" + `{"id":4,"op":"validate","params":{"config":"","mode":"cloud","bogus":1}}` + "\n")

	var out bytes.Buffer
	if err := serve(in, &out); err != nil {
		t.Fatal(err)
	}

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want 4 responses, got %d: %s", len(lines), out.String())
	}

	var first response
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || !first.OK || first.ID != 1 {
		t.Errorf("first response: %s", lines[0])
	}

	for _, line := range lines[1:] {
		var resp response
		if err := json.Unmarshal([]byte(line), &resp); err != nil || resp.OK || resp.Error == "" {
			t.Errorf("want an error response, got %s", line)
		}
	}
}

// Configs the oracle returns are in canonical form: loading and re-encoding changes nothing.
func TestEncodedConfigIsCanonical(t *testing.T) {
	cfg := generated(t, "v1.14", "worker", "1.34.0")

	provider := must(configloader.NewFromBytes([]byte(cfg)))
	if again := must(provider.EncodeString(encoder.WithComments(encoder.CommentsDisabled))); again != cfg {
		t.Error("re-encoding the oracle's output changed it")
	}
}
