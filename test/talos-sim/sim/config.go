package sim

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/config/validation"
)

// RuntimeMode is the simulator's own implementation of Talos's runtime mode: Talos keeps its
// implementation in an internal package, so every external validator defines these three methods.
type RuntimeMode string

const (
	ModeMetal     RuntimeMode = "metal"
	ModeContainer RuntimeMode = "container"
	ModeCloud     RuntimeMode = "cloud"
)

func (m RuntimeMode) String() string        { return string(m) }
func (m RuntimeMode) RequiresInstall() bool { return m == ModeMetal }
func (m RuntimeMode) InContainer() bool     { return m == ModeContainer }

// ParseRuntimeMode accepts the mode names talosctl accepts for validation.
func ParseRuntimeMode(s string) (RuntimeMode, error) {
	switch RuntimeMode(s) {
	case ModeMetal, ModeContainer, ModeCloud:
		return RuntimeMode(s), nil
	default:
		return "", fmt.Errorf("unknown runtime mode %q (want metal, container or cloud)", s)
	}
}

// Installed tells whether Talos sits on a system disk in this mode; container mode has none,
// which is why Talos refuses Upgrade there.
func (m RuntimeMode) Installed() bool { return m != ModeContainer }

// ValidationOptions are the knobs of config validation.
type ValidationOptions struct {
	Mode RuntimeMode
	// Strict turns validation warnings into errors (talosctl validate --strict).
	Strict bool
	// CheckKubernetesVersions runs Talos's Kubernetes-version compatibility check, which is tied to
	// the Talos version of the machinery module; off by default, as in `talosctl validate`.
	CheckKubernetesVersions bool
}

// LoadedConfig is a machine config that passed Talos's loader and validator, with the facts the
// simulator needs pulled out once.
type LoadedConfig struct {
	Raw      []byte
	Provider config.Provider
	Warnings []string
	Facts    ConfigFacts
}

// ConfigFacts are the parts of a machine config that drive the simulated node.
type ConfigFacts struct {
	Type          machine.Type
	Hostname      string
	ClusterName   string
	ClusterID     string
	ClusterSecret string
	Endpoint      *url.URL
	OSCACert      []byte
	OSCAKey       []byte
	AcceptedCAs   [][]byte
	K8sCACert     []byte
	K8sCAKey      []byte
	CertSANs      []string
	InstallImage  string
	Token         string
	HasEtcdCA     bool
	AdminCN       string
	AdminOrg      string
	AdminTTL      time.Duration
	Kubernetes    KubernetesImages
}

// ControlPlane reports whether the node runs etcd and the Kubernetes control plane.
func (f ConfigFacts) ControlPlane() bool { return f.Type.IsControlPlane() }

// ClusterKey identifies the cluster a node belongs to: nodes with the same key share one etcd.
func (f ConfigFacts) ClusterKey() string {
	if f.ClusterID != "" {
		return f.ClusterID + "/" + f.ClusterSecret
	}

	// configs without a cluster identity still share an OS CA within one cluster
	return "ca:" + string(f.OSCACert)
}

// LoadConfig runs Talos's strict loader and its validator for the given mode. The returned error
// text is Talos's own message, so tests can compare it with what a real node would say.
func LoadConfig(raw []byte, opts ValidationOptions) (*LoadedConfig, error) {
	provider, err := configloader.NewFromBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("failed to load config: %w", err)
	}

	validationOpts := []validation.Option{}
	if !opts.CheckKubernetesVersions {
		validationOpts = append(validationOpts, validation.WithLocal())
	}

	if opts.Strict {
		validationOpts = append(validationOpts, validation.WithStrict())
	}

	warnings, err := provider.ValidateAsClient(opts.Mode, validationOpts...)
	if err != nil {
		return nil, fmt.Errorf("failed to validate config: %w", err)
	}

	if provider.RawV1Alpha1() == nil {
		return nil, errors.New("failed to validate config: the machine configuration doesn't contain a v1alpha1 document")
	}

	facts, err := extractFacts(provider)
	if err != nil {
		return nil, err
	}

	return &LoadedConfig{Raw: raw, Provider: provider, Warnings: warnings, Facts: facts}, nil
}

// extractFacts reads the config through Talos's accessors; a missing optional part stays empty.
func extractFacts(p config.Provider) (facts ConfigFacts, err error) {
	defer func() {
		// the accessors assume a validated config; turn a surprise into an error, not a crash
		if r := recover(); r != nil {
			err = fmt.Errorf("failed to read config: %v", r)
		}
	}()

	m := p.Machine()
	if m == nil {
		return facts, errors.New("failed to read config: machine section missing")
	}

	facts.Type = m.Type()
	if facts.Type == machine.TypeUnknown {
		facts.Type = machine.TypeWorker
	}

	if hc := p.NetworkHostnameConfig(); hc != nil {
		facts.Hostname = hc.Hostname()
	}

	if sec := m.Security(); sec != nil {
		if ca := sec.IssuingCA(); ca != nil {
			facts.OSCACert, facts.OSCAKey = ca.Crt, ca.Key
		}

		for _, accepted := range sec.AcceptedCAs() {
			facts.AcceptedCAs = append(facts.AcceptedCAs, accepted.Crt)
		}

		facts.CertSANs = sec.CertSANs()
		facts.Token = sec.Token()
	}

	if inst := m.Install(); inst != nil {
		facts.InstallImage = inst.Image()
	}

	if facts.InstallImage == "" {
		if uic := p.UnattendedInstallConfig(); uic != nil {
			facts.InstallImage = uic.InstallerImage()
		}
	}

	// cluster identity, name, endpoint and CA: the multi-document accessors fall back to the
	// v1alpha1 fields, so both config layouts (contracts before and from 1.14) work
	if ident := p.DiscoveryIdentityConfig(); ident != nil {
		facts.ClusterID, facts.ClusterSecret = ident.ClusterID(), ident.ClusterSecret()
	}

	if kc := p.K8sClusterConfig(); kc != nil {
		facts.ClusterName, facts.Endpoint = kc.ClusterName(), kc.ClusterEndpoint()
	}

	if kca := p.K8sAPIServerCAConfig(); kca != nil {
		if ca := kca.IssuingCA(); ca != nil && len(ca.Crt) > 0 {
			facts.K8sCACert, facts.K8sCAKey = ca.Crt, ca.Key
		} else if accepted := kca.AcceptedCAs(); len(accepted) > 0 {
			facts.K8sCACert = accepted[0].Crt
		}
	}

	facts.AdminCN, facts.AdminOrg, facts.AdminTTL = "admin", "system:masters", 365*24*time.Hour
	facts.Kubernetes = kubernetesImagesOf(p)

	if c := p.Cluster(); c != nil {
		if etcd := c.Etcd(); etcd != nil && etcd.CA() != nil {
			facts.HasEtcdCA = len(etcd.CA().Crt) > 0
		}

		if ak := c.AdminKubeconfig(); ak != nil {
			if ak.CommonName() != "" {
				facts.AdminCN = ak.CommonName()
			}

			if ak.CertOrganization() != "" {
				facts.AdminOrg = ak.CertOrganization()
			}

			if ak.CertLifetime() > 0 {
				facts.AdminTTL = ak.CertLifetime()
			}
		}
	}

	return facts, nil
}

// imageTag is the tag of an image reference ("ghcr.io/siderolabs/installer:v1.14.1" → "v1.14.1"),
// ignoring a digest; empty when there is none.
func imageTag(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")

	slash := strings.LastIndex(ref, "/")
	colon := strings.LastIndex(ref, ":")

	if colon <= slash {
		return ""
	}

	return ref[colon+1:]
}

// versionAtLeast compares a Talos version tag ("v1.13.9", "v1.14.0-rc.1") with major.minor;
// an unparsable tag counts as new.
func versionAtLeast(tag string, major, minor int) bool {
	var gotMajor, gotMinor int

	if _, err := fmt.Sscanf(strings.TrimPrefix(tag, "v"), "%d.%d", &gotMajor, &gotMinor); err != nil {
		return true
	}

	return gotMajor > major || (gotMajor == major && gotMinor >= minor)
}
