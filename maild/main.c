/* maild/main.c: yubin-maild — placeholder entry until the daemon lands; refuses to run. */
#include <stdio.h>

int
main(void)
{
	fprintf(stderr, "yubin-maild: not built yet\n");
	return 1;
}
