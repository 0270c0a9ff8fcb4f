//go:build fixed

package main

/*
#include <stdlib.h>
*/
import "C"

import (
	"sync"
	"unsafe"

	"flbbench/flbgo/input"
)

var barrier sync.Mutex

// cleanup frees the collected buffer, as the fluent-bit-go README's version
// of the example does (C.free under a mutex).
func cleanup(data unsafe.Pointer) int {
	barrier.Lock()
	C.free(data)
	barrier.Unlock()
	return input.FLB_OK
}
