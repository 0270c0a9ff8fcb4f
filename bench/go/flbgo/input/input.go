// Package input is a minimal, self-written stand-in for fluent-bit-go's
// "input" package (github.com/fluent/fluent-bit-go/input): what a Go input
// plugin calls to talk to Fluent Bit's proxy ABI. The ABI code itself is
// flbgo/proxy's (shared with flbgo/output, structs from include/flb_plugin.h);
// this package gives it fluent-bit-go's input names. It does what
// fluent-bit-go does, call for call, so the Go baseline costs what a
// published Go plugin costs.
package input

import "flbbench/flbgo/proxy"

// Return codes, from flb_plugin.h (FLB_RETRY is for flushes only: outputs
// have it).
const (
	FLB_ERROR = proxy.FLB_ERROR
	FLB_OK    = proxy.FLB_OK
)

// The calls, in the order a plugin makes them.
var (
	// FLBPluginRegister(def, name, desc) fills the definition as an input.
	FLBPluginRegister = proxy.Input.Register
	// FLBPluginConfigKey(plugin, key) returns the instance's value for key
	// ("" when unset).
	FLBPluginConfigKey = proxy.Input.ConfigKey
	// FLBPluginUnregister(def) frees what FLBPluginRegister allocated.
	FLBPluginUnregister = proxy.Unregister
)
