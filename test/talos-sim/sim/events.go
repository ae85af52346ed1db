package sim

import (
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
)

// eventRecord is one runtime event of a node, as Talos's Events RPC streams them.
type eventRecord struct {
	ID      string
	At      time.Time
	ActorID string
	Payload proto.Message
}

// toProto renders the record like machined: the payload in an Any whose type URL is
// "talos/runtime/<full proto name>".
func (r eventRecord) toProto() (*machine.Event, error) {
	ev := &machine.Event{Id: r.ID, ActorId: r.ActorID, Data: &anypb.Any{}}

	if r.Payload != nil {
		value, err := proto.Marshal(r.Payload)
		if err != nil {
			return nil, err
		}

		ev.Data = &anypb.Any{TypeUrl: fmt.Sprintf("talos/runtime/%s", r.Payload.ProtoReflect().Descriptor().FullName()), Value: value}
	}

	return ev, nil
}

var (
	eventCounter  atomic.Uint64
	eventIDCoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)
)

// newEventID makes a 20-character, time-ordered ID shaped like the xid Talos uses.
func newEventID(at time.Time) string {
	var b [12]byte

	binary.BigEndian.PutUint32(b[:4], uint32(at.Unix()))
	binary.BigEndian.PutUint64(b[4:], eventCounter.Add(1))

	return eventIDCoding.EncodeToString(b[:])
}

// eventLog is a node's in-memory event buffer (lost on reboot, as in Talos) with live watchers.
type eventLog struct {
	mu       sync.Mutex
	records  []eventRecord
	watchers map[chan eventRecord]struct{}
}

const eventLogCapacity = 1000

func newEventLog() *eventLog {
	return &eventLog{watchers: map[chan eventRecord]struct{}{}}
}

func (l *eventLog) publish(payload proto.Message, actorID string) {
	now := time.Now()
	rec := eventRecord{ID: newEventID(now), At: now, ActorID: actorID, Payload: payload}

	l.mu.Lock()
	defer l.mu.Unlock()

	l.records = append(l.records, rec)
	if len(l.records) > eventLogCapacity {
		l.records = l.records[len(l.records)-eventLogCapacity:]
	}

	for ch := range l.watchers {
		select {
		case ch <- rec:
		default: // a watcher too slow to keep up loses events rather than blocking the node
		}
	}
}

// closeWatchers ends every live watch: the node went down, so its streams break.
func (l *eventLog) closeWatchers() {
	l.mu.Lock()
	defer l.mu.Unlock()

	for ch := range l.watchers {
		close(ch)
		delete(l.watchers, ch)
	}
}

// clear empties the buffer at the start of a boot.
func (l *eventLog) clear() {
	l.mu.Lock()
	defer l.mu.Unlock()

	l.records = nil
}

func (l *eventLog) snapshot() []eventRecord {
	l.mu.Lock()
	defer l.mu.Unlock()

	return append([]eventRecord(nil), l.records...)
}

// tailSpec selects the backlog sent before live events: tail_events (-1 = all), tail_id (events
// after that ID) or tail_seconds.
type tailSpec struct {
	events  int32
	id      string
	seconds int32
}

func (l *eventLog) watch(tail tailSpec) (backlog []eventRecord, live chan eventRecord, cancel func()) {
	l.mu.Lock()
	defer l.mu.Unlock()

	switch {
	case tail.id != "":
		for i, r := range l.records {
			if r.ID == tail.id {
				backlog = append(backlog, l.records[i+1:]...)

				break
			}
		}
	case tail.seconds > 0:
		since := time.Now().Add(-time.Duration(tail.seconds) * time.Second)
		for _, r := range l.records {
			if !r.At.Before(since) {
				backlog = append(backlog, r)
			}
		}
	case tail.events < 0:
		backlog = append(backlog, l.records...)
	case tail.events > 0:
		start := max(0, len(l.records)-int(tail.events))
		backlog = append(backlog, l.records[start:]...)
	}

	live = make(chan eventRecord, 256)
	l.watchers[live] = struct{}{}

	return backlog, live, func() {
		l.mu.Lock()
		defer l.mu.Unlock()

		if _, ok := l.watchers[live]; ok {
			delete(l.watchers, live)
			close(live)
		}
	}
}
