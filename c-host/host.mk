# flb-host: make include file. The top-level Makefile does `include c-host/host.mk`.
FLB_HOST_DIR      := c-host
FLB_HOST_SRCS     := $(wildcard $(FLB_HOST_DIR)/src/*.c)
FLB_HOST_HDRS     := $(wildcard $(FLB_HOST_DIR)/src/*.h)
FLB_HOST          := target/flb-host/flb-host
FLB_HOST_ASAN     := target/flb-host/flb-host-asan
# flb_input_log_append for plugins under --abi 5.1; the host looks for it next to its binary
FLB_HOST_EXPORTS  := target/flb-host/libflbhost_exports.so
# flb_config_map_translate_dynamic (a stub) for plugins under --abi 5.1, beside the host too
FLB_HOST_CONFIGMAP := target/flb-host/libflbhost_configmap.so
FLB_HOST_CC       ?= $(CC)
FLB_HOST_CFLAGS   := -std=c11 -O2 -g -Wall -Wextra -Werror -pthread -rdynamic
FLB_HOST_LIBS     := -ldl -lm
FLB_HOST_ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -DFLB_HOST_NO_INTERPOSE
FLB_HOST_SHIM_FLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -shared -fPIC

$(FLB_HOST_EXPORTS): $(FLB_HOST_DIR)/shim/exports.c $(FLB_HOST_DIR)/host.mk
	@mkdir -p $(dir $@)
	$(FLB_HOST_CC) $(FLB_HOST_SHIM_FLAGS) -o $@ $(FLB_HOST_DIR)/shim/exports.c

$(FLB_HOST_CONFIGMAP): $(FLB_HOST_DIR)/shim/configmap.c $(FLB_HOST_DIR)/host.mk
	@mkdir -p $(dir $@)
	$(FLB_HOST_CC) $(FLB_HOST_SHIM_FLAGS) -o $@ $(FLB_HOST_DIR)/shim/configmap.c

$(FLB_HOST): $(FLB_HOST_SRCS) $(FLB_HOST_HDRS) $(FLB_HOST_DIR)/host.mk $(FLB_HOST_EXPORTS) $(FLB_HOST_CONFIGMAP)
	@mkdir -p $(dir $@)
	$(FLB_HOST_CC) $(FLB_HOST_CFLAGS) -o $@ $(FLB_HOST_SRCS) $(FLB_HOST_LIBS)

$(FLB_HOST_ASAN): $(FLB_HOST_SRCS) $(FLB_HOST_HDRS) $(FLB_HOST_DIR)/host.mk $(FLB_HOST_EXPORTS) $(FLB_HOST_CONFIGMAP)
	@mkdir -p $(dir $@)
	$(FLB_HOST_CC) $(FLB_HOST_CFLAGS) $(FLB_HOST_ASAN_FLAGS) -o $@ $(FLB_HOST_SRCS) $(FLB_HOST_LIBS)

.PHONY: flb-host flb-host-asan
flb-host: $(FLB_HOST)
flb-host-asan: $(FLB_HOST_ASAN)
