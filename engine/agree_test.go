package engine

import (
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ucw-asio/ucw-asio/internal/syncimpl"
)

// What the two implementations of the contract, the engine (this package)
// and the synchronous C path (capi/stub/sync.c), must say and do alike,
// checked from their sources and by running both: the lines they end the
// process with, the magic numbers, the layout of the structs, and the
// argument checks of a request.

// syncC is the C path's source, from this package's directory.
const syncC = "../capi/stub/sync.c"

// Routes of a message.
const (
	both       = "both"
	engineOnly = "engine only"
	syncOnly   = "sync.c only"
)

// messages is every line either implementation can end the process with,
// as format strings: "<fn>: " where the C function's name is a parameter
// (the function that was called), the printf verbs reduced to %d, %s, %p
// (%u, %zu, %zd... are %d; Go's %v is %s). TestMessagesAgree checks that
// the engine's misuse and fatal calls and sync.c's die calls say exactly
// these, each on the routes given. Adding a message: one line here.
var messages = []struct{ route, text string }{
	{both, "asio_init_queue: NULL queue"},
	{both, "asio_init_queue: buffer_size is 0: set it to the size of the requests' buffers before asio_init_queue"},
	{both, "<fn>: NULL queue"},
	{both, "<fn>: queue %p is not initialised (asio_init_queue was not called on it, or asio_cleanup_queue was)"},
	{both, "<fn>: NULL request"},
	{both, "<fn>: queue %p is in use by another thread (in %s): a queue is for one thread at a time"},
	// The engine checks asio_init_queue over a live queue apart (engine.go, reinit).
	{engineOnly, "asio_init_queue: queue %p is in use by another thread (in %s): a queue is for one thread at a time"},
	{both, "<fn>: %p is not a request returned by asio_get (or its queue was cleaned up)"},
	{both, "asio_get: buffer_size is 0: requests need a buffer"},
	{both, "asio_get: cannot allocate a request with a buffer of %d bytes: %s"},
	{both, "asio_submit: request %p is not allocated (it was returned with asio_put or recycled)"},
	{both, "asio_submit: request %p was already submitted (it is running or waiting for asio_wait)"},
	{both, "asio_submit: write-back with max_writebacks == 0 would wait forever"},
	{both, "asio_submit: write-back of %d bytes is larger than the request's buffer of %d bytes"},
	{both, "asio_submit: request %p has op ASIO_FREE: set op to ASIO_READ, ASIO_WRITE or ASIO_WRITE_BACK"},
	{both, "asio_submit: request %p has unknown op %d"},
	{both, "asio_put: request %p is not allocated (put twice?)"},
	{both, "asio_put: request %p is still submitted: collect it with asio_wait first"},
	{both, "asio_cleanup_queue: queue %p still has %s running (wait for them with asio_sync)"},
	{both, "asio_cleanup_queue: queue %p still has %s allocated (return them with asio_put)"},
	{both, "asio_init_queue: queue %p still has %s: call asio_cleanup_queue first"},
	{both, "Asynchronous write to fd %d failed: %s"},
	{both, "Asynchronous write to fd %d wrote only %d bytes out of %d"},

	// The engine's io_uring (ringq.go).

	// Queues and requests a parent made before fork(), which only the C
	// path (the route of forked children) meets; its own allocations.
	{syncOnly, "<fn>: queue %p was created before fork(): a forked child must create its own queues"},
	{syncOnly, "<fn>: request %p was created before fork(): a forked child must create its own queues and requests"},
	{syncOnly, "asio_init_queue: cannot allocate a queue: %s"},
	{syncOnly, "ucw-asio: internal error in %s: queue %p has a request running but none pending; please report it with the program that shows it"},
}

var printfVerb = regexp.MustCompile(`%[-+ #0]*[0-9]*(?:\.[0-9]+)?(?:hh|h|ll|l|z|j|t)?([diouxXscpvq%])`)

// canonical reduces the printf verbs of a format to %d, %s, %p.
func canonical(format string) string {
	return printfVerb.ReplaceAllStringFunc(format, func(v string) string {
		switch v[len(v)-1] {
		case 'd', 'i', 'u':
			return "%d"
		case 's', 'v', 'q':
			return "%s"
		default:
			return "%" + v[len(v)-1:]
		}
	})
}

func TestMessagesAgree(t *testing.T) {
	engineMsgs := engineMessages(t)
	cMsgs := syncMessages(t)
	for _, side := range []struct {
		name  string
		got   map[string]string // message -> where
		route string
	}{{"the engine", engineMsgs, engineOnly}, {"sync.c", cMsgs, syncOnly}} {
		want := map[string]bool{}
		for _, m := range messages {
			if m.route == both || m.route == side.route {
				want[m.text] = true
			}
		}
		for _, m := range sortedKeys(side.got) {
			if !want[m] {
				t.Errorf("%s (%s) says %q, which the table in agree_test.go does not list for it: say the same on the other route, or add it to the table (with its route)", side.name, side.got[m], m)
			}
		}
		for _, m := range sortedKeys(want) {
			if _, ok := side.got[m]; !ok {
				t.Errorf("%s does not say %q, which the table in agree_test.go lists for it", side.name, m)
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// engineMessages finds the engine's reports: the calls misuse(fn, format,
// ...) and fatal(fmt.Errorf(format, ...)), and the formats of the Error
// methods of the errors it reports (errors.go), except Misuse's own.
func engineMessages(t *testing.T) map[string]string {
	fset := gotoken.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			consts, params := map[string]string{}, map[string]bool{}
			for _, field := range fd.Type.Params.List {
				for _, n := range field.Names {
					params[n.Name] = true
				}
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				if gd, ok := n.(*ast.GenDecl); ok && gd.Tok == gotoken.CONST {
					for _, spec := range gd.Specs {
						vs := spec.(*ast.ValueSpec)
						for i, id := range vs.Names {
							if s, ok := stringLit(vs.Values[i]); ok {
								consts[id.Name] = s
							}
						}
					}
				}
				return true
			})
			where := func(n ast.Node) string { return fset.Position(n.Pos()).String() }
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				switch callee(call) {
				case "misuse":
					if len(call.Args) < 2 || fd.Name.Name == "misuse" {
						return true
					}
					if id, isID := call.Args[1].(*ast.Ident); isID && params[id.Name] {
						return true // a helper that passes its caller's format on
					}
					fn, ok := stringLit(call.Args[0])
					if _, isCall := call.Args[0].(*ast.CallExpr); isCall {
						fn, ok = "<fn>", true // the name of a call code (guard.go)
					}
					if id, isID := call.Args[0].(*ast.Ident); isID {
						fn, ok = consts[id.Name]
						if !ok && params[id.Name] {
							fn, ok = "<fn>", true
						}
					}
					format, ok2 := stringLit(call.Args[1])
					if !ok || !ok2 {
						t.Errorf("%s: cannot read the message of this misuse call", where(call))
						return true
					}
					out[canonical(fn+": "+format)] = where(call)
				case "fatal":
					if inner, ok := call.Args[0].(*ast.CallExpr); ok && callee(inner) == "Errorf" {
						if format, ok := stringLit(inner.Args[0]); ok {
							out[canonical(format)] = where(call)
						} else {
							t.Errorf("%s: cannot read the message of this fatal call", where(call))
						}
					}
				case "Sprintf":
					if fd.Name.Name == "Error" && fd.Recv != nil {
						if format, ok := stringLit(call.Args[0]); ok {
							out[canonical(format)] = where(call)
						}
					}
				}
				return true
			})
		}
	}
	return out
}

func callee(call *ast.CallExpr) string {
	switch f := call.Fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	}
	return ""
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != gotoken.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

var (
	cComment    = regexp.MustCompile(`(?s)/\*.*?\*/|//[^\n]*`)
	cStrDefine  = regexp.MustCompile(`(?m)^#define\s+(\w+)\s+("(?:[^"\\]|\\.)*")\s*$`)
	cFuncHead   = regexp.MustCompile(`(?m)^[A-Za-z_][^;{}()\n]*?\b(\w+)\(([^)]*)\)\n\{\n`)
	cFnConst    = regexp.MustCompile(`const char \*fn = "([^"]*)"`)
	cDieCall    = regexp.MustCompile(`\b(?:die|ucwasio_die|ucwasio_die_line)\s*\(`)
	cFirstIdent = regexp.MustCompile(`^\s*(\w+)\s*[,)]`)
	cLastIdent  = regexp.MustCompile(`(\w+)\s*$`)
)

// cParams returns the names of the parameters in a C parameter list.
func cParams(list string) map[string]bool {
	names := map[string]bool{}
	for _, p := range strings.Split(list, ",") {
		if m := cLastIdent.FindStringSubmatch(p); m != nil {
			names[m[1]] = true
		}
	}
	return names
}

// syncMessages finds sync.c's reports: the format strings of its die calls
// (string literals and string macros), with "%s: " and fn resolved to the
// C function's name where fn is a local constant, "<fn>: " where it is a
// parameter.
func syncMessages(t *testing.T) map[string]string {
	src, err := os.ReadFile(syncC)
	if err != nil {
		t.Fatal(err)
	}
	text := cComment.ReplaceAllString(string(src), "")
	macros := map[string]string{}
	for _, m := range cStrDefine.FindAllStringSubmatch(text, -1) {
		s, err := strconv.Unquote(m[2])
		if err != nil {
			t.Fatalf("#define %s: %v", m[1], err)
		}
		macros[m[1]] = s
	}
	out := map[string]string{}
	heads := cFuncHead.FindAllStringSubmatchIndex(text, -1)
	if len(heads) < 10 {
		t.Fatalf("found %d functions in %s: the pattern no longer matches its style", len(heads), syncC)
	}
	for i, h := range heads {
		end := len(text)
		if i+1 < len(heads) {
			end = heads[i+1][0]
		}
		name, params, body := text[h[2]:h[3]], text[h[4]:h[5]], text[h[1]:end]
		fn := "<fn>"
		if m := cFnConst.FindStringSubmatch(body); m != nil {
			fn = m[1]
		} else if !cParams(params)["fn"] {
			fn = ""
		}
		for _, loc := range cDieCall.FindAllStringIndex(body, -1) {
			if m := cFirstIdent.FindStringSubmatch(body[loc[1]:]); m != nil && cParams(params)[m[1]] {
				continue // a helper that passes its caller's format or line on
			}
			format, rest, ok := cFormat(body[loc[1]:], macros)
			if !ok {
				t.Errorf("%s: %s: cannot read the format of the die call at %q", syncC, name, body[loc[0]:min(loc[0]+60, len(body))])
				continue
			}
			if strings.HasPrefix(format, "%s: ") && regexp.MustCompile(`^\s*,\s*fn\b`).MatchString(rest) {
				if fn == "" {
					t.Errorf("%s: %s: fn is neither a constant nor a parameter", syncC, name)
				}
				format = fn + ": " + format[4:]
			}
			out[canonical(format)] = syncC + ": " + name
		}
	}
	return out
}

// cFormat reads the format argument at the start of s: string literals
// and string macros, concatenated. rest is what follows it.
func cFormat(s string, macros map[string]string) (format, rest string, ok bool) {
	ident := regexp.MustCompile(`^\w+`)
	lit := regexp.MustCompile(`^"(?:[^"\\]|\\.)*"`)
	for {
		s = strings.TrimLeft(s, " \t\n")
		if m := lit.FindString(s); m != "" {
			v, err := strconv.Unquote(m)
			if err != nil {
				return "", "", false
			}
			format += v
			s = s[len(m):]
			ok = true
			continue
		}
		if m := ident.FindString(s); m != "" {
			if v, isMacro := macros[m]; isMacro {
				format += v
				s = s[len(m):]
				ok = true
				continue
			}
		}
		return format, s, ok
	}
}

var cMagicDefine = regexp.MustCompile(`(?m)^#define\s+(\w+_MAGIC)\s+0x([0-9a-fA-F]+)ULL\b`)

// The magic numbers sync.c uses to recognise the engine's queues and
// requests are the engine's, its own differ from them, and the structs
// have the same layout for the C compiler as for the engine.
func TestMagicAndLayoutAgree(t *testing.T) {
	src, err := os.ReadFile(syncC)
	if err != nil {
		t.Fatal(err)
	}
	defs := map[string]uint64{}
	for _, m := range cMagicDefine.FindAllStringSubmatch(string(src), -1) {
		v, err := strconv.ParseUint(m[2], 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		defs[m[1]] = v
	}
	for name, want := range map[string]uint64{"ENGINE_QUEUE_MAGIC": QueueMagic, "ENGINE_REQUEST_MAGIC": RequestMagic} {
		if defs[name] != want {
			t.Errorf("%s: #define %s %#x; the engine's (layout.go) is %#x", syncC, name, defs[name], want)
		}
	}
	for _, name := range []string{"SYNC_QUEUE_MAGIC", "SYNC_REQUEST_MAGIC"} {
		if v, ok := defs[name]; !ok || v == QueueMagic || v == RequestMagic {
			t.Errorf("%s: %s is %#x (missing, or equal to one of the engine's)", syncC, name, v)
		}
	}
	if !syncimpl.Available {
		t.Skip("the compiled values need cgo (internal/syncimpl)")
	}
	if syncimpl.EngineQueueMagic != QueueMagic || syncimpl.EngineRequestMagic != RequestMagic {
		t.Errorf("sync.c as compiled has the engine's magic numbers %#x %#x; the engine's are %#x %#x",
			syncimpl.EngineQueueMagic, syncimpl.EngineRequestMagic, QueueMagic, RequestMagic)
	}
	var q QueueHeader
	var r RequestHeader
	want := map[string]uintptr{
		"sizeof(struct asio_queue)": unsafe.Sizeof(q), "buffer_size": unsafe.Offsetof(q.BufferSize),
		"max_writebacks": unsafe.Offsetof(q.MaxWritebacks), "allocated_requests": unsafe.Offsetof(q.AllocatedRequests),
		"running_requests": unsafe.Offsetof(q.RunningRequests), "running_writebacks": unsafe.Offsetof(q.RunningWritebacks),
		"queue.private_magic": unsafe.Offsetof(q.Magic), "queue.private_handle": unsafe.Offsetof(q.Handle),
		"use_count": unsafe.Offsetof(q.UseCount), "sizeof(struct asio_request)": unsafe.Sizeof(r),
		"work": unsafe.Offsetof(r.Magic), "queue": unsafe.Offsetof(r.Queue), "buffer": unsafe.Offsetof(r.Buffer),
		"fd": unsafe.Offsetof(r.Fd), "op": unsafe.Offsetof(r.Op), "len": unsafe.Offsetof(r.Len),
		"status": unsafe.Offsetof(r.Status), "returned_errno": unsafe.Offsetof(r.ReturnedErrno),
		"submitted": unsafe.Offsetof(r.Submitted), "user_data": unsafe.Offsetof(r.UserData),
	}
	for i, got := range syncimpl.Layout() {
		name := syncimpl.LayoutNames[i]
		if got != want[name] {
			t.Errorf("%s: %d in C (<ucw/asio.h>), %d in the engine (layout.go)", name, got, want[name])
		}
	}
}

// The argument checks of a request, by running both implementations: a
// len past the request's own buffer fails with EINVAL (a write-back is a
// misuse), past the caller's own memory is the caller's business, a NULL
// buffer fails with EFAULT unless len is 0, and the checks come before any
// system call (a bad descriptor does not change them).
func TestArgumentChecksAgree(t *testing.T) {
	if !syncimpl.Available {
		t.Skip("the C path needs cgo (internal/syncimpl)")
	}
	const size = 100
	devNull, err := unix.Open(os.DevNull, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(devNull)
	type result struct {
		status int32
		errno  syscall.Errno
		died   string // the start of the line, if it ended the process
	}
	tests := []struct {
		op     Op
		buffer string // "own", "caller's" (size+50 bytes), "NULL"
		len    uint32
		fd     int // -2: /dev/null
		want   result
	}{
		{OpRead, "own", size, -2, result{0, 0, ""}},
		{OpRead, "own", size + 1, -2, result{-1, syscall.EINVAL, ""}},
		{OpRead, "own", size + 1, -1, result{-1, syscall.EINVAL, ""}},
		{OpRead, "caller's", size + 50, -2, result{0, 0, ""}},
		{OpRead, "NULL", 0, -2, result{0, 0, ""}},
		{OpRead, "NULL", 1, -2, result{-1, syscall.EFAULT, ""}},
		{OpRead, "NULL", 1, -1, result{-1, syscall.EFAULT, ""}},
		{OpRead, "own", 0, -1, result{-1, syscall.EBADF, ""}},
		{OpWrite, "own", size, -2, result{size, 0, ""}},
		{OpWrite, "own", size + 1, -2, result{-1, syscall.EINVAL, ""}},
		{OpWrite, "caller's", size + 50, -2, result{size + 50, 0, ""}},
		{OpWrite, "NULL", 0, -2, result{0, 0, ""}},
		{OpWrite, "NULL", 5, -2, result{-1, syscall.EFAULT, ""}},
		{OpWriteBack, "own", size, -2, result{died: ""}},
		{OpWriteBack, "own", size + 1, -2, result{died: "asio_submit: write-back of 101 bytes is larger than the request's buffer of 100 bytes"}},
		{OpWriteBack, "caller's", size + 50, -2, result{died: ""}},
		{OpWriteBack, "NULL", 0, -2, result{died: ""}},
		{OpWriteBack, "NULL", 5, -2, result{died: "Asynchronous write to fd -2 failed: Bad address"}},
		{OpWriteBack, "own", 5, -1, result{died: "Asynchronous write to fd -1 failed: Bad file descriptor"}},
	}
	for _, tc := range tests {
		fd := tc.fd
		if fd == -2 {
			fd = devNull
		}
		want := tc.want
		want.died = strings.ReplaceAll(want.died, "fd -2", "fd "+strconv.Itoa(devNull))
		for _, impl := range []asioImpl{engineImpl{newEngine(t, Options{})}, &cImpl{}} {
			name := "the engine"
			if !isEngine(impl) {
				name = "the C path"
			}
			t.Run(strings.Join([]string{tc.op.String(), tc.buffer, strconv.Itoa(int(tc.len)), strconv.Itoa(tc.fd), name}, "/"), func(t *testing.T) {
				pub := impl.newQueue()
				*pub = QueueHeader{BufferSize: size, MaxWritebacks: 1}
				if err := impl.init(pub); err != nil {
					t.Fatal(err)
				}
				defer impl.release()
				hd, err := impl.get(pub)
				if err != nil {
					t.Fatal(err)
				}
				switch tc.buffer {
				case "caller's":
					hd.Buffer = unsafe.Pointer(&impl.mem(size + 50)[0])
				case "NULL":
					hd.Buffer = nil
				}
				hd.Op, hd.Fd, hd.Len = tc.op, int32(fd), tc.len
				var got result
				err = impl.submit(hd)
				if err == nil && tc.op == OpWriteBack {
					err = impl.sync(pub)
				} else if err == nil {
					var w *RequestHeader
					if w, err = impl.wait(pub); err == nil && w != hd {
						t.Fatalf("asio_wait returned %p, want %p", w, hd)
					}
					got.status, got.errno = hd.Status, syscall.Errno(hd.ReturnedErrno)
				}
				if err != nil {
					got.died = err.Error()
				}
				if got != want {
					t.Errorf("got status %d errno %v, ended with %q; want %d %v %q", got.status, got.errno, got.died, want.status, want.errno, want.died)
				}
				if err == nil {
					if tc.op != OpWriteBack {
						impl.put(hd)
					}
					if err := impl.cleanup(pub); err != nil {
						t.Error(err)
					}
				} else {
					impl.abandon(pub)
					impl.cleanup(pub)
				}
			})
		}
	}
}

func isEngine(x asioImpl) bool { _, ok := x.(engineImpl); return ok }
