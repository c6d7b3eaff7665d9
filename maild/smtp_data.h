/* maild/smtp_data.h: reading the DATA section into a struct msg (headers in memory, body spooled). */
#ifndef YUBIN_MAILD_SMTP_DATA_H
#define YUBIN_MAILD_SMTP_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "maild/msg.h"
#include "maild/net.h"

enum data_result {
	DATA_OK,
	DATA_TOO_BIG,        /* read to the end, nothing kept: 552 5.3.4 */
	DATA_LINE_TOO_LONG,  /* read to the end, nothing kept: 500 5.5.2 */
	DATA_LOCAL_ERROR,    /* spool fault, read to the end: 451 4.3.0 */
	DATA_LOST,           /* connection closed or timed out: no reply possible */
};

/* Read up to the lone "." line, dot-unstuffed, CRLF stored as LF. The header section goes to
 * m->hdr (up to MSG_HDR_MAX), the rest to a new file in spool_dir. `limit` is the message
 * size limit in bytes as transmitted. */
enum data_result smtp_read_data(struct conn *c, const char *spool_dir, int64_t limit, struct msg *m);

#endif
