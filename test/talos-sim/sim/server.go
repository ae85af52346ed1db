package sim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	cosi "github.com/cosi-project/runtime/api/v1alpha1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/siderolabs/talos/pkg/machinery/api/common"
	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/role"
)

// methodRoles is Talos's RBAC table for the machine API methods the simulator serves
// (machined's rules), by full or short method name; methods not listed need os:admin.
var methodRoles = map[string]role.Set{
	"ApplyConfiguration":    role.MakeSet(role.Admin),
	"Bootstrap":             role.MakeSet(role.Admin),
	"EtcdForfeitLeadership": role.MakeSet(role.Admin),
	"EtcdLeaveCluster":      role.MakeSet(role.Admin),
	"EtcdMemberList":        role.MakeSet(role.Admin, role.Operator, role.Reader, role.EtcdBackup),
	"EtcdRemoveMemberByID":  role.MakeSet(role.Admin),
	"EtcdStatus":            role.MakeSet(role.Admin, role.Operator, role.Reader, role.EtcdBackup),
	"Events":                role.MakeSet(role.Admin, role.Operator, role.Reader),
	"Kubeconfig":            role.MakeSet(role.Admin),
	"List":                  role.MakeSet(role.Admin, role.Operator, role.Reader),
	"Reboot":                role.MakeSet(role.Admin, role.Operator),
	"Reset":                 role.MakeSet(role.Admin),
	"ServiceList":           role.MakeSet(role.Admin, role.Operator, role.Reader),
	"Upgrade":               role.MakeSet(role.Admin),
	"Version":               role.MakeSet(role.Admin, role.Operator, role.Reader),
	"ImagePull":             role.MakeSet(role.Admin, role.Operator),
	// ImageService and LifecycleService, by full method (their short names repeat MachineService's)
	machine.ImageService_List_FullMethodName:        role.MakeSet(role.Admin, role.Operator, role.Reader),
	machine.ImageService_Pull_FullMethodName:        role.MakeSet(role.Admin, role.Operator),
	machine.LifecycleService_Upgrade_FullMethodName: role.MakeSet(role.Admin),
}

var errNotAuthorized = status.Error(codes.PermissionDenied, "not authorized")

type rolesKey struct{}

func withRoles(ctx context.Context, roles role.Set) context.Context {
	return context.WithValue(ctx, rolesKey{}, roles)
}

// callerRoles are the roles of the client certificate that opened the connection.
func callerRoles(ctx context.Context) role.Set {
	if roles, ok := ctx.Value(rolesKey{}).(role.Set); ok {
		return roles
	}

	p, ok := peer.FromContext(ctx)
	if !ok {
		return role.MakeSet()
	}

	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return role.MakeSet()
	}

	return rolesOf(info.State.VerifiedChains[0][0])
}

func shortMethod(fullMethod string) string { return fullMethod[strings.LastIndex(fullMethod, "/")+1:] }

func authorize(ctx context.Context, fullMethod string) error {
	allowed, ok := methodRoles[fullMethod]
	if !ok {
		allowed, ok = methodRoles[shortMethod(fullMethod)]
	}

	if !ok {
		allowed = role.MakeSet(role.Admin)
	}

	if !callerRoles(ctx).IncludesAny(allowed) {
		return errNotAuthorized
	}

	return nil
}

// apiMethod is one RPC a node serves: its descriptor entry in the official stubs, the service
// implementation that handles it, and whether apid fans it out to several nodes.
type apiMethod struct {
	unary   *grpc.MethodDesc
	stream  *grpc.StreamDesc
	handler func(n *Node) any
	fanOut  bool
}

// apiMethods are the methods of every service a node registers, by full method name
// ("/machine.MachineService/Version"), so a call can be run on a node's handler in-process.
var apiMethods = map[string]apiMethod{}

// nodeServices are the services a node registers. apid fans out only MachineService (of these);
// ImageService, LifecycleService and the resource API's replies carry no metadata to tag.
var nodeServices = []struct {
	desc    *grpc.ServiceDesc
	handler func(n *Node) any
	fanOut  bool
}{
	{&machine.MachineService_ServiceDesc, func(n *Node) any { return &machineServer{node: n} }, true},
	{&machine.ImageService_ServiceDesc, func(n *Node) any { return &imageServer{node: n} }, false},
	{&machine.LifecycleService_ServiceDesc, func(n *Node) any { return &lifecycleServer{node: n} }, false},
	{&cosi.State_ServiceDesc, func(n *Node) any { return &stateServer{node: n} }, false},
}

func init() {
	for _, svc := range nodeServices {
		for i := range svc.desc.Methods {
			apiMethods["/"+svc.desc.ServiceName+"/"+svc.desc.Methods[i].MethodName] = apiMethod{unary: &svc.desc.Methods[i], handler: svc.handler, fanOut: svc.fanOut}
		}

		for i := range svc.desc.Streams {
			apiMethods["/"+svc.desc.ServiceName+"/"+svc.desc.Streams[i].StreamName] = apiMethod{stream: &svc.desc.Streams[i], handler: svc.handler, fanOut: svc.fanOut}
		}
	}
}

// messageTypes returns the request and reply types of a method ("/machine.MachineService/List").
func messageTypes(fullMethod string) (in, out protoreflect.MessageType, err error) {
	service, method, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")

	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return nil, nil, status.Errorf(codes.Unimplemented, "unknown service %s", service)
	}

	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok || sd.Methods().ByName(protoreflect.Name(method)) == nil {
		return nil, nil, status.Errorf(codes.Unimplemented, "unknown method %s", fullMethod)
	}

	md := sd.Methods().ByName(protoreflect.Name(method))

	if in, err = protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName()); err != nil {
		return nil, nil, err
	}

	out, err = protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())

	return in, out, err
}

// routeKind is how apid handles a call: locally, proxied to one node (`node` metadata), or fanned
// out to several (`nodes` metadata).
type routeKind int

const (
	routeLocal routeKind = iota
	routeOne
	routeMany
)

func routeOf(ctx context.Context, fullMethod string) (routeKind, []string, error) {
	kind, targets, err := routeFromMetadata(ctx)
	if err == nil && kind == routeMany && !apiMethods[fullMethod].fanOut {
		return routeLocal, nil, status.Errorf(codes.InvalidArgument, "one-2-many proxying is not supported for method %s", fullMethod)
	}

	return kind, targets, err
}

func routeFromMetadata(ctx context.Context) (routeKind, []string, error) {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return routeLocal, nil, nil
	}

	if _, proxied := md["proxyfrom"]; proxied {
		return routeLocal, nil, nil
	}

	node, okNode := md["node"]
	if okNode && len(node) != 1 {
		return routeLocal, nil, status.Error(codes.InvalidArgument, "node metadata must be single-valued")
	}

	if values, okNodes := md["nodes"]; okNodes {
		var targets []string

		// some clients join repeated values with commas into one header
		for _, v := range values {
			for _, t := range strings.Split(v, ",") {
				if t = strings.TrimSpace(t); t != "" {
					targets = append(targets, t)
				}
			}
		}

		return routeMany, targets, nil
	}

	if okNode {
		return routeOne, node, nil
	}

	return routeLocal, nil, nil
}

// canForward: only control-plane nodes hold the client certificate apid needs to proxy.
func (n *Node) canForward() bool {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()

	return n.controlPlane()
}

// forwardingTargets resolves the targets and decides whether the call stays local (a single
// target that is this node, on a node that cannot forward, as apid does).
func (n *Node) forwardingTargets(kind routeKind, targets []string) (routeKind, []*Node, error) {
	nodes := make([]*Node, len(targets))
	for i, t := range targets {
		nodes[i] = n.sim.resolveTarget(t)
	}

	if n.canForward() {
		return kind, nodes, nil
	}

	if len(nodes) == 1 && nodes[0] == n {
		return routeLocal, nil, nil
	}

	return kind, nil, status.Error(codes.PermissionDenied, "no request forwarding")
}

// reachableFrom checks that a proxied call from this node can reach the target, the way a dial
// from apid would fail.
func (n *Node) reachableFrom(entry *Node, target string) error {
	if n == nil {
		return status.Errorf(codes.Unavailable, "connection error: desc = \"transport: Error while dialing: dial tcp %s: connect: connection refused\"", withDefaultPort(target))
	}

	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()

	if n.server == nil {
		return status.Errorf(codes.Unavailable, "connection error: desc = \"transport: Error while dialing: dial tcp %s: connect: connection refused\"", n.address())
	}

	if !bytes.Equal(bytes.TrimSpace(n.osCACert), bytes.TrimSpace(entry.osCACert)) {
		return status.Error(codes.Unavailable, "connection error: desc = \"transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority\"")
	}

	return nil
}

func withDefaultPort(target string) string {
	if strings.Contains(target, ":") && !strings.HasPrefix(target, "[") && strings.Count(target, ":") == 1 {
		return target
	}

	return joinHostPort(strings.Trim(target, "[]"), "50000")
}

// admit runs what happens on the serving node before its handler: injected latency, RBAC,
// injected errors.
func (n *Node) admit(ctx context.Context, fullMethod string) error {
	n.sim.mu.Lock()
	latency := n.faults.latency()
	n.sim.mu.Unlock()

	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		}
	}

	if err := authorize(ctx, fullMethod); err != nil {
		return err
	}

	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()

	return n.injectedErrorLocked(fullMethod)
}

// serveUnary runs a unary method of this node in-process.
func (n *Node) serveUnary(ctx context.Context, fullMethod string, req any) (any, error) {
	if err := n.admit(ctx, fullMethod); err != nil {
		return nil, err
	}

	m, ok := apiMethods[fullMethod]
	if !ok || m.unary == nil {
		return nil, status.Errorf(codes.Unimplemented, "method %s not implemented", fullMethod)
	}

	dec := func(v any) error {
		proto.Merge(v.(proto.Message), req.(proto.Message))

		return nil
	}

	return m.unary.Handler(m.handler(n), ctx, dec, nil)
}

func (n *Node) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, _ grpc.UnaryHandler) (any, error) {
	ctx = withRoles(ctx, callerRoles(ctx))

	kind, targets, err := routeOf(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}

	if kind == routeLocal {
		return n.serveUnary(ctx, info.FullMethod, req)
	}

	kind, nodes, err := n.forwardingTargets(kind, targets)
	if err != nil {
		return nil, err
	}

	switch kind {
	case routeLocal:
		return n.serveUnary(ctx, info.FullMethod, req)
	case routeOne:
		if err := nodes[0].reachableFrom(n, targets[0]); err != nil {
			return nil, err
		}

		return nodes[0].serveUnary(ctx, info.FullMethod, req)
	}

	_, outType, err := messageTypes(info.FullMethod)
	if err != nil {
		return nil, err
	}

	replies := make([]proto.Message, len(nodes))
	errs := make([]error, len(nodes))

	var wg sync.WaitGroup

	for i := range nodes {
		wg.Go(func() {
			if errs[i] = nodes[i].reachableFrom(n, targets[i]); errs[i] != nil {
				return
			}

			var reply any

			if reply, errs[i] = nodes[i].serveUnary(ctx, info.FullMethod, req); errs[i] == nil {
				replies[i] = reply.(proto.Message)
			}
		})
	}

	wg.Wait()

	return mergeReplies(outType, targets, replies, errs), nil
}

// mergeReplies concatenates per-node replies like apid: every message gets metadata.hostname set
// to the target as given, and a failed node becomes a message carrying metadata.error/status.
func mergeReplies(outType protoreflect.MessageType, targets []string, replies []proto.Message, errs []error) proto.Message {
	out := outType.New()
	field := out.Descriptor().Fields().ByNumber(1)
	list := out.Mutable(field).List()

	for i, target := range targets {
		if errs[i] != nil {
			el := list.NewElement()
			appendMetadata(el.Message(), errorMetadata(target, errs[i]))
			list.Append(el)

			continue
		}

		src := proto.Clone(replies[i]).ProtoReflect().Get(field).List()
		for j := range src.Len() {
			el := src.Get(j)
			appendMetadata(el.Message(), &common.Metadata{Hostname: target})
			list.Append(el)
		}
	}

	return out.Interface()
}

func errorMetadata(target string, err error) *common.Metadata {
	return &common.Metadata{Hostname: target, Error: err.Error(), Status: status.Convert(err).Proto()}
}

// appendMetadata merges a common.Metadata into field 1 of a reply message, exactly the wire-level
// trick apid uses (every reply message has its metadata in field 1).
func appendMetadata(msg protoreflect.Message, md *common.Metadata) {
	b, err := proto.Marshal(&common.Empty{Metadata: md})
	if err != nil {
		return
	}

	_ = proto.UnmarshalOptions{Merge: true}.Unmarshal(b, msg.Interface())
}

// callStream feeds one request to a streaming handler and hands its replies to send.
type callStream struct {
	grpc.ServerStream
	ctx  context.Context
	req  proto.Message
	read bool
	send func(proto.Message) error
}

func (c *callStream) Context() context.Context { return c.ctx }

func (c *callStream) RecvMsg(m any) error {
	if c.read {
		return io.EOF
	}

	c.read = true
	proto.Merge(m.(proto.Message), c.req)

	return nil
}

func (c *callStream) SendMsg(m any) error { return c.send(m.(proto.Message)) }

func (n *Node) serveStream(ctx context.Context, fullMethod string, base grpc.ServerStream, req proto.Message, send func(proto.Message) error) error {
	if err := n.admit(ctx, fullMethod); err != nil {
		return err
	}

	m, ok := apiMethods[fullMethod]
	if !ok || m.stream == nil {
		return status.Errorf(codes.Unimplemented, "method %s not implemented", fullMethod)
	}

	return m.stream.Handler(m.handler(n), &callStream{ServerStream: base, ctx: ctx, req: req, send: send})
}

func (n *Node) streamInterceptor(_ any, ss grpc.ServerStream, info *grpc.StreamServerInfo, _ grpc.StreamHandler) error {
	ctx := withRoles(ss.Context(), callerRoles(ss.Context()))

	kind, targets, err := routeOf(ctx, info.FullMethod)
	if err != nil {
		return err
	}

	inType, outType, err := messageTypes(info.FullMethod)
	if err != nil {
		return err
	}

	req := inType.New().Interface()
	if err := ss.RecvMsg(req); err != nil {
		return err
	}

	send := func(m proto.Message) error { return ss.SendMsg(m) }

	if kind == routeLocal {
		return n.serveStream(ctx, info.FullMethod, ss, req, send)
	}

	kind, nodes, err := n.forwardingTargets(kind, targets)
	if err != nil {
		return err
	}

	switch kind {
	case routeLocal:
		return n.serveStream(ctx, info.FullMethod, ss, req, send)
	case routeOne:
		if err := nodes[0].reachableFrom(n, targets[0]); err != nil {
			return err
		}

		return nodes[0].serveStream(ctx, info.FullMethod, ss, req, send)
	}

	// one-to-many: replies of all nodes interleave, each tagged with its node; a failing node
	// contributes one message carrying the error
	var (
		sendMu sync.Mutex
		wg     sync.WaitGroup
	)

	sendTagged := func(target string, m proto.Message, md *common.Metadata) error {
		appendMetadata(m.ProtoReflect(), md)

		sendMu.Lock()
		defer sendMu.Unlock()

		return ss.SendMsg(m)
	}

	for i := range nodes {
		wg.Go(func() {
			target := targets[i]

			err := nodes[i].reachableFrom(n, target)
			if err == nil {
				err = nodes[i].serveStream(ctx, info.FullMethod, ss, proto.Clone(req), func(m proto.Message) error {
					return sendTagged(target, m, &common.Metadata{Hostname: target})
				})
			}

			if err != nil && ctx.Err() == nil {
				_ = sendTagged(target, outType.New().Interface(), errorMetadata(target, err))
			}
		})
	}

	wg.Wait()

	if ctx.Err() != nil {
		return status.FromContextError(ctx.Err()).Err()
	}

	return nil
}

// compile-time check that the handler types satisfy the official interfaces
var (
	_ machine.MachineServiceServer   = (*machineServer)(nil)
	_ machine.ImageServiceServer     = (*imageServer)(nil)
	_ machine.LifecycleServiceServer = (*lifecycleServer)(nil)
)

var _ = fmt.Sprintf
