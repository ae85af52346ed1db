package sim

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/siderolabs/talos/pkg/machinery/api/common"
	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/config/configdiff"
)

// machineServer serves the machine API for one node. Methods not overridden answer Unimplemented
// (from the embedded official type).
type machineServer struct {
	machine.UnimplementedMachineServiceServer

	node *Node
}

// locked runs fn with the simulator mutex held.
func (ms *machineServer) locked(fn func(n *Node, s *Simulator) error) error {
	return ms.node.withSim(func() error { return fn(ms.node, ms.node.sim) })
}

// checkControlPlane mirrors machined's CheckControlplane.
func (n *Node) checkControlPlane(api string) error {
	if n.cfg == nil {
		return status.Errorf(codes.Unimplemented, "machine type is not set, cannot use %s API", api)
	}

	if !n.controlPlane() {
		return status.Errorf(codes.Unimplemented, "%s is only available on control plane nodes", api)
	}

	return nil
}

// etcdError wraps an etcd model error the way Talos surfaces etcd client errors.
func etcdError(prefix string, err error) error {
	code := codes.Unknown

	switch {
	case errors.Is(err, errNoLeader):
		code = codes.Unavailable
	case errors.Is(err, errMemberNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, errNotEnoughMembers):
		code = codes.FailedPrecondition
	}

	if prefix != "" {
		return status.Errorf(code, "%s: %s", prefix, err)
	}

	return status.Error(code, err.Error())
}

func (ms *machineServer) Version(context.Context, *emptypb.Empty) (*machine.VersionResponse, error) {
	var reply *machine.VersionResponse

	_ = ms.locked(func(n *Node, _ *Simulator) error {
		reply = &machine.VersionResponse{Messages: []*machine.Version{{
			Version: &machine.VersionInfo{
				Tag: n.version(), Sha: "simulated", Built: "", GoVersion: runtime.Version(), Os: "linux", Arch: runtime.GOARCH,
			},
			Platform: &machine.PlatformInfo{Name: platformName(n.mode), Mode: n.mode.String()},
			Features: &machine.FeaturesInfo{Rbac: true},
		}}}

		return nil
	})

	return reply, nil
}

func platformName(mode RuntimeMode) string {
	if mode == ModeCloud {
		return "nocloud"
	}

	return mode.String()
}

func (ms *machineServer) Hostname(context.Context, *emptypb.Empty) (*machine.HostnameResponse, error) {
	var reply *machine.HostnameResponse

	_ = ms.locked(func(n *Node, _ *Simulator) error {
		reply = &machine.HostnameResponse{Messages: []*machine.Hostname{{Hostname: n.hostname}}}

		return nil
	})

	return reply, nil
}

func (ms *machineServer) ServiceList(context.Context, *emptypb.Empty) (*machine.ServiceListResponse, error) {
	var reply *machine.ServiceListResponse

	_ = ms.locked(func(n *Node, _ *Simulator) error {
		list := &machine.ServiceList{}
		for _, svc := range n.services {
			list.Services = append(list.Services, svc.toProto())
		}

		reply = &machine.ServiceListResponse{Messages: []*machine.ServiceList{list}}

		return nil
	})

	return reply, nil
}

// Bootstrap creates the cluster's one-member etcd on this node; a node (or cluster) with etcd
// data answers AlreadyExists, which callers treat as "already bootstrapped".
func (ms *machineServer) Bootstrap(_ context.Context, req *machine.BootstrapRequest) (*machine.BootstrapResponse, error) {
	err := ms.locked(func(n *Node, s *Simulator) error {
		if n.state != StateRunning {
			return status.Error(codes.FailedPrecondition, "bootstrap is not available yet")
		}

		if err := n.checkControlPlane("bootstrap"); err != nil {
			return err
		}

		if !n.cfg.Facts.HasEtcdCA {
			return status.Error(codes.InvalidArgument, "etcd is not configured, bootstrap is not possible")
		}

		if n.etcdData {
			return status.Error(codes.AlreadyExists, "etcd data directory is not empty")
		}

		c := s.clusterLocked(n)
		if c.bootstrapped {
			// a real node would start a second, split cluster; the simulator refuses visibly
			return status.Error(codes.AlreadyExists, "etcd cluster is already bootstrapped by another node")
		}

		if req.GetRecoverEtcd() {
			return status.Error(codes.FailedPrecondition, "no etcd snapshot was uploaded for recovery")
		}

		m := n.newMember()
		c.bootstrap(m)
		n.etcdMemberID, n.etcdData, n.etcdLeft = m.ID, true, false
		s.recordEtcdLocked(c, EtcdEventBootstrap, m)
		s.reconcileEtcdLocked(c.key)

		return nil
	})
	if err != nil {
		return nil, err
	}

	return &machine.BootstrapResponse{Messages: []*machine.Bootstrap{{}}}, nil
}

// etcdClusterForAPI returns the cluster an etcd API call on this node talks to, failing like an
// etcd client would when there is nothing to talk to.
func (n *Node) etcdClusterForAPI(api string) (*etcdCluster, error) {
	if err := n.checkControlPlane(api); err != nil {
		return nil, err
	}

	c, ok := n.sim.clusters[n.facts().ClusterKey()]
	if !ok || !c.bootstrapped {
		return nil, status.Error(codes.Unavailable, "failed to create etcd client: etcd cluster is not bootstrapped yet")
	}

	return c, nil
}

func (ms *machineServer) EtcdMemberList(_ context.Context, req *machine.EtcdMemberListRequest) (*machine.EtcdMemberListResponse, error) {
	var reply *machine.EtcdMemberListResponse

	err := ms.locked(func(n *Node, s *Simulator) error {
		c, err := n.etcdClusterForAPI("member list")
		if err != nil {
			return err
		}

		if req.GetQueryLocal() && (n.etcdMemberID == 0 || !s.memberUpLocked(&etcdMember{ID: n.etcdMemberID, NodeID: n.id})) {
			return status.Error(codes.Unavailable, "failed to create etcd client: etcd is not running on this node")
		}

		if !c.hasQuorum(s.memberUpLocked) {
			return etcdError("", errNoLeader)
		}

		list := &machine.EtcdMembers{}
		for _, m := range c.members {
			list.LegacyMembers = append(list.LegacyMembers, m.Hostname)
			list.Members = append(list.Members, &machine.EtcdMember{
				Id: m.ID, Hostname: m.Hostname, PeerUrls: m.PeerURLs, ClientUrls: m.ClientURLs,
			})
		}

		reply = &machine.EtcdMemberListResponse{Messages: []*machine.EtcdMembers{list}}

		return nil
	})

	return reply, err
}

func (ms *machineServer) EtcdRemoveMemberByID(_ context.Context, req *machine.EtcdRemoveMemberByIDRequest) (*machine.EtcdRemoveMemberByIDResponse, error) {
	err := ms.locked(func(n *Node, s *Simulator) error {
		c, err := n.etcdClusterForAPI("etcd remove member")
		if err != nil {
			return err
		}

		m := c.member(req.GetMemberId())
		if err := c.remove(req.GetMemberId(), s.memberUpLocked); err != nil {
			if errors.Is(err, errMemberNotFound) {
				return etcdError("", err)
			}

			return etcdError("failed to remove member", err)
		}

		s.recordEtcdLocked(c, EtcdEventRemoved, m)
		s.reconcileEtcdLocked(c.key)

		return nil
	})
	if err != nil {
		return nil, err
	}

	return &machine.EtcdRemoveMemberByIDResponse{Messages: []*machine.EtcdRemoveMemberByID{{}}}, nil
}

// leaveEtcdLocked removes this node's member, stops etcd and wipes its data (EtcdLeaveCluster, or
// the first step of a graceful Reset: the event says which).
func (s *Simulator) leaveEtcdLocked(n *Node, event EtcdEvent) error {
	c, err := n.etcdClusterForAPI("etcd leave")
	if err != nil {
		return err
	}

	if n.etcdMemberID == 0 {
		return status.Error(codes.FailedPrecondition, "failed to leave cluster: etcd is not running on this node")
	}

	m := c.member(n.etcdMemberID)

	switch err := c.remove(n.etcdMemberID, s.memberUpLocked); {
	case err == nil:
		s.recordEtcdLocked(c, event, m)
	case !errors.Is(err, errMemberNotFound):
		return etcdError("failed to leave cluster", err)
	}

	n.etcdMemberID, n.etcdData, n.etcdLeft = 0, false, true
	s.reconcileEtcdLocked(c.key)

	return nil
}

func (ms *machineServer) EtcdLeaveCluster(context.Context, *machine.EtcdLeaveClusterRequest) (*machine.EtcdLeaveClusterResponse, error) {
	if err := ms.locked(func(n *Node, s *Simulator) error { return s.leaveEtcdLocked(n, EtcdEventLeft) }); err != nil {
		return nil, err
	}

	return &machine.EtcdLeaveClusterResponse{Messages: []*machine.EtcdLeaveCluster{{}}}, nil
}

func (ms *machineServer) EtcdForfeitLeadership(context.Context, *machine.EtcdForfeitLeadershipRequest) (*machine.EtcdForfeitLeadershipResponse, error) {
	var leader string

	err := ms.locked(func(n *Node, s *Simulator) error {
		c, err := n.etcdClusterForAPI("etcd forfeit leadership")
		if err != nil {
			return err
		}

		if n.etcdMemberID == 0 {
			return status.Error(codes.FailedPrecondition, "etcd is not running on this node")
		}

		if leader, err = c.forfeit(n.etcdMemberID, s.memberUpLocked); err != nil {
			return etcdError("failed to forfeit leadership", err)
		}

		return nil
	})
	if err != nil {
		return nil, err
	}

	return &machine.EtcdForfeitLeadershipResponse{Messages: []*machine.EtcdForfeitLeadership{{Member: leader}}}, nil
}

// EtcdStatus asks the local member; without quorum it still answers, with no leader and an error.
func (ms *machineServer) EtcdStatus(context.Context, *emptypb.Empty) (*machine.EtcdStatusResponse, error) {
	var reply *machine.EtcdStatusResponse

	err := ms.locked(func(n *Node, s *Simulator) error {
		c, err := n.etcdClusterForAPI("etcd status")
		if err != nil {
			return err
		}

		if n.etcdMemberID == 0 || c.member(n.etcdMemberID) == nil {
			return status.Error(codes.Unavailable, "failed to query etcd status: etcd is not running on this node")
		}

		st := &machine.EtcdMemberStatus{
			MemberId: n.etcdMemberID, ProtocolVersion: "3.6.5", StorageVersion: "3.6.0",
			DbSize: 4 << 20, DbSizeInUse: 2 << 20, Leader: c.leader,
			RaftIndex: c.raftIndex, RaftTerm: c.raftTerm, RaftAppliedIndex: c.raftIndex,
		}

		if !c.hasQuorum(s.memberUpLocked) {
			st.Errors = []string{errNoLeader.Error()}
		}

		reply = &machine.EtcdStatusResponse{Messages: []*machine.EtcdStatus{{MemberStatus: st}}}

		return nil
	})

	return reply, err
}

// List walks the simulated file system (/var/lib/etcd/member exists once etcd has data).
func (ms *machineServer) List(req *machine.ListRequest, srv grpc.ServerStreamingServer[machine.FileInfo]) error {
	var entries []*machine.FileInfo

	err := ms.locked(func(n *Node, _ *Simulator) error {
		var err error

		entries, err = n.fileTree().list(req)

		return err
	})
	if err != nil {
		return err
	}

	for _, e := range entries {
		if err := srv.Send(e); err != nil {
			return err
		}
	}

	return nil
}

// Events streams an empty "hello" event first (as machined does), then the backlog chosen by the
// tail options, then live events until the client goes away or the node stops.
func (ms *machineServer) Events(req *machine.EventsRequest, srv grpc.ServerStreamingServer[machine.Event]) error {
	hello, err := eventRecord{ID: newEventID(time.Now()), ActorID: req.GetWithActorId()}.toProto()
	if err != nil {
		return err
	}

	if err := srv.Send(hello); err != nil {
		return err
	}

	backlog, live, cancel := ms.node.events.watch(tailSpec{events: req.GetTailEvents(), id: req.GetTailId(), seconds: req.GetTailSeconds()})
	defer cancel()

	send := func(rec eventRecord) error {
		if req.GetWithActorId() != "" && rec.ActorID != req.GetWithActorId() {
			return nil
		}

		ev, err := rec.toProto()
		if err != nil {
			return err
		}

		return srv.Send(ev)
	}

	for _, rec := range backlog {
		if err := send(rec); err != nil {
			return err
		}
	}

	for {
		select {
		case <-srv.Context().Done():
			return srv.Context().Err()
		case rec, ok := <-live:
			if !ok {
				return status.Error(codes.Unavailable, "connection lost: the node went down")
			}

			if err := send(rec); err != nil {
				return err
			}
		}
	}
}

func (ms *machineServer) Kubeconfig(_ *emptypb.Empty, srv grpc.ServerStreamingServer[common.Data]) error {
	var facts ConfigFacts

	if err := ms.locked(func(n *Node, _ *Simulator) error {
		facts = n.facts()

		return n.checkControlPlane("kubeconfig")
	}); err != nil {
		return err
	}

	kubeconfig, err := adminKubeconfig(facts)
	if err != nil {
		return status.Error(codes.FailedPrecondition, err.Error())
	}

	archive, err := tarGzipSingleFile("kubeconfig", kubeconfig, 0o600)
	if err != nil {
		return err
	}

	return srv.Send(&common.Data{Bytes: archive})
}

// ApplyConfiguration: the config is loaded and validated; AUTO, NO_REBOOT and TRY apply it now,
// STAGED keeps it for the next boot, REBOOT applies it through a reboot before Talos 1.14 and is
// refused from 1.14 on (the node's version decides).
func (ms *machineServer) ApplyConfiguration(_ context.Context, req *machine.ApplyConfigurationRequest) (*machine.ApplyConfigurationResponse, error) {
	n := ms.node
	if !n.applyMu.TryLock() {
		return nil, status.Error(codes.FailedPrecondition, "another apply configuration is already in progress")
	}
	defer n.applyMu.Unlock()

	s := n.sim

	s.mu.Lock()
	mode := n.mode
	current := n.cfg
	rebootModeRemoved := versionAtLeast(n.version(), 1, 14)
	s.mu.Unlock()

	loaded, err := LoadConfig(req.GetData(), ValidationOptions{Mode: mode, Strict: s.opts.Validation.Strict, CheckKubernetesVersions: s.opts.Validation.CheckKubernetesVersions})
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}

	reqMode := req.GetMode()

	var details string

	switch reqMode {
	case machine.ApplyConfigurationRequest_AUTO:
		reqMode = machine.ApplyConfigurationRequest_NO_REBOOT

		fallthrough
	case machine.ApplyConfigurationRequest_NO_REBOOT, machine.ApplyConfigurationRequest_TRY:
		details = "Applied configuration without a reboot"
	case machine.ApplyConfigurationRequest_STAGED:
		details = "Staged configuration to be applied after the next reboot"
	case machine.ApplyConfigurationRequest_REBOOT:
		if rebootModeRemoved {
			return nil, status.Error(codes.Unimplemented, "the REBOOT mode is not supported, please use AUTO or NO_REBOOT modes instead")
		}

		details = "Applied configuration with a reboot"
	default:
		return nil, status.Errorf(codes.InvalidArgument, "incorrect mode '%s' specified for the apply config call", reqMode)
	}

	if req.GetDryRun() {
		diff := "No changes."

		if current != nil {
			if d, err := configdiff.DiffConfigs(current.Provider, loaded.Provider); err == nil && d != "" {
				diff = d
			}
		}

		return &machine.ApplyConfigurationResponse{Messages: []*machine.ApplyConfiguration{{
			Mode:        reqMode,
			ModeDetails: fmt.Sprintf("Dry run summary:\n%s (skipped in dry-run).\nConfig diff:\n\n%s", details, diff),
		}}}, nil
	}

	s.mu.Lock()
	switch reqMode { //nolint:exhaustive
	case machine.ApplyConfigurationRequest_STAGED:
		n.rawConfig, n.persisted = loaded.Raw, loaded
	case machine.ApplyConfigurationRequest_REBOOT:
		n.rawConfig, n.persisted = loaded.Raw, loaded
		s.scheduleRestart(n, "reboot", nil)
	default:
		previous := n.cfg

		if reqMode == machine.ApplyConfigurationRequest_TRY {
			timeout := time.Minute
			if req.GetTryModeTimeout() != nil {
				timeout = req.GetTryModeTimeout().AsDuration()
			}

			details += fmt.Sprintf("\nThe config is applied in 'try' mode and will be automatically reverted back in %s", timeout)
			s.scheduleRollback(n, previous, timeout)
		} else {
			n.rawConfig, n.persisted = loaded.Raw, loaded
		}

		s.applyLiveLocked(n, loaded)
	}
	s.mu.Unlock()

	return &machine.ApplyConfigurationResponse{Messages: []*machine.ApplyConfiguration{{
		Mode: reqMode, Warnings: loaded.Warnings, ModeDetails: details,
	}}}, nil
}

// applyLiveLocked puts a config in effect without a reboot: hostname, certificate, static pods
// and the kubelet follow it.
func (s *Simulator) applyLiveLocked(n *Node, cfg *LoadedConfig) {
	previous := n.cfg
	n.cfg = cfg
	n.runConfigLocked(previous)
	n.hostname = s.chooseHostname(n)

	if err := s.issueAPICertLocked(n); err != nil {
		n.waiting = err.Error()
	}

	s.reconcileEtcdLocked(cfg.Facts.ClusterKey())
}

// scheduleRollback reverts a TRY apply after the timeout, unless something else changed the
// node's life in between.
func (s *Simulator) scheduleRollback(n *Node, previous *LoadedConfig, timeout time.Duration) {
	if n.tryTimer != nil {
		n.tryTimer.Stop()
	}

	gen := n.generation

	n.tryTimer = time.AfterFunc(timeout, func() {
		s.mu.Lock()
		defer s.mu.Unlock()

		if n.generation == gen && previous != nil {
			s.applyLiveLocked(n, previous)
		}
	})
}

func (ms *machineServer) Reboot(_ context.Context, req *machine.RebootRequest) (*machine.RebootResponse, error) {
	actor := newEventID(time.Now())

	err := ms.locked(func(n *Node, s *Simulator) error {
		if n.mode == ModeContainer {
			return status.Errorf(codes.FailedPrecondition, "method is not supported in %s mode", n.mode)
		}

		s.scheduleRestart(n, "reboot", nil)

		return nil
	})
	if err != nil {
		return nil, err
	}

	_ = req

	return &machine.RebootResponse{Messages: []*machine.Reboot{{ActorId: actor}}}, nil
}

func (ms *machineServer) Upgrade(_ context.Context, req *machine.UpgradeRequest) (*machine.UpgradeResponse, error) {
	actor := newEventID(time.Now())

	err := ms.locked(func(n *Node, s *Simulator) error {
		if err := n.checkUpgradable(); err != nil {
			return err
		}

		if err := checkInstallerTag(req.GetImage()); err != nil {
			return err
		}

		if n.controlPlane() && !req.GetForce() && !req.GetPreserve() && n.etcdMemberID != 0 {
			if err := s.checkEtcdSurvivesLocked(n); err != nil {
				return err
			}
		}

		if req.GetStage() {
			n.staged = req.GetImage()

			return nil
		}

		image := req.GetImage()
		s.scheduleRestart(n, "upgrade", func() { n.staged = image })

		return nil
	})
	if err != nil {
		return nil, err
	}

	return &machine.UpgradeResponse{Messages: []*machine.Upgrade{{Ack: "Upgrade request received", ActorId: actor}}}, nil
}

// checkEtcdSurvivesLocked is the pre-upgrade etcd check: taking this member down must not lose
// quorum.
func (s *Simulator) checkEtcdSurvivesLocked(n *Node) error {
	c, ok := s.clusters[n.facts().ClusterKey()]
	if !ok {
		return nil
	}

	others := func(m *etcdMember) bool { return m.ID != n.etcdMemberID && s.memberUpLocked(m) }
	if !c.hasQuorum(others) {
		return status.Error(codes.FailedPrecondition, "error validating etcd for upgrade: upgrading this node would lose etcd quorum")
	}

	return nil
}

// Reset wipes the node: graceful leaves etcd first; a system-disk wipe loses the config (the node
// comes back in maintenance mode when it reboots) and etcd data; EPHEMERAL alone loses etcd data.
func (ms *machineServer) Reset(_ context.Context, req *machine.ResetRequest) (*machine.ResetResponse, error) {
	actor := newEventID(time.Now())

	if len(req.GetUserDisksToWipe()) > 0 {
		if req.GetMode() == machine.ResetRequest_SYSTEM_DISK {
			return nil, errors.New("reset failed: invalid input, wipe mode SYSTEM_DISK doesn't support UserDisksToWipe parameter")
		}

		return nil, fmt.Errorf("reset user disk failed: device %s wasn't found", req.GetUserDisksToWipe()[0])
	}

	wipeState, wipeEphemeral := req.GetMode() != machine.ResetRequest_USER_DISKS, req.GetMode() != machine.ResetRequest_USER_DISKS

	if parts := req.GetSystemPartitionsToWipe(); len(parts) > 0 {
		if req.GetMode() == machine.ResetRequest_USER_DISKS {
			return nil, errors.New("reset failed: invalid input, wipe mode USER_DISKS doesn't support SystemPartitionsToWipe parameter")
		}

		wipeState, wipeEphemeral = false, false

		for _, p := range parts {
			switch p.GetLabel() {
			case "STATE":
				wipeState = wipeState || p.GetWipe()
			case "EPHEMERAL":
				wipeEphemeral = wipeEphemeral || p.GetWipe()
			case "META", "EFI", "BIOS", "BOOT":
			default:
				return nil, fmt.Errorf("failed to get volume status with label %q: resource not found", p.GetLabel())
			}
		}
	}

	err := ms.locked(func(n *Node, s *Simulator) error {
		s.scheduleReset(n, actor, req.GetGraceful(), req.GetReboot(), wipeState, wipeEphemeral)

		return nil
	})
	if err != nil {
		return nil, err
	}

	return &machine.ResetResponse{Messages: []*machine.Reset{{ActorId: actor}}}, nil
}
