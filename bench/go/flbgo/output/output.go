// Package output is a minimal, self-written stand-in for fluent-bit-go's
// "output" package (github.com/fluent/fluent-bit-go/output): what a Go output
// plugin calls to talk to Fluent Bit's proxy ABI. The ABI code itself is
// flbgo/proxy's (shared with flbgo/input, structs from include/flb_plugin.h);
// this package gives it fluent-bit-go's output names, doing what
// fluent-bit-go does call for call.
package output

import (
	"unsafe"

	"flbbench/flbgo/proxy"
)

// Return codes, from flb_plugin.h.
const (
	FLB_ERROR = proxy.FLB_ERROR
	FLB_OK    = proxy.FLB_OK
	FLB_RETRY = proxy.FLB_RETRY
)

// The calls, in the order a plugin makes them (FLBPluginGetContext, once per
// flush, is below).
var (
	// FLBPluginRegister(def, name, desc) fills the definition as an output.
	FLBPluginRegister = proxy.Output.Register
	// FLBPluginConfigKey(plugin, key) returns the instance's value for key
	// ("" when unset).
	FLBPluginConfigKey = proxy.Output.ConfigKey
	// FLBPluginSetContext(plugin, ctx) stores ctx for this instance, as
	// fluent-bit-go does: a unique 1-byte C allocation, written to the
	// instance's remote_context, keys it in a sync.Map.
	FLBPluginSetContext = proxy.Output.SetContext
	// FLBPluginDeleteContext(proxyCtx) forgets an instance's context and
	// frees its key (fluent-bit-go has no such call and leaks the byte).
	FLBPluginDeleteContext = proxy.DeleteContext
	// FLBPluginUnregister(def) frees what FLBPluginRegister allocated.
	FLBPluginUnregister = proxy.Unregister
)

// FLBPluginGetContext returns what FLBPluginSetContext stored for proxyCtx.
// A function, not a variable as above, because it runs once per flush: a
// direct call that inlines, as fluent-bit-go's does.
func FLBPluginGetContext(proxyCtx unsafe.Pointer) interface{} {
	return proxy.GetContext(proxyCtx)
}
