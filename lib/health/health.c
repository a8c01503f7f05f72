/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The health verdict (see dpn_health.h). The checks that need a history
 * keep it here: the reference counts as lost only once it has been gone
 * longer than the holdover (a short gap between two samples, or a source
 * change, must not withdraw an anycast route), and a worker counts as
 * stalled only once its loop counter has not moved for the stall time.
 */

#include <sched.h>
#include <stdarg.h>
#include <string.h>

#include "dpn_health.h"

#define NS_PER_S 1e9

static const char *const check_names[DPN_HEALTH_NB_CHECKS] = {
	[DPN_HEALTH_UNSYNCHRONIZED] = "unsynchronized",
	[DPN_HEALTH_OFFSET] = "offset",
	[DPN_HEALTH_ROOT_DISTANCE] = "root_distance",
	[DPN_HEALTH_REFERENCE_LOST] = "reference_lost",
	[DPN_HEALTH_WORKER_STALLED] = "worker_stalled",
	[DPN_HEALTH_LINK_DOWN] = "link_down",
	[DPN_HEALTH_DRAIN] = "drain",
};

const char *
dpn_health_check_name(enum dpn_health_check c)
{
	return (unsigned int)c < DPN_HEALTH_NB_CHECKS ? check_names[c] : "?";
}

void
dpn_health_init(struct dpn_health *h, const struct dpn_health_params *p)
{
	memset(h, 0, sizeof(*h));
	h->params = *p;
}

void
dpn_health_set_params(struct dpn_health *h, const struct dpn_health_params *p)
{
	h->params = *p;
}

static int64_t
abs64(int64_t x)
{
	return x < 0 ? -x : x;
}

/* Worker poll counters: a counter that moved restarts its clock. */
static void
eval_workers(struct dpn_health *h, const struct dpn_health_input *in,
	     struct dpn_health_verdict *v)
{
	unsigned int i, n = in->nb_workers;

	if (n > DPN_HEALTH_MAX_WORKERS)
		n = DPN_HEALTH_MAX_WORKERS;
	if (n != h->nb_workers) {
		/* First look (or another set of workers): all moved now. */
		for (i = 0; i < n; i++) {
			h->polls[i] = in->worker_polls[i];
			h->moved_ns[i] = in->now_ns;
		}
		h->nb_workers = n;
		return;
	}
	for (i = 0; i < n; i++) {
		int64_t still;

		if (in->worker_polls[i] != h->polls[i]) {
			h->polls[i] = in->worker_polls[i];
			h->moved_ns[i] = in->now_ns;
			continue;
		}
		still = in->now_ns - h->moved_ns[i];
		if (still < h->params.stall_ns)
			continue;
		if (v->nb_stalled++ == 0) {
			v->stalled_worker = i;
			v->stalled_ns = still;
		}
	}
}

void
dpn_health_eval(struct dpn_health *h, const struct dpn_health_input *in)
{
	const struct dpn_health_params *p = &h->params;
	struct dpn_health_verdict v;
	unsigned int i;

	memset(&v, 0, sizeof(v));
	v.valid = true;
	v.at_ns = in->now_ns;
	v.params = *p;
	v.synced = in->synced;
	v.offset_ns = in->offset_ns;
	v.root_distance_ns = in->root_distance_ns;

	if (!in->synced)
		v.failing |= 1u << DPN_HEALTH_UNSYNCHRONIZED;
	/* Offset and distance mean something only for a served time;
	 * unsynchronized says the rest. */
	if (in->synced && abs64(in->offset_ns) > p->max_offset_ns)
		v.failing |= 1u << DPN_HEALTH_OFFSET;
	if (in->synced && in->root_distance_ns > p->max_distance_ns)
		v.failing |= 1u << DPN_HEALTH_ROOT_DISTANCE;

	/* Lost for as long as the holdover counts it: since the reference
	 * last updated the clock; a server that never had one, since the
	 * first evaluation without it. */
	if (in->has_reference) {
		h->lost = false;
	} else {
		if (!h->lost) {
			h->lost = true;
			h->lost_since_ns = in->now_ns;
		}
		v.lost_ns = in->reference_age_ns >= 0 ? in->reference_age_ns :
			in->now_ns - h->lost_since_ns;
		if (v.lost_ns > p->holdover_ns)
			v.failing |= 1u << DPN_HEALTH_REFERENCE_LOST;
	}

	eval_workers(h, in, &v);
	if (v.nb_stalled > 0)
		v.failing |= 1u << DPN_HEALTH_WORKER_STALLED;

	for (i = 0; i < in->nb_ports && i < DPN_HEALTH_MAX_PORTS; i++)
		if (in->link_down[i] && v.nb_links_down++ == 0)
			v.link_down_port = i;
	if (v.nb_links_down > 0)
		v.failing |= 1u << DPN_HEALTH_LINK_DOWN;
	if (in->drain)
		v.failing |= 1u << DPN_HEALTH_DRAIN;
	h->started = true;

	/* Publish: the sequence is odd while the copy is written. */
	__atomic_store_n(&h->seq, h->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(&h->pub, &v, sizeof(v));
	__atomic_store_n(&h->seq, h->seq + 1, __ATOMIC_RELEASE);
}

void
dpn_health_read(const struct dpn_health *h, struct dpn_health_verdict *v)
{
	unsigned int tries;

	/* The writer holds the copy odd for a memcpy every 100 ms: the
	 * first try nearly always does. A writer preempted in the middle
	 * gets the CPU back sooner if we yield; bounded all the same (then
	 * the verdict is "not valid", i.e. unhealthy). */
	for (tries = 0; tries < 10000; tries++) {
		uint32_t s1 = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);

		if (tries >= 100)
			sched_yield();
		if (s1 & 1)
			continue;
		memcpy(v, &h->pub, sizeof(*v));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&h->seq, __ATOMIC_RELAXED) == s1)
			return;
	}
	memset(v, 0, sizeof(*v));	/* not valid: unhealthy */
}

void
dpn_health_age(struct dpn_health_verdict *v, int64_t now_ns, int64_t max_age_ns)
{
	if (v->valid && now_ns - v->at_ns > max_age_ns) {
		v->valid = false;
		v->stale_ns = now_ns - v->at_ns;
	}
}

/* Output into a buffer that may be too small, snprintf's way. */
struct out {
	char *buf;
	size_t len;
	int off;
};

__attribute__((format(printf, 2, 3)))
static void
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->off < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf((size_t)o->off < o->len ? o->buf + o->off : NULL,
		      (size_t)o->off < o->len ? o->len - o->off : 0, fmt, ap);
	va_end(ap);
	o->off = n < 0 ? n : o->off + n;
}

static void
put_invalid(struct out *o, const struct dpn_health_verdict *v)
{
	if (v->stale_ns > 0)
		put(o, "verdict stale: not evaluated for %.1f s (management lcore stuck?)",
		    v->stale_ns / NS_PER_S);
	else
		put(o, "not evaluated yet");
}

/* Why check @p c fails, in words (no quotes or backslashes: the JSON
 * writer puts it in a string as it is). */
static void
put_reason(struct out *o, const struct dpn_health_verdict *v,
	   enum dpn_health_check c)
{
	const struct dpn_health_params *p = &v->params;

	switch (c) {
	case DPN_HEALTH_UNSYNCHRONIZED:
		put(o, "unsynchronized (leap 3, stratum 16)");
		break;
	case DPN_HEALTH_OFFSET:
		put(o, "offset %.6f s over %.6f s", v->offset_ns / NS_PER_S,
		    p->max_offset_ns / NS_PER_S);
		break;
	case DPN_HEALTH_ROOT_DISTANCE:
		put(o, "root distance %.6f s over %.6f s",
		    v->root_distance_ns / NS_PER_S,
		    p->max_distance_ns / NS_PER_S);
		break;
	case DPN_HEALTH_REFERENCE_LOST:
		put(o, "no reference for %.0f s (holdover %.0f s)",
		    v->lost_ns / NS_PER_S, p->holdover_ns / NS_PER_S);
		break;
	case DPN_HEALTH_WORKER_STALLED:
		put(o, "%u worker(s) stalled: worker %u has not polled for %.0f ms",
		    v->nb_stalled, v->stalled_worker, v->stalled_ns / 1e6);
		break;
	case DPN_HEALTH_LINK_DOWN:
		put(o, "%u port(s) with the link down: port %u",
		    v->nb_links_down, v->link_down_port);
		break;
	case DPN_HEALTH_DRAIN:
		put(o, "drain file present");
		break;
	default:
		break;
	}
}

int
dpn_health_format(const struct dpn_health_verdict *v, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };
	unsigned int c, n = 0;

	if (len > 0)
		buf[0] = '\0';
	if (!v->valid) {
		put(&o, "unhealthy: ");
		put_invalid(&o, v);
		put(&o, "\n");
		return o.off;
	}
	put(&o, "%s", v->failing ? "unhealthy: " : "healthy");
	for (c = 0; c < DPN_HEALTH_NB_CHECKS; c++)
		if (v->failing & (1u << c)) {
			put(&o, "%s", n++ ? "; " : "");
			put_reason(&o, v, c);
		}
	put(&o, "\n");
	for (c = 0; c < DPN_HEALTH_NB_CHECKS; c++)
		put(&o, "%-15s %s\n", check_names[c],
		    v->failing & (1u << c) ? "FAILING" : "ok");
	return o.off;
}

int
dpn_health_json(const struct dpn_health_verdict *v, char *buf, size_t len)
{
	const struct dpn_health_params *p = &v->params;
	struct out o = { buf, len, 0 };
	unsigned int c, n;

	if (len > 0)
		buf[0] = '\0';
	put(&o, "{\"healthy\":%s,\"failing\":[", dpn_health_ok(v) ?
	    "true" : "false");
	for (c = 0, n = 0; c < DPN_HEALTH_NB_CHECKS; c++)
		if (v->failing & (1u << c))
			put(&o, "%s\"%s\"", n++ ? "," : "", check_names[c]);
	put(&o, "],\"reasons\":[");
	if (!v->valid) {
		put(&o, "\"");
		put_invalid(&o, v);
		put(&o, "\"");
	}
	for (c = 0, n = 0; c < DPN_HEALTH_NB_CHECKS; c++)
		if (v->failing & (1u << c)) {
			put(&o, "%s\"", n++ ? "," : "");
			put_reason(&o, v, c);
			put(&o, "\"");
		}
	put(&o, "],\"checks\":{");
	for (c = 0; c < DPN_HEALTH_NB_CHECKS; c++)
		put(&o, "%s\"%s\":\"%s\"", c ? "," : "", check_names[c],
		    v->failing & (1u << c) ? "failing" : "ok");
	put(&o, "},\"synchronized\":%s,\"offset_s\":%.9f,"
	    "\"root_distance_s\":%.9f,\"reference_lost_s\":%.3f,"
	    "\"thresholds\":{\"maxoffset_s\":%.9f,\"maxdistance_s\":%.9f,"
	    "\"holdover_s\":%.3f,\"stall_ms\":%.0f}}",
	    v->synced ? "true" : "false", v->offset_ns / NS_PER_S,
	    v->root_distance_ns / NS_PER_S, v->lost_ns / NS_PER_S,
	    p->max_offset_ns / NS_PER_S, p->max_distance_ns / NS_PER_S,
	    p->holdover_ns / NS_PER_S, p->stall_ns / 1e6);
	return o.off;
}
