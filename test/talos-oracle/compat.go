package main

import (
	"runtime/debug"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/compatibility"
	"github.com/siderolabs/talos/pkg/machinery/config"
)

const machineryModule = "github.com/siderolabs/talos/pkg/machinery"

// supportedContracts are the version contracts from v1.3 (the oldest the
// project supports) to the newest this machinery release defines; update it
// together with the machinery version in go.mod.
var supportedContracts = []*config.VersionContract{
	config.TalosVersion1_3, config.TalosVersion1_4, config.TalosVersion1_5, config.TalosVersion1_6,
	config.TalosVersion1_7, config.TalosVersion1_8, config.TalosVersion1_9, config.TalosVersion1_10,
	config.TalosVersion1_11, config.TalosVersion1_12, config.TalosVersion1_13, config.TalosVersion1_14,
}

type contractsResult struct {
	// MachineryVersion is the pkg/machinery module version the oracle was built with.
	MachineryVersion string   `json:"machineryVersion"`
	Contracts        []string `json:"contracts"`
}

func listContracts(struct{}) (contractsResult, error) {
	out := contractsResult{MachineryVersion: "unknown", Contracts: []string{}}

	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == machineryModule {
				out.MachineryVersion = dep.Version
			}
		}
	}

	for _, contract := range supportedContracts {
		out.Contracts = append(out.Contracts, contract.String())
	}

	return out, nil
}

type checkKubernetesVersionParams struct {
	KubernetesVersion string `json:"kubernetesVersion"`
	// TalosVersion like v1.7.0.
	TalosVersion string `json:"talosVersion"`
}

type checkKubernetesVersionResult struct {
	Supported bool   `json:"supported"`
	Reason    string `json:"reason,omitempty"`
}

// checkKubernetesVersion asks Talos's compatibility table whether a Kubernetes
// version may run on a Talos version.
func checkKubernetesVersion(p checkKubernetesVersionParams) (checkKubernetesVersionResult, error) {
	k8s, err := compatibility.ParseKubernetesVersion(p.KubernetesVersion)
	if err != nil {
		return checkKubernetesVersionResult{}, err
	}

	talos, err := compatibility.ParseTalosVersion(&machine.VersionInfo{Tag: p.TalosVersion})
	if err != nil {
		return checkKubernetesVersionResult{}, err
	}

	if err := k8s.SupportedWith(talos); err != nil {
		return checkKubernetesVersionResult{Supported: false, Reason: err.Error()}, nil
	}

	return checkKubernetesVersionResult{Supported: true}, nil
}

// nowForChecks is the time certificate chains are verified at.
func nowForChecks() time.Time { return time.Now() }
