/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_NTPCTL_H
#define DPN_NTPCTL_H

/**
 * @file
 * NTP control messages (mode 6, RFC 9327), read-only: parsing a
 * request, composing the answer's data (name=value lists, the
 * association list) and cutting it into response fragments.
 *
 * DPDK-free and stateless, so that every boundary can be tested (and
 * fuzzed) on bytes. The management lcore's glue (lib/sync/control.c)
 * decides what to say; this module decides how it looks on the wire.
 *
 * Writes are never done: every write opcode (writevar, writeclock,
 * configure, saveconfig, settrap, unsettrap) is answered with a
 * PERMISSION error, as ntpd answers one without a trusted key (12 bytes
 * for a request of at least 12: ntpq says why at once). The MRU list
 * (read_mru, req_nonce, the ordered list) gets no answer at all: it is
 * the amplifier monlist was, and `dpntpc show clients` serves the need.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DPN_NTPCTL_HDR_LEN 12
/** Data bytes per response fragment: ntpd's CTL_MAX_DATA_LEN. */
#define DPN_NTPCTL_FRAG_DATA 468
/**
 * Fragments per answer at most. The request is 12 bytes; an answer of
 * at most this many fragments (1.9 KB of data) holds every list this
 * server gives (system variables about 700 bytes, one association's
 * 500, the association list 4 bytes per source) and bounds what one
 * request can make the server send.
 */
#define DPN_NTPCTL_MAX_FRAGS 4
#define DPN_NTPCTL_MAX_DATA (DPN_NTPCTL_FRAG_DATA * DPN_NTPCTL_MAX_FRAGS)
/** A whole fragment: header, data padded to 4 bytes. */
#define DPN_NTPCTL_FRAG_MAX (DPN_NTPCTL_HDR_LEN + DPN_NTPCTL_FRAG_DATA)
/** Variable names a readvar may ask for. */
#define DPN_NTPCTL_MAX_NAMES 32
#define DPN_NTPCTL_NAME_MAX 32

/** The control header, network byte order. */
struct dpn_ntpctl_hdr {
	uint8_t li_vn_mode;
	uint8_t r_e_m_op;	/**< response, error, more, opcode */
	uint16_t sequence;
	uint16_t status;
	uint16_t assoc;
	uint16_t offset;
	uint16_t count;
} __attribute__((packed));

_Static_assert(sizeof(struct dpn_ntpctl_hdr) == DPN_NTPCTL_HDR_LEN,
	       "control header must be 12 bytes");

#define DPN_NTPCTL_F_RESPONSE 0x80
#define DPN_NTPCTL_F_ERROR 0x40
#define DPN_NTPCTL_F_MORE 0x20
#define DPN_NTPCTL_OP_MASK 0x1f

enum dpn_ntpctl_op {
	DPN_NTPCTL_OP_READSTAT = 1,
	DPN_NTPCTL_OP_READVAR = 2,
	DPN_NTPCTL_OP_WRITEVAR = 3,
	DPN_NTPCTL_OP_READCLOCK = 4,
	DPN_NTPCTL_OP_WRITECLOCK = 5,
	DPN_NTPCTL_OP_SETTRAP = 6,
	DPN_NTPCTL_OP_ASYNCMSG = 7,
	DPN_NTPCTL_OP_CONFIGURE = 8,
	DPN_NTPCTL_OP_SAVECONFIG = 9,
	DPN_NTPCTL_OP_READ_MRU = 10,
	DPN_NTPCTL_OP_READ_ORDLIST = 11,
	DPN_NTPCTL_OP_REQ_NONCE = 12,
	DPN_NTPCTL_OP_UNSETTRAP = 31,
};

/** Error codes, sent in the high byte of the status word. */
enum dpn_ntpctl_err {
	DPN_NTPCTL_ERR_UNSPEC = 0,
	DPN_NTPCTL_ERR_PERMISSION = 1,
	DPN_NTPCTL_ERR_BADFMT = 2,
	DPN_NTPCTL_ERR_BADOP = 3,
	DPN_NTPCTL_ERR_BADASSOC = 4,
	DPN_NTPCTL_ERR_UNKNOWNVAR = 5,
	DPN_NTPCTL_ERR_BADVALUE = 6,
};

/*
 * Status words (RFC 9327 appendix B, ntpd's encoding).
 */

/** System status clock sources. */
#define DPN_NTPCTL_SRC_UNSPEC 0
#define DPN_NTPCTL_SRC_PPS 1
#define DPN_NTPCTL_SRC_LOCAL 5
#define DPN_NTPCTL_SRC_NTP 6
#define DPN_NTPCTL_SRC_OTHER 7

/** Peer status bits (the high byte's top five bits). */
#define DPN_NTPCTL_PST_CONFIG 0x80
#define DPN_NTPCTL_PST_AUTHENABLE 0x40
#define DPN_NTPCTL_PST_AUTHENTIC 0x20
#define DPN_NTPCTL_PST_REACH 0x10

static inline uint16_t
dpn_ntpctl_sys_status(unsigned int li, unsigned int source,
		      unsigned int nevents, unsigned int event)
{
	return (uint16_t)(((li & 3) << 14) | ((source & 0x3f) << 8) |
			  ((nevents & 0xf) << 4) | (event & 0xf));
}

/** @p sel: 0 reject .. 6 system peer, 7 PPS peer, as ntpq's " x.-+#*o". */
static inline uint16_t
dpn_ntpctl_peer_status(unsigned int bits, unsigned int sel,
		       unsigned int nevents, unsigned int event)
{
	return (uint16_t)((((bits & 0xf8) | (sel & 7)) << 8) |
			  ((nevents & 0xf) << 4) | (event & 0xf));
}

/** The selection code of ntpq's tally character (' ' for others). */
unsigned int dpn_ntpctl_sel_of_tally(char tally);

/*
 * Requests.
 */

/** Why a request gets no answer at all (each its own counter). */
enum dpn_ntpctl_parse {
	DPN_NTPCTL_PARSE_OK = 0,
	DPN_NTPCTL_PARSE_SHORT,		/**< under 12 bytes, or count beyond */
	DPN_NTPCTL_PARSE_NOT_REQUEST,	/**< not mode 6, version, R/E/M set */
	DPN_NTPCTL_PARSE_FRAGMENT,	/**< offset != 0: requests are whole */
};

/** A parsed request; names point into it (copied, NUL-terminated). */
struct dpn_ntpctl_req {
	unsigned int version;
	unsigned int opcode;
	uint16_t sequence;	/**< host order, echoed */
	uint16_t assoc;		/**< host order */
	uint16_t count;		/**< data bytes */
	unsigned int nb_names;	/**< variables asked for; 0 = all */
	bool names_overflow;	/**< more than fit, or a name too long */
	char names[DPN_NTPCTL_MAX_NAMES][DPN_NTPCTL_NAME_MAX];
};

/**
 * Parse the UDP payload @p pkt of @p len bytes. Padding and a MAC after
 * the counted data are allowed and ignored (no key is ever checked:
 * nothing here changes state). For readvar the data is a list of
 * names, `name[=value],...`; values are ignored.
 */
enum dpn_ntpctl_parse dpn_ntpctl_parse(const void *pkt, size_t len,
				       struct dpn_ntpctl_req *req);

/** Write opcodes: refused with a PERMISSION error. */
bool dpn_ntpctl_op_refused(unsigned int opcode);

/** The MRU list (read_mru, req_nonce, ordlist): never answered. */
bool dpn_ntpctl_op_silent(unsigned int opcode);

/*
 * Answers.
 */

/** The data of an answer and how it ends. */
struct dpn_ntpctl_answer {
	uint16_t status;	/**< status word of a good answer */
	int error;		/**< enum dpn_ntpctl_err, or -1 for none */
	bool truncated;		/**< variables left out: over the cap */
	size_t len;
	char data[DPN_NTPCTL_MAX_DATA];
	/** which of the request's names were found */
	bool found[DPN_NTPCTL_MAX_NAMES];
};

void dpn_ntpctl_answer_init(struct dpn_ntpctl_answer *a, uint16_t status);

/** Make @p a an error answer (no data). */
void dpn_ntpctl_answer_error(struct dpn_ntpctl_answer *a,
			     enum dpn_ntpctl_err err);

/**
 * Add `name=value` to a variable list, comma separated as ntpd sends
 * them, when @p req asks for all variables or names this one. A pair
 * that would not fit under DPN_NTPCTL_MAX_DATA is left out (truncated):
 * the list stays well formed. @return true if it was added.
 */
bool dpn_ntpctl_put(struct dpn_ntpctl_answer *a,
		    const struct dpn_ntpctl_req *req, const char *name,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/** Add one (association id, status) pair of a readstat answer. */
bool dpn_ntpctl_put_assoc(struct dpn_ntpctl_answer *a, uint16_t assoc,
			  uint16_t status);

/**
 * After the puts of a readvar: an UNKNOWNVAR error if @p req named a
 * variable that was not put (ntpd's answer), or if it named too many.
 */
void dpn_ntpctl_answer_check_names(struct dpn_ntpctl_answer *a,
				   const struct dpn_ntpctl_req *req);

/** Number of fragments @p a goes out in (1 for empty or error ones). */
unsigned int dpn_ntpctl_nb_frags(const struct dpn_ntpctl_answer *a);

/**
 * Write fragment @p i of the answer to @p req into @p out (at least
 * DPN_NTPCTL_FRAG_MAX bytes): the header with the request's version,
 * opcode, sequence and association, the data's offset and count, the
 * More bit on all but the last, and the data padded with zeros to a
 * multiple of 4 bytes. @return its length, 0 if there is no such
 * fragment.
 */
size_t dpn_ntpctl_fragment(const struct dpn_ntpctl_req *req,
			   const struct dpn_ntpctl_answer *a, unsigned int i,
			   uint8_t *out);

#endif /* DPN_NTPCTL_H */
