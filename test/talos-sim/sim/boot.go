package sim

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/api/common"
	"github.com/siderolabs/talos/pkg/machinery/api/machine"
)

// startBoot runs the boot sequence: in the caller when nothing has to be waited for, else in the
// background (boot delay, or a worker waiting for trustd to sign its apid certificate).
func (s *Simulator) startBoot(n *Node) {
	s.mu.Lock()
	gen, ready, ok := s.beginBootLocked(n)
	delay := n.bootDelay
	s.mu.Unlock()

	if !ok {
		return
	}

	if ready && delay == 0 {
		s.completeBoot(n, gen)

		return
	}

	go func() {
		for !ready {
			time.Sleep(200 * time.Millisecond)

			s.mu.Lock()
			if n.generation != gen {
				s.mu.Unlock()

				return
			}

			ready = s.prepareAPILocked(n) == nil
			s.mu.Unlock()
		}

		time.Sleep(delay)
		s.completeBoot(n, gen)
	}()
}

// beginBootLocked loads and validates the config and brings apid up. ok is false when the boot
// ended already (rejected config, or no config: maintenance).
func (s *Simulator) beginBootLocked(n *Node) (gen int, ready, ok bool) {
	n.generation++
	gen = n.generation
	n.bootCount++
	n.events.clear()
	n.state, n.bootError, n.waiting = StateBooting, "", ""
	n.services, n.cert = nil, nil

	n.events.publish(&machine.MachineStatusEvent{Stage: machine.MachineStatusEvent_BOOTING, Status: &machine.MachineStatusEvent_MachineStatus{}}, "")
	n.events.publish(&machine.SequenceEvent{Sequence: "initialize", Action: machine.SequenceEvent_START}, "")

	if n.persisted == nil {
		if len(n.rawConfig) == 0 {
			n.state = StateMaintenance
			n.events.publish(&machine.MachineStatusEvent{Stage: machine.MachineStatusEvent_MAINTENANCE, Status: &machine.MachineStatusEvent_MachineStatus{}}, "")

			return gen, false, false
		}

		loaded, err := LoadConfig(n.rawConfig, ValidationOptions{Mode: n.mode, Strict: s.opts.Validation.Strict, CheckKubernetesVersions: s.opts.Validation.CheckKubernetesVersions})
		if err != nil {
			n.state, n.bootError = StateFailed, err.Error()
			n.events.publish(&machine.ConfigValidationErrorEvent{Error: err.Error()}, "")
			n.events.publish(&machine.SequenceEvent{
				Sequence: "initialize", Action: machine.SequenceEvent_STOP,
				Error: &common.Error{Code: common.Code_FATAL, Message: err.Error()},
			}, "")

			return gen, false, false
		}

		n.persisted = loaded
	}

	n.cfg = n.persisted

	if n.staged != "" {
		n.image, n.staged = n.staged, ""
	}

	if n.image == "" {
		n.image = n.cfg.Facts.InstallImage
	}

	n.runConfigLocked(nil)

	n.hostname = s.chooseHostname(n)

	n.events.publish(&machine.SequenceEvent{Sequence: "initialize", Action: machine.SequenceEvent_STOP}, "")
	n.events.publish(&machine.SequenceEvent{Sequence: "boot", Action: machine.SequenceEvent_START}, "")

	for _, id := range serviceIDs(n.cfg.Facts.ControlPlane()) {
		svc := &service{ID: id}
		svc.set(svcPreparing, "Running pre state", false, "")
		n.services = append(n.services, svc)
	}

	n.setService("machined", svcRunning, "Health check successful", true, "")

	return gen, s.prepareAPILocked(n) == nil, true
}

// chooseHostname: the config's static hostname, else the one the platform gave (the hint), else
// a generated one that stays the node's for life, like Talos's stable hostnames.
func (s *Simulator) chooseHostname(n *Node) string {
	switch {
	case n.cfg.Facts.Hostname != "":
		return n.cfg.Facts.Hostname
	case n.hostnameHint != "":
		return n.hostnameHint
	}

	if n.stableHostname == "" {
		const letters = "abcdefghijklmnopqrstuvwxyz0123456789"

		var b [6]byte

		_, _ = rand.Read(b[:])

		for i := range b {
			b[i] = letters[int(b[i])%len(letters)]
		}

		n.stableHostname = fmt.Sprintf("talos-%s-%s", b[:3], b[3:])
	}

	return n.stableHostname
}

// prepareAPILocked issues the apid certificate and opens the listener.
func (s *Simulator) prepareAPILocked(n *Node) error {
	if err := s.issueAPICertLocked(n); err != nil {
		n.waiting = err.Error()
		n.setService("apid", svcPreparing, "Waiting for certificate: "+err.Error(), false, "")

		return err
	}

	n.waiting = ""

	if !n.faults.Unreachable {
		if err := n.listen(); err != nil {
			n.waiting = err.Error()

			return err
		}
	}

	n.setService("apid", svcRunning, "Health check successful", true, "")

	return nil
}

// errTrustd explains why a worker has no apid certificate yet.
var errTrustd = errors.New("trustd: no running control-plane node of this cluster can sign the apid certificate")

// issueAPICertLocked signs the apid server certificate with the OS CA key of the config; a node
// without the key (a worker) gets it signed by a running control-plane node of its cluster, as
// trustd does, provided the machine token matches.
func (s *Simulator) issueAPICertLocked(n *Node) error {
	f := n.cfg.Facts

	ca, err := newCertAuthority(f.OSCACert, f.OSCAKey)
	if err != nil {
		return fmt.Errorf("OS CA: %w", err)
	}

	if ca.signer == nil {
		if ca, err = s.trustdSignerLocked(n); err != nil {
			return err
		}
	}

	cert, err := ca.serverCertificate(n.hostname, []string{n.host}, f.CertSANs)
	if err != nil {
		return fmt.Errorf("issuing apid certificate: %w", err)
	}

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.certPEM)

	for _, accepted := range f.AcceptedCAs {
		pool.AppendCertsFromPEM(accepted)
	}

	n.cert, n.clientCAs, n.osCACert = &cert, pool, ca.certPEM

	return nil
}

func (s *Simulator) trustdSignerLocked(n *Node) (*certAuthority, error) {
	f := n.cfg.Facts
	tokenRejected := false

	for _, id := range s.order {
		cp := s.nodes[id]
		if cp == n || cp.state != StateRunning || !cp.controlPlane() {
			continue
		}

		cf := cp.cfg.Facts
		if len(cf.OSCAKey) == 0 || !bytes.Equal(bytes.TrimSpace(cf.OSCACert), bytes.TrimSpace(f.OSCACert)) {
			continue
		}

		if cf.Token != f.Token {
			tokenRejected = true

			continue
		}

		return newCertAuthority(cf.OSCACert, cf.OSCAKey)
	}

	if tokenRejected {
		return nil, errors.New("trustd: the control plane rejected the machine token")
	}

	return nil, errTrustd
}

// completeBoot starts the remaining services and, on a control-plane node, etcd.
func (s *Simulator) completeBoot(n *Node, gen int) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if n.generation != gen || n.state != StateBooting {
		return
	}

	for _, svc := range n.services {
		if svc.ID != "etcd" {
			n.setService(svc.ID, svcRunning, "Health check successful", true, "")
		}
	}

	n.state = StateRunning
	n.etcdLeft = false
	s.reconcileEtcdLocked(n.facts().ClusterKey())

	n.events.publish(&machine.SequenceEvent{Sequence: "boot", Action: machine.SequenceEvent_STOP}, "")
	n.events.publish(&machine.MachineStatusEvent{Stage: machine.MachineStatusEvent_RUNNING, Status: &machine.MachineStatusEvent_MachineStatus{Ready: true}}, "")
}

// setService updates a service and publishes a ServiceStateEvent when it changed.
func (n *Node) setService(id, state, msg string, healthy bool, healthMsg string) {
	for _, svc := range n.services {
		if svc.ID != id {
			continue
		}

		if svc.set(state, msg, healthy, healthMsg) {
			n.events.publish(&machine.ServiceStateEvent{
				Service: id, Action: serviceAction(state), Message: msg,
				Health: &machine.ServiceHealth{Unknown: svc.Health.Unknown, Healthy: svc.Health.Healthy, LastMessage: svc.Health.LastMessage},
			}, "")
		}

		return
	}
}

func serviceAction(state string) machine.ServiceStateEvent_Action {
	switch state {
	case svcPreparing:
		return machine.ServiceStateEvent_PREPARING
	case svcRunning:
		return machine.ServiceStateEvent_RUNNING
	case svcFinished:
		return machine.ServiceStateEvent_FINISHED
	case svcFailed:
		return machine.ServiceStateEvent_FAILED
	default:
		return machine.ServiceStateEvent_INITIALIZED
	}
}

func (n *Node) service(id string) *service {
	for _, svc := range n.services {
		if svc.ID == id {
			return svc
		}
	}

	return nil
}

// clusterLocked returns (creating) the etcd cluster a node belongs to.
func (s *Simulator) clusterLocked(n *Node) *etcdCluster {
	key := n.facts().ClusterKey()

	c, ok := s.clusters[key]
	if !ok {
		c = &etcdCluster{key: key}
		s.clusters[key] = c
	}

	return c
}

func (s *Simulator) memberUpLocked(m *etcdMember) bool {
	n, ok := s.nodes[m.NodeID]

	return ok && n.state == StateRunning && n.etcdMemberID == m.ID && !n.etcdLeft
}

// clusterNodesLocked lists the running control-plane nodes of a cluster.
func (s *Simulator) clusterNodesLocked(key string) []*Node {
	var nodes []*Node

	for _, id := range s.order {
		n := s.nodes[id]
		if n.controlPlane() && n.state == StateRunning && n.facts().ClusterKey() == key {
			nodes = append(nodes, n)
		}
	}

	return nodes
}

// reconcileEtcdLocked is level-triggered: it records members whose liveness changed, lets waiting
// control-plane nodes join a bootstrapped cluster, keeps a leader while there is quorum and sets
// every etcd service from the model. Every change of node state ends here.
func (s *Simulator) reconcileEtcdLocked(key string) {
	c, ok := s.clusters[key]
	if !ok {
		if len(s.clusterNodesLocked(key)) == 0 {
			return
		}

		c = &etcdCluster{key: key}
		s.clusters[key] = c
	}

	s.observeEtcdLivenessLocked(c)

	up := s.memberUpLocked
	nodes := s.clusterNodesLocked(key)

	if c.bootstrapped {
		for _, n := range nodes {
			if n.etcdMemberID != 0 || n.etcdLeft || n.etcdData {
				continue
			}

			m := n.newMember()
			if c.add(m, up) == nil {
				n.etcdMemberID, n.etcdData = m.ID, true
				s.recordEtcdLocked(c, EtcdEventJoined, m)
			}
		}
	}

	c.electLeader(up)
	_, _, quorum := c.health(up)

	for _, n := range nodes {
		switch {
		case n.etcdLeft:
			n.setService("etcd", svcFinished, "Service finished successfully", false, "")
		case n.etcdMemberID != 0 && c.member(n.etcdMemberID) == nil:
			n.setService("etcd", svcFailed, "Service failed: the member has been permanently removed from the cluster", false, "member removed")
		case n.etcdMemberID != 0 && quorum:
			n.setService("etcd", svcRunning, "Health check successful", true, "")
		case n.etcdMemberID != 0:
			n.setService("etcd", svcRunning, "Health check failed: "+errNoLeader.Error(), false, errNoLeader.Error())
		default:
			n.setService("etcd", svcPreparing, "Running pre state", false, "")
		}
	}
}

func (n *Node) newMember() *etcdMember {
	return &etcdMember{
		ID:         newMemberID(),
		Hostname:   n.hostname,
		NodeID:     n.id,
		PeerURLs:   []string{"https://" + joinHostPort(n.host, "2380")},
		ClientURLs: []string{"https://" + joinHostPort(n.host, "2379")},
	}
}

func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}

	return host + ":" + port
}
