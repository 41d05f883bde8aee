// Command crossing is a c-shared library for crossing.c: the cost of one
// call from a C thread into an exported Go function that does nothing, as
// every asio call pays it four times per request.
package main

import "C"

import "unsafe"

//export cross_nop
func cross_nop() {}

// cross_ptr returns its argument: a pointer result, which cgo checks
// (GODEBUG=cgocheck) as it does for goasio_get and goasio_wait.
//
//export cross_ptr
func cross_ptr(p unsafe.Pointer) unsafe.Pointer { return p }

func main() {}
