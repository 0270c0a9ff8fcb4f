/* Not a proxy plugin: no FLBPluginRegister. */
int FLBPluginInit(void *plugin) { (void) plugin; return 1; }
