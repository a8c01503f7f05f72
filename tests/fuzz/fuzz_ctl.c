/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_ctl: a command line from the control socket through lib/ctl's
 * parser and commands (dpn_ctl_run_line(), what ctlsock.c's serve_one()
 * calls), on the fake daemon of fuzz_daemon.h.
 *
 * Input: one byte, then the line. Bit 0 of the byte: the peer is root
 * (DPN_CTL_ADMIN); bit 1: the line asks for JSON ("#json " in front).
 * As on the socket, the line ends at its first newline and a line with
 * a NUL byte is refused before it is parsed.
 *
 * Invariants: a command fails with a one-line message (it becomes the
 * status line: a newline in it would let a peer forge a status); a peer
 * that is not root changes nothing (restrict rules, keys, NTS keys,
 * counters) and is told so with -EACCES; JSON output is one JSON object
 * in ASCII; text output has no NUL byte.
 */

#include <errno.h>
#include <stdbool.h>
#include <unistd.h>
#include <sys/mman.h>

#include "dpn_ctl.h"
#include "fuzz.h"
#include "fuzz_daemon.h"
#include "fuzz_json.h"

static struct dpn_runtime *ctx;
static int out_fd = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ctx = fuzz_daemon_init("fuzz_ctl");
	out_fd = memfd_create("fuzz_ctl_out", 0);
	if (out_fd < 0)
		abort();
	return 0;
}

/* What the commands change, to tell whether a refused one did. */
struct state {
	const void *acl, *auth, *nts;
	uint64_t nb_rules;	/* 64 bits: no padding, which a copy (the
				 * return below) need not keep */
	uint64_t rx;
};

static struct state
state_now(void)
{
	struct state s;

	/* memcmp() compares them: no stray padding bytes. */
	memset(&s, 0, sizeof(s));
	s.acl = dpn_dataplane_acl(ctx->dp);
	s.auth = ctx->dp->auth;
	s.nts = ctx->dp->nts;
	s.nb_rules = ctx->conf->acl.nb;
	s.rx = ctx->dp->workers[0]->stats.c[DPN_STAT_RX_PACKETS];
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[DPN_CTL_MAX_LINE + 16], err[256];
	struct state before, after;
	struct fuzz_in in = { data, size };
	uint8_t opt = fuzz_u8(&in);
	unsigned int flags = (opt & 1) ? DPN_CTL_ADMIN : 0;
	const char *nl;
	char *out;
	size_t len, off = 0;
	off_t olen;
	int ret;

	if (in.n > DPN_CTL_MAX_LINE + 1)
		return 0;
	nl = memchr(in.p, '\n', in.n);
	len = nl != NULL ? (size_t)(nl - (const char *)in.p) : in.n;
	if (memchr(in.p, '\0', len) != NULL)
		return 0;
	if (opt & 2)
		off = (size_t)snprintf(line, sizeof(line), "%s",
				       DPN_CTL_JSON_PREFIX);
	memcpy(line + off, in.p, len);
	line[off + len] = '\0';

	before = state_now();
	if (ftruncate(out_fd, 0) != 0 || lseek(out_fd, 0, SEEK_SET) != 0)
		abort();
	err[0] = '\0';
	ret = dpn_ctl_run_line(line, out_fd, flags, err, sizeof(err));
	after = state_now();

	FUZZ_CHECK(ret == 0 || ret == -1 || ret == -EACCES, "returned %d", ret);
	if (ret != 0)
		FUZZ_CHECK(err[0] != '\0' && strchr(err, '\n') == NULL &&
			   strchr(err, '\r') == NULL,
			   "error message '%s' is not one line", err);
	if (ret == -EACCES)
		FUZZ_CHECK(!(flags & DPN_CTL_ADMIN), "root refused: %s", err);
	if (!(flags & DPN_CTL_ADMIN))
		FUZZ_CHECK(memcmp(&before, &after, sizeof(before)) == 0,
			   "a peer that is not root changed the state with "
			   "'%s'", line);

	olen = lseek(out_fd, 0, SEEK_END);
	FUZZ_CHECK(olen >= 0, "output");
	out = malloc((size_t)olen + 1);
	if (out == NULL || pread(out_fd, out, (size_t)olen, 0) != olen)
		abort();
	out[olen] = '\0';
	FUZZ_CHECK(memchr(out, '\0', (size_t)olen) == NULL, "NUL in output");
	/* "#json " asks for JSON, whichever way it came. */
	if (ret == 0 && strncmp(line, DPN_CTL_JSON_PREFIX,
					    strlen(DPN_CTL_JSON_PREFIX)) == 0) {
		size_t i;

		FUZZ_CHECK(fuzz_json_object(out, (size_t)olen),
			   "'%s' printed no JSON object:\n%s", line, out);
		for (i = 0; i < (size_t)olen; i++)
			FUZZ_CHECK((unsigned char)out[i] < 0x80,
				   "JSON not ASCII");
	}
	free(out);

	/* Every input starts from the configuration file's state. */
	if (memcmp(&before, &after, sizeof(before)) != 0 ||
	    strstr(line, "restrict") != NULL)
		fuzz_daemon_reset();
	fuzz_daemon_quiet();
	return 0;
}
