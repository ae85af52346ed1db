package sim

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/role"
)

func TestBootFromValidConfigServesMachineAPI(t *testing.T) {
	s := newTestSimulator(t)
	c := newTestCluster(t, "alpha")
	v := mustBoot(t, s, BootRequest{Config: c.controlPlane, Hostname: "cp-1"})

	cl := c.client(t, v.Address, role.Admin)

	ver, err := cl.Version(ctxTimeout(t), &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}

	if got := ver.GetMessages()[0].GetVersion().GetTag(); got != "v1.13.9" {
		t.Errorf("version tag = %q, want the installer image tag v1.13.9", got)
	}

	services, err := cl.ServiceList(ctxTimeout(t), &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}

	states := map[string]string{}
	for _, svc := range services.GetMessages()[0].GetServices() {
		states[svc.GetId()] = svc.GetState()
	}

	if states["apid"] != "Running" || states["kubelet"] != "Running" || states["etcd"] != "Preparing" {
		t.Errorf("services before bootstrap = %v; want apid/kubelet Running, etcd Preparing", states)
	}
}

func TestRejectedConfigFailsBootWithTalosMessage(t *testing.T) {
	s := newTestSimulator(t)
	c := newTestCluster(t, "alpha")

	broken := strings.Replace(string(c.controlPlane), "machine:\n", "machine:\n    bogusKey: 1\n", 1)

	v, err := s.CreateNode(BootRequest{Config: []byte(broken)})
	if err != nil {
		t.Fatal(err)
	}

	if v.State != StateFailed || !strings.Contains(v.BootError, "unknown keys found during decoding") {
		t.Fatalf("state %s, boot error %q; want failed with the loader's unknown-keys message", v.State, v.BootError)
	}

	// a validation (not parse) failure: metal mode needs an install disk
	noDisk := strings.Replace(string(c.controlPlane), "disk: /dev/sda", "disk: \"\"", 1)

	v, err = s.CreateNode(BootRequest{Config: []byte(noDisk)})
	if err != nil {
		t.Fatal(err)
	}

	if v.State != StateFailed || !strings.Contains(v.BootError, "install disk or diskSelector should be defined") {
		t.Fatalf("state %s, boot error %q; want the validator's install disk message", v.State, v.BootError)
	}
}

func TestBootstrapOnceThenAlreadyExists(t *testing.T) {
	s := newTestSimulator(t)
	c := newTestCluster(t, "alpha")
	v := mustBoot(t, s, BootRequest{Config: c.controlPlane, Hostname: "cp-1"})
	cl := c.client(t, v.Address, role.Admin)

	if _, err := cl.Bootstrap(ctxTimeout(t), &machine.BootstrapRequest{}); err != nil {
		t.Fatal(err)
	}

	_, err := cl.Bootstrap(ctxTimeout(t), &machine.BootstrapRequest{})
	if status.Code(err) != codes.AlreadyExists {
		t.Fatalf("second bootstrap: %v; want AlreadyExists", err)
	}

	members, err := cl.EtcdMemberList(ctxTimeout(t), &machine.EtcdMemberListRequest{})
	if err != nil {
		t.Fatal(err)
	}

	if got := members.GetMessages()[0].GetMembers(); len(got) != 1 || got[0].GetHostname() != "cp-1" {
		t.Fatalf("members = %v; want cp-1 alone", got)
	}
}

func TestReaderCannotBootstrap(t *testing.T) {
	s := newTestSimulator(t)
	c := newTestCluster(t, "alpha")
	v := mustBoot(t, s, BootRequest{Config: c.controlPlane})

	reader := c.client(t, v.Address, role.Reader)

	_, err := reader.Bootstrap(ctxTimeout(t), &machine.BootstrapRequest{})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("reader bootstrap: %v; want PermissionDenied", err)
	}

	if _, err := reader.Version(ctxTimeout(t), &emptypb.Empty{}); err != nil {
		t.Fatalf("reader may call Version: %v", err)
	}
}
