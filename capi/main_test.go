package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The child of TestPanicIsOneLine: a runtime error inside an export.
func TestMain(m *testing.M) {
	if os.Getenv("UCW_ASIO_TEST_PANIC") == "1" {
		func() {
			defer recovered("asio_get")
			var p *int
			_ = *p
		}()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A panic that reaches an export ends the process with the one line of an
// internal error and exit status 1, not a goroutine dump.
func TestPanicIsOneLine(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = []string{"UCW_ASIO_TEST_PANIC=1"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "UCW_DIE_BY_ABORT=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	want := "ucw-asio: internal error in asio_get: runtime error: invalid memory address or nil pointer dereference; please report it with the program that shows it\n"
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("the child ended with %v; want exit status 1", err)
	}
	if stderr.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr.String(), want)
	}
}

func TestRingWanted(t *testing.T) {
	for v, want := range map[string]bool{"": true, "0": true, "1": false, "yes": false, "00": false} {
		if got := ringWanted(v); got != want {
			t.Errorf("UCW_ASIO_NO_URING=%q: ring %v, want %v", v, got, want)
		}
	}
}

var sink int

//go:noinline
func withRecovered() {
	defer recovered("asio_get")
	sink++
}

//go:noinline
func withoutRecovered() {
	sink++
}

// The recover every export defers: its cost per call, against the same
// call without it.
func BenchmarkExportRecover(b *testing.B) {
	b.Run("with", func(b *testing.B) {
		for b.Loop() {
			withRecovered()
		}
	})
	b.Run("without", func(b *testing.B) {
		for b.Loop() {
			withoutRecovered()
		}
	})
}
