/* The same checks, compiled as C++98 (see tests/c/CMakeLists.txt). */
#include "t_header_strict.c"
