/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpntpc: talk to a running dpntpd over its control socket, as chronyc or
 * ntpq talk to theirs. With a command on the command line it runs that
 * one command; without, it opens a prompt.
 *
 * Exit status: 0 when the command succeeded, 1 when dpntpd refused it,
 * 2 when dpntpd could not be reached.
 *
 * `dpntpc health` asks for the health verdict (`show health`) for
 * scripts such as a BGP health check: exit status 0 healthy, 1
 * unhealthy, 2 when it cannot ask (no daemon, a refused command).
 *
 * With --json the command goes with dpn_ctl_proto.h's JSON prefix and
 * the output is one JSON object; a refused command prints
 * {"error": "MESSAGE"} as well as the message on standard error.
 */

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dpn_ctl_proto.h"

static bool json;
/* `dpntpc health`: the exit status is the verdict. */
static bool health;

/* The verdict in a `show health` reply (text or JSON). */
static bool
reply_healthy(const char *out)
{
	return strncmp(out, json ? "{\"healthy\":true," : "healthy\n",
		       json ? 16 : 8) == 0;
}

/* @p s as a JSON string (the daemon's messages are ASCII). */
static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static int
run_command(const char *path, const char *cmd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[65536], *out = NULL, *last;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "dpntpc: socket path too long: %s\n", path);
		return 2;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "dpntpc: cannot connect to %s: %s (is dpntpd running?)\n",
			path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 2;
	}
	if ((json && send(fd, DPN_CTL_JSON_PREFIX,
			  strlen(DPN_CTL_JSON_PREFIX), MSG_NOSIGNAL) < 0) ||
	    send(fd, cmd, strlen(cmd), MSG_NOSIGNAL) < 0 ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "dpntpc: send: %s\n", strerror(errno));
		close(fd);
		return 2;
	}
	shutdown(fd, SHUT_WR);
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		if (len + (size_t)n + 1 > cap) {
			char *p;

			cap = (len + (size_t)n + 1) * 2;
			p = realloc(out, cap);
			if (p == NULL) {
				free(out);
				close(fd);
				fprintf(stderr, "dpntpc: out of memory\n");
				return 2;
			}
			out = p;
		}
		memcpy(out + len, buf, (size_t)n);
		len += (size_t)n;
	}
	close(fd);
	if (out == NULL || len == 0 || out[len - 1] != '\n') {
		fprintf(stderr, "dpntpc: incomplete reply from dpntpd\n");
		free(out);
		return 2;
	}
	out[len - 1] = '\0';
	/* The last line is the status. */
	last = strrchr(out, '\n');
	last = last == NULL ? out : last + 1;
	if (strcmp(last, DPN_CTL_STATUS_OK) == 0) {
		rc = health && !reply_healthy(out) ? 1 : 0;
	} else if (strncmp(last, DPN_CTL_STATUS_ERR,
			   strlen(DPN_CTL_STATUS_ERR)) == 0) {
		const char *msg = last + strlen(DPN_CTL_STATUS_ERR);

		fprintf(stderr, "dpntpc: %s\n", msg);
		if (json) {
			fputs("{\"error\": ", stdout);
			json_str(stdout, msg);
			fputs("}\n", stdout);
		}
		rc = health ? 2 : 1;
	} else {
		fprintf(stderr, "dpntpc: malformed reply from dpntpd\n");
		rc = 2;
	}
	*last = '\0';
	fputs(out, stdout);
	free(out);
	return rc;
}

static void
usage(void)
{
	printf("Usage: dpntpc [-s SOCKET] [-j] [COMMAND...]\n"
	       "  -s, --socket PATH  dpntpd's control socket (default %s)\n"
	       "  -j, --json         output as JSON, one object per command\n"
	       "Without a command, dpntpc reads commands at a prompt.\n"
	       "'dpntpc health' exits 0 healthy, 1 unhealthy, 2 cannot ask.\n"
	       "'dpntpc help' lists the commands.\n", DPN_CTL_DEFAULT_SOCKET);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DPN_CTL_DEFAULT_SOCKET;
	char line[DPN_CTL_MAX_LINE + 2];
	int opt, i, rc = 0;

	while ((opt = getopt_long(argc, argv, "+s:jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	if (optind + 1 == argc && strcmp(argv[optind], "health") == 0) {
		health = true;
		return run_command(path, "show health");
	}
	if (optind < argc) {
		size_t len = 0;

		line[0] = '\0';
		for (i = optind; i < argc; i++) {
			size_t l = strlen(argv[i]);

			if (len + l + 2 > sizeof(line)) {
				fprintf(stderr, "dpntpc: command longer than %d bytes\n",
					DPN_CTL_MAX_LINE);
				return 1;
			}
			if (len > 0)
				line[len++] = ' ';
			memcpy(line + len, argv[i], l + 1);
			len += l;
		}
		return run_command(path, line);
	}

	for (;;) {
		size_t len;

		if (isatty(STDIN_FILENO)) {
			fputs("dpntpc> ", stdout);
			fflush(stdout);
		}
		if (fgets(line, sizeof(line), stdin) == NULL)
			break;
		len = strlen(line);
		while (len > 0 && (line[len - 1] == '\n' ||
				   line[len - 1] == ' '))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (strcmp(line, "quit") == 0 || strcmp(line, "exit") == 0)
			break;
		rc = run_command(path, line);
		if (rc == 2)
			break;
	}
	return rc;
}
