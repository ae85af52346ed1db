package sim

import (
	"strconv"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
)

// NodeView is what the control interface shows of a node.
type NodeView struct {
	ID           string    `json:"id"`
	Address      string    `json:"address"`
	Host         string    `json:"host"`
	Port         int       `json:"port"`
	State        NodeState `json:"state"`
	BootError    string    `json:"bootError,omitempty"`
	Waiting      string    `json:"waiting,omitempty"`
	Hostname     string    `json:"hostname,omitempty"`
	MachineType  string    `json:"machineType,omitempty"`
	Mode         string    `json:"mode"`
	ClusterName  string    `json:"clusterName,omitempty"`
	Version      string    `json:"version,omitempty"`
	Image        string    `json:"image,omitempty"`
	StagedImage  string    `json:"stagedImage,omitempty"`
	BootCount    int       `json:"bootCount"`
	Warnings     []string  `json:"warnings,omitempty"`
	Faults       Faults    `json:"faults"`
	EtcdMemberID string    `json:"etcdMemberId,omitempty"`
	EtcdData     bool      `json:"etcdData"`
	// ConfigVersion counts the configs put in effect since boot (1 after boot, +1 per live apply).
	ConfigVersion int `json:"configVersion,omitempty"`
	// KubeletImage is the image the kubelet runs (the config in effect).
	KubeletImage string `json:"kubeletImage,omitempty"`

	// detailed fields (inspect only)
	Services      []service   `json:"services,omitempty"`
	Etcd          *EtcdView   `json:"etcd,omitempty"`
	AppliedConfig string      `json:"appliedConfig,omitempty"`
	BootConfig    string      `json:"bootConfig,omitempty"`
	Events        []EventView `json:"events,omitempty"`
	// StaticPods are the control-plane static pods as rendered, sorted by name.
	StaticPods []staticPod `json:"staticPods,omitempty"`
	// Images are the images in the node's containerd, by namespace and name.
	Images []pulledImage `json:"images,omitempty"`
}

// EtcdView is the etcd cluster as a node's cluster sees it. IDs are decimal strings, lossless.
type EtcdView struct {
	Bootstrapped bool             `json:"bootstrapped"`
	Leader       string           `json:"leader,omitempty"`
	Quorum       bool             `json:"quorum"`
	Started      int              `json:"started"`
	Members      []EtcdMemberView `json:"members"`
}

type EtcdMemberView struct {
	ID       string `json:"id"`
	Hostname string `json:"hostname"`
	NodeID   string `json:"nodeId"`
	Started  bool   `json:"started"`
}

// EventView is one runtime event; data is the payload in protojson.
type EventView struct {
	ID   string    `json:"id"`
	At   time.Time `json:"at"`
	Type string    `json:"type"`
	Data any       `json:"data,omitempty"`
}

func formatID(id uint64) string {
	if id == 0 {
		return ""
	}

	return uintString(id)
}

func uintString(v uint64) string { return strconv.FormatUint(v, 10) }

// view renders a node; callers hold the simulator mutex.
func (n *Node) view(detailed bool) NodeView {
	v := NodeView{
		ID: n.id, Address: n.address(), Host: n.host, Port: n.port, State: n.state,
		BootError: n.bootError, Waiting: n.waiting, Hostname: n.hostname, Mode: string(n.mode),
		Image: n.image, StagedImage: n.staged, BootCount: n.bootCount, Faults: n.faults,
		EtcdMemberID: formatID(n.etcdMemberID), EtcdData: n.etcdData,
	}

	if n.cfg != nil {
		v.MachineType = n.cfg.Facts.Type.String()
		v.ClusterName = n.cfg.Facts.ClusterName
		v.Version = n.version()
		v.Warnings = n.cfg.Warnings
		v.ConfigVersion = n.configVersion
		v.KubeletImage = n.cfg.Facts.Kubernetes.Kubelet
	}

	if !detailed {
		return v
	}

	for _, svc := range n.services {
		v.Services = append(v.Services, *svc)
	}

	if c, ok := n.sim.clusters[n.facts().ClusterKey()]; ok && n.cfg != nil && n.cfg.Facts.ControlPlane() {
		started, _, quorum := c.health(n.sim.memberUpLocked)
		ev := &EtcdView{Bootstrapped: c.bootstrapped, Leader: formatID(c.leader), Quorum: quorum, Started: started, Members: []EtcdMemberView{}}

		for _, m := range c.members {
			ev.Members = append(ev.Members, EtcdMemberView{ID: uintString(m.ID), Hostname: m.Hostname, NodeID: m.NodeID, Started: n.sim.memberUpLocked(m)})
		}

		v.Etcd = ev
	}

	if n.cfg != nil {
		v.AppliedConfig = string(n.cfg.Raw)
	}

	v.BootConfig = string(n.rawConfig)
	v.StaticPods = staticPodList(n.staticPods)
	v.Images = n.images.list("")

	for _, rec := range n.events.snapshot() {
		ev := EventView{ID: rec.ID, At: rec.At}

		if rec.Payload != nil {
			ev.Type = string(rec.Payload.ProtoReflect().Descriptor().FullName())

			if b, err := protojson.Marshal(rec.Payload); err == nil {
				ev.Data = jsonRaw(b)
			}
		}

		v.Events = append(v.Events, ev)
	}

	return v
}

// version is the Talos version the node runs: the tag of its installer image.
func (n *Node) version() string {
	if tag := imageTag(n.image); tag != "" {
		return tag
	}

	return n.sim.opts.DefaultTalosVersion
}

// jsonRaw embeds already-encoded JSON.
type jsonRaw []byte

func (j jsonRaw) MarshalJSON() ([]byte, error) { return j, nil }
