package sim

import (
	"strings"
	"testing"

	cosi "github.com/cosi-project/runtime/api/v1alpha1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/resources/k8s"
	"github.com/siderolabs/talos/pkg/machinery/role"
)

func TestStaticPodConfigResourcesFollowALiveApply(t *testing.T) {
	_, c, v := singleNode(t, "cosi-get")
	state := cosi.NewStateClient(c.conn(t, v.Address, role.Admin))
	get := func(typ, id string) (*cosi.Resource, error) {
		res, err := state.Get(ctxTimeout(t), &cosi.GetRequest{Namespace: string(k8s.ControlPlaneNamespaceName), Type: typ, Id: id})

		return res.GetResource(), err
	}

	apiserver, err := get(string(k8s.APIServerConfigType), "kube-apiserver")
	if err != nil || apiserver.GetMetadata().GetVersion() != "1" || apiserver.GetSpec().GetYamlSpec() != "image: registry.k8s.io/kube-apiserver:v1.33.3\n" {
		t.Fatalf("after boot: %v %v", apiserver, err)
	}

	next := strings.Replace(string(c.controlPlane), "kube-apiserver:v1.33.3", "kube-apiserver:v1.34.1", 1)
	if _, err := c.client(t, v.Address, role.Admin).ApplyConfiguration(ctxTimeout(t), &machine.ApplyConfigurationRequest{Data: []byte(next), Mode: machine.ApplyConfigurationRequest_NO_REBOOT}); err != nil {
		t.Fatal(err)
	}

	apiserver, _ = get(string(k8s.APIServerConfigType), "kube-apiserver")
	scheduler, _ := get(string(k8s.SchedulerConfigType), "kube-scheduler")

	if apiserver.GetMetadata().GetVersion() != "2" || !strings.Contains(apiserver.GetSpec().GetYamlSpec(), "kube-apiserver:v1.34.1") || scheduler.GetMetadata().GetVersion() != "1" {
		t.Fatalf("only the changed pod's config has a new version: %v / %v", apiserver, scheduler)
	}

	if _, err := get(string(k8s.APIServerConfigType), "kube-scheduler"); status.Code(err) != codes.NotFound {
		t.Fatalf("a config under another pod's id: %v", err)
	}

	if _, err := cosi.NewStateClient(c.conn(t, v.Address, role.Reader)).Get(ctxTimeout(t), &cosi.GetRequest{
		Namespace: string(k8s.ControlPlaneNamespaceName), Type: string(k8s.APIServerConfigType), Id: "kube-apiserver",
	}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("sensitive resources need os:admin: %v", err)
	}
}
