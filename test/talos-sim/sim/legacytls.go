package sim

import (
	"context"
	"crypto/tls"
	"errors"
	"net"

	"google.golang.org/grpc/credentials"
)

// legacyTLSCredentials serve TLS without ALPN, like apid before Talos 1.9. gRPC-Go's own TLS
// credentials always add "h2" (and, since 1.67, refuse peers without ALPN), so the old behaviour
// needs credentials of its own.
type legacyTLSCredentials struct {
	config *tls.Config
}

func (c legacyTLSCredentials) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn := tls.Server(raw, c.config)
	if err := conn.Handshake(); err != nil {
		_ = conn.Close()

		return nil, nil, err
	}

	return conn, credentials.TLSInfo{
		State:          conn.ConnectionState(),
		CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity},
	}, nil
}

func (c legacyTLSCredentials) ClientHandshake(context.Context, string, net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("legacy TLS credentials are server-side only")
}

func (c legacyTLSCredentials) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "tls", SecurityVersion: "1.2"}
}

func (c legacyTLSCredentials) Clone() credentials.TransportCredentials {
	return legacyTLSCredentials{config: c.config.Clone()}
}

func (c legacyTLSCredentials) OverrideServerName(string) error { return nil }
