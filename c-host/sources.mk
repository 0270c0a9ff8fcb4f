# flb-host's one build definition: the sources and compiler flags of the host, its shim libraries
# and the C test plugins. host.mk includes it (`make host`), build.rs reads it (`cargo test -p
# flb-host`) and tsan/run.sh takes it through host.mk, so every build compiles the same files with
# the same flags. Adding a source file to the host is one line in FLB_HOST_SRC_NAMES (build.rs
# refuses a src/*.c that is not listed).
#
# build.rs reads only this subset of make: `NAME := words`, lines continued with a trailing `\`,
# `#` comments. No other make syntax (no $(...) references, no conditionals) in this file.

# c-host/src/
FLB_HOST_SRC_NAMES := \
	api.c \
	bench.c \
	check.c \
	config.c \
	config_map.c \
	coro.c \
	direct_append.c \
	hot_reload.c \
	input_thread.c \
	lifecycle.c \
	loader.c \
	log.c \
	main.c \
	malloc_count.c \
	msgpack_check.c \
	output_worker.c \
	route.c \
	run.c \
	sample.c \
	shim.c \
	sigterm_at.c \
	util.c

FLB_HOST_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -pthread -rdynamic
FLB_HOST_LIBS := -ldl -lm
# added to FLB_HOST_CFLAGS for flb-host-asan (malloc counting is compiled out: ASan owns malloc)
FLB_HOST_ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -DFLB_HOST_NO_INTERPOSE
# added to FLB_HOST_CFLAGS for the ThreadSanitizer host of tsan/run.sh (the later -O1 wins)
FLB_HOST_TSAN_FLAGS := -O1 -fsanitize=thread -DFLB_HOST_NO_INTERPOSE

# c-host/shim/NAME.c -> libflbhost_NAME.so, beside each host binary (it finds them there)
FLB_HOST_SHIM_NAMES := exports configmap
FLB_HOST_SHIM_FLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -shared -fPIC

# c-host/tests/plugins/*.c -> one .so each (build.rs for the tests; make flb-host-test-plugins)
FLB_HOST_TEST_PLUGIN_FLAGS := -O1 -g -shared -fPIC -Wall -Werror
FLB_HOST_TEST_PLUGIN_LIBS := -lpthread -ldl
