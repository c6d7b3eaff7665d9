/* tests/unit/test_net.c: maild/net.c over loopback: line reads, long lines, pipelining, STARTTLS, implicit TLS, the cap. */
#include "maild/net.h"
#include "maild/sock.h"
#include "tests/unit/check.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/config.h"

/* The server side: echo "len:line" per line; "PENDING" answers whether more is buffered;
 * "TLS" upgrades; "QUIT" ends. */
static void
echo(struct conn *c, void *arg)
{
	char line[32];
	ssize_t n;

	(void)arg;
	conn_printf(c, "hello %s\r\n", conn_is_tls(c) ? "tls" : "plain");
	while ((n = conn_getline(c, line, sizeof(line), 5)) != -1) {
		if (n >= 0 && strcmp(line, "QUIT") == 0)
			break;
		if (n >= 0 && strcmp(line, "PENDING") == 0) {
			conn_printf(c, "pending=%d\r\n", conn_pending(c) ? 1 : 0);
			continue;
		}
		if (n >= 0 && strcmp(line, "TLS") == 0) {
			conn_printf(c, "go\r\n");
			if (conn_starttls(c) != 0)
				break;
			continue;
		}
		conn_printf(c, "%zd:%s\r\n", n, line);
	}
}

static int
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
		abort();
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static int
dial(int port)
{
	char p[16];
	int i, fd = -1;

	snprintf(p, sizeof(p), "%d", port);
	for (i = 0; i < 50 && fd < 0; i++) {
		fd = sock_connect("127.0.0.1", p, 2, 5);
		if (fd < 0)
			usleep(20000);
	}
	return fd;
}

static const char *
rd(int fd)
{
	static char line[256];

	return sock_read_line(fd, line, sizeof(line)) >= 0 ? line : "(eof)";
}

static const char *
ssl_rd(SSL *s)
{
	static char line[256];
	size_t n = 0;
	char ch;

	while (n + 1 < sizeof(line) && SSL_read(s, &ch, 1) == 1 && ch != '\n')
		line[n++] = ch;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	return line;
}

int
main(void)
{
	struct config cfg;
	char addr[64], dir[] = "/tmp/yubin-net-XXXXXX", cmd[1024];
	int port, tport, fd;
	SSL_CTX *cctx;
	SSL *s;

	config_defaults(&cfg);
	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(cmd, sizeof(cmd),
	         "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
	         "-keyout %s/k.pem -out %s/c.pem >/dev/null 2>&1", dir, dir);
	CHECK(system(cmd) == 0, "openssl req");
	snprintf(cfg.tls_cert, sizeof(cfg.tls_cert), "%s/c.pem", dir);
	snprintf(cfg.tls_key, sizeof(cfg.tls_key), "%s/k.pem", dir);
	cfg.max_connections = 4;
	CHECK(net_tls_init(&cfg) == 0, "tls init");
	CHECK(net_tls_available(), "tls available");

	port = free_port();
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	CHECK(net_listen("test", addr, false, echo, NULL) == 0, "listen");
	tport = free_port();
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", tport);
	CHECK(net_listen("tests", addr, true, echo, NULL) == 0, "listen tls");
	CHECK(net_listen("bad", "nonsense", false, echo, NULL) == -1, "bad address refused");

	fd = dial(port);
	CHECK(fd >= 0, "connect");
	CHECK_STR(rd(fd), "hello plain");
	sock_write_all(fd, "abc\r\n", 5);
	CHECK_STR(rd(fd), "3:abc");
	sock_write_all(fd, "no-cr\n", 6);
	CHECK_STR(rd(fd), "5:no-cr");
	/* 40 bytes into a 32-byte buffer: -2, and the next line is intact. */
	sock_write_all(fd, "0123456789012345678901234567890123456789\r\nnext\r\n", 48);
	CHECK_STR(rd(fd), "-2:");
	CHECK_STR(rd(fd), "4:next");
	/* Pipelined: the second line is buffered when the first is read. */
	sock_write_all(fd, "PENDING\r\nx\r\n", 12);
	CHECK_STR(rd(fd), "pending=1");
	CHECK_STR(rd(fd), "1:x");
	sock_write_all(fd, "PENDING\r\n", 9);
	CHECK_STR(rd(fd), "pending=0");

	/* STARTTLS: plaintext sent after the command is discarded (RFC 3207 §4). */
	cctx = SSL_CTX_new(TLS_client_method());
	sock_write_all(fd, "TLS\r\n", 5);
	CHECK_STR(rd(fd), "go");
	s = SSL_new(cctx);
	SSL_set_fd(s, fd);
	CHECK(SSL_connect(s) == 1, "client handshake");
	SSL_write(s, "secure\r\n", 8);
	CHECK_STR(ssl_rd(s), "6:secure");
	SSL_write(s, "QUIT\r\n", 6);
	SSL_free(s);
	close(fd);

	/* Implicit TLS: the greeting comes only after the handshake. */
	fd = dial(tport);
	CHECK(fd >= 0, "connect tls");
	s = SSL_new(cctx);
	SSL_set_fd(s, fd);
	CHECK(SSL_connect(s) == 1, "implicit handshake");
	CHECK_STR(ssl_rd(s), "hello tls");
	SSL_write(s, "QUIT\r\n", 6);
	SSL_free(s);
	close(fd);
	SSL_CTX_free(cctx);

	/* The cap: with 4 connections open, a 5th is not served until one closes. */
	{
		int fds[5], i;

		for (i = 0; i < 4; i++) {
			fds[i] = dial(port);
			CHECK_STR(rd(fds[i]), "hello plain");
		}
		fds[4] = dial(port);
		{
			struct timeval tv = { .tv_sec = 0, .tv_usec = 300000 };
			char ch;

			setsockopt(fds[4], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			CHECK(recv(fds[4], &ch, 1, 0) < 0, "fifth connection not greeted yet");
			tv.tv_sec = 5;
			setsockopt(fds[4], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		}
		sock_write_all(fds[0], "QUIT\r\n", 6);
		close(fds[0]);
		CHECK_STR(rd(fds[4]), "hello plain");
		for (i = 1; i < 5; i++)
			close(fds[i]);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0, "cleanup");
	return check_done();
}
