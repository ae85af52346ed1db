package sim

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/siderolabs/talos/pkg/machinery/api/common"
	"github.com/siderolabs/talos/pkg/machinery/api/machine"
)

// Containerd namespaces as Talos names them: "system" holds Talos's own images (the installer),
// "k8s.io" what the CRI runs (kubelet, static pods).
const (
	nsSystem = "system"
	nsCRI    = "k8s.io"
)

// How an image came onto the node.
const (
	imageSourcePull = "pull" // ImageService.Pull or MachineService.ImagePull
	imageSourceNode = "node" // fetched by the node for what its config runs
)

// pulledImage is one image in a node's containerd.
type pulledImage struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	Digest    string    `json:"digest"`
	Size      int64     `json:"size"`
	Source    string    `json:"source"`
	PulledAt  time.Time `json:"pulledAt"`
}

type imageKey struct{ namespace, name string }

// imageStore is a node's containerd image store; it survives reboots (it lives on disk) and goes
// with the EPHEMERAL partition.
type imageStore map[imageKey]pulledImage

// imageLayers is how many layers a simulated image has: enough to see per-layer progress.
const imageLayers = 2

// normalizeImageRef is containerd's normalized name: docker.io for a reference without a
// registry, library/ for a one-part Docker Hub name, :latest without tag or digest.
func normalizeImageRef(ref string) string {
	name, digest, hasDigest := strings.Cut(ref, "@")

	first, _, hasSlash := strings.Cut(name, "/")
	if !hasSlash || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		if !hasSlash {
			name = "library/" + name
		}

		name = "docker.io/" + name
	}

	if hasDigest {
		return name + "@" + digest
	}

	if imageTag(name) == "" {
		name += ":latest"
	}

	return name
}

// imageDigest and layer sizes are derived from the name, so a name always has the same content.
func imageDigest(name string) (digest string, layerSizes [imageLayers]int64) {
	sum := sha256.Sum256([]byte(name))

	for i := range layerSizes {
		layerSizes[i] = int64(1<<20 + binary.BigEndian.Uint32(sum[4*i:])%(8<<20))
	}

	return "sha256:" + hex.EncodeToString(sum[:]), layerSizes
}

// add records an image, keeping the first pull's time and source.
func (st imageStore) add(namespace, name, source string) pulledImage {
	key := imageKey{namespace, name}
	if img, ok := st[key]; ok {
		return img
	}

	digest, layers := imageDigest(name)
	img := pulledImage{Namespace: namespace, Name: name, Digest: digest, Source: source, PulledAt: time.Now().UTC()}

	for _, size := range layers {
		img.Size += size
	}

	st[key] = img

	return img
}

func (st imageStore) has(namespace, name string) bool {
	_, ok := st[imageKey{namespace, name}]

	return ok
}

// list returns the images of a namespace (all namespaces for ""), sorted by namespace and name.
func (st imageStore) list(namespace string) []pulledImage {
	var out []pulledImage

	for key, img := range st {
		if namespace == "" || key.namespace == namespace {
			out = append(out, img)
		}
	}

	slices.SortFunc(out, func(a, b pulledImage) int {
		return strings.Compare(a.Namespace+"\x00"+a.Name, b.Namespace+"\x00"+b.Name)
	})

	return out
}

// containerdNamespace maps the API's namespace enum; NS_UNKNOWN (or no instance) means fallback.
func containerdNamespace(inst *common.ContainerdInstance, fallback string) string {
	switch inst.GetNamespace() {
	case common.ContainerdNamespace_NS_SYSTEM:
		return nsSystem
	case common.ContainerdNamespace_NS_CRI:
		return nsCRI
	case common.ContainerdNamespace_NS_TALOSCONTAINERS:
		return "talos-containers"
	default:
		return fallback
	}
}

// pullProgress is what the pull of an image streams per layer: download and extraction, or
// "already exists" for an image the node has.
func pullProgress(name string, present bool) []*machine.ImageServicePullProgress {
	digest, layers := imageDigest(name)

	var out []*machine.ImageServicePullProgress

	for i, size := range layers {
		layer := "sha256:" + digest[7+8*i:7+8*i+12]

		if present {
			out = append(out, &machine.ImageServicePullProgress{LayerId: layer, Progress: &machine.ImageServicePullLayerProgress{Status: machine.ImageServicePullLayerProgress_ALREADY_EXISTS}})

			continue
		}

		for _, p := range []*machine.ImageServicePullLayerProgress{
			{Status: machine.ImageServicePullLayerProgress_DOWNLOADING, Offset: size / 2, Total: size, Elapsed: durationpb.New(5 * time.Millisecond)},
			{Status: machine.ImageServicePullLayerProgress_DOWNLOAD_COMPLETE, Offset: size, Total: size, Elapsed: durationpb.New(10 * time.Millisecond)},
			{Status: machine.ImageServicePullLayerProgress_EXTRACTING, Elapsed: durationpb.New(12 * time.Millisecond)},
			{Status: machine.ImageServicePullLayerProgress_EXTRACT_COMPLETE, Elapsed: durationpb.New(15 * time.Millisecond)},
		} {
			out = append(out, &machine.ImageServicePullProgress{LayerId: layer, Progress: p})
		}
	}

	return out
}

// imageServer serves machine.ImageService (Talos ≥ 1.13) for one node.
type imageServer struct {
	machine.UnimplementedImageServiceServer

	node *Node
}

// checkLifecycleAPI refuses ImageService and LifecycleService on nodes older than the Talos
// version that introduced them, as apid would for an unknown service.
func (n *Node) checkLifecycleAPI(service string) error {
	if !versionAtLeast(n.version(), 1, 13) {
		return status.Errorf(codes.Unimplemented, "unknown service machine.%s", service)
	}

	return nil
}

// pullLocked puts an image into a namespace, returning the normalized name and the progress to
// stream.
func (n *Node) pullLocked(ref, namespace string) (string, []*machine.ImageServicePullProgress, error) {
	if strings.TrimSpace(ref) == "" {
		return "", nil, status.Error(codes.InvalidArgument, "image reference is required")
	}

	if n.state != StateRunning {
		return "", nil, status.Error(codes.Unavailable, "containerd is not running")
	}

	name := normalizeImageRef(ref)
	if n.faults.imageBroken(name) {
		return "", nil, status.Errorf(codes.NotFound, "failed to pull image %q: %s: not found", ref, name)
	}

	progress := pullProgress(name, n.images.has(namespace, name))
	n.images.add(namespace, name, imageSourcePull)

	return name, progress, nil
}

// Pull streams per-layer progress, then one message with the pulled image's normalized name.
func (is *imageServer) Pull(req *machine.ImageServicePullRequest, srv grpc.ServerStreamingServer[machine.ImageServicePullResponse]) error {
	n := is.node

	var (
		name     string
		progress []*machine.ImageServicePullProgress
	)

	err := n.withSim(func() error {
		if err := n.checkLifecycleAPI("ImageService"); err != nil {
			return err
		}

		var err error

		name, progress, err = n.pullLocked(req.GetImageRef(), containerdNamespace(req.GetContainerd(), nsCRI))

		return err
	})
	if err != nil {
		return err
	}

	for _, p := range progress {
		if err := srv.Send(&machine.ImageServicePullResponse{Response: &machine.ImageServicePullResponse_PullProgress{PullProgress: p}}); err != nil {
			return err
		}
	}

	return srv.Send(&machine.ImageServicePullResponse{Response: &machine.ImageServicePullResponse_Name{Name: name}})
}

// List streams the images of the requested namespace (the CRI's by default), one per message.
func (is *imageServer) List(req *machine.ImageServiceListRequest, srv grpc.ServerStreamingServer[machine.ImageServiceListResponse]) error {
	n := is.node

	var images []pulledImage

	err := n.withSim(func() error {
		if err := n.checkLifecycleAPI("ImageService"); err != nil {
			return err
		}

		images = n.images.list(containerdNamespace(req.GetContainerd(), nsCRI))

		return nil
	})
	if err != nil {
		return err
	}

	for _, img := range images {
		if err := srv.Send(&machine.ImageServiceListResponse{
			Name: img.Name, Digest: img.Digest, Size: img.Size, CreatedAt: timestamppb.New(img.PulledAt),
		}); err != nil {
			return err
		}
	}

	return nil
}

// ImagePull is the MachineService method older nodes serve (deprecated since 1.13): unary, CRI
// namespace by default.
func (ms *machineServer) ImagePull(_ context.Context, req *machine.ImagePullRequest) (*machine.ImagePullResponse, error) {
	n := ms.node

	err := n.withSim(func() error {
		_, _, err := n.pullLocked(req.GetReference(), containerdNamespace(&common.ContainerdInstance{Namespace: req.GetNamespace()}, nsCRI))

		return err
	})
	if err != nil {
		return nil, err
	}

	return &machine.ImagePullResponse{Messages: []*machine.ImagePull{{}}}, nil
}

// withSim runs fn with the simulator mutex held.
func (n *Node) withSim(fn func() error) error {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()

	return fn()
}
