// out_gstdout: the published Go gstdout output (fluent-bit-go
// examples/out_gstdout/out_gstdout.go), rewritten against our own minimal
// glue (flbbench/flbgo/output) so that it builds offline. Per flush it does
// what the published example does: C.GoBytes copy of the chunk, a new ugorji
// MsgpackHandle and decoder, dec.Decode(&m) per record into interface{},
// then per record three fmt.Printf calls (one per key for a one-key record):
//
//	fmt.Printf("[%d] %s: [%s, {", count, C.GoString(tag), timestamp.String())
//	fmt.Printf("\"%s\": %v, ", k, v)   // for each key/value
//	fmt.Printf("}\n")
//
// os.Stdout is unbuffered in Go, so each Printf is one write(2).
// Like the example, strings decode as []byte (the handle has RawToString
// off), so values print as byte lists, e.g. "message": [100 117 109 109 121].
package main

import "C"

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"flbbench/flbgo/output"
)

// instances numbers the instances, for their context ids.
var instances int64

//export FLBPluginRegister
func FLBPluginRegister(def unsafe.Pointer) int {
	return output.FLBPluginRegister(def, "gstdout", "Stdout GO!")
}

// FLBPluginInit is called once per instance.
//
//export FLBPluginInit
func FLBPluginInit(plugin unsafe.Pointer) int {
	// As the published example: read an optional parameter and show it
	// (on stderr here, so stdout only carries records).
	param := output.FLBPluginConfigKey(plugin, "param")
	fmt.Fprintf(os.Stderr, "[flb-go] plugin parameter = '%s'\n", param)
	// Per-instance context, as fluent-bit-go's out_multiinstance example
	// does for FLBPluginFlushCtx.
	id := fmt.Sprintf("gstdout.%d", atomic.AddInt64(&instances, 1)-1)
	output.FLBPluginSetContext(plugin, id)
	return output.FLB_OK
}

func flush(data unsafe.Pointer, length int, tag *C.char) int {
	var count int
	var ret int
	var ts interface{}
	var record map[interface{}]interface{}

	// Create Fluent Bit decoder
	dec := output.NewDecoder(data, length)

	// Iterate Records
	count = 0
	for {
		// Extract Record
		ret, ts, record = output.GetRecord(dec)
		if ret != 0 {
			break
		}

		var timestamp time.Time
		switch t := ts.(type) {
		case output.FLBTime:
			timestamp = ts.(output.FLBTime).Time
		case uint64:
			timestamp = time.Unix(int64(t), 0)
		default:
			fmt.Println("time provided invalid, defaulting to now.")
			timestamp = time.Now()
		}

		// Print record keys and values
		fmt.Printf("[%d] %s: [%s, {", count, C.GoString(tag),
			timestamp.String())
		for k, v := range record {
			fmt.Printf("\"%s\": %v, ", k, v)
		}
		fmt.Printf("}\n")
		count++
	}

	// Return options:
	//
	// output.FLB_OK    = data have been processed.
	// output.FLB_ERROR = unrecoverable error, do not try this again.
	// output.FLB_RETRY = retry to flush later.
	return output.FLB_OK
}

//export FLBPluginFlush
func FLBPluginFlush(data unsafe.Pointer, length C.size_t, tag *C.char) int {
	return flush(data, int(length), tag)
}

// FLBPluginFlushCtx is what the host prefers when exported. Like fluent-bit-go's
// out_multiinstance example it looks its instance context up (one sync.Map
// load per flush; the example also logs it, we do not), then does what the
// published gstdout's FLBPluginFlush does.
//
//export FLBPluginFlushCtx
func FLBPluginFlushCtx(ctx, data unsafe.Pointer, length C.size_t, tag *C.char) int {
	if _, ok := output.FLBPluginGetContext(ctx).(string); !ok {
		return output.FLB_ERROR
	}
	return flush(data, int(length), tag)
}

//export FLBPluginExit
func FLBPluginExit() int {
	return output.FLB_OK
}

//export FLBPluginExitCtx
func FLBPluginExitCtx(ctx unsafe.Pointer) int {
	output.FLBPluginDeleteContext(ctx)
	return output.FLB_OK
}

// FLBPluginUnregister is the host's last call: the exports stand in the order
// the host calls them.
//
//export FLBPluginUnregister
func FLBPluginUnregister(def unsafe.Pointer) {
	output.FLBPluginUnregister(def)
}

func main() {
}
