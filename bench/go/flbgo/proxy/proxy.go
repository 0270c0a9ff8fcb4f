// Package proxy is the one place where the Go baselines touch Fluent Bit's
// proxy ABI. The C structs come from the header our SDK generates,
// include/flb_plugin.h, so they cannot drift from the ABI the Rust plugins are
// built against; and the register/config/context code that fluent-bit-go
// writes twice (in its "input" and its "output" package) is written once
// here, for both plugin kinds. flbgo/input and flbgo/output hand it out under
// fluent-bit-go's names; the plugins never import this package themselves.
package proxy

/*
#cgo CFLAGS: -I${SRCDIR}/../../../../include
#include <stdlib.h>
#include "flb_plugin.h"

// An instance's property, as fluent-bit-go's {input,output}_get_property do:
// NULL (so "") when anything on the way is missing. Inputs and outputs differ
// only in the getter they use and in the name of their instance field.
static const char *flbgo_get_property(int type, const char *key, void *plugin)
{
    flb_get_property_fn get;
    void *ins;

    if (plugin == NULL) {
        return NULL;
    }
    if (type == FLB_PROXY_INPUT_PLUGIN) {
        struct flbgo_input_plugin *p = plugin;
        if (p->api == NULL) {
            return NULL;
        }
        get = p->api->input_get_property;
        ins = p->i_ins;
    } else {
        struct flbgo_output_plugin *p = plugin;
        if (p->api == NULL) {
            return NULL;
        }
        get = p->api->output_get_property;
        ins = p->o_ins;
    }
    return get == NULL ? NULL : get(key, ins);
}
*/
import "C"

import (
	"sync"
	"unsafe"
)

// Return codes and proxy constants, from flb_plugin.h.
const (
	FLB_ERROR = C.FLB_ERROR
	FLB_OK    = C.FLB_OK
	FLB_RETRY = C.FLB_RETRY

	FLB_PROXY_INPUT_PLUGIN  = C.FLB_PROXY_INPUT_PLUGIN
	FLB_PROXY_OUTPUT_PLUGIN = C.FLB_PROXY_OUTPUT_PLUGIN
	FLB_PROXY_GOLANG        = C.FLB_PROXY_GOLANG
)

// FLBPluginProxyDef is the host's registration struct.
type FLBPluginProxyDef C.struct_flb_plugin_proxy_def

// FLBInPlugin is what FLBPluginInit receives for an input.
type FLBInPlugin C.struct_flbgo_input_plugin

// FLBOutPlugin is what FLBPluginInit receives for an output.
type FLBOutPlugin C.struct_flbgo_output_plugin

// Kind is a plugin kind, the def->type the plugin registers with. Its methods
// are fluent-bit-go's per-package functions.
type Kind int

const (
	Input  Kind = FLB_PROXY_INPUT_PLUGIN
	Output Kind = FLB_PROXY_OUTPUT_PLUGIN
)

// Register fills the definition like fluent-bit-go does: the name and
// description are C.CString copies that the host keeps until Unregister;
// event_type (Fluent Bit 5.0+) is written as 0, config_map is not touched.
func (k Kind) Register(def unsafe.Pointer, name, desc string) int {
	p := (*FLBPluginProxyDef)(def)
	p._type = C.int(k)
	p.proxy = FLB_PROXY_GOLANG
	p.flags = 0
	p.name = C.CString(name)
	p.description = C.CString(desc)
	p.event_type = 0
	return 0
}

// Unregister frees what Register allocated.
func Unregister(def unsafe.Pointer) {
	p := (*FLBPluginProxyDef)(def)
	C.free(unsafe.Pointer(p.name))
	C.free(unsafe.Pointer(p.description))
	p.name = nil
	p.description = nil
}

// ConfigKey returns the instance's value for key ("" when unset).
func (k Kind) ConfigKey(plugin unsafe.Pointer, key string) string {
	_key := C.CString(key)
	value := C.GoString(C.flbgo_get_property(C.int(k), _key, plugin))
	C.free(unsafe.Pointer(_key))
	return value
}

var contexts sync.Map

// SetContext stores ctx for this instance, as fluent-bit-go does: the key is
// a unique 1-byte C allocation written to the instance's remote_context,
// which the host passes back to the Ctx callbacks.
func (k Kind) SetContext(plugin unsafe.Pointer, ctx interface{}) {
	i := unsafe.Pointer(C.CString(""))
	contexts.Store(uintptr(i), ctx)
	if k == Input {
		(*FLBInPlugin)(plugin).context.remote_context = i
	} else {
		(*FLBOutPlugin)(plugin).context.remote_context = i
	}
}

// GetContext returns what SetContext stored for proxyCtx.
func GetContext(proxyCtx unsafe.Pointer) interface{} {
	v, _ := contexts.Load(uintptr(proxyCtx))
	return v
}

// DeleteContext forgets an instance's context and frees its key
// (fluent-bit-go has no such call and leaks one byte per instance).
func DeleteContext(proxyCtx unsafe.Pointer) {
	if proxyCtx == nil {
		return
	}
	contexts.Delete(uintptr(proxyCtx))
	C.free(proxyCtx)
}
