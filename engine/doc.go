// Package engine is the asio engine: libucw's asynchronous I/O queues
// (ucw/asio.h) in pure Go, working on memory laid out exactly as the C API
// lays it out, so that the cgo binding only has to convert pointers.
//
// A Queue executes its requests one at a time, in the order of their
// submits, with read(2) and write(2) at the descriptor's current position.
// Different queues are independent: each one is drained by its own task on
// an Executor, so they run in parallel and a blocked request stalls only its
// own queue.
//
// The caller's thread never waits for a hand-off it can avoid: when it has
// to wait for a request that no worker has started yet, it executes the
// request itself. Workers exist so that read-ahead and write-back progress
// while the caller does something else.
//
// Bookkeeping (the public counters, the idle list, the list of finished
// requests not yet returned) is done only inside the calls, in the caller's
// thread, so the caller may read the counters without locks. Mistakes of the
// caller are reported through Options.Fatal, which must not return.
package engine
