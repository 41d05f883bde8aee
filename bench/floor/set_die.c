/*
 *	The floor's goasio_set_die, for a public library that hands the engine its
 *	way of dying (once the engine exports goasio_set_die, the library refuses an
 *	engine without it). The floor dies its own way (floor.go), so it keeps
 *	nothing.
 *
 *	Written in C, without ../../capi/goasio.h, so that it builds whether that
 *	header declares goasio_set_die or not; the type is the header's
 *	goasio_die_fn *, a function taking the line to print.
 */

void goasio_set_die(void (*die)(const char *line));

void goasio_set_die(void (*die)(const char *line))
{
	(void)die;
}
