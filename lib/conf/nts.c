/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NTS server directives, with chrony's names: ntsservercert,
 * ntsserverkey, ntsport, ntsdumpdir, ntsrotate, ntsntpserver; and
 * ntsbind, the kernel address NTS-KE listens on (chrony's bindaddress).
 */

#include <arpa/inet.h>
#include <string.h>

#include "conf_private.h"

static int
one_word(struct conf_parser *p, char **words, int nb_words, char *out,
	 size_t size, unsigned int *line)
{
	if (nb_words != 2)
		return conf_err(p, "%s: expected one %s", words[0],
				nb_words < 2 ? "argument" : "argument only");
	if (*line != 0)
		return conf_err(p, "%s: already given on line %u", words[0],
				*line);
	if (strlen(words[1]) >= size)
		return conf_err(p, "%s: too long", words[0]);
	strcpy(out, words[1]);
	*line = p->line;
	return 0;
}

int
dpn_conf_parse_nts(struct conf_parser *p, char **words, int nb_words)
{
	struct dpn_conf_nts *n = &p->conf->nts;
	long v;

	if (strcmp(words[0], "ntsservercert") == 0)
		return one_word(p, words, nb_words, n->cert, sizeof(n->cert),
				&n->cert_line);
	if (strcmp(words[0], "ntsserverkey") == 0)
		return one_word(p, words, nb_words, n->key, sizeof(n->key),
				&n->key_line);
	if (strcmp(words[0], "ntsdumpdir") == 0)
		return one_word(p, words, nb_words, n->dumpdir,
				sizeof(n->dumpdir), &n->dumpdir_line);
	if (strcmp(words[0], "ntsntpserver") == 0)
		return one_word(p, words, nb_words, n->ntp_server,
				sizeof(n->ntp_server), &n->ntp_server_line);
	if (strcmp(words[0], "exceptionif") == 0) {
		if (one_word(p, words, nb_words, n->exception_if,
			     sizeof(n->exception_if), &n->exception_if_line) < 0)
			return -1;
		if (strchr(n->exception_if, '/') != NULL)
			return conf_err(p, "exceptionif: '%s' is not an interface name",
					n->exception_if);
		return 0;
	}
	if (strcmp(words[0], "ntsbind") == 0) {
		unsigned char a[16];

		if (one_word(p, words, nb_words, n->bind, sizeof(n->bind),
			     &n->bind_line) < 0)
			return -1;
		if (inet_pton(AF_INET, n->bind, a) != 1 &&
		    inet_pton(AF_INET6, n->bind, a) != 1)
			return conf_err(p, "ntsbind: '%s' is not an IPv4 or IPv6 address",
					n->bind);
		return 0;
	}
	if (nb_words != 2)
		return conf_err(p, "%s: expected one number", words[0]);
	if (strcmp(words[0], "ntsport") == 0) {
		if (conf_ranged(p, "ntsport", "port", words[1], 1, 65535,
				&v) < 0)
			return -1;
		n->port = (uint16_t)v;
		return 0;
	}
	/* ntsrotate: 0 turns rotation off (keys managed outside). */
	if (conf_ranged(p, "ntsrotate", "seconds", words[1], 0,
			365L * 86400, &v) < 0)
		return -1;
	n->rotate_s = (uint32_t)v;
	return 0;
}

int
dpn_conf_nts_finish(struct conf_parser *p)
{
	const struct dpn_conf_nts *n = &p->conf->nts;

	if (n->exception_if_line != 0 && n->cert_line == 0) {
		p->line = n->exception_if_line;
		return conf_err(p, "exceptionif without ntsservercert: it carries NTS-KE only");
	}
	if ((n->cert_line != 0) != (n->key_line != 0)) {
		p->line = n->cert_line ? n->cert_line : n->key_line;
		return conf_err(p, "%s without %s", n->cert_line ?
				"ntsservercert" : "ntsserverkey",
				n->cert_line ? "ntsserverkey" : "ntsservercert");
	}
	return 0;
}

void
dpn_conf_nts_format(const struct dpn_conf *conf, char *buf, size_t len,
		    int *off)
{
	const struct dpn_conf_nts *n = &conf->nts;

	if (n->cert_line != 0)
		conf_append(buf, len, off, "ntsservercert %s\nntsserverkey %s\n",
			    n->cert, n->key);
	if (n->port != DPN_CONF_NTS_PORT_DEFAULT)
		conf_append(buf, len, off, "ntsport %u\n", n->port);
	if (n->dumpdir_line != 0)
		conf_append(buf, len, off, "ntsdumpdir %s\n", n->dumpdir);
	if (n->rotate_s != DPN_CONF_NTS_ROTATE_DEFAULT)
		conf_append(buf, len, off, "ntsrotate %u\n", n->rotate_s);
	if (n->ntp_server_line != 0)
		conf_append(buf, len, off, "ntsntpserver %s\n", n->ntp_server);
	if (n->bind_line != 0)
		conf_append(buf, len, off, "ntsbind %s\n", n->bind);
	if (n->exception_if_line != 0)
		conf_append(buf, len, off, "exceptionif %s\n", n->exception_if);
}
