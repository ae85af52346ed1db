package sim

import (
	"slices"

	"github.com/siderolabs/talos/pkg/machinery/config"
)

// KubernetesImages are the images a config runs: the kubelet on every node, the static pods on
// control-plane nodes.
type KubernetesImages struct {
	Kubelet           string
	APIServer         string
	ControllerManager string
	Scheduler         string
}

// kubernetesImagesOf reads the images through Talos's accessors (both config layouts).
func kubernetesImagesOf(p config.Provider) KubernetesImages {
	var imgs KubernetesImages

	if k := p.K8sKubeletConfig(); k != nil {
		imgs.Kubelet = k.Image()
	}

	if c := p.K8sAPIServerConfig(); c != nil {
		imgs.APIServer = c.Image()
	}

	if c := p.K8sControllerManagerConfig(); c != nil {
		imgs.ControllerManager = c.Image()
	}

	if c := p.K8sSchedulerConfig(); c != nil {
		imgs.Scheduler = c.Image()
	}

	return imgs
}

// staticPod is a control-plane static pod as the node last rendered it; ConfigVersion is the
// config version that last changed it (Talos's talos.dev/config-version annotation).
type staticPod struct {
	Name          string `json:"name"`
	Image         string `json:"image"`
	ConfigVersion int    `json:"configVersion"`
	Ready         bool   `json:"ready"`
	Message       string `json:"message,omitempty"`
}

// staticPodImages names the static pods of a control-plane config and their images.
func staticPodImages(imgs KubernetesImages) map[string]string {
	return map[string]string{
		"kube-apiserver":          imgs.APIServer,
		"kube-controller-manager": imgs.ControllerManager,
		"kube-scheduler":          imgs.Scheduler,
	}
}

// renderStaticPods is the pods a config in effect at configVersion gives, from the previous ones:
// a pod whose image changed is rendered anew at this version, the others keep theirs. A pod whose
// image the node cannot fetch (fault brokenImages) is not ready.
func renderStaticPods(previous map[string]staticPod, imgs KubernetesImages, controlPlane bool, configVersion int, broken func(string) bool) map[string]staticPod {
	if !controlPlane {
		return nil
	}

	pods := map[string]staticPod{}

	for name, image := range staticPodImages(imgs) {
		pod, ok := previous[name]
		if !ok || pod.Image != image {
			pod = staticPod{Name: name, Image: image, ConfigVersion: configVersion}
		}

		pod.Ready, pod.Message = true, ""
		if broken(image) {
			pod.Ready, pod.Message = false, "Back-off pulling image \""+image+"\""
		}

		pods[name] = pod
	}

	return pods
}

// staticPodList is the pods sorted by name.
func staticPodList(pods map[string]staticPod) []staticPod {
	out := make([]staticPod, 0, len(pods))
	for _, p := range pods {
		out = append(out, p)
	}

	slices.SortFunc(out, func(a, b staticPod) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		default:
			return 0
		}
	})

	return out
}

// runConfigLocked puts what a config in effect runs on the node: a new config version, the
// static pods re-rendered, the images the node fetched for them, and — on a live apply that
// changes the kubelet image — a kubelet restart. previous is the config in effect before (nil at
// boot, when the version starts again at 1).
func (n *Node) runConfigLocked(previous *LoadedConfig) {
	if previous == nil {
		n.configVersion, n.staticPods = 0, nil
	}

	n.configVersion++
	imgs := n.cfg.Facts.Kubernetes
	n.staticPods = renderStaticPods(n.staticPods, imgs, n.cfg.Facts.ControlPlane(), n.configVersion, n.faults.imageBroken)

	for _, p := range n.staticPods {
		if p.Ready && p.Image != "" {
			n.images.add(nsCRI, normalizeImageRef(p.Image), imageSourceNode)
		}
	}

	if imgs.Kubelet != "" {
		n.images.add(nsSystem, normalizeImageRef(imgs.Kubelet), imageSourceNode)
	}

	if previous != nil && previous.Facts.Kubernetes.Kubelet != imgs.Kubelet && n.service("kubelet") != nil {
		n.setService("kubelet", svcPreparing, "Restarting: kubelet image changed to "+imgs.Kubelet, false, "")
		n.setService("kubelet", svcRunning, "Health check successful", true, "")
	}
}
