/*
 *	ucw-asio benchmarks: the smallest program, for the start-up cost of a
 *	library loaded (LD_PRELOAD) into a process that never calls it.
 *
 *	Without arguments it returns 0 at once. With one argument NAME it exits
 *	0 if a loaded object's path contains NAME and 3 otherwise (the driver
 *	checks with it that the preload took).
 */

#define _GNU_SOURCE
#include <link.h>
#include <stdlib.h>
#include <string.h>

static int found(struct dl_phdr_info *info, size_t size, void *name)
{
	(void)size;
	return info->dlpi_name && strstr(info->dlpi_name, name) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 0;
	return dl_iterate_phdr(found, argv[1]) ? 0 : 3;
}
