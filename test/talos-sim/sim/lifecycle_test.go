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

func TestRebootAndUpgrade(t *testing.T) {
	s := newTestSimulator(t)
	c := newTestCluster(t, "upgrade")
	v := mustBoot(t, s, BootRequest{ID: "n", Config: c.controlPlane})
	cl := c.client(t, v.Address, role.Admin)

	if _, err := cl.Reboot(ctxTimeout(t), &machine.RebootRequest{}); err != nil {
		t.Fatal(err)
	}

	eventually(t, "second boot", func() bool {
		v, _ := s.Inspect("n")

		return v.BootCount == 2 && v.State == StateRunning
	})

	if _, err := cl.Upgrade(ctxTimeout(t), &machine.UpgradeRequest{Image: "ghcr.io/siderolabs/installer:v1.14.1"}); err != nil {
		t.Fatal(err)
	}

	eventually(t, "upgraded version", func() bool {
		resp, err := cl.Version(ctxTimeout(t), &emptypb.Empty{})

		return err == nil && resp.GetMessages()[0].GetVersion().GetTag() == "v1.14.1"
	})

	if v, _ := s.Inspect("n"); v.BootCount != 3 {
		t.Fatalf("an upgrade reboots the node: boot count %d", v.BootCount)
	}
}

func TestContainerModeRefusesRebootAndUpgrade(t *testing.T) {
	s := newTestSimulator(t)
	c := newTestCluster(t, "container")

	v := mustBoot(t, s, BootRequest{Config: c.controlPlane, Mode: ModeContainer})
	cl := c.client(t, v.Address, role.Admin)

	if _, err := cl.Reboot(ctxTimeout(t), &machine.RebootRequest{}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("reboot in container mode: %v", err)
	}

	_, err := cl.Upgrade(ctxTimeout(t), &machine.UpgradeRequest{Image: "ghcr.io/siderolabs/installer:v1.14.1"})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "not supported in container mode") {
		t.Fatalf("upgrade in container mode: %v", err)
	}
}

func TestApplyConfiguration(t *testing.T) {
	s := newTestSimulator(t)
	c := newTestCluster(t, "apply")
	v := mustBoot(t, s, BootRequest{ID: "n", Config: c.controlPlane})
	cl := c.client(t, v.Address, role.Admin)

	_, err := cl.ApplyConfiguration(ctxTimeout(t), &machine.ApplyConfigurationRequest{Data: []byte("machine:\n  bogus: true\n")})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("invalid config: %v; want InvalidArgument", err)
	}

	withHostname := strings.Replace(string(c.controlPlane), "auto: stable\n", "hostname: renamed\n", 1)
	if withHostname == string(c.controlPlane) {
		t.Fatal("test fixture: could not patch the hostname in")
	}

	dry, err := cl.ApplyConfiguration(ctxTimeout(t), &machine.ApplyConfigurationRequest{Data: []byte(withHostname), DryRun: true})
	if err != nil {
		t.Fatal(err)
	}

	if details := dry.GetMessages()[0].GetModeDetails(); !strings.Contains(details, "Dry run summary") || !strings.Contains(details, "renamed") {
		t.Fatalf("dry-run details: %q", details)
	}

	staged, err := cl.ApplyConfiguration(ctxTimeout(t), &machine.ApplyConfigurationRequest{Data: []byte(withHostname), Mode: machine.ApplyConfigurationRequest_STAGED})
	if err != nil || staged.GetMessages()[0].GetMode() != machine.ApplyConfigurationRequest_STAGED {
		t.Fatalf("staged apply: %v %v", staged, err)
	}

	if v, _ := s.Inspect("n"); v.Hostname == "renamed" {
		t.Fatal("a staged config must not take effect before a reboot")
	}

	auto, err := cl.ApplyConfiguration(ctxTimeout(t), &machine.ApplyConfigurationRequest{Data: []byte(withHostname), Mode: machine.ApplyConfigurationRequest_AUTO})
	if err != nil || auto.GetMessages()[0].GetMode() != machine.ApplyConfigurationRequest_NO_REBOOT {
		t.Fatalf("auto apply: %v %v", auto, err)
	}

	if v, _ := s.Inspect("n"); v.Hostname != "renamed" || !strings.Contains(v.AppliedConfig, "hostname: renamed") {
		t.Fatalf("applied config not in effect: hostname %q", v.Hostname)
	}

	// the node runs v1.13.9 (its installer image): REBOOT mode still exists there
	if _, err := cl.ApplyConfiguration(ctxTimeout(t), &machine.ApplyConfigurationRequest{Data: c.controlPlane, Mode: machine.ApplyConfigurationRequest_REBOOT}); err != nil {
		t.Fatalf("REBOOT mode on v1.13: %v", err)
	}

	eventually(t, "reboot applying the config", func() bool {
		v, _ := s.Inspect("n")

		return v.BootCount == 2 && v.State == StateRunning && v.Hostname != "renamed"
	})
}

func TestVersionAtLeast(t *testing.T) {
	for tag, want := range map[string]bool{"v1.13.9": false, "v1.14.0-rc.1": true, "v1.14.1": true, "v2.0.0": true, "latest": true} {
		if got := versionAtLeast(tag, 1, 14); got != want {
			t.Errorf("versionAtLeast(%q, 1.14) = %v", tag, got)
		}
	}
}

func TestGracefulResetLeavesEtcd(t *testing.T) {
	s, c, nodes := threeNodeCluster(t)
	cp1 := c.client(t, nodes[0].Address, role.Admin)

	if _, err := c.client(t, nodes[2].Address, role.Admin).Reset(ctxTimeout(t), &machine.ResetRequest{Graceful: true, Reboot: false}); err != nil {
		t.Fatal(err)
	}

	eventually(t, "reset node off", func() bool {
		v, _ := s.Inspect("cp-3")

		return v.State == StateStopped
	})

	if got := memberHostnames(t, cp1); len(got) != 2 || got["cp-3"] != 0 {
		t.Fatalf("members after a graceful reset: %v", got)
	}

	if v, _ := s.Inspect("cp-3"); v.AppliedConfig != "" || v.EtcdData {
		t.Fatal("a system-disk reset wipes the config and etcd data")
	}

	// a reader may not reset
	_, err := c.client(t, nodes[1].Address, role.Reader).Reset(ctxTimeout(t), &machine.ResetRequest{})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("reader reset: %v", err)
	}
}
