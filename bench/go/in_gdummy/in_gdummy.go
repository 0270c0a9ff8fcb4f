// in_gdummy: the published Go gdummy input (fluent-bit-go
// examples/in_gdummy/in_gdummy.go), rewritten against our own minimal glue
// (flbbench/flbgo/input) so that it builds offline. Per collect it does
// exactly what the published example does:
//
//	time.Now(), a map[string]string{"message": "dummy"} record,
//	[]interface{}{FLBTime, record} encoded with a *new* ugorji MsgpackHandle
//	(EventTime registered as ext 0), C.CBytes copy, one-second sleep.
//
// Build variants (Go build tags, see build.sh):
//
//	(none)   faithful: sleeps 1 s per collect, cleanup frees nothing (leak)
//	nosleep  same without the sleep, so the per-call cost is measurable
//	fixed    cleanup frees the buffer (C.free under a mutex, as in the
//	         fluent-bit-go README), to separate the leak from the cost
package main

/*
#include <stdlib.h>
*/
import "C"

import (
	"fmt"
	"os"
	"time"
	"unsafe"

	"flbbench/flbgo/input"
)

//export FLBPluginRegister
func FLBPluginRegister(def unsafe.Pointer) int {
	return input.FLBPluginRegister(def, "gdummy", "dummy GO!")
}

// FLBPluginInit is called once per instance.
//
//export FLBPluginInit
func FLBPluginInit(plugin unsafe.Pointer) int {
	// As the published example: read an optional parameter and show it
	// (on stderr here, so it never mixes with a host's stdout report).
	param := input.FLBPluginConfigKey(plugin, "param")
	fmt.Fprintf(os.Stderr, "[flb-go] plugin parameter = '%s'\n", param)
	return input.FLB_OK
}

//export FLBPluginInputCallback
func FLBPluginInputCallback(data *unsafe.Pointer, size *C.size_t) int {
	now := time.Now()
	flbTime := input.FLBTime{Time: now}
	message := map[string]string{"message": "dummy"}

	entry := []interface{}{flbTime, message}

	enc := input.NewEncoder()
	packed, err := enc.Encode(entry)
	if err != nil {
		fmt.Println("Can't convert to msgpack:", message, err)
		return input.FLB_ERROR
	}

	length := len(packed)
	*data = C.CBytes(packed)
	*size = C.size_t(length)
	// For emitting interval adjustment (0 in the nosleep build).
	if collectSleep > 0 {
		time.Sleep(collectSleep)
	}

	return input.FLB_OK
}

//export FLBPluginInputCleanupCallback
func FLBPluginInputCleanupCallback(data unsafe.Pointer) int {
	return cleanup(data)
}

//export FLBPluginExit
func FLBPluginExit() int {
	return input.FLB_OK
}

// FLBPluginUnregister is the host's last call: the exports stand in the order
// the host calls them.
//
//export FLBPluginUnregister
func FLBPluginUnregister(def unsafe.Pointer) {
	input.FLBPluginUnregister(def)
}

func main() {
}
