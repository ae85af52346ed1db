package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Faults are failures injected into a node on demand.
type Faults struct {
	// Unreachable closes the node's API listener: connections are refused and proxied calls fail.
	Unreachable bool `json:"unreachable,omitempty"`
	// LatencyMs delays every RPC the node serves.
	LatencyMs int `json:"latencyMs,omitempty"`
	// RPCErrors makes RPCs fail, keyed by method name ("Bootstrap") or full method
	// ("/machine.MachineService/Bootstrap").
	RPCErrors map[string]RPCFault `json:"rpcErrors,omitempty"`
	// InstallerExitCode makes the installer of LifecycleService.Upgrade exit with this code
	// (streamed as the last message); nothing is staged.
	InstallerExitCode int32 `json:"installerExitCode,omitempty"`
	// StaysDownAfterReboot: a node that reboots (Reboot, Upgrade, reset with reboot) stays down
	// until this fault is cleared; then it boots.
	StaysDownAfterReboot bool `json:"staysDownAfterReboot,omitempty"`
	// BrokenImages cannot be fetched: pulling one fails with NotFound, and a static pod that runs
	// one is not ready until the fault is cleared.
	BrokenImages []string `json:"brokenImages,omitempty"`
}

// RPCFault is the error an RPC returns.
type RPCFault struct {
	// Code is a gRPC code name ("Unavailable", "UNAVAILABLE") or number.
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
	// Times limits how often the fault fires; 0 means every call.
	Times int `json:"times,omitempty"`
}

var codeNames = func() map[string]codes.Code {
	m := map[string]codes.Code{}
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		m[strings.ToLower(c.String())] = c
	}

	// the upper-case spellings of the gRPC spec, e.g. DEADLINE_EXCEEDED
	m["deadline_exceeded"], m["already_exists"], m["permission_denied"] = codes.DeadlineExceeded, codes.AlreadyExists, codes.PermissionDenied
	m["resource_exhausted"], m["failed_precondition"], m["out_of_range"] = codes.ResourceExhausted, codes.FailedPrecondition, codes.OutOfRange
	m["not_found"], m["invalid_argument"], m["data_loss"] = codes.NotFound, codes.InvalidArgument, codes.DataLoss

	return m
}()

// ParseCode reads a gRPC status code by name or number.
func ParseCode(s string) (codes.Code, error) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= int(codes.Unauthenticated) {
		return codes.Code(n), nil
	}

	if c, ok := codeNames[strings.ToLower(s)]; ok {
		return c, nil
	}

	return codes.Unknown, fmt.Errorf("unknown gRPC code %q", s)
}

func (f Faults) validate() error {
	if f.LatencyMs < 0 {
		return fmt.Errorf("latencyMs must not be negative")
	}

	for method, fault := range f.RPCErrors {
		if method == "" {
			return fmt.Errorf("rpcErrors: empty method name")
		}

		if _, err := ParseCode(fault.Code); err != nil {
			return fmt.Errorf("rpcErrors[%s]: %w", method, err)
		}
	}

	return nil
}

func (f Faults) latency() time.Duration { return time.Duration(f.LatencyMs) * time.Millisecond }

// imageBroken tells whether an image is one of BrokenImages (compared normalized).
func (f Faults) imageBroken(image string) bool {
	name := normalizeImageRef(image)

	for _, broken := range f.BrokenImages {
		if normalizeImageRef(broken) == name {
			return true
		}
	}

	return false
}

// injectedErrorLocked returns the error a faulted RPC must fail with, counting the hit.
func (n *Node) injectedErrorLocked(fullMethod string) error {
	short := fullMethod[strings.LastIndex(fullMethod, "/")+1:]

	for _, key := range []string{fullMethod, short} {
		fault, ok := n.faults.RPCErrors[key]
		if !ok {
			continue
		}

		if fault.Times > 0 && n.faultHits[key] >= fault.Times {
			return nil
		}

		n.faultHits[key]++

		code, _ := ParseCode(fault.Code)
		msg := fault.Message

		if msg == "" {
			msg = "injected fault"
		}

		return status.Error(code, msg)
	}

	return nil
}
