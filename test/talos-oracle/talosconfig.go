package main

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"

	"github.com/siderolabs/talos/pkg/machinery/client"
	clientconfig "github.com/siderolabs/talos/pkg/machinery/client/config"
	"github.com/siderolabs/talos/pkg/machinery/config/generate"
	"github.com/siderolabs/talos/pkg/machinery/role"
)

type genTalosconfigParams struct {
	Bundle      string   `json:"bundle"`
	ClusterName string   `json:"clusterName"`
	Endpoints   []string `json:"endpoints"`
	// Now fixes the client certificate's validity start (RFC 3339; empty = now).
	Now string `json:"now"`
}

type talosconfigResult struct {
	Talosconfig string `json:"talosconfig"`
}

// genTalosconfig makes the admin talosconfig the way `talosctl gen config` does
// (generate.Input.Talosconfig: os:admin client certificate signed by the OS CA).
func genTalosconfig(p genTalosconfigParams) (talosconfigResult, error) {
	now, err := parseNow(p.Now)
	if err != nil {
		return talosconfigResult{}, err
	}

	bundle, err := decodeBundle(p.Bundle, now)
	if err != nil {
		return talosconfigResult{}, err
	}

	// The Kubernetes version is irrelevant to the talosconfig but NewInput requires one.
	input, err := generate.NewInput(p.ClusterName, "https://unused.invalid:6443", "1.32.0",
		generate.WithSecretsBundle(bundle), generate.WithEndpointList(p.Endpoints))
	if err != nil {
		return talosconfigResult{}, err
	}

	cfg, err := input.Talosconfig()
	if err != nil {
		return talosconfigResult{}, err
	}

	out, err := cfg.Bytes()
	if err != nil {
		return talosconfigResult{}, err
	}

	return talosconfigResult{Talosconfig: string(out)}, nil
}

type loadTalosconfigParams struct {
	Talosconfig string `json:"talosconfig"`
	// Bundle, if given, is checked to hold the CA the talosconfig trusts.
	Bundle string `json:"bundle"`
}

type talosconfigContext struct {
	Endpoints []string `json:"endpoints"`
	Nodes     []string `json:"nodes"`
	HasCA     bool     `json:"hasCA"`
	HasCrt    bool     `json:"hasCrt"`
	HasKey    bool     `json:"hasKey"`
}

type clientCertificate struct {
	// Roles are the Talos roles Talos reads from the certificate (Subject O).
	Roles []string `json:"roles"`
	// UnknownRoles are Subject O values Talos ignores.
	UnknownRoles  []string `json:"unknownRoles"`
	CommonName    string   `json:"commonName"`
	KeyAlgorithm  string   `json:"keyAlgorithm"`
	NotBefore     string   `json:"notBefore"`
	NotAfter      string   `json:"notAfter"`
	IsCA          bool     `json:"isCA"`
	ClientAuthEKU bool     `json:"clientAuthEKU"`
	// OnlyClientAuthEKU: apid (1.12+) requires ExtKeyUsage to be exactly [clientAuth].
	OnlyClientAuthEKU bool `json:"onlyClientAuthEKU"`
	// ChainsToCA: the certificate verifies against the context's CA for client auth.
	ChainsToCA bool   `json:"chainsToCA"`
	ChainError string `json:"chainError,omitempty"`
}

type loadTalosconfigResult struct {
	Context  string                        `json:"context"`
	Contexts map[string]talosconfigContext `json:"contexts"`
	// Client describes the current context's client certificate, as Talos's
	// client loads it (client.CertificateFromConfigContext).
	Client *clientCertificate `json:"client"`
	// CAMatchesBundle is set when a bundle was given: the context's CA is the bundle's OS CA.
	CAMatchesBundle *bool `json:"caMatchesBundle,omitempty"`
}

func loadTalosconfig(p loadTalosconfigParams) (loadTalosconfigResult, error) {
	cfg, err := clientconfig.FromString(p.Talosconfig)
	if err != nil {
		return loadTalosconfigResult{}, fmt.Errorf("loading talosconfig: %w", err)
	}

	result := loadTalosconfigResult{Context: cfg.Context, Contexts: map[string]talosconfigContext{}}

	for name, ctx := range cfg.Contexts {
		result.Contexts[name] = talosconfigContext{
			Endpoints: nonNil(ctx.Endpoints),
			Nodes:     nonNil(ctx.Nodes),
			HasCA:     ctx.CA != "",
			HasCrt:    ctx.Crt != "",
			HasKey:    ctx.Key != "",
		}
	}

	current, ok := cfg.Contexts[cfg.Context]
	if !ok {
		return loadTalosconfigResult{}, fmt.Errorf("current context %q is not among the contexts", cfg.Context)
	}

	result.Client, err = describeClientCertificate(current)
	if err != nil {
		return loadTalosconfigResult{}, err
	}

	if p.Bundle != "" {
		bundle, err := decodeBundle(p.Bundle, nowForChecks())
		if err != nil {
			return loadTalosconfigResult{}, err
		}

		matches := bundle.Certs != nil && bundle.Certs.OS != nil &&
			base64.StdEncoding.EncodeToString(bundle.Certs.OS.Crt) == current.CA
		result.CAMatchesBundle = &matches
	}

	return result, nil
}

func describeClientCertificate(ctx *clientconfig.Context) (*clientCertificate, error) {
	pair, err := client.CertificateFromConfigContext(ctx)
	if err != nil {
		return nil, err
	}

	if pair == nil {
		return nil, errors.New("current context has no client certificate")
	}

	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("parsing client certificate: %w", err)
	}

	roles, unknown := role.Parse(leaf.Subject.Organization)

	out := &clientCertificate{
		Roles:         roles.Strings(),
		UnknownRoles:  nonNil(unknown),
		CommonName:    leaf.Subject.CommonName,
		KeyAlgorithm:  leaf.PublicKeyAlgorithm.String(),
		NotBefore:     leaf.NotBefore.UTC().Format("2006-01-02T15:04:05Z07:00"),
		NotAfter:      leaf.NotAfter.UTC().Format("2006-01-02T15:04:05Z07:00"),
		IsCA:          leaf.IsCA,
		ClientAuthEKU: hasEKU(leaf, x509.ExtKeyUsageClientAuth),
		OnlyClientAuthEKU: len(leaf.ExtKeyUsage) == 1 && leaf.ExtKeyUsage[0] == x509.ExtKeyUsageClientAuth &&
			len(leaf.UnknownExtKeyUsage) == 0,
	}
	sort.Strings(out.Roles)

	if _, isEd25519 := pair.PrivateKey.(ed25519.PrivateKey); !isEd25519 && leaf.PublicKeyAlgorithm == x509.Ed25519 {
		return nil, errors.New("client key does not load as Ed25519")
	}

	if err := verifyAgainstCA(leaf, ctx.CA); err != nil {
		out.ChainError = err.Error()
	} else {
		out.ChainsToCA = true
	}

	return out, nil
}

func verifyAgainstCA(leaf *x509.Certificate, caBase64 string) error {
	caPEM, err := base64.StdEncoding.DecodeString(caBase64)
	if err != nil {
		return fmt.Errorf("decoding CA: %w", err)
	}

	pool := x509.NewCertPool()

	for rest := caPEM; ; {
		var block *pem.Block

		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}

		ca, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fmt.Errorf("parsing CA: %w", err)
		}

		pool.AddCert(ca)
	}

	_, err = leaf.Verify(x509.VerifyOptions{
		Roots:       pool,
		CurrentTime: nowForChecks(),
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})

	return err
}

func hasEKU(cert *x509.Certificate, want x509.ExtKeyUsage) bool {
	for _, eku := range cert.ExtKeyUsage {
		if eku == want {
			return true
		}
	}

	return false
}

func nonNil(in []string) []string {
	if in == nil {
		return []string{}
	}

	return in
}
