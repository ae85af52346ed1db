package sim

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// etcdMember is one member of a simulated etcd cluster.
type etcdMember struct {
	ID         uint64
	Hostname   string
	NodeID     string
	PeerURLs   []string
	ClientURLs []string
}

// etcdCluster is the shared etcd of all control-plane nodes with the same cluster identity.
// Whether a member is up is decided by the simulator (its node runs and its etcd runs), so the
// model takes that as a function.
type etcdCluster struct {
	key          string
	bootstrapped bool
	members      []*etcdMember
	leader       uint64
	raftTerm     uint64
	raftIndex    uint64
	history      etcdHistory
}

type memberUp func(*etcdMember) bool

// etcd's own error texts, so clients see what a real cluster says.
var (
	errNoLeader         = errors.New("etcdserver: no leader")
	errMemberNotFound   = errors.New("etcdserver: member not found")
	errNotEnoughMembers = errors.New("etcdserver: re-configuration failed due to not enough started members")
	errOnlyOneMember    = errors.New("cannot forfeit leadership, only one member")
)

func newMemberID() uint64 {
	var b [8]byte

	for {
		_, _ = rand.Read(b[:])
		// full 64-bit range on purpose: clients must keep member IDs lossless
		if id := binary.BigEndian.Uint64(b[:]); id != 0 {
			return id
		}
	}
}

func (c *etcdCluster) member(id uint64) *etcdMember {
	for _, m := range c.members {
		if m.ID == id {
			return m
		}
	}

	return nil
}

// majority is the number of started members an etcd cluster of n members needs.
func majority(n int) int { return n/2 + 1 }

// health counts the started members and tells whether they form a quorum
// (members lost ≤ (n-1)/2).
func (c *etcdCluster) health(up memberUp) (started, total int, quorum bool) {
	for _, m := range c.members {
		if up(m) {
			started++
		}
	}

	total = len(c.members)

	return started, total, total > 0 && started >= majority(total)
}

func (c *etcdCluster) hasQuorum(up memberUp) bool {
	_, _, ok := c.health(up)

	return ok
}

// electLeader keeps a started leader, or picks the first started member when there is quorum.
func (c *etcdCluster) electLeader(up memberUp) {
	if !c.hasQuorum(up) {
		c.leader = 0

		return
	}

	if m := c.member(c.leader); m != nil && up(m) {
		return
	}

	for _, m := range c.members {
		if up(m) {
			c.leader = m.ID
			c.raftTerm++

			return
		}
	}
}

// bootstrap creates a one-member cluster.
func (c *etcdCluster) bootstrap(m *etcdMember) {
	c.bootstrapped = true
	c.members = []*etcdMember{m}
	c.leader = m.ID
	c.raftTerm = 2
	c.raftIndex = 4
}

// add joins a new member; etcd needs a quorum to accept the configuration change.
func (c *etcdCluster) add(m *etcdMember, up memberUp) error {
	if !c.hasQuorum(up) {
		return errNoLeader
	}

	c.members = append(c.members, m)
	c.raftIndex++

	return nil
}

// remove drops a member. Like etcd's strict reconfiguration check, it refuses a removal after
// which the started members would no longer be a quorum of the remaining ones.
func (c *etcdCluster) remove(id uint64, up memberUp) error {
	if !c.hasQuorum(up) {
		return errNoLeader
	}

	idx := slices.IndexFunc(c.members, func(m *etcdMember) bool { return m.ID == id })
	if idx < 0 {
		return errMemberNotFound
	}

	remaining := slices.Delete(slices.Clone(c.members), idx, idx+1)
	started := 0

	for _, m := range remaining {
		if up(m) {
			started++
		}
	}

	if len(remaining) > 0 && started < majority(len(remaining)) {
		return errNotEnoughMembers
	}

	c.members = remaining
	c.raftIndex++

	if c.leader == id {
		c.leader = 0
	}

	c.electLeader(up)

	return nil
}

// forfeit moves leadership away from the member; it returns the new leader's name, or "" when
// the member was not the leader (Talos's EtcdForfeitLeadership semantics).
func (c *etcdCluster) forfeit(id uint64, up memberUp) (string, error) {
	if !c.hasQuorum(up) {
		return "", errNoLeader
	}

	if len(c.members) == 1 {
		return "", errOnlyOneMember
	}

	if c.member(id) == nil {
		return "", fmt.Errorf("failed to find %q in list of etcd members", formatMemberID(id))
	}

	if c.leader != id {
		return "", nil
	}

	for _, m := range c.members {
		if m.ID != id && up(m) {
			c.leader = m.ID
			c.raftTerm++

			return m.Hostname, nil
		}
	}

	return "", errNoLeader
}

// formatMemberID prints a member ID the way etcd and Talos do (16 hex digits).
func formatMemberID(id uint64) string { return fmt.Sprintf("%016x", id) }
