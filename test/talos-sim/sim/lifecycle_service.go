package sim

import (
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
)

// lifecycleServer serves machine.LifecycleService (Talos ≥ 1.13) for one node.
type lifecycleServer struct {
	machine.UnimplementedLifecycleServiceServer

	node *Node
}

// checkUpgradable refuses upgrades where Talos refuses them: container mode has no system disk.
func (n *Node) checkUpgradable() error {
	if n.mode == ModeContainer {
		return status.Errorf(codes.FailedPrecondition, "method is not supported in %s mode", n.mode)
	}

	if !n.mode.Installed() {
		return status.Error(codes.FailedPrecondition, "Talos is not installed")
	}

	return nil
}

func checkInstallerTag(image string) error {
	if imageTag(image) == "" {
		return status.Errorf(codes.Unknown, "error validating installer image %q: image reference has no tag", image)
	}

	return nil
}

// installerRun is what the installer does for an upgrade: the lines it prints and its exit code.
// A zero exit code means the image is staged for the next boot.
func installerRun(image string, exitCode int32) []*machine.LifecycleServiceInstallProgress {
	lines := []string{
		"running installer " + image,
		"validating installer image",
		"installing Talos " + imageTag(image) + " to the inactive boot entry",
	}

	if exitCode != 0 {
		lines = append(lines, "installer failed: error writing the boot assets")
	} else {
		lines = append(lines, "upgrade of the boot assets complete; reboot to run "+imageTag(image))
	}

	out := make([]*machine.LifecycleServiceInstallProgress, 0, len(lines)+1)
	for _, line := range lines {
		out = append(out, &machine.LifecycleServiceInstallProgress{Response: &machine.LifecycleServiceInstallProgress_Message{Message: line}})
	}

	return append(out, &machine.LifecycleServiceInstallProgress{Response: &machine.LifecycleServiceInstallProgress_ExitCode{ExitCode: exitCode}})
}

// Upgrade runs the installer from an image already pulled into containerd (the system namespace
// unless the request names another) and streams its output, ending with its exit code. It only
// writes the new boot entry: no etcd check, no reboot — the caller gates, drains and reboots.
func (ls *lifecycleServer) Upgrade(req *machine.LifecycleServiceUpgradeRequest, srv grpc.ServerStreamingServer[machine.LifecycleServiceUpgradeResponse]) error {
	n := ls.node
	if !n.lifecycleMu.TryLock() {
		return status.Error(codes.FailedPrecondition, "another install or upgrade is already in progress")
	}
	defer n.lifecycleMu.Unlock()

	var progress []*machine.LifecycleServiceInstallProgress

	err := n.withSim(func() error {
		if err := n.checkLifecycleAPI("LifecycleService"); err != nil {
			return err
		}

		if err := n.checkUpgradable(); err != nil {
			return err
		}

		ref := req.GetSource().GetImageName()
		if strings.TrimSpace(ref) == "" {
			return status.Error(codes.InvalidArgument, "source image name is required")
		}

		image := normalizeImageRef(ref)
		if err := checkInstallerTag(image); err != nil {
			return err
		}

		namespace := containerdNamespace(req.GetContainerd(), nsSystem)
		if !n.images.has(namespace, image) {
			return status.Errorf(codes.NotFound, "failed to get image %q in containerd namespace %q: not found (pull it first)", image, namespace)
		}

		progress = installerRun(image, n.faults.InstallerExitCode)
		if n.faults.InstallerExitCode == 0 {
			n.staged = image
		}

		return nil
	})
	if err != nil {
		return err
	}

	for _, p := range progress {
		if err := srv.Send(&machine.LifecycleServiceUpgradeResponse{Progress: p}); err != nil {
			return err
		}
	}

	return nil
}
