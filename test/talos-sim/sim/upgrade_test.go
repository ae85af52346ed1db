package sim

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/siderolabs/talos/pkg/machinery/api/common"
	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/role"
)

const nextInstaller = "ghcr.io/siderolabs/installer:v1.14.1"

var systemNS = &common.ContainerdInstance{Driver: common.ContainerDriver_CONTAINERD, Namespace: common.ContainerdNamespace_NS_SYSTEM}

// drain reads a server stream to its end.
func drain[T any](stream grpc.ServerStreamingClient[T], err error) ([]*T, error) {
	if err != nil {
		return nil, err
	}

	var out []*T

	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}

		if err != nil {
			return out, err
		}

		out = append(out, msg)
	}
}

// singleNode boots one control-plane node "n" of a new cluster.
func singleNode(t *testing.T, cluster string) (*Simulator, *testCluster, NodeView) {
	t.Helper()

	s := newTestSimulator(t)
	c := newTestCluster(t, cluster)

	return s, c, mustBoot(t, s, BootRequest{ID: "n", Config: c.controlPlane})
}

func pull(t *testing.T, conn *grpc.ClientConn, ref string, ns *common.ContainerdInstance) ([]*machine.ImageServicePullResponse, error) {
	t.Helper()

	return drain(machine.NewImageServiceClient(conn).Pull(ctxTimeout(t), &machine.ImageServicePullRequest{Containerd: ns, ImageRef: ref}))
}

func lifecycleUpgrade(t *testing.T, conn *grpc.ClientConn, image string) ([]*machine.LifecycleServiceUpgradeResponse, error) {
	t.Helper()

	return drain(machine.NewLifecycleServiceClient(conn).Upgrade(ctxTimeout(t), &machine.LifecycleServiceUpgradeRequest{
		Containerd: systemNS, Source: &machine.InstallArtifactsSource{ImageName: image},
	}))
}

func TestNormalizeImageRef(t *testing.T) {
	for ref, want := range map[string]string{
		"nginx":                                 "docker.io/library/nginx:latest",
		"siderolabs/kubelet:v1.34.1":            "docker.io/siderolabs/kubelet:v1.34.1",
		"ghcr.io/siderolabs/installer:v1.14.1":  "ghcr.io/siderolabs/installer:v1.14.1",
		"registry.k8s.io/kube-apiserver":        "registry.k8s.io/kube-apiserver:latest",
		"localhost/app@sha256:abc":              "localhost/app@sha256:abc",
		"127.0.0.1:5000/installer:v1.14.0-rc.1": "127.0.0.1:5000/installer:v1.14.0-rc.1",
	} {
		if got := normalizeImageRef(ref); got != want {
			t.Errorf("normalizeImageRef(%q) = %q, want %q", ref, got, want)
		}
	}
}

func TestImagePullStreamsLayerProgressThenTheName(t *testing.T) {
	s, c, v := singleNode(t, "pull")
	conn := c.conn(t, v.Address, role.Admin)

	replies, err := pull(t, conn, "registry.k8s.io/kube-apiserver:v1.35.0", nil)
	if err != nil {
		t.Fatal(err)
	}

	var statuses []machine.ImageServicePullLayerProgress_Status
	for _, r := range replies[:len(replies)-1] {
		statuses = append(statuses, r.GetPullProgress().GetProgress().GetStatus())
	}

	if len(statuses) != 4*imageLayers || statuses[0] != machine.ImageServicePullLayerProgress_DOWNLOADING || statuses[3] != machine.ImageServicePullLayerProgress_EXTRACT_COMPLETE {
		t.Fatalf("progress of a new image: %v", statuses)
	}

	if name := replies[len(replies)-1].GetName(); name != "registry.k8s.io/kube-apiserver:v1.35.0" {
		t.Fatalf("last message names the image: %q", name)
	}

	again, err := pull(t, conn, "registry.k8s.io/kube-apiserver:v1.35.0", nil)
	if err != nil || len(again) != imageLayers+1 || again[0].GetPullProgress().GetProgress().GetStatus() != machine.ImageServicePullLayerProgress_ALREADY_EXISTS {
		t.Fatalf("a second pull finds the layers: %v %v", again, err)
	}

	listed, err := drain(machine.NewImageServiceClient(conn).List(ctxTimeout(t), &machine.ImageServiceListRequest{}))
	if err != nil {
		t.Fatal(err)
	}

	names := make([]string, 0, len(listed))
	for _, img := range listed {
		names = append(names, img.GetName())
	}

	if !slices.Contains(names, "registry.k8s.io/kube-apiserver:v1.35.0") || !slices.Contains(names, "registry.k8s.io/kube-scheduler:v1.33.3") {
		t.Fatalf("CRI images: %v", names)
	}

	view, _ := s.Inspect("n")
	if !slices.ContainsFunc(view.Images, func(img pulledImage) bool {
		return img.Name == "registry.k8s.io/kube-apiserver:v1.35.0" && img.Namespace == nsCRI && img.Source == imageSourcePull
	}) {
		t.Fatalf("inspect shows the pulled image: %+v", view.Images)
	}
}

func TestImagePullFailures(t *testing.T) {
	s, c, v := singleNode(t, "pull-fail")
	conn := c.conn(t, v.Address, role.Admin)

	if _, err := pull(t, c.conn(t, v.Address, role.Reader), "nginx", nil); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a reader cannot pull: %v", err)
	}

	if _, err := drain(machine.NewImageServiceClient(conn).Pull(withNodes(ctxTimeout(t), v.Address), &machine.ImageServicePullRequest{ImageRef: "nginx"})); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("apid does not fan ImageService out: %v", err)
	}

	if err := s.SetFaults("n", Faults{BrokenImages: []string{"nginx:latest"}}); err != nil {
		t.Fatal(err)
	}

	if _, err := pull(t, conn, "nginx", nil); status.Code(err) != codes.NotFound {
		t.Fatalf("a broken image: %v", err)
	}

	if err := s.SetFaults("n", Faults{RPCErrors: map[string]RPCFault{machine.ImageService_Pull_FullMethodName: {Code: "Unavailable", Times: 1}}}); err != nil {
		t.Fatal(err)
	}

	if _, err := pull(t, conn, "nginx", nil); status.Code(err) != codes.Unavailable {
		t.Fatalf("an injected error: %v", err)
	}

	if _, err := pull(t, conn, "nginx", nil); err != nil {
		t.Fatalf("the fault fired once: %v", err)
	}
}

func TestLifecycleUpgradeStagesTheImageAndARebootRunsIt(t *testing.T) {
	s, c, nodes := threeNodeCluster(t)
	conn := c.conn(t, nodes[1].Address, role.Admin)
	mc := machine.NewMachineServiceClient(conn)

	if _, err := lifecycleUpgrade(t, conn, nextInstaller); status.Code(err) != codes.NotFound {
		t.Fatalf("the installer must be pulled first: %v", err)
	}

	if _, err := pull(t, conn, nextInstaller, systemNS); err != nil {
		t.Fatal(err)
	}

	replies, err := lifecycleUpgrade(t, conn, nextInstaller)
	if err != nil {
		t.Fatal(err)
	}

	last := replies[len(replies)-1].GetProgress()
	if _, isExit := last.GetResponse().(*machine.LifecycleServiceInstallProgress_ExitCode); !isExit || last.GetExitCode() != 0 || replies[0].GetProgress().GetMessage() == "" {
		t.Fatalf("messages, then exit code 0: %v", replies)
	}

	view, _ := s.Inspect("cp-2")
	if view.StagedImage != nextInstaller || view.Version != "v1.13.9" || view.BootCount != 1 {
		t.Fatalf("staged, not rebooted: staged %q version %q boots %d", view.StagedImage, view.Version, view.BootCount)
	}

	if _, err := mc.Reboot(ctxTimeout(t), &machine.RebootRequest{}); err != nil {
		t.Fatal(err)
	}

	eventually(t, "the new version", func() bool {
		resp, err := mc.Version(ctxTimeout(t), &emptypb.Empty{})

		return err == nil && resp.GetMessages()[0].GetVersion().GetTag() == "v1.14.1"
	})

	eventually(t, "etcd member back", func() bool {
		lines := historyLines(t, s, "cp-1")

		return lines[len(lines)-1] == "started cp-2 3/3 true"
	})

	expectHistory(t, s, "cp-1", "bootstrap cp-1 1/1 true", "joined cp-2 2/2 true", "joined cp-3 3/3 true",
		"rebooting cp-2 2/3 true", "started cp-2 3/3 true")
}

func TestLifecycleUpgradeInstallerFailure(t *testing.T) {
	s, c, v := singleNode(t, "installer-fail")
	conn := c.conn(t, v.Address, role.Admin)

	if _, err := pull(t, conn, nextInstaller, systemNS); err != nil {
		t.Fatal(err)
	}

	if err := s.SetFaults("n", Faults{InstallerExitCode: 1}); err != nil {
		t.Fatal(err)
	}

	replies, err := lifecycleUpgrade(t, conn, nextInstaller)
	if err != nil {
		t.Fatal(err)
	}

	if code := replies[len(replies)-1].GetProgress().GetExitCode(); code != 1 {
		t.Fatalf("exit code %d", code)
	}

	if view, _ := s.Inspect("n"); view.StagedImage != "" {
		t.Fatalf("a failed installer stages nothing: %q", view.StagedImage)
	}
}

func TestLifecycleServiceIsUnknownBeforeTalos113(t *testing.T) {
	s := newTestSimulator(t)
	c := newTestCluster(t, "old")
	old := strings.ReplaceAll(string(c.controlPlane), "installer:v1.13.9", "installer:v1.12.11")
	v := mustBoot(t, s, BootRequest{ID: "n", Config: []byte(old)})
	conn := c.conn(t, v.Address, role.Admin)

	if _, err := lifecycleUpgrade(t, conn, nextInstaller); status.Code(err) != codes.Unimplemented {
		t.Fatalf("LifecycleService on 1.12: %v", err)
	}

	if _, err := pull(t, conn, "nginx", nil); status.Code(err) != codes.Unimplemented {
		t.Fatalf("ImageService on 1.12: %v", err)
	}

	if _, err := machine.NewMachineServiceClient(conn).ImagePull(ctxTimeout(t), &machine.ImagePullRequest{Reference: "nginx"}); err != nil {
		t.Fatalf("MachineService.ImagePull on 1.12: %v", err)
	}

	if view, _ := s.Inspect("n"); !slices.ContainsFunc(view.Images, func(img pulledImage) bool { return img.Name == "docker.io/library/nginx:latest" }) {
		t.Fatalf("ImagePull records the image: %+v", view.Images)
	}
}

func TestNodeStaysDownAfterRebootUntilTheFaultClears(t *testing.T) {
	s, c, nodes := threeNodeCluster(t)

	if err := s.SetFaults("cp-3", Faults{StaysDownAfterReboot: true}); err != nil {
		t.Fatal(err)
	}

	if _, err := c.client(t, nodes[2].Address, role.Admin).Reboot(ctxTimeout(t), &machine.RebootRequest{}); err != nil {
		t.Fatal(err)
	}

	time.Sleep(300 * time.Millisecond) // several reboot downtimes

	if view, _ := s.Inspect("cp-3"); view.State != StateRebooting || view.BootCount != 1 {
		t.Fatalf("held down: %s, boots %d", view.State, view.BootCount)
	}

	if err := s.SetFaults("cp-3", Faults{}); err != nil {
		t.Fatal(err)
	}

	eventually(t, "boot after the fault clears", func() bool {
		view, _ := s.Inspect("cp-3")

		return view.State == StateRunning && view.BootCount == 2
	})

	expectHistory(t, s, "cp-1", "bootstrap cp-1 1/1 true", "joined cp-2 2/2 true", "joined cp-3 3/3 true",
		"rebooting cp-3 2/3 true", "started cp-3 3/3 true")
}

func TestApplyWithoutRebootChangesWhatTheNodeRuns(t *testing.T) {
	s, c, v := singleNode(t, "apply-k8s")
	cl := c.client(t, v.Address, role.Admin)

	before, _ := s.Inspect("n")
	if before.ConfigVersion != 1 || len(before.StaticPods) != 3 || before.KubeletImage != "ghcr.io/siderolabs/kubelet:v1.33.3" {
		t.Fatalf("after boot: version %d, pods %+v, kubelet %q", before.ConfigVersion, before.StaticPods, before.KubeletImage)
	}

	apiserver := strings.Replace(string(c.controlPlane), "kube-apiserver:v1.33.3", "kube-apiserver:v1.34.1", 1)
	if _, err := cl.ApplyConfiguration(ctxTimeout(t), &machine.ApplyConfigurationRequest{Data: []byte(apiserver), Mode: machine.ApplyConfigurationRequest_NO_REBOOT}); err != nil {
		t.Fatal(err)
	}

	after, _ := s.Inspect("n")
	pods := map[string]staticPod{}

	for _, p := range after.StaticPods {
		pods[p.Name] = p
	}

	if after.ConfigVersion != 2 || pods["kube-apiserver"].Image != "registry.k8s.io/kube-apiserver:v1.34.1" || pods["kube-apiserver"].ConfigVersion != 2 ||
		pods["kube-scheduler"].ConfigVersion != 1 || after.BootCount != 1 {
		t.Fatalf("after the apiserver apply: version %d, pods %+v, boots %d", after.ConfigVersion, pods, after.BootCount)
	}

	if err := s.SetFaults("n", Faults{BrokenImages: []string{"ghcr.io/siderolabs/kubelet:v1.34.1", "registry.k8s.io/kube-scheduler:v1.34.1"}}); err != nil {
		t.Fatal(err)
	}

	all := strings.ReplaceAll(apiserver, "v1.33.3", "v1.34.1")
	if _, err := cl.ApplyConfiguration(ctxTimeout(t), &machine.ApplyConfigurationRequest{Data: []byte(all), Mode: machine.ApplyConfigurationRequest_AUTO}); err != nil {
		t.Fatal(err)
	}

	final, _ := s.Inspect("n")
	if final.KubeletImage != "ghcr.io/siderolabs/kubelet:v1.34.1" || final.ConfigVersion != 3 {
		t.Fatalf("kubelet follows the config: %q, version %d", final.KubeletImage, final.ConfigVersion)
	}

	kubelet := final.Services[slices.IndexFunc(final.Services, func(svc service) bool { return svc.ID == "kubelet" })]
	if !slices.ContainsFunc(kubelet.Events, func(e serviceEvent) bool { return strings.HasPrefix(e.Msg, "Restarting: kubelet image changed") }) || kubelet.State != svcRunning {
		t.Fatalf("the kubelet restarted: %+v", kubelet)
	}

	scheduler := final.StaticPods[slices.IndexFunc(final.StaticPods, func(p staticPod) bool { return p.Name == "kube-scheduler" })]
	if scheduler.Ready || scheduler.ConfigVersion != 3 {
		t.Fatalf("a pod with a broken image is not ready: %+v", scheduler)
	}

	if err := s.SetFaults("n", Faults{}); err != nil {
		t.Fatal(err)
	}

	if view, _ := s.Inspect("n"); !slices.ContainsFunc(view.StaticPods, func(p staticPod) bool { return p.Name == "kube-scheduler" && p.Ready }) {
		t.Fatalf("ready once the image can be fetched: %+v", view.StaticPods)
	}
}
