/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_CTL_PROTO_H
#define DPN_CTL_PROTO_H

/**
 * @file
 * The control-socket protocol, shared by dpntpd and dpntpc (which does
 * not link DPDK).
 *
 * The client connects, writes one command line ending in '\n' (at most
 * DPN_CTL_MAX_LINE bytes) and reads until EOF. The reply is the
 * command's output followed by one status line: DPN_CTL_STATUS_OK, or
 * DPN_CTL_STATUS_ERR followed by a message.
 *
 * A line that starts with DPN_CTL_JSON_PREFIX ("#json ") asks for JSON:
 * the rest of the line is the command, and its output is one JSON object
 * on one line. Commands that print tables (show stats, show port
 * stats|xstats, show restrict, show clients, show sysinfo, show lcores)
 * print their own objects; the output of the others comes as
 * {"output": "TEXT"}. The status line is the same as without JSON. A
 * daemon that predates JSON takes such a line for a comment (empty
 * output, DPN_CTL_STATUS_OK).
 *
 * Commands that change the daemon's state (restrict add|del, reload,
 * clear port stats, set log level) are only run for a peer of uid 0
 * (SO_PEERCRED); others get DPN_CTL_STATUS_ERR "... requires root".
 */

#define DPN_CTL_DEFAULT_SOCKET "/run/dpntpd.sock"
#define DPN_CTL_MAX_LINE 4096
#define DPN_CTL_STATUS_OK "#ok"
#define DPN_CTL_STATUS_ERR "#error: "
#define DPN_CTL_JSON_PREFIX "#json "

#endif /* DPN_CTL_PROTO_H */
