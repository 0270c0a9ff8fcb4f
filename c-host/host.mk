# flb-host: make include file. The top-level Makefile does `include c-host/host.mk`. What is built
# from which files with which flags is c-host/sources.mk, shared with build.rs (cargo).
FLB_HOST_DIR      := c-host
include $(FLB_HOST_DIR)/sources.mk
FLB_HOST_SRCS     := $(addprefix $(FLB_HOST_DIR)/src/,$(FLB_HOST_SRC_NAMES))
FLB_HOST_HDRS     := $(wildcard $(FLB_HOST_DIR)/src/*.h)
FLB_HOST_OUT      := target/flb-host
FLB_HOST          := $(FLB_HOST_OUT)/flb-host
FLB_HOST_ASAN     := $(FLB_HOST_OUT)/flb-host-asan
# the shim libraries, beside the host: flb_input_log_append (libflbhost_exports.so) and the
# flb_config_map_translate_dynamic stub (libflbhost_configmap.so) for plugins under --abi 5.1
FLB_HOST_SHIMS    := $(foreach s,$(FLB_HOST_SHIM_NAMES),$(FLB_HOST_OUT)/libflbhost_$(s).so)
FLB_HOST_EXPORTS  := $(FLB_HOST_OUT)/libflbhost_exports.so
FLB_HOST_CONFIGMAP := $(FLB_HOST_OUT)/libflbhost_configmap.so
FLB_HOST_CC       ?= $(CC)
FLB_HOST_BUILD_DEFS := $(FLB_HOST_DIR)/host.mk $(FLB_HOST_DIR)/sources.mk

$(FLB_HOST_OUT)/libflbhost_%.so: $(FLB_HOST_DIR)/shim/%.c $(FLB_HOST_BUILD_DEFS)
	@mkdir -p $(dir $@)
	$(FLB_HOST_CC) $(FLB_HOST_SHIM_FLAGS) -o $@ $<

$(FLB_HOST): $(FLB_HOST_SRCS) $(FLB_HOST_HDRS) $(FLB_HOST_BUILD_DEFS) $(FLB_HOST_SHIMS)
	@mkdir -p $(dir $@)
	$(FLB_HOST_CC) $(FLB_HOST_CFLAGS) -o $@ $(FLB_HOST_SRCS) $(FLB_HOST_LIBS)

$(FLB_HOST_ASAN): $(FLB_HOST_SRCS) $(FLB_HOST_HDRS) $(FLB_HOST_BUILD_DEFS) $(FLB_HOST_SHIMS)
	@mkdir -p $(dir $@)
	$(FLB_HOST_CC) $(FLB_HOST_CFLAGS) $(FLB_HOST_ASAN_FLAGS) -o $@ $(FLB_HOST_SRCS) $(FLB_HOST_LIBS)

# the C test plugins, as build.rs builds them for the tests
FLB_HOST_TEST_PLUGINS := $(patsubst $(FLB_HOST_DIR)/tests/plugins/%.c,$(FLB_HOST_OUT)/test-plugins/%.so,\
	$(wildcard $(FLB_HOST_DIR)/tests/plugins/*.c))
$(FLB_HOST_OUT)/test-plugins/%.so: $(FLB_HOST_DIR)/tests/plugins/%.c $(wildcard $(FLB_HOST_DIR)/tests/plugins/*.h) $(FLB_HOST_BUILD_DEFS)
	@mkdir -p $(dir $@)
	$(FLB_HOST_CC) $(FLB_HOST_TEST_PLUGIN_FLAGS) -o $@ $< $(FLB_HOST_TEST_PLUGIN_LIBS)

.PHONY: flb-host flb-host-asan flb-host-test-plugins
flb-host: $(FLB_HOST)
flb-host-asan: $(FLB_HOST_ASAN)
flb-host-test-plugins: $(FLB_HOST_TEST_PLUGINS)

# `make -s -f c-host/host.mk flb-host-print-VAR` prints a variable, so scripts (tsan/run.sh) take
# the sources and flags from here rather than listing them again
flb-host-print-%:
	@echo '$($*)'
