package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/role"
)

// historyLines renders a node's cluster history one line a sample:
// "event hostname up/members quorum".
func historyLines(t *testing.T, s *Simulator, nodeID string) []string {
	t.Helper()

	samples, err := s.EtcdHistory(nodeID)
	if err != nil {
		t.Fatal(err)
	}

	lines := make([]string, 0, len(samples))
	for _, sample := range samples {
		lines = append(lines, fmt.Sprintf("%s %s %d/%d %v", sample.Event, sample.Member.Hostname, sample.UpCount, sample.MemberCount, sample.Quorum))
	}

	return lines
}

func expectHistory(t *testing.T, s *Simulator, nodeID string, want ...string) {
	t.Helper()

	if got := historyLines(t, s, nodeID); !slices.Equal(got, want) {
		t.Fatalf("etcd history:\n  got  %q\n  want %q", got, want)
	}
}

func TestEtcdHistoryRecordsMembershipAndLiveness(t *testing.T) {
	s, c, nodes := threeNodeCluster(t)
	cp1 := c.client(t, nodes[0].Address, role.Admin)

	joined := []string{"bootstrap cp-1 1/1 true", "joined cp-2 2/2 true", "joined cp-3 3/3 true"}
	expectHistory(t, s, "cp-1", joined...)

	for _, step := range []func() error{
		func() error { return s.Stop("cp-3") },
		func() error { return s.Stop("cp-2") },
		func() error { return s.Start("cp-2", nil) },
		func() error { return s.Start("cp-3", nil) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}

	liveness := []string{"stopped cp-3 2/3 true", "stopped cp-2 1/3 false", "started cp-2 2/3 true", "started cp-3 3/3 true"}
	expectHistory(t, s, "cp-1", slices.Concat(joined, liveness)...)

	if _, err := c.client(t, nodes[2].Address, role.Admin).EtcdLeaveCluster(ctxTimeout(t), &machine.EtcdLeaveClusterRequest{}); err != nil {
		t.Fatal(err)
	}

	mustBoot(t, s, BootRequest{ID: "cp-4", Hostname: "cp-4", Config: c.controlPlane})

	if err := s.Delete("cp-2"); err != nil {
		t.Fatal(err)
	}

	removedID := memberHostnames(t, cp1)["cp-2"]
	if _, err := cp1.EtcdRemoveMemberByID(ctxTimeout(t), &machine.EtcdRemoveMemberByIDRequest{MemberId: removedID}); err != nil {
		t.Fatal(err)
	}

	// cp-3 left, so its power state no longer shows
	if err := s.Stop("cp-3"); err != nil {
		t.Fatal(err)
	}

	replaced := []string{"left cp-3 2/2 true", "joined cp-4 3/3 true", "deleted cp-2 2/3 true", "removed cp-2 2/2 true"}
	expectHistory(t, s, "cp-4", slices.Concat(joined, liveness, replaced)...)

	samples, _ := s.EtcdHistory("cp-1")
	last := samples[len(samples)-1]

	if last.Member.ID != uintString(removedID) || last.Member.NodeID != "cp-2" {
		t.Fatalf("the removal names member %+v; want cp-2's ID %d", last.Member, removedID)
	}

	wantMembers := []EtcdSampleMember{}
	for _, id := range []string{"cp-1", "cp-4"} {
		v, _ := s.Inspect(id)
		wantMembers = append(wantMembers, EtcdSampleMember{EtcdMemberRef: EtcdMemberRef{Hostname: id, ID: v.EtcdMemberID, NodeID: id}, Up: true})
	}

	if !slices.Equal(last.Members, wantMembers) {
		t.Fatalf("members after the removal: %+v; want %+v", last.Members, wantMembers)
	}

	if at, err := time.Parse(time.RFC3339, last.Time); err != nil || last.Time != at.Format("2006-01-02T15:04:05.000Z07:00") {
		t.Fatalf("sample time %q is not RFC 3339 with milliseconds (%v)", last.Time, err)
	}
}

func TestEtcdHistoryRecordsRebootsAndGracefulResets(t *testing.T) {
	s, c, nodes := threeNodeCluster(t)

	if _, err := c.client(t, nodes[1].Address, role.Admin).Reboot(ctxTimeout(t), &machine.RebootRequest{}); err != nil {
		t.Fatal(err)
	}

	eventually(t, "cp-2 back", func() bool { return len(historyLines(t, s, "cp-1")) == 5 })

	if _, err := c.client(t, nodes[2].Address, role.Admin).Reset(ctxTimeout(t), &machine.ResetRequest{Graceful: true}); err != nil {
		t.Fatal(err)
	}

	eventually(t, "cp-3 reset", func() bool { v, _ := s.Inspect("cp-3"); return v.State == StateStopped })

	expectHistory(t, s, "cp-1",
		"bootstrap cp-1 1/1 true", "joined cp-2 2/2 true", "joined cp-3 3/3 true",
		"rebooting cp-2 2/3 true", "started cp-2 3/3 true", "reset cp-3 2/2 true")
}

func TestEtcdHistoryIsBounded(t *testing.T) {
	var h etcdHistory

	for i := range etcdHistoryLimit + 5 {
		h.add(EtcdSample{Time: fmt.Sprint(i)})
	}

	got := h.snapshot()
	if len(got) != etcdHistoryLimit || got[0].Time != "5" || got[len(got)-1].Time != fmt.Sprint(etcdHistoryLimit+4) {
		t.Fatalf("bounded history: %d samples from %s to %s", len(got), got[0].Time, got[len(got)-1].Time)
	}
}

func TestEtcdHistoryOnTheControlInterface(t *testing.T) {
	s, c, _ := threeNodeCluster(t)

	if _, err := s.CreateNode(BootRequest{ID: "w", Config: c.worker}); err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewServer(ControlHandler(s, nil))
	t.Cleanup(srv.Close)

	get := func(query string) (int, map[string][]EtcdSample) {
		resp, err := http.Get(srv.URL + "/etcd" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()

		var body map[string][]EtcdSample

		_ = json.NewDecoder(resp.Body).Decode(&body)

		return resp.StatusCode, body
	}

	code, body := get("?node=cp-2")
	if code != http.StatusOK || len(body["samples"]) != 3 || body["samples"][2].Event != EtcdEventJoined {
		t.Fatalf("GET /etcd?node=cp-2: %d %+v", code, body)
	}

	for query, want := range map[string]int{"?node=w": http.StatusNotFound, "?node=nope": http.StatusNotFound, "": http.StatusBadRequest} {
		if code, _ := get(query); code != want {
			t.Errorf("GET /etcd%s: %d; want %d", query, code, want)
		}
	}
}
