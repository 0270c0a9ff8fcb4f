#include "flb_host.h"
int check_main(int argc, char **argv) { (void) argc; (void) argv; return 1; }
