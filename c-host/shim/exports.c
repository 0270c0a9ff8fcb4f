/* libflbhost_exports.so: flb_input_log_append and flb_input_log_append_records under Fluent Bit's
 * names, for plugins that resolve them with dlsym(RTLD_DEFAULT, ...). A separate library because
 * anything defined in the -rdynamic host executable would be visible under every --abi profile;
 * flb-host dlopens this one (RTLD_GLOBAL) only when it emulates 5.1 without --no-direct-append.
 * The host's implementation resolves from the executable at load time. */
#include <stddef.h>

struct flb_input_instance;

int flb_host_input_log_append(void *ins, const char *tag, size_t tag_len, const void *buf,
                              size_t buf_size);
int flb_host_input_log_append_records(void *ins, size_t records, const char *tag, size_t tag_len,
                                      const void *buf, size_t buf_size);

/* Fluent Bit 2.1.0 .. 5.1.1: 0 on success, -1 on failure */
int flb_input_log_append(struct flb_input_instance *ins, const char *tag, size_t tag_len,
                         const void *buf, size_t buf_size)
{
    return flb_host_input_log_append(ins, tag, tag_len, buf, buf_size);
}

/* Fluent Bit 2.0.0 .. 5.1.1: flb_input_log_append with the number of log records given, so that
 * Fluent Bit need not decode the buffer to count them (the native tail calls it) */
int flb_input_log_append_records(struct flb_input_instance *ins, size_t records, const char *tag,
                                 size_t tag_len, const void *buf, size_t buf_size)
{
    return flb_host_input_log_append_records(ins, records, tag, tag_len, buf, buf_size);
}
