/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * health [maxoffset S] [maxdistance S] [stall MS] [drainfile PATH]: when
 * the health verdict (lib/health) says unhealthy. One line; options not
 * given keep their defaults.
 */

#include <string.h>

#include "conf_private.h"

#define MAXOFFSET_MAX 1000.0
#define MAXDISTANCE_MAX 16.0
#define STALL_MIN_MS 200	/* two evaluations: never by chance */
#define STALL_MAX_MS 3600000

void
dpn_conf_health_init(struct dpn_conf *conf)
{
	struct dpn_conf_health *h = &conf->health;

	memset(h, 0, sizeof(*h));
	h->maxoffset_s = DPN_CONF_HEALTH_MAXOFFSET_DEFAULT;
	h->maxdistance_s = DPN_CONF_HEALTH_MAXDISTANCE_DEFAULT;
	h->stall_ms = DPN_CONF_HEALTH_STALL_DEFAULT;
}

int
dpn_conf_parse_health(struct conf_parser *p, char **words, int nb_words)
{
	struct dpn_conf_health *h = &p->conf->health;
	int i;

	if (h->line != 0)
		return conf_err(p, "health: already configured on line %u",
				h->line);
	if (nb_words < 2)
		return conf_err(p, "health: needs one of 'maxoffset', 'maxdistance', 'stall', 'drainfile'");
	for (i = 1; i < nb_words; i += 2) {
		const char *key = words[i];
		const char *value = i + 1 < nb_words ? words[i + 1] : NULL;
		long ms;

		if (strcmp(key, "maxoffset") == 0) {
			if (conf_seconds(p, "health", key, value,
					 MAXOFFSET_MAX, &h->maxoffset_s) < 0)
				return -1;
		} else if (strcmp(key, "maxdistance") == 0) {
			if (conf_seconds(p, "health", key, value,
					 MAXDISTANCE_MAX, &h->maxdistance_s) < 0)
				return -1;
		} else if (strcmp(key, "stall") == 0) {
			if (value == NULL)
				return conf_err(p, "health: missing value after 'stall'");
			if (conf_ranged(p, "health", "stall (ms)", value,
					STALL_MIN_MS, STALL_MAX_MS, &ms) < 0)
				return -1;
			h->stall_ms = (unsigned int)ms;
		} else if (strcmp(key, "drainfile") == 0) {
			if (value == NULL)
				return conf_err(p, "health: missing file name after 'drainfile'");
			if (strlen(value) >= sizeof(h->drainfile))
				return conf_err(p, "health: drainfile: file name too long");
			strcpy(h->drainfile, value);
		} else {
			return conf_err(p, "health: unexpected word '%s' (supported: maxoffset, maxdistance, stall, drainfile)",
					key);
		}
	}
	h->line = p->line;
	return 0;
}

void
dpn_conf_health_format(const struct dpn_conf *conf, char *buf, size_t len,
		       int *off)
{
	const struct dpn_conf_health *h = &conf->health;

	if (h->line == 0)
		return;
	conf_append(buf, len, off, "health maxoffset %g maxdistance %g stall %u",
		    h->maxoffset_s, h->maxdistance_s, h->stall_ms);
	if (h->drainfile[0] != '\0')
		conf_append(buf, len, off, " drainfile %s", h->drainfile);
	conf_append(buf, len, off, "\n");
}
