/* maild/services.c: weak no-op stand-ins for the services of maild/services.h until their real files land. */
#include "maild/services.h"

__attribute__((weak)) int
pop3_start(const struct config *cfg)
{
	(void)cfg;
	return 0;
}

__attribute__((weak)) int
jobs_start(const struct config *cfg)
{
	(void)cfg;
	return 0;
}

__attribute__((weak)) int
retention_start(const struct config *cfg)
{
	(void)cfg;
	return 0;
}
