package sim

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// NodeState is the life-cycle state of a simulated node.
type NodeState string

const (
	StateBooting     NodeState = "booting"
	StateRunning     NodeState = "running"
	StateFailed      NodeState = "failed"
	StateStopped     NodeState = "stopped"
	StateRebooting   NodeState = "rebooting"
	StateResetting   NodeState = "resetting"
	StateMaintenance NodeState = "maintenance"
)

// Node is one simulated Talos machine. All fields are guarded by the simulator's mutex.
type Node struct {
	sim          *Simulator
	id           string
	hostnameHint string
	mode         RuntimeMode
	host         string
	port         int
	bootDelay    time.Duration

	state     NodeState
	bootError string
	waiting   string
	// rawConfig is the config the node boots from (the bootstrap data); persisted is it loaded
	// and validated, cfg is the config in effect.
	rawConfig []byte
	persisted *LoadedConfig
	cfg       *LoadedConfig
	hostname  string
	// stableHostname is generated once for nodes that get no hostname otherwise
	stableHostname string
	image          string
	staged         string // installer image staged for the next boot
	bootCount      int
	// generation changes on every power change, so a boot step of an earlier life does nothing.
	generation int
	services   []*service
	events     *eventLog

	etcdMemberID uint64
	etcdData     bool
	etcdLeft     bool

	faults    Faults
	faultHits map[string]int

	cert        *tls.Certificate
	clientCAs   *x509.CertPool
	osCACert    []byte
	server      *grpc.Server
	applyMu     sync.Mutex
	lifecycleMu sync.Mutex
	tryTimer    *time.Timer

	// images is the node's containerd image store
	images imageStore
	// configVersion counts the configs put in effect (boot or live apply), like the version of
	// Talos's MachineConfig resource
	configVersion int
	// staticPods are the control-plane static pods as last rendered
	staticPods map[string]staticPod
	// heldDown: a reboot left the node down (fault staysDownAfterReboot) until the fault clears
	heldDown bool
}

func newNode(s *Simulator, id, hostnameHint string, mode RuntimeMode, host string, port int, delay time.Duration) *Node {
	return &Node{
		sim: s, id: id, hostnameHint: hostnameHint, mode: mode, host: host, port: port, bootDelay: delay,
		state: StateStopped, events: newEventLog(), faultHits: map[string]int{}, images: imageStore{},
	}
}

func (n *Node) address() string { return net.JoinHostPort(n.host, strconv.Itoa(n.port)) }

// facts of the config in effect (or the persisted one before the first boot).
func (n *Node) facts() ConfigFacts {
	switch {
	case n.cfg != nil:
		return n.cfg.Facts
	case n.persisted != nil:
		return n.persisted.Facts
	default:
		return ConfigFacts{}
	}
}

func (n *Node) controlPlane() bool { return n.cfg != nil && n.cfg.Facts.ControlPlane() }

// servesAPI tells whether apid should be listening in the current state.
func (n *Node) servesAPI() bool {
	return n.cert != nil && !n.faults.Unreachable &&
		(n.state == StateBooting || n.state == StateRunning || n.state == StateResetting)
}

// listen opens the node's API listener; callers hold the simulator mutex.
func (n *Node) listen() error {
	if n.server != nil {
		return nil
	}

	var (
		l   net.Listener
		err error
	)

	// the port was free when allocated; retry briefly in case the previous listener is still closing
	for attempt := range 20 {
		if l, err = net.Listen("tcp", n.address()); err == nil {
			break
		}

		time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}

	if err != nil {
		return fmt.Errorf("listening on %s: %w", n.address(), err)
	}

	tlsConfig := &tls.Config{
		MinVersion:             tls.VersionTLS12,
		ClientAuth:             tls.RequireAndVerifyClientCert,
		SessionTicketsDisabled: true,
		// certificate and trusted CAs are read per handshake so an applied config takes effect
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return n.handshakeConfig() },
	}

	creds := credentials.NewTLS(tlsConfig)
	if n.sim.opts.NoALPN {
		creds = legacyTLSCredentials{config: tlsConfig}
	}

	srv := grpc.NewServer(
		grpc.Creds(creds),
		grpc.MaxRecvMsgSize(32<<20),
		grpc.MaxSendMsgSize(32<<20),
		grpc.UnaryInterceptor(n.unaryInterceptor),
		grpc.StreamInterceptor(n.streamInterceptor),
	)
	for _, svc := range nodeServices {
		srv.RegisterService(svc.desc, svc.handler(n))
	}
	n.server = srv

	go func() { _ = srv.Serve(l) }()

	return nil
}

// handshakeConfig is the per-connection server TLS config: apid's settings (TLS ≥ 1.2, ALPN h2 as
// Talos ≥ 1.9 and gRPC-Go's default, client certificate required and chained to the OS CA,
// clientAuth-only EKU).
func (n *Node) handshakeConfig() (*tls.Config, error) {
	n.sim.mu.Lock()
	cert, pool := n.cert, n.clientCAs
	n.sim.mu.Unlock()

	if cert == nil {
		return nil, errors.New("apid certificate not issued")
	}

	nextProtos := []string{"h2"}
	if n.sim.opts.NoALPN {
		nextProtos = nil
	}

	return &tls.Config{
		MinVersion:             tls.VersionTLS12,
		NextProtos:             nextProtos,
		Certificates:           []tls.Certificate{*cert},
		ClientAuth:             tls.RequireAndVerifyClientCert,
		ClientCAs:              pool,
		SessionTicketsDisabled: true,
		VerifyPeerCertificate:  verifyClientExtKeyUsage,
	}, nil
}

// detachServer forgets the gRPC server; the caller stops it after releasing the mutex.
func (n *Node) detachServer() *grpc.Server {
	srv := n.server
	n.server = nil

	return srv
}
