//go:build !fixed

package main

import (
	"unsafe"

	"flbbench/flbgo/input"
)

// cleanup is the published example's cleanup callback: it frees NOTHING, so
// every buffer made by C.CBytes in the collect callback leaks (the host does
// not free it either, because a cleanup callback is exported). Kept on
// purpose: this is the behaviour the benchmark compares against.
func cleanup(data unsafe.Pointer) int {
	return input.FLB_OK
}
