/* SPDX-License-Identifier: BSD-3-Clause */
/* `ntpq -p` lines. */

#include <errno.h>
#include <stdio.h>

#include "source_private.h"

int
dpn_source_format_peers_header(char *buf, size_t len)
{
	return -ENOSYS;
}

int
dpn_source_format_peer(const struct dpn_source *s, int64_t now_ns,
		       char *buf, size_t len)
{
	return -ENOSYS;
}
