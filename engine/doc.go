// Package engine is the asio engine: libucw's asynchronous I/O queues
// (ucw/asio.h) in pure Go, working on memory laid out exactly as the C API
// lays it out, so that the cgo binding only has to convert pointers.
//
// A Queue starts its requests in the order of their submits, with read(2)
// and write(2) at the descriptor's current position, and returns them in
// that order. It lets a request run beside earlier ones only where no
// caller can tell the difference: on another regular file, or as a
// write-back to an O_DIRECT file done with pwrite at the offset sequential
// writes would have used (schedule.go). Different queues are independent:
// each is drained by its own tasks on an Executor, so they run in parallel
// and a blocked request stalls only its own queue.
//
// The caller's thread avoids hand-offs: a read whose data is at hand is done
// in Submit (a no-wait read); a request on an O_DIRECT file goes to the
// kernel from Submit through the queue's io_uring, and the caller reaps it
// (ringq.go: only the caller's thread touches the ring, which never
// interrupts the program's own system calls); a caller that has to wait for a request no task has started
// yet executes it itself. Tasks exist so that read-ahead and write-back
// progress while the caller does something else.
//
// Bookkeeping (the public counters, the idle list, the list of finished
// requests not yet returned) is done only inside the calls, in the caller's
// thread, so the caller may read the counters without locks. Mistakes of the
// caller are reported through Options.Fatal, which must not return.
package engine
