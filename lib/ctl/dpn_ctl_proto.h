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
 */

#define DPN_CTL_DEFAULT_SOCKET "/run/dpntpd.sock"
#define DPN_CTL_MAX_LINE 4096
#define DPN_CTL_STATUS_OK "#ok"
#define DPN_CTL_STATUS_ERR "#error: "

#endif /* DPN_CTL_PROTO_H */
