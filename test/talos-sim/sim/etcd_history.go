package sim

import (
	"errors"
	"fmt"
	"time"
)

// etcdHistoryLimit bounds a cluster's history: the oldest samples go first.
const etcdHistoryLimit = 10_000

// EtcdEvent is what changed an etcd cluster's membership or a member's liveness.
type EtcdEvent string

const (
	EtcdEventBootstrap EtcdEvent = "bootstrap" // the first member, by Bootstrap
	EtcdEventJoined    EtcdEvent = "joined"    // a control-plane node joined the bootstrapped cluster
	EtcdEventRemoved   EtcdEvent = "removed"   // EtcdRemoveMemberByID
	EtcdEventLeft      EtcdEvent = "left"      // EtcdLeaveCluster
	EtcdEventReset     EtcdEvent = "reset"     // left during a graceful Reset
	EtcdEventStopped   EtcdEvent = "stopped"   // member down: its node powered off
	EtcdEventRebooting EtcdEvent = "rebooting" // member down: its node reboots (reboot, upgrade, reset)
	EtcdEventDeleted   EtcdEvent = "deleted"   // member down: its machine was destroyed
	EtcdEventStarted   EtcdEvent = "started"   // member up again: its node booted
)

// EtcdMemberRef names a member. The ID is decimal, lossless.
type EtcdMemberRef struct {
	Hostname string `json:"hostname"`
	ID       string `json:"id"`
	NodeID   string `json:"nodeId"`
}

// EtcdSampleMember is a member and its liveness in a sample.
type EtcdSampleMember struct {
	EtcdMemberRef
	Up bool `json:"up"`
}

// EtcdSample is one change of a cluster's etcd and the state right after it.
type EtcdSample struct {
	Time        string             `json:"time"`
	Event       EtcdEvent          `json:"event"`
	Member      EtcdMemberRef      `json:"member"`
	Members     []EtcdSampleMember `json:"members"`
	MemberCount int                `json:"memberCount"`
	UpCount     int                `json:"upCount"`
	// Quorum is upCount > memberCount/2.
	Quorum bool `json:"quorum"`
}

// etcdHistory is a ring of the latest samples, plus each member's liveness as last reported, so
// that every up/down transition is recorded exactly once.
type etcdHistory struct {
	samples  []EtcdSample
	oldest   int // index of the oldest sample once the ring is full
	reported map[uint64]bool
}

func (h *etcdHistory) add(sample EtcdSample) {
	if len(h.samples) < etcdHistoryLimit {
		h.samples = append(h.samples, sample)

		return
	}

	h.samples[h.oldest] = sample
	h.oldest = (h.oldest + 1) % len(h.samples)
}

// snapshot returns the samples oldest first.
func (h *etcdHistory) snapshot() []EtcdSample {
	out := make([]EtcdSample, 0, len(h.samples))

	return append(append(out, h.samples[h.oldest:]...), h.samples[:h.oldest]...)
}

func memberRef(m *etcdMember) EtcdMemberRef {
	return EtcdMemberRef{Hostname: m.Hostname, ID: uintString(m.ID), NodeID: m.NodeID}
}

// recordEtcdLocked appends a sample of event concerning m, with the cluster's state after it.
func (s *Simulator) recordEtcdLocked(c *etcdCluster, event EtcdEvent, m *etcdMember) {
	sample := EtcdSample{
		Time:    time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		Event:   event,
		Member:  memberRef(m),
		Members: make([]EtcdSampleMember, 0, len(c.members)),
	}

	for _, member := range c.members {
		sample.Members = append(sample.Members, EtcdSampleMember{EtcdMemberRef: memberRef(member), Up: s.memberUpLocked(member)})
	}

	sample.UpCount, sample.MemberCount, sample.Quorum = c.health(s.memberUpLocked)

	if c.history.reported == nil {
		c.history.reported = map[uint64]bool{}
	}

	if c.member(m.ID) != nil {
		c.history.reported[m.ID] = s.memberUpLocked(m)
	} else {
		delete(c.history.reported, m.ID)
	}

	c.history.add(sample)
}

// observeEtcdLivenessLocked records every member whose liveness changed since it was last
// reported (its node stopped, rebooted, was deleted or booted again).
func (s *Simulator) observeEtcdLivenessLocked(c *etcdCluster) {
	for _, m := range c.members {
		up := s.memberUpLocked(m)
		if was, known := c.history.reported[m.ID]; known && was != up {
			s.recordEtcdLocked(c, s.livenessEventLocked(m, up), m)
		}
	}
}

// livenessEventLocked tells why a member is now up or down.
func (s *Simulator) livenessEventLocked(m *etcdMember, up bool) EtcdEvent {
	if up {
		return EtcdEventStarted
	}

	n, ok := s.nodes[m.NodeID]

	switch {
	case !ok:
		return EtcdEventDeleted
	case n.state == StateRebooting:
		return EtcdEventRebooting
	default:
		return EtcdEventStopped
	}
}

// ErrNotControlPlane is returned for the etcd history of a node that is no control-plane node.
var ErrNotControlPlane = errors.New("not a control-plane node")

// EtcdHistory returns the membership history of the etcd cluster a control-plane node belongs
// to, oldest first; empty while the cluster has never been bootstrapped.
func (s *Simulator) EtcdHistory(nodeID string) ([]EtcdSample, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	n, err := s.node(nodeID)
	if err != nil {
		return nil, err
	}

	if !n.facts().ControlPlane() {
		return nil, fmt.Errorf("%w: %q", ErrNotControlPlane, nodeID)
	}

	c, ok := s.clusters[n.facts().ClusterKey()]
	if !ok {
		return []EtcdSample{}, nil
	}

	return c.history.snapshot(), nil
}
