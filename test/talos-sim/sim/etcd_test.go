package sim

import (
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/role"
)

// threeNodeCluster boots cp-1..cp-3 and bootstraps etcd on cp-1.
func threeNodeCluster(t *testing.T) (*Simulator, *testCluster, []NodeView) {
	t.Helper()

	s := newTestSimulator(t)
	c := newTestCluster(t, "etcd")

	var nodes []NodeView

	for i := 1; i <= 3; i++ {
		nodes = append(nodes, mustBoot(t, s, BootRequest{ID: fmt.Sprintf("cp-%d", i), Hostname: fmt.Sprintf("cp-%d", i), Config: c.controlPlane}))
	}

	if _, err := c.client(t, nodes[0].Address, role.Admin).Bootstrap(ctxTimeout(t), &machine.BootstrapRequest{}); err != nil {
		t.Fatal(err)
	}

	return s, c, nodes
}

func memberHostnames(t *testing.T, cl machine.MachineServiceClient) map[string]uint64 {
	t.Helper()

	resp, err := cl.EtcdMemberList(ctxTimeout(t), &machine.EtcdMemberListRequest{})
	if err != nil {
		t.Fatal(err)
	}

	out := map[string]uint64{}
	for _, m := range resp.GetMessages()[0].GetMembers() {
		out[m.GetHostname()] = m.GetId()
	}

	return out
}

func etcdService(t *testing.T, cl machine.MachineServiceClient) *machine.ServiceInfo {
	t.Helper()

	resp, err := cl.ServiceList(ctxTimeout(t), &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}

	for _, svc := range resp.GetMessages()[0].GetServices() {
		if svc.GetId() == "etcd" {
			return svc
		}
	}

	t.Fatal("no etcd service")

	return nil
}

func TestControlPlaneNodesJoinAfterBootstrapAndLateNodesToo(t *testing.T) {
	s, c, nodes := threeNodeCluster(t)
	cl := c.client(t, nodes[1].Address, role.Admin)

	if got := memberHostnames(t, cl); len(got) != 3 {
		t.Fatalf("members after bootstrap = %v; want cp-1..cp-3", got)
	}

	late := mustBoot(t, s, BootRequest{ID: "cp-4", Hostname: "cp-4", Config: c.controlPlane})

	if _, ok := memberHostnames(t, cl)["cp-4"]; !ok {
		t.Fatal("a control-plane node booting after bootstrap did not join")
	}

	svc := etcdService(t, c.client(t, late.Address, role.Admin))
	if svc.GetState() != "Running" || !svc.GetHealth().GetHealthy() {
		t.Fatalf("etcd on the late node: %s healthy=%v", svc.GetState(), svc.GetHealth().GetHealthy())
	}

	// the file CACPPT checks before bootstrapping exists now
	stream, err := cl.List(ctxTimeout(t), &machine.ListRequest{Root: "/var/lib/etcd/member"})
	if err != nil {
		t.Fatal(err)
	}

	first, err := stream.Recv()
	if err != nil || first.GetName() != "/var/lib/etcd/member" || !first.GetIsDir() {
		t.Fatalf("List /var/lib/etcd/member: %v %v", first, err)
	}
}

func TestLeaveAndRemoveMembership(t *testing.T) {
	s, c, nodes := threeNodeCluster(t)
	cp1 := c.client(t, nodes[0].Address, role.Admin)
	cp3 := c.client(t, nodes[2].Address, role.Admin)

	// the leader hands over before leaving, as CACPPT does
	forfeit, err := cp1.EtcdForfeitLeadership(ctxTimeout(t), &machine.EtcdForfeitLeadershipRequest{})
	if err != nil {
		t.Fatal(err)
	}

	if forfeit.GetMessages()[0].GetMember() == "" {
		t.Fatal("the bootstrap node is the leader; forfeiting should name the new leader")
	}

	// a machine that vanished leaves a stale member; another node removes it by ID
	if err := s.Delete("cp-2"); err != nil {
		t.Fatal(err)
	}

	id := memberHostnames(t, cp1)["cp-2"]

	_, err = cp1.EtcdRemoveMemberByID(ctxTimeout(t), &machine.EtcdRemoveMemberByIDRequest{MemberId: id})
	if err != nil {
		t.Fatal(err)
	}

	if got := memberHostnames(t, cp1); len(got) != 2 || got["cp-2"] != 0 {
		t.Fatalf("members after removal = %v; want cp-1 and cp-3", got)
	}

	if _, err := cp3.EtcdLeaveCluster(ctxTimeout(t), &machine.EtcdLeaveClusterRequest{}); err != nil {
		t.Fatal(err)
	}

	if got := memberHostnames(t, cp1); len(got) != 1 || got["cp-1"] == 0 {
		t.Fatalf("members after cp-3 left = %v; want cp-1 alone", got)
	}

	if svc := etcdService(t, cp3); svc.GetState() != "Finished" {
		t.Fatalf("etcd on the node that left is %s, want Finished", svc.GetState())
	}

	_, err = cp1.EtcdRemoveMemberByID(ctxTimeout(t), &machine.EtcdRemoveMemberByIDRequest{MemberId: id})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("removing a removed member: %v; want NotFound", err)
	}
}

func TestQuorumLossIsVisible(t *testing.T) {
	s, c, nodes := threeNodeCluster(t)
	cp1 := c.client(t, nodes[0].Address, role.Admin)

	// one of three down: still a quorum
	if err := s.Stop("cp-3"); err != nil {
		t.Fatal(err)
	}

	if len(memberHostnames(t, cp1)) != 3 {
		t.Fatal("member list should still answer with one of three members down")
	}

	// removing a started member now would leave 1 of 2 started: etcd refuses
	_, err := cp1.EtcdRemoveMemberByID(ctxTimeout(t), &machine.EtcdRemoveMemberByIDRequest{MemberId: memberHostnames(t, cp1)["cp-2"]})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("unsafe removal: %v; want FailedPrecondition", err)
	}

	// two of three down: no quorum
	if err := s.Stop("cp-2"); err != nil {
		t.Fatal(err)
	}

	_, err = cp1.EtcdMemberList(ctxTimeout(t), &machine.EtcdMemberListRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("member list without quorum: %v; want Unavailable", err)
	}

	svc := etcdService(t, cp1)
	if svc.GetHealth().GetHealthy() || svc.GetHealth().GetUnknown() {
		t.Fatalf("etcd health without quorum: %+v; want known and unhealthy", svc.GetHealth())
	}

	st, err := cp1.EtcdStatus(ctxTimeout(t), &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}

	if ms := st.GetMessages()[0].GetMemberStatus(); ms.GetLeader() != 0 || len(ms.GetErrors()) == 0 {
		t.Fatalf("etcd status without quorum: leader %d errors %v", ms.GetLeader(), ms.GetErrors())
	}

	// a member coming back restores quorum
	if err := s.Start("cp-2", nil); err != nil {
		t.Fatal(err)
	}

	if !etcdService(t, cp1).GetHealth().GetHealthy() {
		t.Fatal("quorum restored but etcd still unhealthy")
	}
}

func TestEtcdModelStrictReconfiguration(t *testing.T) {
	up := map[uint64]bool{1: true, 2: true, 3: false}
	isUp := func(m *etcdMember) bool { return up[m.ID] }

	c := &etcdCluster{}
	c.bootstrap(&etcdMember{ID: 1})

	for _, id := range []uint64{2, 3} {
		if err := c.add(&etcdMember{ID: id}, isUp); err != nil {
			t.Fatal(err)
		}
	}

	if err := c.remove(2, isUp); err != errNotEnoughMembers {
		t.Fatalf("removing a started member with one down: %v", err)
	}

	if err := c.remove(3, isUp); err != nil {
		t.Fatalf("removing the down member: %v", err)
	}

	if started, total, ok := c.health(isUp); started != 2 || total != 2 || !ok {
		t.Fatalf("health = %d/%d quorum=%v", started, total, ok)
	}
}
