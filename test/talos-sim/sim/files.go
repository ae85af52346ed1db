package sim

import (
	"io/fs"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
)

// fileTree is the little file system a node exposes to List: enough for the checks callers make
// (CACPPT lists /var/lib/etcd/member to see whether etcd was bootstrapped).
type fileTree map[string]fileEntry

type fileEntry struct {
	dir  bool
	size int64
	mod  time.Time
}

func (n *Node) fileTree() fileTree {
	now := time.Now()
	t := fileTree{}

	addDir := func(p string) {
		for ; p != "/" && p != "."; p = path.Dir(p) {
			if _, ok := t[p]; !ok {
				t[p] = fileEntry{dir: true, mod: now}
			}
		}

		t["/"] = fileEntry{dir: true, mod: now}
	}

	addDir("/var/lib/etcd")
	addDir("/system/state")

	if n.cfg != nil {
		t["/system/state/config.yaml"] = fileEntry{size: int64(len(n.cfg.Raw)), mod: now}
	}

	if n.etcdData {
		addDir("/var/lib/etcd/member/snap")
		addDir("/var/lib/etcd/member/wal")
		t["/var/lib/etcd/member/snap/db"] = fileEntry{size: 4 << 20, mod: now}
		t["/var/lib/etcd/member/wal/0000000000000000-0000000000000000.wal"] = fileEntry{size: 64 << 20, mod: now}
	}

	return t
}

// list answers a ListRequest like machined: the root, then entries below it up to the depth.
func (t fileTree) list(req *machine.ListRequest) ([]*machine.FileInfo, error) {
	root := "/" + strings.Trim(req.GetRoot(), "/")

	if _, ok := t[root]; !ok {
		// machined returns the lstat error as is (gRPC code Unknown)
		return nil, status.Errorf(codes.Unknown, "lstat %s: %s", root, syscall.ENOENT.Error())
	}

	depth := 0
	if req.GetRecurse() {
		depth = int(req.GetRecursionDepth())
		if depth == 0 {
			depth = -1
		}
	}

	paths := make([]string, 0, len(t))
	for p := range t {
		paths = append(paths, p)
	}

	slices.Sort(paths)

	var out []*machine.FileInfo

	for _, p := range paths {
		rel, ok := relativeTo(root, p)
		if !ok {
			continue
		}

		level := 0
		if rel != "." {
			level = strings.Count(rel, "/") + 1
		}

		// without recursion machined still lists the root's direct children
		if (depth >= 0 && level > max(depth, 1)) || !typeWanted(req.GetTypes(), t[p].dir) {
			continue
		}

		e := t[p]
		mode := fs.FileMode(0o644)

		if e.dir {
			mode = fs.ModeDir | 0o755
		}

		out = append(out, &machine.FileInfo{
			Name: p, RelativeName: rel, Size: e.size, Mode: uint32(mode), Modified: e.mod.Unix(), IsDir: e.dir,
		})
	}

	return out, nil
}

func relativeTo(root, p string) (string, bool) {
	switch {
	case p == root:
		return ".", true
	case root == "/":
		return strings.TrimPrefix(p, "/"), true
	case strings.HasPrefix(p, root+"/"):
		return strings.TrimPrefix(p, root+"/"), true
	default:
		return "", false
	}
}

func typeWanted(types []machine.ListRequest_Type, dir bool) bool {
	if len(types) == 0 {
		return true
	}

	want := machine.ListRequest_REGULAR
	if dir {
		want = machine.ListRequest_DIRECTORY
	}

	return slices.Contains(types, want)
}
