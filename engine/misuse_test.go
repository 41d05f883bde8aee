package engine

import (
	"testing"
	"unsafe"
)

// Every mistake of the caller is reported in one line that names the C
// function and the mistake, and nothing is carried out.
func TestMisuse(t *testing.T) {
	tests := []struct {
		name string
		do   func(e *Engine, q *Queue, pub *QueueHeader, fd int)
		want []string
	}{
		{"submit ASIO_FREE", func(e *Engine, q *Queue, _ *QueueHeader, _ int) {
			e.Submit(q.Get())
		}, []string{"asio_submit: ", "ASIO_FREE"}},
		{"submit unknown op", func(e *Engine, q *Queue, _ *QueueHeader, fd int) {
			e.Submit(prepare(q, 7, fd, 1))
		}, []string{"asio_submit: ", "unknown op 7"}},
		{"submit twice", func(e *Engine, q *Queue, _ *QueueHeader, fd int) {
			h := prepare(q, OpRead, fd, 1)
			e.Submit(h)
			e.Submit(h)
		}, []string{"asio_submit: ", "already submitted"}},
		{"submit after put", func(e *Engine, q *Queue, _ *QueueHeader, fd int) {
			h := prepare(q, OpRead, fd, 1)
			e.Put(h)
			e.Submit(h)
		}, []string{"asio_submit: ", "not allocated"}},
		{"submit NULL", func(e *Engine, _ *Queue, _ *QueueHeader, _ int) {
			e.Submit(nil)
		}, []string{"asio_submit: ", "NULL request"}},
		{"submit a foreign request", func(e *Engine, _ *Queue, _ *QueueHeader, _ int) {
			e.Submit(&RequestHeader{Op: OpRead})
		}, []string{"asio_submit: ", "not a request returned by asio_get"}},
		{"write-back with max_writebacks 0", func(e *Engine, q *Queue, pub *QueueHeader, fd int) {
			pub.MaxWritebacks = 0
			e.Submit(prepare(q, OpWriteBack, fd, 1))
		}, []string{"asio_submit: ", "max_writebacks == 0"}},
		{"write-back past the buffer", func(e *Engine, q *Queue, _ *QueueHeader, fd int) {
			e.Submit(prepare(q, OpWriteBack, fd, 4097))
		}, []string{"asio_submit: ", "larger than the request's buffer"}},
		{"put a submitted request", func(e *Engine, q *Queue, _ *QueueHeader, fd int) {
			h := prepare(q, OpRead, fd, 1)
			e.Submit(h)
			e.Put(h)
		}, []string{"asio_put: ", "still submitted"}},
		{"put a finished request before wait", func(e *Engine, q *Queue, _ *QueueHeader, _ int) {
			h := prepare(q, OpRead, tempFile(t, []byte("x")), 1)
			e.Submit(h)
			q.Sync()
			e.Put(h)
		}, []string{"asio_put: ", "still submitted"}},
		{"put twice", func(e *Engine, q *Queue, _ *QueueHeader, _ int) {
			h := q.Get()
			e.Put(h)
			e.Put(h)
		}, []string{"asio_put: ", "not allocated"}},
		{"put NULL", func(e *Engine, _ *Queue, _ *QueueHeader, _ int) {
			e.Put(nil)
		}, []string{"asio_put: ", "NULL request"}},
		{"cleanup with a request allocated", func(e *Engine, q *Queue, _ *QueueHeader, _ int) {
			q.Get()
			q.Cleanup()
		}, []string{"asio_cleanup_queue: ", "still has 1 request allocated"}},
		{"cleanup with a request running", func(e *Engine, q *Queue, _ *QueueHeader, fd int) {
			e.Submit(prepare(q, OpRead, fd, 1))
			q.Cleanup()
		}, []string{"asio_cleanup_queue: ", "still has 1 request running"}},
		{"init NULL", func(e *Engine, _ *Queue, _ *QueueHeader, _ int) {
			e.Init(nil)
		}, []string{"asio_init_queue: ", "NULL queue"}},
		{"init with buffer_size 0", func(e *Engine, _ *Queue, _ *QueueHeader, _ int) {
			e.Init(&QueueHeader{MaxWritebacks: 1})
		}, []string{"asio_init_queue: ", "buffer_size is 0"}},
		{"get with buffer_size set to 0 after init", func(e *Engine, q *Queue, pub *QueueHeader, _ int) {
			pub.BufferSize = 0
			q.Get()
		}, []string{"asio_get: ", "buffer_size is 0"}},
		{"NULL queue", func(e *Engine, _ *Queue, _ *QueueHeader, _ int) {
			e.Queue("asio_wait", nil)
		}, []string{"asio_wait: ", "NULL queue"}},
		{"queue never initialised", func(e *Engine, _ *Queue, _ *QueueHeader, _ int) {
			e.Queue("asio_get", &QueueHeader{BufferSize: 10})
		}, []string{"asio_get: ", "not initialised"}},
		{"queue with a stale magic", func(e *Engine, _ *Queue, _ *QueueHeader, _ int) {
			e.Queue("asio_sync", &QueueHeader{Magic: QueueMagic, Handle: unsafe.Pointer(new(int))})
		}, []string{"asio_sync: ", "not initialised"}},
		{"queue after cleanup", func(e *Engine, _ *Queue, _ *QueueHeader, _ int) {
			pub := &QueueHeader{BufferSize: 10}
			e.Init(pub).Cleanup()
			e.Queue("asio_get", pub)
		}, []string{"asio_get: ", "not initialised"}},
		{"a copied queue struct", func(e *Engine, _ *Queue, pub *QueueHeader, _ int) {
			c := *pub
			e.Queue("asio_get", &c)
		}, []string{"asio_get: ", "not initialised"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, Options{})
			pub := &QueueHeader{BufferSize: 4096, MaxWritebacks: 2}
			q := e.Init(pub)
			pr, pw := pipe(t)
			_ = pw // an empty pipe: reads from it block until the test ends
			wantFatal(t, fatalOf(func() { tt.do(e, q, pub, int(pr.Fd())) }), tt.want...)
		})
	}
}

func TestAllocationFailureIsReported(t *testing.T) {
	e := newEngine(t, Options{})
	// More than the address space can hold.
	_, err := mapRequest(1 << 62)
	if err == nil {
		t.Fatal("mapping 4 EiB succeeded")
	}
	wantFatal(t, err, "asio_get: cannot allocate a request with a buffer of", "Cannot allocate memory")
	_ = e
}
