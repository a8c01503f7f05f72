/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CONF_PRIVATE_H
#define CONF_PRIVATE_H

/* Internal to lib/conf: the parser state and helpers its files share. */

#include "dpn_conf.h"

struct conf_parser {
	struct dpn_conf *conf;
	const char *name;	/* file path or caller-given name */
	unsigned int line;	/* 1-based number of the line being parsed */
	char *err;
	size_t errlen;
	unsigned int clientlimit_line;	/* 0 until a clientlimit line */
	unsigned int xleavelimit_line;	/* 0 until an xleavelimit line */
};

/* Report a problem on the current line; always returns -1. */
int conf_err(struct conf_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A whole word as a decimal integer: 0, -1 not a number, -2 too big. */
int conf_long(const char *word, long *val);

/* A number in [min, max] for option @p what of @p directive. */
int conf_ranged(struct conf_parser *p, const char *directive,
		const char *what, const char *word, long min, long max,
		long *val);

/* snprintf() onto the end of what is already in @p buf. */
void conf_append(char *buf, size_t len, int *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A non-negative number of seconds, with a fraction if needed, at most
 * @p max, for option @p what of @p directive (upstream.c). */
int conf_seconds(struct conf_parser *p, const char *directive,
		 const char *what, const char *word, double max, double *val);

/* health ... (health.c). */
void dpn_conf_health_init(struct dpn_conf *conf);
int dpn_conf_parse_health(struct conf_parser *p, char **words, int nb_words);
void dpn_conf_health_format(const struct dpn_conf *conf, char *buf,
			    size_t len, int *off);

/* Upstream directives (upstream.c). */
void dpn_conf_upstream_init(struct dpn_conf *conf);
void dpn_conf_upstream_format(const struct dpn_conf *conf, char *buf,
			      size_t len, int *off);
int dpn_conf_parse_server(struct conf_parser *p, char **words, int nb_words);
int dpn_conf_parse_peer(struct conf_parser *p, char **words, int nb_words);
int dpn_conf_parse_tinker(struct conf_parser *p, char **words, int nb_words);
int dpn_conf_parse_tos(struct conf_parser *p, char **words, int nb_words);
int dpn_conf_parse_driftfile(struct conf_parser *p, char **words,
			     int nb_words);
int dpn_conf_parse_leapfile(struct conf_parser *p, char **words,
			    int nb_words);
int dpn_conf_parse_leapsmear(struct conf_parser *p, char **words,
			     int nb_words);
int dpn_conf_parse_keys(struct conf_parser *p, char **words, int nb_words);
int dpn_conf_parse_authfail(struct conf_parser *p, char **words,
			    int nb_words);
int dpn_conf_parse_trustedkey(struct conf_parser *p, char **words,
			      int nb_words);
int dpn_conf_parse_holdover(struct conf_parser *p, char **words,
			    int nb_words);

/* NTS server directives (nts.c). */
int dpn_conf_parse_nts(struct conf_parser *p, char **words, int nb_words);
int dpn_conf_nts_finish(struct conf_parser *p);
void dpn_conf_nts_format(const struct dpn_conf *conf, char *buf, size_t len,
			 int *off);

/* refclock shm|sock|pps|phc|ptp lines (refclock.c). */
int dpn_conf_parse_refclock_driver(struct conf_parser *p, char **words,
				   int nb_words);
/* Checks across lines, at the end of a parse (sets p->line). */
int dpn_conf_refclock_finish(struct conf_parser *p);
void dpn_conf_refclock_format(const struct dpn_conf *conf, char *buf,
			      size_t len, int *off);

#endif /* CONF_PRIVATE_H */
