#include "mmsim.h"
static int run_sweep(int argc, char **argv) { (void)argc; (void)argv; return 0; }
const struct mmsim_cmd mmsim_cmd_sweep = { .name = "sweep", .summary = "x", .help = "x\n", .run = run_sweep };
