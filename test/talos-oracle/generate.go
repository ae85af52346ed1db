package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	coreconfig "github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/encoder"
	"github.com/siderolabs/talos/pkg/machinery/config/generate"
	"github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/config/types/v1alpha1"
	"go.yaml.in/yaml/v4"
)

// genConfigParams are the inputs the bootstrap provider renders a machine
// config from (the same ones CABPT feeds Talos's generator).
type genConfigParams struct {
	ClusterName string `json:"clusterName"`
	// Endpoint is the control-plane URL, e.g. https://[fd00::1]:6443.
	Endpoint string `json:"endpoint"`
	// KubernetesVersion without a leading "v".
	KubernetesVersion string `json:"kubernetesVersion"`
	// TalosVersion selects the version contract; empty = newest.
	TalosVersion string `json:"talosVersion"`
	// MachineType is init, controlplane or worker.
	MachineType string `json:"machineType"`
	// DNSDomain; empty = Talos's default (cluster.local).
	DNSDomain string `json:"dnsDomain"`
	// PodCIDRs / ServiceCIDRs replace Talos's defaults when non-empty.
	PodCIDRs     []string `json:"podCIDRs"`
	ServiceCIDRs []string `json:"serviceCIDRs"`
	// Bundle is the secrets.yaml text to generate from (required: configs are
	// only comparable when both sides use the same secrets).
	Bundle string `json:"bundle"`
	// Hostname, when set, is written the way the contract expects: the
	// v1alpha1 machine.network.hostname before contract 1.12, a HostnameConfig
	// {auto: off, hostname} strategic patch (applied after the user's) from 1.12 on.
	Hostname string `json:"hostname"`
	// ConfigPatches are RFC 6902 operations (one JSON patch).
	ConfigPatches []json.RawMessage `json:"configPatches"`
	// StrategicPatches are Talos strategic merge patches (YAML, multi-document allowed).
	StrategicPatches []string `json:"strategicPatches"`
}

type configResult struct {
	// Config is the machine config encoded without comments (Talos's canonical form).
	Config string `json:"config"`
}

func genConfig(p genConfigParams) (configResult, error) {
	provider, hostnamePatch, err := generateBase(p)
	if err != nil {
		return configResult{}, err
	}

	strategic := p.StrategicPatches
	if hostnamePatch != "" {
		strategic = append(append([]string{}, strategic...), hostnamePatch)
	}

	patched, err := applyPatches(provider, p.ConfigPatches, strategic)
	if err != nil {
		return configResult{}, err
	}

	return encodeConfig(patched)
}

// generateBase runs Talos's generator and the pre-patch overrides, returning
// the config and, for multi-document contracts, the hostname patch still to apply.
func generateBase(p genConfigParams) (coreconfig.Provider, string, error) {
	contract, err := parseContract(p.TalosVersion)
	if err != nil {
		return nil, "", err
	}

	machineType, err := machine.ParseType(p.MachineType)
	if err != nil {
		return nil, "", err
	}

	if p.Bundle == "" {
		return nil, "", errors.New("bundle is required")
	}

	bundle, err := decodeBundle(p.Bundle, time.Now())
	if err != nil {
		return nil, "", err
	}

	opts := []generate.Option{
		generate.WithVersionContract(contract),
		generate.WithSecretsBundle(bundle),
	}

	if p.DNSDomain != "" {
		opts = append(opts, generate.WithDNSDomain(p.DNSDomain))
	}

	input, err := generate.NewInput(p.ClusterName, p.Endpoint, p.KubernetesVersion, opts...)
	if err != nil {
		return nil, "", err
	}

	// The generator reads the subnets from the Input, so setting them here
	// covers both the v1alpha1 field (≤ 1.13) and KubeNetworkConfig (1.14+).
	if len(p.PodCIDRs) > 0 {
		input.PodNet = p.PodCIDRs
	}

	if len(p.ServiceCIDRs) > 0 {
		input.ServiceNet = p.ServiceCIDRs
	}

	provider, err := input.Config(machineType)
	if err != nil {
		return nil, "", err
	}

	if p.Hostname == "" {
		return provider, "", nil
	}

	if contract.MultidocNetworkConfigSupported() {
		patch, err := hostnameConfigPatch(p.Hostname)

		return provider, patch, err
	}

	provider, err = provider.PatchV1Alpha1(func(cfg *v1alpha1.Config) error {
		if cfg.MachineConfig == nil {
			return errors.New("generated config has no machine section")
		}

		if cfg.MachineConfig.MachineNetwork == nil {
			cfg.MachineConfig.MachineNetwork = &v1alpha1.NetworkConfig{}
		}

		cfg.MachineConfig.MachineNetwork.NetworkHostname = p.Hostname

		return nil
	})

	return provider, "", err
}

func hostnameConfigPatch(hostname string) (string, error) {
	out, err := yaml.Marshal(map[string]string{
		"apiVersion": "v1alpha1",
		"kind":       "HostnameConfig",
		"auto":       "off",
		"hostname":   hostname,
	})
	if err != nil {
		return "", fmt.Errorf("encoding hostname patch: %w", err)
	}

	return string(out), nil
}

func encodeConfig(provider coreconfig.Provider) (configResult, error) {
	out, err := provider.EncodeString(encoder.WithComments(encoder.CommentsDisabled))
	if err != nil {
		return configResult{}, err
	}

	return configResult{Config: out}, nil
}
