package sim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/encoder"
	"github.com/siderolabs/talos/pkg/machinery/config/generate"
	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	mtype "github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/role"
)

// testCluster is a cluster's secrets and generated configs, made by Talos's own generator.
type testCluster struct {
	bundle       *secrets.Bundle
	controlPlane []byte
	worker       []byte
}

func newTestCluster(t *testing.T, name string) *testCluster {
	t.Helper()

	bundle, err := secrets.NewBundle(secrets.NewClock(), config.TalosVersion1_13, secrets.WithECDSAServiceAccountKey())
	if err != nil {
		t.Fatal(err)
	}

	in, err := generate.NewInput(name, "https://10.5.0.1:6443", "1.33.3",
		generate.WithSecretsBundle(bundle),
		generate.WithVersionContract(config.TalosVersion1_13),
		generate.WithInstallDisk("/dev/sda"),
		generate.WithInstallImage("ghcr.io/siderolabs/installer:v1.13.9"),
	)
	if err != nil {
		t.Fatal(err)
	}

	encode := func(typ mtype.Type) []byte {
		p, err := in.Config(typ)
		if err != nil {
			t.Fatal(err)
		}

		b, err := p.EncodeBytes(encoder.WithComments(encoder.CommentsDisabled))
		if err != nil {
			t.Fatal(err)
		}

		return b
	}

	return &testCluster{bundle: bundle, controlPlane: encode(mtype.TypeControlPlane), worker: encode(mtype.TypeWorker)}
}

func newTestSimulator(t *testing.T) *Simulator {
	t.Helper()

	s := New(Options{RebootDowntime: 50 * time.Millisecond})
	t.Cleanup(s.Close)

	return s
}

func mustBoot(t *testing.T, s *Simulator, req BootRequest) NodeView {
	t.Helper()

	v, err := s.CreateNode(req)
	if err != nil {
		t.Fatal(err)
	}

	if v.State != StateRunning {
		t.Fatalf("node %s is %s (boot error %q, waiting %q)", v.ID, v.State, v.BootError, v.Waiting)
	}

	return v
}

// client dials a node with a certificate of the cluster's OS CA carrying the given roles.
func (c *testCluster) client(t *testing.T, address string, roles ...role.Role) machine.MachineServiceClient {
	t.Helper()

	return machine.NewMachineServiceClient(c.conn(t, address, roles...))
}

// conn is a connection to a node for any of its services, authenticated as in client.
func (c *testCluster) conn(t *testing.T, address string, roles ...role.Role) *grpc.ClientConn {
	t.Helper()

	crt, err := c.bundle.GenerateTalosAPIClientCertificate(role.MakeSet(roles...))
	if err != nil {
		t.Fatal(err)
	}

	return dialConn(t, address, c.bundle.Certs.OS.Crt, crt.Crt, crt.Key)
}

func dial(t *testing.T, address string, caPEM, crtPEM, keyPEM []byte) machine.MachineServiceClient {
	t.Helper()

	return machine.NewMachineServiceClient(dialConn(t, address, caPEM, crtPEM, keyPEM))
}

func dialConn(t *testing.T, address string, caPEM, crtPEM, keyPEM []byte) *grpc.ClientConn {
	t.Helper()

	pair, err := tls.X509KeyPair(crtPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)

	conn, err := grpc.NewClient(address, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
		RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12,
	})))
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = conn.Close() })

	return conn
}

func ctxTimeout(t *testing.T) context.Context {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)

	return ctx
}

func withNodes(ctx context.Context, nodes ...string) context.Context {
	return metadata.NewOutgoingContext(ctx, metadata.MD{"nodes": nodes})
}

func withNode(ctx context.Context, node string) context.Context {
	return metadata.NewOutgoingContext(ctx, metadata.Pairs("node", node))
}

// eventually polls until cond holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()

	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}

		time.Sleep(20 * time.Millisecond)
	}
}
