package sim

import (
	"time"

	"github.com/siderolabs/talos/pkg/machinery/api/common"
	"github.com/siderolabs/talos/pkg/machinery/api/machine"
)

// replyGrace lets the RPC reply reach the client before the node goes down.
const replyGrace = 30 * time.Millisecond

// scheduleRestart reboots the node in the background: it goes down (API closed, etcd member
// down), midway runs while it is down (e.g. an upgrade swaps the image), then it boots again.
// Callers hold the simulator mutex.
func (s *Simulator) scheduleRestart(n *Node, sequence string, midway func()) {
	gen := n.generation

	go func() {
		if !s.beginSequence(n, gen, sequence, "") {
			return
		}

		srv := s.powerOffLocked(n, StateRebooting)
		downGen := n.generation

		if midway != nil {
			midway()
		}
		s.mu.Unlock()

		stopServer(srv)
		s.rebootAfterDowntime(n, downGen)
	}()
}

// beginSequence waits for the RPC reply to leave, then, unless the node's life changed meanwhile,
// takes the mutex (returning true with it held) and announces the sequence.
func (s *Simulator) beginSequence(n *Node, gen int, sequence, actor string) bool {
	time.Sleep(replyGrace)

	s.mu.Lock()
	if n.generation != gen || s.nodes[n.id] != n {
		s.mu.Unlock()

		return false
	}

	n.events.publish(&machine.SequenceEvent{Sequence: sequence, Action: machine.SequenceEvent_START}, actor)
	n.events.publish(&machine.MachineStatusEvent{Stage: stageOf(sequence), Status: &machine.MachineStatusEvent_MachineStatus{}}, actor)

	return true
}

func (s *Simulator) rebootAfterDowntime(n *Node, downGen int) {
	time.Sleep(s.opts.RebootDowntime)

	s.mu.Lock()
	stillDown := n.generation == downGen && n.state == StateRebooting && s.nodes[n.id] == n
	n.heldDown = stillDown && n.faults.StaysDownAfterReboot
	stillDown = stillDown && !n.heldDown
	s.mu.Unlock()

	if stillDown {
		s.startBoot(n)
	}
}

func stageOf(sequence string) machine.MachineStatusEvent_MachineStage {
	switch sequence {
	case "upgrade":
		return machine.MachineStatusEvent_UPGRADING
	case "reset":
		return machine.MachineStatusEvent_RESETTING
	default:
		return machine.MachineStatusEvent_REBOOTING
	}
}

// scheduleReset runs the reset sequence in the background. A graceful reset of an etcd member
// leaves etcd first; if that fails the sequence fails and the node keeps running, as in Talos.
func (s *Simulator) scheduleReset(n *Node, actor string, graceful, reboot, wipeState, wipeEphemeral bool) {
	gen := n.generation

	go func() {
		if !s.beginSequence(n, gen, "reset", actor) {
			return
		}

		if graceful && n.controlPlane() && n.etcdMemberID != 0 {
			if err := s.leaveEtcdLocked(n, EtcdEventReset); err != nil {
				n.events.publish(&machine.SequenceEvent{
					Sequence: "reset", Action: machine.SequenceEvent_STOP,
					Error: &common.Error{Code: common.Code_FATAL, Message: "leave etcd: " + err.Error()},
				}, actor)
				s.mu.Unlock()

				return
			}
		}

		final := StateStopped
		if reboot {
			final = StateRebooting
		}

		srv := s.powerOffLocked(n, final)
		downGen := n.generation

		if wipeEphemeral {
			n.etcdData, n.etcdMemberID, n.etcdLeft = false, 0, false
			n.images = imageStore{}
		}

		if wipeState {
			n.rawConfig, n.persisted, n.cfg = nil, nil, nil
			n.cert = nil
		}
		s.mu.Unlock()

		stopServer(srv)

		if reboot {
			s.rebootAfterDowntime(n, downGen)
		}
	}()
}
