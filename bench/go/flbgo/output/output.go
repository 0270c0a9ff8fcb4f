// Package output is a minimal, self-written stand-in for fluent-bit-go's
// "output" package (github.com/fluent/fluent-bit-go/output): the cgo glue a
// Go output plugin needs for Fluent Bit's proxy ABI, declared from
// /work/shared/ABI.md, doing what fluent-bit-go does call for call.
package output

/*
#include <stdlib.h>

#define FLB_ERROR 0
#define FLB_OK    1
#define FLB_RETRY 2

#define FLB_PROXY_OUTPUT_PLUGIN 2
#define FLB_PROXY_GOLANG        11

struct flb_plugin_proxy_def {
    int type;
    int proxy;
    int flags;
    char *name;
    char *description;
    int event_type;          // since Fluent Bit 5.0.0; 0 = logs
    void *config_map;        // since 5.1.1; left NULL
};

struct flb_api {
    const char *(*output_get_property)(const char *key, void *o_ins);
    const char *(*input_get_property)(const char *key, void *i_ins);
    void *(*output_get_cmt_instance)(void *o_ins);
    void *(*input_get_cmt_instance)(void *i_ins);
    void (*log_print)(int level, const char *file, int line, const char *fmt, ...);
    int (*input_log_check)(void *i_ins, int level);
    int (*output_log_check)(void *o_ins, int level);
    const char *(*custom_get_property)(const char *key, void *c_ins);
    int (*custom_log_check)(void *c_ins, int level);
};

struct flb_plugin_proxy_context {
    void *remote_context;
    void *proxy;
};

struct flbgo_output_plugin {
    char *name;
    struct flb_api *api;
    void *o_ins;
    struct flb_plugin_proxy_context *context;
};

static const char *output_get_property(const char *key, void *plugin)
{
    struct flbgo_output_plugin *p = plugin;
    if (p == NULL || p->api == NULL || p->api->output_get_property == NULL) {
        return NULL;
    }
    return p->api->output_get_property(key, p->o_ins);
}
*/
import "C"
import (
	"sync"
	"unsafe"
)

// Return codes and proxy constants, as in Fluent Bit's flb_macros.h.
const (
	FLB_ERROR = C.FLB_ERROR
	FLB_OK    = C.FLB_OK
	FLB_RETRY = C.FLB_RETRY

	FLB_PROXY_OUTPUT_PLUGIN = C.FLB_PROXY_OUTPUT_PLUGIN
	FLB_PROXY_GOLANG        = C.FLB_PROXY_GOLANG
)

// FLBPluginProxyDef is the host's registration struct.
type FLBPluginProxyDef C.struct_flb_plugin_proxy_def

// FLBOutPlugin is what FLBPluginInit receives for an output.
type FLBOutPlugin C.struct_flbgo_output_plugin

// FLBPluginRegister fills the definition like fluent-bit-go does: the name and
// description are C.CString copies that the host keeps until Unregister.
func FLBPluginRegister(def unsafe.Pointer, name, desc string) int {
	p := (*FLBPluginProxyDef)(def)
	p._type = FLB_PROXY_OUTPUT_PLUGIN
	p.proxy = FLB_PROXY_GOLANG
	p.flags = 0
	p.name = C.CString(name)
	p.description = C.CString(desc)
	p.event_type = 0
	return 0
}

// FLBPluginUnregister frees what FLBPluginRegister allocated.
func FLBPluginUnregister(def unsafe.Pointer) {
	p := (*FLBPluginProxyDef)(def)
	C.free(unsafe.Pointer(p.name))
	C.free(unsafe.Pointer(p.description))
	p.name = nil
	p.description = nil
}

// FLBPluginConfigKey returns the instance's value for key ("" when unset).
func FLBPluginConfigKey(plugin unsafe.Pointer, key string) string {
	_key := C.CString(key)
	value := C.GoString(C.output_get_property(_key, plugin))
	C.free(unsafe.Pointer(_key))
	return value
}

var contexts sync.Map

// FLBPluginSetContext stores ctx for this instance, as fluent-bit-go does:
// the key is a unique 1-byte C allocation written to remote_context, which
// the host passes back to the Ctx callbacks.
func FLBPluginSetContext(plugin unsafe.Pointer, ctx interface{}) {
	i := unsafe.Pointer(C.CString(""))
	contexts.Store(uintptr(i), ctx)
	p := (*FLBOutPlugin)(plugin)
	p.context.remote_context = i
}

// FLBPluginGetContext returns what FLBPluginSetContext stored for proxyCtx.
func FLBPluginGetContext(proxyCtx unsafe.Pointer) interface{} {
	v, _ := contexts.Load(uintptr(proxyCtx))
	return v
}

// FLBPluginDeleteContext forgets an instance's context and frees its key
// (fluent-bit-go has no such call and leaks one byte per instance).
func FLBPluginDeleteContext(proxyCtx unsafe.Pointer) {
	if proxyCtx == nil {
		return
	}
	contexts.Delete(uintptr(proxyCtx))
	C.free(proxyCtx)
}
