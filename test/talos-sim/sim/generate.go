package sim

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v4"

	clientconfig "github.com/siderolabs/talos/pkg/machinery/client/config"
	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/encoder"
	"github.com/siderolabs/talos/pkg/machinery/config/generate"
	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/role"
)

// GenerateParams asks Talos's own generator for a cluster: handy fixtures for tests that need a
// valid config and a matching talosconfig without a config engine of their own.
type GenerateParams struct {
	ClusterName string `json:"clusterName"`
	// Endpoint is the Kubernetes API endpoint (default https://127.0.0.1:6443).
	Endpoint          string `json:"endpoint,omitempty"`
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	// TalosVersion selects the version contract ("v1.13"); empty = the newest the library knows.
	TalosVersion string `json:"talosVersion,omitempty"`
	// InstallImage defaults to the installer of TalosVersion (or v1.14.1).
	InstallImage string `json:"installImage,omitempty"`
	// TalosconfigEndpoints go into the talosconfigs.
	TalosconfigEndpoints []string `json:"talosconfigEndpoints,omitempty"`
	// ExtraRoles get a talosconfig each, keyed by role (e.g. "os:reader").
	ExtraRoles []string `json:"extraRoles,omitempty"`
}

// GeneratedCluster is the generator's output; configs and talosconfigs are YAML.
type GeneratedCluster struct {
	Secrets      string            `json:"secrets"`
	ControlPlane string            `json:"controlplane"`
	Worker       string            `json:"worker"`
	Talosconfig  string            `json:"talosconfig"`
	Talosconfigs map[string]string `json:"talosconfigs,omitempty"`
}

// GenerateCluster makes secrets, control-plane and worker configs and talosconfigs.
func GenerateCluster(p GenerateParams) (*GeneratedCluster, error) {
	if p.ClusterName == "" {
		return nil, errors.New("clusterName is required")
	}

	if p.Endpoint == "" {
		p.Endpoint = "https://127.0.0.1:6443"
	}

	if p.KubernetesVersion == "" {
		p.KubernetesVersion = "1.34.1"
	}

	contract := config.TalosVersionCurrent

	if p.TalosVersion != "" {
		var err error

		if contract, err = config.ParseContractFromVersion(p.TalosVersion); err != nil {
			return nil, err
		}
	}

	if p.InstallImage == "" {
		tag := "v1.14.1"

		if p.TalosVersion != "" {
			tag = p.TalosVersion
			if strings.Count(tag, ".") == 1 {
				tag += ".0"
			}
		}

		p.InstallImage = "ghcr.io/siderolabs/installer:" + tag
	}

	// an ECDSA service-account key instead of RSA-4096 keeps fixture generation fast
	bundle, err := secrets.NewBundle(secrets.NewClock(), contract, secrets.WithECDSAServiceAccountKey())
	if err != nil {
		return nil, err
	}

	in, err := generate.NewInput(p.ClusterName, p.Endpoint, p.KubernetesVersion,
		generate.WithSecretsBundle(bundle),
		generate.WithVersionContract(contract),
		generate.WithInstallDisk("/dev/sda"),
		generate.WithInstallImage(p.InstallImage),
		generate.WithEndpointList(p.TalosconfigEndpoints),
	)
	if err != nil {
		return nil, err
	}

	out := &GeneratedCluster{Talosconfigs: map[string]string{}}

	for typ, dst := range map[machine.Type]*string{machine.TypeControlPlane: &out.ControlPlane, machine.TypeWorker: &out.Worker} {
		provider, err := in.Config(typ)
		if err != nil {
			return nil, err
		}

		b, err := provider.EncodeBytes(encoder.WithComments(encoder.CommentsDisabled))
		if err != nil {
			return nil, err
		}

		*dst = string(b)
	}

	secretsYAML, err := yaml.Marshal(bundle)
	if err != nil {
		return nil, err
	}

	out.Secrets = string(secretsYAML)

	if out.Talosconfig, err = talosconfigFor(bundle, p, role.MakeSet(role.Admin)); err != nil {
		return nil, err
	}

	for _, r := range p.ExtraRoles {
		roles, unknown := role.Parse([]string{r})
		if len(unknown) > 0 {
			return nil, fmt.Errorf("unknown role %q", r)
		}

		if out.Talosconfigs[r], err = talosconfigFor(bundle, p, roles); err != nil {
			return nil, err
		}
	}

	return out, nil
}

func talosconfigFor(bundle *secrets.Bundle, p GenerateParams, roles role.Set) (string, error) {
	crt, err := bundle.GenerateTalosAPIClientCertificate(roles)
	if err != nil {
		return "", err
	}

	b, err := clientconfig.NewConfig(p.ClusterName, p.TalosconfigEndpoints, bundle.Certs.OS.Crt, crt).Bytes()

	return string(b), err
}
