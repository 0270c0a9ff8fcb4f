/* Linked into the ThreadSanitizer build of flb-host only (make sanitize). Rust's LLVM instruments
 * memory intrinsics as __tsan_memcpy/__tsan_memmove/__tsan_memset, which GCC 12's libtsan (the
 * runtime this host links) does not define; forwarding them to libc's functions, which libtsan
 * intercepts, gives TSan the same view. */
#include <string.h>

void *__tsan_memcpy(void *dst, const void *src, size_t n) { return memcpy(dst, src, n); }
void *__tsan_memmove(void *dst, const void *src, size_t n) { return memmove(dst, src, n); }
void *__tsan_memset(void *dst, int c, size_t n) { return memset(dst, c, n); }
