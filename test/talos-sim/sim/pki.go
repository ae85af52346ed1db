package sim

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/role"
)

// certAuthority is a parsed CA certificate with its signing key (nil when the config holds
// only the certificate, as on workers).
type certAuthority struct {
	cert    *x509.Certificate
	certPEM []byte
	signer  crypto.Signer
}

func parseCertPEM(certPEM []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no CERTIFICATE PEM block")
	}

	return x509.ParseCertificate(block.Bytes)
}

// parsePrivateKeyPEM accepts the PEM labels Talos writes: "ED25519 PRIVATE KEY" (PKCS#8 inside),
// "EC PRIVATE KEY", "RSA PRIVATE KEY" and plain "PRIVATE KEY".
func parsePrivateKeyPEM(keyPEM []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("no private key PEM block")
	}

	if key, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported private key type %T", key)
		}

		return signer, nil
	}

	if key, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return key, nil
	}

	if key, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return key, nil
	}

	// an Ed25519 key may also be stored as the bare 32-byte seed
	if block.Type == "ED25519 PRIVATE KEY" && len(block.Bytes) == ed25519.SeedSize {
		return ed25519.NewKeyFromSeed(block.Bytes), nil
	}

	return nil, fmt.Errorf("unsupported private key PEM %q", block.Type)
}

func newCertAuthority(certPEM, keyPEM []byte) (*certAuthority, error) {
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}

	ca := &certAuthority{cert: cert, certPEM: certPEM}

	if len(keyPEM) > 0 {
		if ca.signer, err = parsePrivateKeyPEM(keyPEM); err != nil {
			return nil, fmt.Errorf("CA key: %w", err)
		}
	}

	return ca, nil
}

// newKeyLike makes a fresh key of the same family as the CA's key, as Talos does for apid.
func newKeyLike(pub crypto.PublicKey) (crypto.Signer, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		_, priv, err := ed25519.GenerateKey(rand.Reader)

		return priv, err
	case *ecdsa.PublicKey:
		curve := k.Curve
		if curve == nil {
			curve = elliptic.P256()
		}

		return ecdsa.GenerateKey(curve, rand.Reader)
	case *rsa.PublicKey:
		return rsa.GenerateKey(rand.Reader, 2048)
	default:
		return nil, fmt.Errorf("unsupported CA key type %T", pub)
	}
}

func randomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}

type leafSpec struct {
	commonName string
	orgs       []string
	ips        []net.IP
	dnsNames   []string
	extUsage   x509.ExtKeyUsage
	ttl        time.Duration
}

// issue signs a leaf certificate with the CA's key; the key type follows the CA.
func (ca *certAuthority) issue(spec leafSpec) (certDER []byte, key crypto.Signer, err error) {
	if ca.signer == nil {
		return nil, nil, errors.New("CA key is not available")
	}

	key, err = newKeyLike(ca.cert.PublicKey)
	if err != nil {
		return nil, nil, err
	}

	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}

	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: spec.commonName, Organization: spec.orgs},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(spec.ttl),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{spec.extUsage},
		IPAddresses:  spec.ips,
		DNSNames:     spec.dnsNames,
	}

	if _, isRSA := key.(*rsa.PrivateKey); isRSA {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}

	certDER, err = x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.signer)

	return certDER, key, err
}

// serverCertificate is the apid certificate: CN = hostname, SANs = node addresses, 127.0.0.1,
// the config's certSANs and the hostname; serverAuth only.
func (ca *certAuthority) serverCertificate(hostname string, addrs []string, certSANs []string) (tls.Certificate, error) {
	ips := []net.IP{net.ParseIP("127.0.0.1")}
	dnsNames := []string{}

	for _, name := range append(slices.Clone(addrs), certSANs...) {
		if ip := net.ParseIP(name); ip != nil {
			if !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
		} else if name != "" && !slices.Contains(dnsNames, name) {
			dnsNames = append(dnsNames, name)
		}
	}

	if hostname != "" && !slices.Contains(dnsNames, hostname) {
		dnsNames = append(dnsNames, hostname)
	}

	der, key, err := ca.issue(leafSpec{
		commonName: hostname, ips: ips, dnsNames: dnsNames,
		extUsage: x509.ExtKeyUsageServerAuth, ttl: 24 * time.Hour,
	})
	if err != nil {
		return tls.Certificate{}, err
	}

	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// clientCertificatePEM issues a client certificate (used for the admin kubeconfig).
func (ca *certAuthority) clientCertificatePEM(commonName string, orgs []string, ttl time.Duration) (certPEM, keyPEM []byte, err error) {
	der, key, err := ca.issue(leafSpec{commonName: commonName, orgs: orgs, extUsage: x509.ExtKeyUsageClientAuth, ttl: ttl})
	if err != nil {
		return nil, nil, err
	}

	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}

	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// verifyClientExtKeyUsage mirrors apid (Talos ≥ 1.12): every non-CA certificate of the verified
// chain must carry exactly the clientAuth extended key usage.
func verifyClientExtKeyUsage(_ [][]byte, chains [][]*x509.Certificate) error {
	for _, chain := range chains {
		for _, cert := range chain {
			if cert.IsCA {
				continue
			}

			if len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
				return errors.New("client certificate must have exactly the clientAuth extended key usage")
			}
		}
	}

	return nil
}

// rolesOf reads the Talos roles from the Organization of a verified client certificate; unknown
// values are ignored, as in Talos.
func rolesOf(cert *x509.Certificate) role.Set {
	roles, _ := role.Parse(cert.Subject.Organization)

	return roles
}
