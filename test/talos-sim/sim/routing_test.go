package sim

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/role"
)

func TestFanOutTagsRepliesAndKeepsPerNodeErrors(t *testing.T) {
	s, c, nodes := threeNodeCluster(t)
	cp1 := c.client(t, nodes[0].Address, role.Admin)

	if err := s.SetFaults("cp-3", Faults{Unreachable: true}); err != nil {
		t.Fatal(err)
	}

	targets := []string{nodes[0].Address, "cp-2", nodes[2].Address, "10.9.9.9"}

	resp, err := cp1.ServiceList(withNodes(ctxTimeout(t), targets...), &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}

	msgs := resp.GetMessages()
	if len(msgs) != 4 {
		t.Fatalf("got %d messages, want one per target", len(msgs))
	}

	for i, m := range msgs {
		if m.GetMetadata().GetHostname() != targets[i] {
			t.Errorf("message %d hostname %q, want %q", i, m.GetMetadata().GetHostname(), targets[i])
		}
	}

	if msgs[0].GetMetadata().GetError() != "" || len(msgs[1].GetServices()) == 0 {
		t.Errorf("healthy targets should answer: %v", msgs[:2])
	}

	for _, m := range msgs[2:] {
		if !strings.Contains(m.GetMetadata().GetError(), "connection refused") || m.GetMetadata().GetStatus().GetCode() != int32(codes.Unavailable) {
			t.Errorf("unreachable target %s: error %q status %v", m.GetMetadata().GetHostname(), m.GetMetadata().GetError(), m.GetMetadata().GetStatus())
		}
	}
}

func TestFanOutStreamListBeforeAndAfterBootstrap(t *testing.T) {
	s := newTestSimulator(t)
	c := newTestCluster(t, "list")
	a := mustBoot(t, s, BootRequest{ID: "a", Config: c.controlPlane})
	b := mustBoot(t, s, BootRequest{ID: "b", Config: c.controlPlane})
	cl := c.client(t, a.Address, role.Admin)

	bootstrapped := func() (withData, withError int) {
		stream, err := cl.List(withNodes(ctxTimeout(t), a.Address, b.Address), &machine.ListRequest{Root: "/var/lib/etcd/member"})
		if err != nil {
			t.Fatal(err)
		}

		for {
			fi, err := stream.Recv()
			if err == io.EOF {
				return withData, withError
			}

			if err != nil {
				t.Fatal(err)
			}

			if fi.GetMetadata().GetError() != "" {
				withError++
			} else {
				withData++
			}
		}
	}

	if data, errs := bootstrapped(); data != 0 || errs != 2 {
		t.Fatalf("before bootstrap: %d entries, %d errors; want only per-node errors", data, errs)
	}

	if _, err := cl.Bootstrap(withNodes(ctxTimeout(t), b.Address), &machine.BootstrapRequest{}); err != nil {
		t.Fatal(err)
	}

	if data, errs := bootstrapped(); data == 0 || errs != 0 {
		t.Fatalf("after bootstrap: %d entries, %d errors", data, errs)
	}
}

func TestNodeMetadataProxiesAndWorkersDoNotForward(t *testing.T) {
	s := newTestSimulator(t)
	c := newTestCluster(t, "proxy")
	cp := mustBoot(t, s, BootRequest{ID: "cp", Config: c.controlPlane})
	w := mustBoot(t, s, BootRequest{ID: "w", Hostname: "worker-1", Config: c.worker})

	resp, err := c.client(t, cp.Address, role.Admin).Hostname(withNode(ctxTimeout(t), "worker-1"), &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}

	if m := resp.GetMessages()[0]; m.GetHostname() != "worker-1" || m.GetMetadata().GetHostname() != "" {
		t.Fatalf("one-to-one proxy reply %v; want the worker's answer untouched", m)
	}

	_, err = c.client(t, w.Address, role.Admin).Version(withNode(ctxTimeout(t), cp.Address), &emptypb.Empty{})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("worker forwarding: %v; want PermissionDenied", err)
	}

	// control-plane-only APIs say so on workers
	_, err = c.client(t, w.Address, role.Admin).EtcdMemberList(ctxTimeout(t), &machine.EtcdMemberListRequest{})
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("etcd API on a worker: %v; want Unimplemented", err)
	}
}

func TestWorkerWaitsForTrustd(t *testing.T) {
	s := newTestSimulator(t)
	c := newTestCluster(t, "trustd")

	v, err := s.CreateNode(BootRequest{ID: "w", Config: c.worker})
	if err != nil {
		t.Fatal(err)
	}

	if v.State != StateBooting || !strings.Contains(v.Waiting, "trustd") {
		t.Fatalf("worker without a control plane: %s waiting %q", v.State, v.Waiting)
	}

	mustBoot(t, s, BootRequest{ID: "cp", Config: c.controlPlane})

	eventually(t, "worker running", func() bool {
		v, _ := s.Inspect("w")

		return v.State == StateRunning
	})

	if _, err := c.client(t, v.Address, role.Reader).Version(ctxTimeout(t), &emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}
}

func TestFaults(t *testing.T) {
	s := newTestSimulator(t)
	c := newTestCluster(t, "faults")
	v := mustBoot(t, s, BootRequest{ID: "n", Config: c.controlPlane})
	cl := c.client(t, v.Address, role.Admin)

	if err := s.SetFaults("n", Faults{RPCErrors: map[string]RPCFault{"Version": {Code: "Unavailable", Message: "flaky", Times: 1}}}); err != nil {
		t.Fatal(err)
	}

	if _, err := cl.Version(ctxTimeout(t), &emptypb.Empty{}); status.Code(err) != codes.Unavailable || status.Convert(err).Message() != "flaky" {
		t.Fatalf("injected error: %v", err)
	}

	if _, err := cl.Version(ctxTimeout(t), &emptypb.Empty{}); err != nil {
		t.Fatalf("a fault with times=1 fires once: %v", err)
	}

	if err := s.SetFaults("n", Faults{LatencyMs: 300}); err != nil {
		t.Fatal(err)
	}

	started := time.Now()
	if _, err := cl.Version(ctxTimeout(t), &emptypb.Empty{}); err != nil || time.Since(started) < 300*time.Millisecond {
		t.Fatalf("latency: %v after %s", err, time.Since(started))
	}

	if err := s.SetFaults("n", Faults{Unreachable: true}); err != nil {
		t.Fatal(err)
	}

	if _, err := cl.Version(ctxTimeout(t), &emptypb.Empty{}); status.Code(err) != codes.Unavailable {
		t.Fatalf("unreachable: %v; want Unavailable", err)
	}

	if err := s.SetFaults("n", Faults{}); err != nil {
		t.Fatal(err)
	}

	// the client is in reconnect backoff after the refused connection: wait for it to redial
	if _, err := cl.Version(ctxTimeout(t), &emptypb.Empty{}, grpc.WaitForReady(true)); err != nil {
		t.Fatalf("after clearing faults: %v", err)
	}

	if err := s.SetFaults("n", Faults{RPCErrors: map[string]RPCFault{"Version": {Code: "bogus"}}}); err == nil {
		t.Fatal("an unknown code must be refused")
	}
}

func TestClientCertificatesAreChecked(t *testing.T) {
	s := newTestSimulator(t)
	c := newTestCluster(t, "tls")
	other := newTestCluster(t, "other")
	v := mustBoot(t, s, BootRequest{Config: c.controlPlane})

	// a certificate from another cluster's CA
	crt, err := other.bundle.GenerateTalosAPIClientCertificate(role.MakeSet(role.Admin))
	if err != nil {
		t.Fatal(err)
	}

	if _, err := dial(t, v.Address, c.bundle.Certs.OS.Crt, crt.Crt, crt.Key).Version(ctxTimeout(t), &emptypb.Empty{}); status.Code(err) != codes.Unavailable {
		t.Fatalf("foreign CA: %v; want the handshake to fail", err)
	}

	// an expired certificate of the right CA
	expired, err := c.bundle.GenerateTalosAPIClientCertificateWithTTL(role.MakeSet(role.Admin), time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}

	time.Sleep(5 * time.Millisecond)

	if _, err := dial(t, v.Address, c.bundle.Certs.OS.Crt, expired.Crt, expired.Key).Version(ctxTimeout(t), &emptypb.Empty{}); status.Code(err) != codes.Unavailable {
		t.Fatalf("expired certificate: %v; want the handshake to fail", err)
	}

	// right CA, but a server-auth certificate: apid wants exactly clientAuth
	ca, err := newCertAuthority(c.bundle.Certs.OS.Crt, c.bundle.Certs.OS.Key)
	if err != nil {
		t.Fatal(err)
	}

	der, key, err := ca.issue(leafSpec{orgs: []string{"os:admin"}, extUsage: x509.ExtKeyUsageServerAuth, ttl: time.Hour})
	if err != nil {
		t.Fatal(err)
	}

	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	crtPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})

	if _, err := dial(t, v.Address, c.bundle.Certs.OS.Crt, crtPEM, keyPEM).Version(ctxTimeout(t), &emptypb.Empty{}); err == nil {
		t.Fatal("a certificate without clientAuth EKU must be refused")
	}
}

func TestKubeconfigAndEvents(t *testing.T) {
	s := newTestSimulator(t)
	c := newTestCluster(t, "kube")
	v := mustBoot(t, s, BootRequest{Config: c.controlPlane})
	cl := c.client(t, v.Address, role.Admin)

	stream, err := cl.Kubeconfig(ctxTimeout(t), &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}

	data, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}

	zr, err := gzip.NewReader(bytes.NewReader(data.GetBytes()))
	if err != nil {
		t.Fatal(err)
	}

	tr := tar.NewReader(zr)

	hdr, err := tr.Next()
	if err != nil || hdr.Name != "kubeconfig" || hdr.Mode != 0o600 {
		t.Fatalf("archive entry %v: %v", hdr, err)
	}

	kubeconfig, _ := io.ReadAll(tr)
	if !strings.Contains(string(kubeconfig), "server: https://10.5.0.1:6443") || !strings.Contains(string(kubeconfig), "client-key-data:") {
		t.Fatalf("kubeconfig:\n%s", kubeconfig)
	}

	events, err := cl.Events(ctxTimeout(t), &machine.EventsRequest{TailEvents: -1})
	if err != nil {
		t.Fatal(err)
	}

	var sequences []string

	for {
		ev, err := events.Recv()
		if err != nil {
			t.Fatal(err)
		}

		if ev.GetData().GetTypeUrl() == "talos/runtime/machine.SequenceEvent" {
			var seq machine.SequenceEvent
			if err := ev.GetData().UnmarshalTo(&seq); err == nil {
				sequences = append(sequences, seq.GetSequence()+":"+seq.GetAction().String())
			}
		}

		if len(sequences) == 4 {
			break
		}
	}

	if strings.Join(sequences, " ") != "initialize:START initialize:STOP boot:START boot:STOP" {
		t.Fatalf("boot sequence events: %v", sequences)
	}
}

func TestALPN(t *testing.T) {
	for _, noALPN := range []bool{false, true} {
		s := New(Options{NoALPN: noALPN})
		t.Cleanup(s.Close)

		c := newTestCluster(t, "alpn")
		v := mustBoot(t, s, BootRequest{Config: c.controlPlane})

		crt, err := c.bundle.GenerateTalosAPIClientCertificate(role.MakeSet(role.Admin))
		if err != nil {
			t.Fatal(err)
		}

		pair, err := tls.X509KeyPair(crt.Crt, crt.Key)
		if err != nil {
			t.Fatal(err)
		}

		conn, err := tls.Dial("tcp", v.Address, &tls.Config{
			InsecureSkipVerify: true, //nolint:gosec // only the negotiated protocol matters here
			Certificates:       []tls.Certificate{pair},
			NextProtos:         []string{"h2"},
		})
		if err != nil {
			t.Fatal(err)
		}

		want := "h2"
		if noALPN {
			want = ""
		}

		if got := conn.ConnectionState().NegotiatedProtocol; got != want {
			t.Errorf("NoALPN=%v: negotiated %q, want %q", noALPN, got, want)
		}

		_ = conn.Close()
	}
}

func TestProxiedEventsStreamEndsWhenTheNodeGoesDown(t *testing.T) {
	s := newTestSimulator(t)
	c := newTestCluster(t, "events")
	a := mustBoot(t, s, BootRequest{ID: "a", Config: c.controlPlane})
	b := mustBoot(t, s, BootRequest{ID: "b", Config: c.controlPlane})

	stream, err := c.client(t, a.Address, role.Admin).Events(withNodes(ctxTimeout(t), b.Address), &machine.EventsRequest{TailEvents: -1})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}

	if err := s.Stop("b"); err != nil {
		t.Fatal(err)
	}

	for {
		ev, err := stream.Recv()
		if err != nil {
			t.Fatalf("the fan-out stream should report the node, not break: %v", err)
		}

		if msg := ev.GetMetadata().GetError(); msg != "" {
			if !strings.Contains(msg, "went down") {
				t.Fatalf("per-node error %q", msg)
			}

			return
		}
	}
}

func TestIPAddressingResolvesBareIPs(t *testing.T) {
	s := New(Options{Addressing: AddressingIPs, FirstIP: "127.0.0.20", NodePort: 51000})
	t.Cleanup(s.Close)

	c := newTestCluster(t, "ips")
	a := mustBoot(t, s, BootRequest{Config: c.controlPlane})
	b := mustBoot(t, s, BootRequest{Config: c.controlPlane})

	if a.Host == b.Host || a.Port != 51000 || b.Port != 51000 {
		t.Fatalf("addresses %s and %s; want one loopback IP each on the node port", a.Address, b.Address)
	}

	resp, err := c.client(t, a.Address, role.Admin).Version(withNodes(ctxTimeout(t), b.Host), &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}

	if m := resp.GetMessages()[0]; m.GetMetadata().GetHostname() != b.Host || m.GetMetadata().GetError() != "" {
		t.Fatalf("fan-out to a bare IP: %v", m.GetMetadata())
	}
}
