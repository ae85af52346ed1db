// Package sim plays Talos nodes on loopback: each node serves the Talos machine API (the official
// generated stubs) over mutual TLS from its machine config, and the nodes of one cluster share a
// modelled etcd.
package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
)

// Addressing decides where node APIs listen.
type Addressing string

const (
	// AddressingPorts gives every node its own port on one loopback address (the safe default).
	AddressingPorts Addressing = "ports"
	// AddressingIPs gives every node its own loopback address with the Talos port (127.0.0.x:50000),
	// so clients can use bare IPs with the default port as with real machines.
	AddressingIPs Addressing = "ips"
)

// Options configure a simulator.
type Options struct {
	Validation ValidationOptions
	Addressing Addressing
	// Host is the bind address in AddressingPorts mode.
	Host string
	// FirstIP is the first address tried in AddressingIPs mode; busy ones are skipped.
	FirstIP string
	// NodePort is the API port in AddressingIPs mode.
	NodePort int
	// BootDelay is how long a boot sequence stays in progress by default.
	BootDelay time.Duration
	// RebootDowntime is how long a node is unreachable while rebooting.
	RebootDowntime time.Duration
	// NoALPN makes node APIs negotiate no ALPN protocol, like Talos before 1.9 (clients must
	// tolerate a missing ALPN, e.g. GRPC_ENFORCE_ALPN_ENABLED=false for gRPC-Go).
	NoALPN bool
	// DefaultTalosVersion is reported when the config names no installer image tag.
	DefaultTalosVersion string
	Logf                func(format string, args ...any)
}

func (o *Options) setDefaults() {
	if o.Validation.Mode == "" {
		o.Validation.Mode = ModeMetal
	}

	if o.Addressing == "" {
		o.Addressing = AddressingPorts
	}

	if o.Host == "" {
		o.Host = "127.0.0.1"
	}

	if o.FirstIP == "" {
		o.FirstIP = "127.0.0.2"
	}

	if o.NodePort == 0 {
		o.NodePort = 50000
	}

	if o.RebootDowntime == 0 {
		o.RebootDowntime = 100 * time.Millisecond
	}

	if o.DefaultTalosVersion == "" {
		o.DefaultTalosVersion = "v1.14.1"
	}

	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

// Simulator holds all simulated nodes and the etcd clusters they form. One mutex guards all
// node and cluster state: operations are short, and one lock rules out lock-order bugs.
type Simulator struct {
	mu       sync.Mutex
	opts     Options
	nodes    map[string]*Node
	order    []string
	clusters map[string]*etcdCluster
	seq      int
	nextIP   netip.Addr
	nextPort int
	closed   bool
}

// New makes an empty simulator.
func New(opts Options) *Simulator {
	opts.setDefaults()

	return &Simulator{opts: opts, nodes: map[string]*Node{}, clusters: map[string]*etcdCluster{}}
}

// ErrNotFound is returned for an unknown node ID.
var ErrNotFound = errors.New("node not found")

// BootRequest creates a node from a machine config (the bootstrap data).
type BootRequest struct {
	ID string
	// Hostname is used when the config sets no static hostname (as a platform would provide one).
	Hostname string
	Config   []byte
	// Mode overrides the simulator's runtime mode for this node.
	Mode RuntimeMode
	// BootDelay overrides Options.BootDelay for this node.
	BootDelay *time.Duration
}

// CreateNode registers a node, gives it an address and boots it. A config that Talos rejects
// still creates the node: its boot fails and the reason is kept.
func (s *Simulator) CreateNode(req BootRequest) (NodeView, error) {
	s.mu.Lock()

	if s.closed {
		s.mu.Unlock()

		return NodeView{}, errors.New("simulator is shut down")
	}

	s.seq++

	id := req.ID
	if id == "" {
		id = "node-" + strconv.Itoa(s.seq)
	}

	if _, exists := s.nodes[id]; exists {
		s.mu.Unlock()

		return NodeView{}, fmt.Errorf("node %q already exists", id)
	}

	mode := s.opts.Validation.Mode
	if req.Mode != "" {
		mode = req.Mode
	}

	delay := s.opts.BootDelay
	if req.BootDelay != nil {
		delay = *req.BootDelay
	}

	host, port, err := s.allocateAddress()
	if err != nil {
		s.mu.Unlock()

		return NodeView{}, err
	}

	n := newNode(s, id, req.Hostname, mode, host, port, delay)
	n.rawConfig = req.Config
	s.nodes[id] = n
	s.order = append(s.order, id)
	s.mu.Unlock()

	s.startBoot(n)

	return s.Inspect(id)
}

// Node ports come from below the kernel's ephemeral range (32768–60999 by default): a node binds
// its port only once it has its certificate, and an ephemeral port free when probed may meanwhile
// become the source port of any outgoing connection on the machine, leaving the node unable to
// listen. Each simulator starts at a random place in the range so that simulators side by side
// rarely probe the same ports.
const (
	firstNodePort = 20000
	lastNodePort  = 32767
)

// allocatePortLocked probes ports from where the last allocation stopped, skipping busy ones.
func (s *Simulator) allocatePortLocked() (int, error) {
	if s.nextPort == 0 {
		s.nextPort = firstNodePort + rand.IntN(lastNodePort-firstNodePort+1)
	}

	for range 1000 {
		port := s.nextPort

		s.nextPort++
		if s.nextPort > lastNodePort {
			s.nextPort = firstNodePort
		}

		l, err := net.Listen("tcp", net.JoinHostPort(s.opts.Host, strconv.Itoa(port)))
		if err != nil {
			continue
		}

		_ = l.Close()

		return port, nil
	}

	return 0, fmt.Errorf("allocating a port: no free port in %d-%d", firstNodePort, lastNodePort)
}

// allocateAddress picks the node's listen address; callers hold s.mu.
func (s *Simulator) allocateAddress() (string, int, error) {
	if s.opts.Addressing == AddressingPorts {
		port, err := s.allocatePortLocked()

		return s.opts.Host, port, err
	}

	if !s.nextIP.IsValid() {
		first, err := netip.ParseAddr(s.opts.FirstIP)
		if err != nil {
			return "", 0, fmt.Errorf("first IP: %w", err)
		}

		s.nextIP = first
	}

	for range 250 {
		candidate := s.nextIP
		s.nextIP = s.nextIP.Next()

		if !candidate.IsLoopback() {
			break
		}

		// skip addresses another process (or another simulator) already uses
		l, err := net.Listen("tcp", net.JoinHostPort(candidate.String(), strconv.Itoa(s.opts.NodePort)))
		if err != nil {
			continue
		}

		_ = l.Close()

		return candidate.String(), s.opts.NodePort, nil
	}

	return "", 0, errors.New("no free loopback address left")
}

func (s *Simulator) node(id string) (*Node, error) {
	n, ok := s.nodes[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}

	return n, nil
}

// List returns all nodes in creation order.
func (s *Simulator) List() []NodeView {
	s.mu.Lock()
	defer s.mu.Unlock()

	views := make([]NodeView, 0, len(s.order))
	for _, id := range s.order {
		views = append(views, s.nodes[id].view(false))
	}

	return views
}

// Inspect returns the full view of one node.
func (s *Simulator) Inspect(id string) (NodeView, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	n, err := s.node(id)
	if err != nil {
		return NodeView{}, err
	}

	return n.view(true), nil
}

// changeNode runs a change on one node under the mutex; the change returns the gRPC server to
// stop, which happens after the mutex is released.
func (s *Simulator) changeNode(id string, change func(n *Node) (*grpc.Server, error)) (*Node, error) {
	s.mu.Lock()

	n, err := s.node(id)
	if err != nil {
		s.mu.Unlock()

		return nil, err
	}

	srv, err := change(n)
	s.mu.Unlock()

	stopServer(srv)

	return n, err
}

// Stop powers a node off: its API goes away and its etcd member counts as down.
func (s *Simulator) Stop(id string) error {
	_, err := s.changeNode(id, func(n *Node) (*grpc.Server, error) { return s.powerOffLocked(n, StateStopped), nil })

	return err
}

// Start boots a stopped (or failed) node again from its persisted config; a new config may be
// handed in, as when a machine gets new bootstrap data.
func (s *Simulator) Start(id string, config []byte) error {
	n, err := s.changeNode(id, func(n *Node) (*grpc.Server, error) {
		if n.state != StateStopped && n.state != StateFailed && n.state != StateMaintenance {
			return nil, fmt.Errorf("node %q is %s; stop it first", id, n.state)
		}

		if len(config) > 0 {
			n.rawConfig, n.persisted = config, nil
		}

		return s.powerOffLocked(n, StateStopped), nil
	})
	if err != nil {
		return err
	}

	s.startBoot(n)

	return nil
}

// Delete removes a node as if its machine were destroyed; its etcd member stays until removed.
func (s *Simulator) Delete(id string) error {
	_, err := s.changeNode(id, func(n *Node) (*grpc.Server, error) {
		// forgotten first, so the etcd history says the member went down because it was deleted
		delete(s.nodes, id)
		s.order = slices.DeleteFunc(s.order, func(other string) bool { return other == id })

		return s.powerOffLocked(n, StateStopped), nil
	})

	return err
}

// SetFaults replaces a node's faults; an unreachable node closes its listener, and clearing that
// fault opens it again; a node a reboot left down boots once staysDownAfterReboot is cleared.
func (s *Simulator) SetFaults(id string, f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}

	released := false

	n, err := s.changeNode(id, func(n *Node) (*grpc.Server, error) {
		n.faults, n.faultHits = f, map[string]int{}
		released = n.heldDown && !f.StaysDownAfterReboot
		n.heldDown = n.heldDown && !released

		if n.cfg != nil {
			n.staticPods = renderStaticPods(n.staticPods, n.cfg.Facts.Kubernetes, n.cfg.Facts.ControlPlane(), n.configVersion, f.imageBroken)
		}

		if f.Unreachable {
			return n.detachServer(), nil
		}

		if n.servesAPI() && n.server == nil {
			return nil, n.listen()
		}

		return nil, nil
	})

	if err == nil && released {
		s.startBoot(n)
	}

	return err
}

// Close stops every node.
func (s *Simulator) Close() {
	s.mu.Lock()
	s.closed = true

	var servers []*grpc.Server

	for _, n := range s.nodes {
		servers = append(servers, s.powerOffLocked(n, StateStopped))
	}

	s.mu.Unlock()

	for _, srv := range servers {
		stopServer(srv)
	}
}

// powerOffLocked takes a node down: API closed, services gone, etcd member down. Callers stop
// the returned server after releasing s.mu.
func (s *Simulator) powerOffLocked(n *Node, state NodeState) *grpc.Server {
	n.generation++ // aborts any boot or reboot still in progress
	n.state, n.heldDown = state, false
	n.services = nil

	if n.tryTimer != nil {
		n.tryTimer.Stop()
		n.tryTimer = nil
	}

	srv := n.detachServer()
	n.events.closeWatchers()
	s.reconcileEtcdLocked(n.facts().ClusterKey())

	return srv
}

func stopServer(srv *grpc.Server) {
	if srv != nil {
		srv.Stop()
	}
}

// resolveTarget finds the node a `node`/`nodes` metadata value names: its address (host:port),
// its ID, its hostname, or its bare IP when only one node has it.
func (s *Simulator) resolveTarget(target string) *Node {
	s.mu.Lock()
	defer s.mu.Unlock()

	var byIP []*Node

	for _, id := range s.order {
		n := s.nodes[id]

		switch {
		case n.address() == target, n.id == target, n.hostname != "" && strings.EqualFold(n.hostname, target):
			return n
		case n.host == target:
			byIP = append(byIP, n)
		}
	}

	if len(byIP) == 1 {
		return byIP[0]
	}

	return nil
}
