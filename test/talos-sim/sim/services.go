package sim

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
)

// Service state names as Talos prints them.
const (
	svcPreparing = "Preparing"
	svcRunning   = "Running"
	svcFinished  = "Finished"
	svcFailed    = "Failed"
)

// serviceHealth mirrors machine.ServiceHealth: unknown for services without a health check.
type serviceHealth struct {
	Unknown     bool      `json:"unknown"`
	Healthy     bool      `json:"healthy"`
	LastMessage string    `json:"lastMessage,omitempty"`
	LastChange  time.Time `json:"lastChange"`
}

type serviceEvent struct {
	Msg   string    `json:"msg"`
	State string    `json:"state"`
	At    time.Time `json:"ts"`
}

type service struct {
	ID     string         `json:"id"`
	State  string         `json:"state"`
	Events []serviceEvent `json:"events"`
	Health serviceHealth  `json:"health"`
}

// serviceIDs lists the Talos services of a node in ServiceList order; etcd and trustd run only on
// control-plane nodes.
func serviceIDs(controlPlane bool) []string {
	if controlPlane {
		return []string{"apid", "auditd", "containerd", "cri", "dashboard", "etcd", "kubelet", "machined", "syslogd", "trustd", "udevd"}
	}

	return []string{"apid", "auditd", "containerd", "cri", "dashboard", "kubelet", "machined", "syslogd", "udevd"}
}

// hasHealthCheck tells which services report health; the others stay "unknown".
func hasHealthCheck(id string) bool {
	switch id {
	case "auditd", "dashboard", "syslogd":
		return false
	default:
		return true
	}
}

// set moves the service to a state, recording an event when the state or message changes.
func (s *service) set(state, msg string, healthy bool, healthMsg string) bool {
	now := time.Now()
	changed := s.State != state || len(s.Events) == 0 || s.Events[len(s.Events)-1].Msg != msg

	if changed {
		s.State = state
		s.Events = append(s.Events, serviceEvent{Msg: msg, State: state, At: now})
	}

	health := serviceHealth{Unknown: !hasHealthCheck(s.ID) || state != svcRunning, Healthy: healthy, LastMessage: healthMsg}
	if health.Unknown {
		health.Healthy = false
	}

	if health.Unknown != s.Health.Unknown || health.Healthy != s.Health.Healthy || health.LastMessage != s.Health.LastMessage {
		health.LastChange = now
		s.Health = health
		changed = true
	}

	return changed
}

func (s *service) toProto() *machine.ServiceInfo {
	events := make([]*machine.ServiceEvent, 0, len(s.Events))
	for _, e := range s.Events {
		events = append(events, &machine.ServiceEvent{Msg: e.Msg, State: e.State, Ts: timestamppb.New(e.At)})
	}

	return &machine.ServiceInfo{
		Id:     s.ID,
		State:  s.State,
		Events: &machine.ServiceEvents{Events: events},
		Health: &machine.ServiceHealth{
			Unknown:     s.Health.Unknown,
			Healthy:     s.Health.Healthy,
			LastMessage: s.Health.LastMessage,
			LastChange:  timestamppb.New(s.Health.LastChange),
		},
	}
}
