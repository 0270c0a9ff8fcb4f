/*
 * The C floor plugins use the ABI header our SDK generates (include/flb_plugin.h, from the same
 * Rust definitions that are layout-tested against the C declarations; see docs/ABI.md), as a C plugin author would.
 */
#ifndef CFLOOR_FLB_PROXY_ABI_H
#define CFLOOR_FLB_PROXY_ABI_H

#include "flb_plugin.h"

#define CFLOOR_EXPORT __attribute__((visibility("default")))

#endif
