#include "mmsim.h"
