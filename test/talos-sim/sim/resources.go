package sim

import (
	"context"
	"fmt"
	"strconv"

	cosi "github.com/cosi-project/runtime/api/v1alpha1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/siderolabs/talos/pkg/machinery/resources/k8s"
)

// stateServer is the node's resource API (COSI's State), as far as an in-place Kubernetes upgrade
// reads it: the config of each control-plane static pod (APIServerConfigs, ControllerManagerConfigs,
// SchedulerConfigs in namespace controlplane), whose version is the one the node annotates the
// pod with (talos.dev/config-version), and whose spec names the image. Talos marks these
// resources sensitive: only os:admin reads them (the method is not in methodRoles, so it needs
// os:admin).
type stateServer struct {
	cosi.UnimplementedStateServer

	node *Node
}

// staticPodConfigTypes maps each static pod's config resource type to the pod it configures.
var staticPodConfigTypes = map[string]string{
	string(k8s.APIServerConfigType):         string(k8s.APIServerConfigID),
	string(k8s.ControllerManagerConfigType): string(k8s.ControllerManagerConfigID),
	string(k8s.SchedulerConfigType):         string(k8s.SchedulerConfigID),
}

// staticPodConfigLocked is the config resource of one static pod, if the node runs it.
func (n *Node) staticPodConfigLocked(namespace, typ, id string) (*cosi.Resource, error) {
	pod, served := staticPodConfigTypes[typ]
	if !served || namespace != string(k8s.ControlPlaneNamespaceName) {
		return nil, status.Errorf(codes.NotFound, "resource %s(%s/%s) doesn't exist", typ, namespace, id)
	}

	if n.state != StateRunning {
		return nil, status.Error(codes.Unavailable, "machined is not running")
	}

	p, ok := n.staticPods[id]
	if !ok || id != pod {
		return nil, status.Errorf(codes.NotFound, "resource %s(%s/%s) doesn't exist", typ, namespace, id)
	}

	return &cosi.Resource{
		Metadata: &cosi.Metadata{
			Namespace: namespace, Type: typ, Id: id, Version: strconv.Itoa(p.ConfigVersion), Owner: "k8s.ControlPlaneStaticPodController", Phase: "running",
		},
		Spec: &cosi.Spec{YamlSpec: fmt.Sprintf("image: %s\n", p.Image)},
	}, nil
}

// Get reads one resource.
func (ss *stateServer) Get(_ context.Context, req *cosi.GetRequest) (*cosi.GetResponse, error) {
	n := ss.node

	var res *cosi.Resource

	err := n.withSim(func() error {
		var err error

		res, err = n.staticPodConfigLocked(req.GetNamespace(), req.GetType(), req.GetId())

		return err
	})
	if err != nil {
		return nil, err
	}

	return &cosi.GetResponse{Resource: res}, nil
}
