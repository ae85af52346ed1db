package main

import (
	"encoding/json"
	"errors"
	"fmt"

	jsonpatch "github.com/evanphx/json-patch"
	coreconfig "github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/config"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/configpatcher"
	"github.com/siderolabs/talos/pkg/machinery/config/container"
	"github.com/siderolabs/talos/pkg/machinery/config/encoder"
	"github.com/siderolabs/talos/pkg/machinery/config/types/v1alpha1"
)

type patchParams struct {
	Config           string            `json:"config"`
	ConfigPatches    []json.RawMessage `json:"configPatches"`
	StrategicPatches []string          `json:"strategicPatches"`
}

func patchConfig(p patchParams) (configResult, error) {
	provider, err := configloader.NewFromBytes([]byte(p.Config))
	if err != nil {
		return configResult{}, fmt.Errorf("loading config: %w", err)
	}

	patched, err := applyPatches(provider, p.ConfigPatches, p.StrategicPatches)
	if err != nil {
		return configResult{}, err
	}

	return encodeConfig(patched)
}

// applyPatches applies the RFC 6902 operations (as one JSON patch) and then
// the strategic merge patches in order — the order CABPT uses.
func applyPatches(provider coreconfig.Provider, configPatches []json.RawMessage, strategicPatches []string) (coreconfig.Provider, error) {
	if len(configPatches) > 0 {
		raw, err := json.Marshal(configPatches)
		if err != nil {
			return nil, fmt.Errorf("encoding config patches: %w", err)
		}

		patch, err := jsonpatch.DecodePatch(raw)
		if err != nil {
			return nil, fmt.Errorf("decoding config patches: %w", err)
		}

		provider, err = applyJSON6902ToV1Alpha1(provider, patch)
		if err != nil {
			return nil, err
		}
	}

	if len(strategicPatches) == 0 {
		return provider, nil
	}

	patches := make([]configpatcher.Patch, 0, len(strategicPatches))

	for i, text := range strategicPatches {
		patch, err := configpatcher.LoadPatch([]byte(text))
		if err != nil {
			return nil, fmt.Errorf("loading strategic patch %d: %w", i, err)
		}

		patches = append(patches, patch)
	}

	out, err := configpatcher.Apply(configpatcher.WithConfig(provider), patches)
	if err != nil {
		return nil, fmt.Errorf("applying strategic patches: %w", err)
	}

	return out.Config()
}

// applyJSON6902ToV1Alpha1 applies an RFC 6902 patch with Talos's JSON6902 to
// the v1alpha1 document alone and keeps the other documents as they are.
// Talos itself refuses RFC 6902 patches on multi-document configs; applying
// them to the v1alpha1 document is the behaviour our engine promises instead
// (issue 3), and for single-document configs it is exactly Talos's behaviour.
func applyJSON6902ToV1Alpha1(provider coreconfig.Provider, patch jsonpatch.Patch) (coreconfig.Provider, error) {
	v1 := provider.RawV1Alpha1()
	if v1 == nil {
		return nil, errors.New("RFC 6902 patches need a v1alpha1 document, and the config has none")
	}

	v1Bytes, err := container.NewV1Alpha1(v1).EncodeBytes(encoder.WithComments(encoder.CommentsDisabled))
	if err != nil {
		return nil, fmt.Errorf("encoding v1alpha1 document: %w", err)
	}

	patchedBytes, err := configpatcher.JSON6902(v1Bytes, patch)
	if err != nil {
		return nil, err
	}

	patched, err := configloader.NewFromBytes(patchedBytes)
	if err != nil {
		return nil, fmt.Errorf("loading patched v1alpha1 document: %w", err)
	}

	patchedV1 := patched.RawV1Alpha1()
	if patchedV1 == nil || len(patched.Documents()) != 1 {
		return nil, errors.New("patched v1alpha1 document did not load as one v1alpha1 document")
	}

	documents := []config.Document{patchedV1}

	for _, doc := range provider.Documents() {
		if _, isV1 := doc.(*v1alpha1.Config); isV1 {
			continue
		}

		documents = append(documents, doc)
	}

	return container.New(documents...)
}
