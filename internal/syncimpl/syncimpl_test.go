package syncimpl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"
)

// asioQueue and asioRequest are the fields of the C structs these tests
// use, at the offsets Layout gives.
func u32(p unsafe.Pointer, off uintptr) *uint32 { return (*uint32)(unsafe.Add(p, off)) }
func i32(p unsafe.Pointer, off uintptr) *int32  { return (*int32)(unsafe.Add(p, off)) }

func offset(t *testing.T, name string) uintptr {
	for i, n := range LayoutNames {
		if n == name {
			return Layout()[i]
		}
	}
	t.Fatalf("no offset %s", name)
	return 0
}

// A read through the C path, then a misuse that the C path ends the
// process for: the call returns the line instead, and the harness goes on.
func TestReadThenMisuse(t *testing.T) {
	if !Available {
		t.Skip("built without cgo")
	}
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	q := AllocQueue()
	defer Free(q)
	*u32(q, offset(t, "buffer_size")) = 100
	*u32(q, offset(t, "max_writebacks")) = 1
	if err := Init(q); err != nil {
		t.Fatal(err)
	}
	r, err := Get(q)
	if err != nil || r == nil {
		t.Fatalf("asio_get: %p %v", r, err)
	}
	*i32(r, offset(t, "fd")) = int32(f.Fd())
	*i32(r, offset(t, "op")) = 1 // ASIO_READ
	*u32(r, offset(t, "len")) = 100
	// Every second call is interrupted: sync.c retries.
	SetFaults(Faults{EINTREvery: 2, Quota: -1, Fds: []int{int(f.Fd())}})
	defer SetFaults(Faults{})
	if err := Submit(r); err != nil {
		t.Fatal(err)
	}
	if w, err := Wait(q); err != nil || w != r {
		t.Fatalf("asio_wait: %p %v, want %p", w, err, r)
	}
	if st := *i32(r, offset(t, "status")); st != 5 || string(unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Add(r, offset(t, "buffer")))), 5)) != "hello" {
		t.Errorf("the read returned %d", st)
	}
	if err := Put(r); err != nil {
		t.Fatal(err)
	}
	err = Put(r)
	d, ok := err.(*Died)
	if !ok || !strings.HasPrefix(d.Line, "asio_put: request 0x") || !strings.HasSuffix(d.Line, " is not allocated (put twice?)") {
		t.Fatalf("the second asio_put returned %v; want the misuse line", err)
	}
	if err := Cleanup(q); err != nil {
		t.Fatal(err)
	}
	if err := Sync(q); err == nil || !strings.Contains(err.Error(), "is not initialised") {
		t.Errorf("asio_sync after cleanup: %v", err)
	}
}
