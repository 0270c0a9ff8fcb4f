/* Output "tevtype": Register writes def->event_type (and config_map), fields a 1.9..4.1 host's
 * 5-field def does not have: ASan must catch it under --abi 1.9. */
#include "tp_common.h"
#define P "tevtype"
int FLBPluginRegister(struct tp_def *def)
{
    def->type = 2;
    def->proxy = 11;
    def->name = "tevtype";
    def->description = "writes event_type";
    def->event_type = 1;
    def->config_map = NULL;
    return 0;
}
int FLBPluginInit(void *plugin) { (void) plugin; return 1; }
int FLBPluginFlush(const void *d, size_t n, const char *tag) { (void) d; (void) n; (void) tag; return 1; }
int FLBPluginExit(void) { return 1; }
