/* flb-host: the shim libraries beside the host binary (libflbhost_NAME.so, from c-host/shim/).
 * A Fluent Bit function that only some profiles offer cannot be defined in the executable: it
 * is linked with -rdynamic, so the name would resolve under every profile. A shim defines it
 * instead, and the host dlopens the shim RTLD_GLOBAL, before any plugin, exactly when a plugin's
 * dlsym(RTLD_DEFAULT, ...) must find it (direct_append.c, config_map.c). */
#include "flb_host.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

/* the path of `file` in the directory of /proc/self/exe; 0 or -1 */
static int shim_path(const char *file, char *out, size_t outlen)
{
    char exe[PATH_MAX];
    ssize_t n;
    char *slash;

    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        host_error("cannot read /proc/self/exe to find %s: %s", file, strerror(errno));
        return -1;
    }
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (slash != NULL) {
        *slash = '\0';
    }
    snprintf(out, outlen, "%s/%s", slash != NULL ? exe : ".", file);
    return 0;
}

void *shim_open(const char *file, const char *symbol, const char *without)
{
    char path[PATH_MAX + 64];
    void *dl;

    if (shim_path(file, path, sizeof path) != 0) {
        return NULL;
    }
    dlerror();
    dl = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (dl == NULL) {
        const char *e = dlerror();
        host_error("cannot load %s, which offers %s to plugins under --abi 5.1: %s (it is built "
                   "next to the flb-host binary; rebuild the host, or run with %s)",
                   path, symbol, e ? e : "unknown dlopen error", without);
        return NULL;
    }
    if (dlsym(RTLD_DEFAULT, symbol) == NULL) {
        host_error("%s is loaded but %s does not resolve globally", path, symbol);
        dlclose(dl);
        return NULL;
    }
    host_log(FLB_LOG_DEBUG, "%s offered to plugins through %s", symbol, path);
    return dl;
}
