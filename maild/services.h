/* maild/services.h: the services main.c starts besides SMTP; the POP3 helper's files define them.
 *
 * pop3_start     maild/pop3*.c      POP3 listeners (pop3_listen STLS, pop3s_listen implicit TLS)
 * jobs_start     maild/jobs*.c      the jobs runner (purge_mail, delete_account, mail_copy)
 * retention_start maild/retention*.c the retention sweep (SPEC §8)
 *
 * Each is called once from main.c after the database pool, TLS and the config cache are up,
 * must start its own threads and return at once: 0 when started (or nothing to start, e.g.
 * a listener key left empty), -1 when it could not start (main then exits non-zero).
 * maild/services.c holds weak no-op definitions that the real ones override. */
#ifndef YUBIN_MAILD_SERVICES_H
#define YUBIN_MAILD_SERVICES_H

#include "core/config.h"

int pop3_start(const struct config *cfg);
int jobs_start(const struct config *cfg);
int retention_start(const struct config *cfg);

#endif
