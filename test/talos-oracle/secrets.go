package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"go.yaml.in/yaml/v4"
)

// parseContract maps a Talos version ("v1.7", "1.7.3", "") to a version
// contract; the empty string means the newest contract the library knows.
func parseContract(talosVersion string) (*config.VersionContract, error) {
	if talosVersion == "" {
		return config.TalosVersionCurrent, nil
	}

	return config.ParseContractFromVersion(talosVersion)
}

// parseNow fixes the clock for everything time-dependent (certificate
// validity), so two runs with the same input give the same output.
func parseNow(now string) (time.Time, error) {
	if now == "" {
		return time.Now(), nil
	}

	t, err := time.Parse(time.RFC3339, now)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad now %q: %w", now, err)
	}

	return t, nil
}

type genSecretsParams struct {
	TalosVersion string `json:"talosVersion"`
	// Now is RFC 3339; empty means the current time.
	Now                    string `json:"now"`
	ECDSAServiceAccountKey bool   `json:"ecdsaServiceAccountKey"`
}

type bundleResult struct {
	// Bundle is the secrets.yaml text as `talosctl gen secrets` writes it.
	Bundle string `json:"bundle"`
}

func genSecrets(p genSecretsParams) (bundleResult, error) {
	contract, err := parseContract(p.TalosVersion)
	if err != nil {
		return bundleResult{}, err
	}

	now, err := parseNow(p.Now)
	if err != nil {
		return bundleResult{}, err
	}

	var opts []secrets.Option
	if p.ECDSAServiceAccountKey {
		opts = append(opts, secrets.WithECDSAServiceAccountKey())
	}

	bundle, err := secrets.NewBundle(secrets.NewFixedClock(now), contract, opts...)
	if err != nil {
		return bundleResult{}, err
	}

	return encodeBundle(bundle)
}

func encodeBundle(bundle *secrets.Bundle) (bundleResult, error) {
	out, err := yaml.Marshal(bundle)
	if err != nil {
		return bundleResult{}, err
	}

	return bundleResult{Bundle: string(out)}, nil
}

// decodeBundle reads a secrets.yaml the way secrets.LoadBundle does (same
// decoder, same leniency), with the clock fixed at now.
func decodeBundle(text string, now time.Time) (*secrets.Bundle, error) {
	bundle := &secrets.Bundle{Clock: secrets.NewFixedClock(now)}

	if err := yaml.NewDecoder(bytes.NewReader([]byte(text))).Decode(bundle); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("secrets bundle is empty")
		}

		return nil, fmt.Errorf("decoding secrets bundle: %w", err)
	}

	bundle.Clock = secrets.NewFixedClock(now)

	return bundle, nil
}

// legacyBundle is the pre-bundle Secret layout CABPT still reads: three keys
// holding the YAML of Certs, Secrets and TrustdInfo; there is no cluster id/secret.
type legacyBundle struct {
	Certs       string `json:"certs"`
	KubeSecrets string `json:"kubeSecrets"`
	TrustdInfo  string `json:"trustdInfo"`
}

type loadSecretsParams struct {
	Bundle string        `json:"bundle"`
	Legacy *legacyBundle `json:"legacy"`
	// TalosVersion selects the contract the bundle is validated against.
	TalosVersion string `json:"talosVersion"`
}

type loadSecretsResult struct {
	// Bundle is the loaded bundle re-encoded in the current layout.
	Bundle string `json:"bundle"`
	// ValidationErrors lists what secrets.Bundle.Validate rejects (empty when valid).
	ValidationErrors []string `json:"validationErrors"`
}

func loadSecrets(p loadSecretsParams) (loadSecretsResult, error) {
	contract, err := parseContract(p.TalosVersion)
	if err != nil {
		return loadSecretsResult{}, err
	}

	var bundle *secrets.Bundle

	switch {
	case p.Legacy != nil && p.Bundle != "":
		return loadSecretsResult{}, errors.New("give either bundle or legacy, not both")
	case p.Legacy != nil:
		bundle, err = decodeLegacyBundle(*p.Legacy)
	default:
		bundle, err = decodeBundle(p.Bundle, time.Now())
	}

	if err != nil {
		return loadSecretsResult{}, err
	}

	encoded, err := encodeBundle(bundle)
	if err != nil {
		return loadSecretsResult{}, err
	}

	return loadSecretsResult{Bundle: encoded.Bundle, ValidationErrors: errorList(bundle.Validate(contract))}, nil
}

func decodeLegacyBundle(legacy legacyBundle) (*secrets.Bundle, error) {
	bundle := &secrets.Bundle{
		Clock:      secrets.NewClock(),
		Cluster:    &secrets.Cluster{},
		Certs:      &secrets.Certs{},
		Secrets:    &secrets.Secrets{},
		TrustdInfo: &secrets.TrustdInfo{},
	}

	parts := []struct {
		name string
		text string
		into any
	}{
		{"certs", legacy.Certs, bundle.Certs},
		{"kubeSecrets", legacy.KubeSecrets, bundle.Secrets},
		{"trustdInfo", legacy.TrustdInfo, bundle.TrustdInfo},
	}

	for _, part := range parts {
		if part.text == "" {
			return nil, fmt.Errorf("legacy bundle: %s is missing", part.name)
		}

		if err := yaml.Unmarshal([]byte(part.text), part.into); err != nil {
			return nil, fmt.Errorf("legacy bundle: decoding %s: %w", part.name, err)
		}
	}

	return bundle, nil
}

func decodeBase64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
