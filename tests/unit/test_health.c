/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/health, the health verdict, on a fake clock (the
 * caller's now_ns): each check fails exactly when its condition holds
 * and clears when it goes; the reference counts as lost only after the
 * holdover, a worker as stalled only after its counter stood still for
 * the stall time (not per evaluation, and not a worker that polls); a
 * reader gets a consistent verdict while the writer publishes; the text
 * and JSON name every failing check with its reason.
 */

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dpn_health.h"

#define MS (1000 * 1000ll)
#define S (1000 * MS)
#define NB_W 3
#define NB_P 2

static const struct dpn_health_params params = {
	.max_offset_ns = 100 * MS, .max_distance_ns = 1500 * MS,
	.holdover_ns = 10 * S, .stall_ns = 1000 * MS,
};

struct rig {
	struct dpn_health h;
	struct dpn_health_input in;
	uint64_t polls[NB_W];
	bool down[NB_P];
};

/* A healthy server at time 0 on a fake clock. */
static void
rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	dpn_health_init(&r->h, &params);
	r->in = (struct dpn_health_input){
		.now_ns = 1000 * S, .synced = true, .has_reference = true,
		.reference_age_ns = -1,
		.offset_ns = 1 * MS, .root_distance_ns = 10 * MS,
		.nb_workers = NB_W, .worker_polls = r->polls,
		.nb_ports = NB_P, .link_down = r->down,
	};
}

/* Advance the fake clock by @p dt in 100 ms steps, the workers polling
 * unless @p stalled has bit (1 << worker); the last verdict. */
static uint32_t
run(struct rig *r, int64_t dt, unsigned int stalled)
{
	struct dpn_health_verdict v;
	int64_t end = r->in.now_ns + dt;
	unsigned int i;

	do {
		for (i = 0; i < NB_W; i++)
			if (!(stalled & (1u << i)))
				r->polls[i] += 1000;
		dpn_health_eval(&r->h, &r->in);
		r->in.now_ns += DPN_HEALTH_PERIOD_NS;
	} while (r->in.now_ns <= end);
	dpn_health_read(&r->h, &v);
	assert_true(v.valid);
	return v.failing;
}

#define BIT(c) (1u << DPN_HEALTH_##c)

static void
test_names(void **state)
{
	static const char *const want[] = { "unsynchronized", "offset",
		"root_distance", "reference_lost", "worker_stalled",
		"link_down", "drain" };
	unsigned int c;

	(void)state;
	assert_int_equal(DPN_HEALTH_NB_CHECKS, 7);
	for (c = 0; c < DPN_HEALTH_NB_CHECKS; c++)
		assert_string_equal(dpn_health_check_name(c), want[c]);
}

static void
test_not_evaluated(void **state)
{
	struct rig r;
	struct dpn_health_verdict v;
	char buf[512];

	(void)state;
	rig_init(&r);
	dpn_health_read(&r.h, &v);
	assert_false(v.valid);
	assert_false(dpn_health_ok(&v));
	dpn_health_json(&v, buf, sizeof(buf));
	assert_non_null(strstr(buf, "{\"healthy\":false,"));
	assert_non_null(strstr(buf, "not evaluated yet"));
}

static void
test_healthy(void **state)
{
	struct rig r;
	struct dpn_health_verdict v;

	(void)state;
	rig_init(&r);
	assert_int_equal(run(&r, 60 * S, 0), 0);
	dpn_health_read(&r.h, &v);
	assert_true(dpn_health_ok(&v));
}

static void
test_unsynchronized(void **state)
{
	struct rig r;

	(void)state;
	rig_init(&r);
	r.in.synced = false;
	/* Offset and distance say nothing about an unsynchronized clock. */
	r.in.offset_ns = 5 * S;
	r.in.root_distance_ns = 16 * S;
	assert_int_equal(run(&r, 0, 0), BIT(UNSYNCHRONIZED));
	r.in.synced = true;
	r.in.offset_ns = 0;
	r.in.root_distance_ns = 0;
	assert_int_equal(run(&r, 0, 0), 0);
}

static void
test_offset_threshold(void **state)
{
	struct rig r;

	(void)state;
	rig_init(&r);
	r.in.offset_ns = 100 * MS;		/* at the threshold: fine */
	assert_int_equal(run(&r, 0, 0), 0);
	r.in.offset_ns = -100 * MS - 1;		/* |offset| counts */
	assert_int_equal(run(&r, 0, 0), BIT(OFFSET));
	r.in.offset_ns = 100 * MS + 1;
	assert_int_equal(run(&r, 0, 0), BIT(OFFSET));
	r.in.offset_ns = 2 * MS;
	assert_int_equal(run(&r, 0, 0), 0);
}

static void
test_distance_threshold(void **state)
{
	struct rig r;

	(void)state;
	rig_init(&r);
	r.in.root_distance_ns = 1500 * MS;
	assert_int_equal(run(&r, 0, 0), 0);
	r.in.root_distance_ns = 1500 * MS + 1;
	assert_int_equal(run(&r, 0, 0), BIT(ROOT_DISTANCE));
	/* New thresholds (a reload) apply at the next evaluation. */
	{
		struct dpn_health_params p = params;

		p.max_distance_ns = 2 * S;
		dpn_health_set_params(&r.h, &p);
	}
	assert_int_equal(run(&r, 0, 0), 0);
}

static void
test_reference_lost_after_holdover(void **state)
{
	struct rig r;

	(void)state;
	rig_init(&r);
	run(&r, 1 * S, 0);
	r.in.has_reference = false;
	/* Within the holdover: still fine (a gap between samples). */
	assert_int_equal(run(&r, 9 * S, 0), 0);
	assert_int_equal(run(&r, 2 * S, 0), BIT(REFERENCE_LOST));
	/* Back: fine at once; lost again: the holdover starts anew. */
	r.in.has_reference = true;
	assert_int_equal(run(&r, 0, 0), 0);
	r.in.has_reference = false;
	assert_int_equal(run(&r, 5 * S, 0), 0);
	assert_int_equal(run(&r, 6 * S, 0), BIT(REFERENCE_LOST));
}

/* With the time since the last update known, the holdover counts from
 * it (as the served clock's own holdover does), not from when the
 * system peer went. */
static void
test_reference_age(void **state)
{
	struct rig r;
	struct dpn_health_verdict v;

	(void)state;
	rig_init(&r);
	r.in.has_reference = false;
	r.in.reference_age_ns = 10 * S;
	assert_int_equal(run(&r, 0, 0), 0);
	r.in.reference_age_ns = 10 * S + 1;
	assert_int_equal(run(&r, 0, 0), BIT(REFERENCE_LOST));
	dpn_health_read(&r.h, &v);
	assert_true(v.lost_ns == 10 * S + 1);
}

static void
test_worker_stall(void **state)
{
	struct rig r;
	struct dpn_health_verdict v;

	(void)state;
	rig_init(&r);
	run(&r, 5 * S, 0);
	/* Worker 1 stops (its counter last moved at the run before): still
	 * 900 ms later, stalled from 1 s on. */
	assert_int_equal(run(&r, 800 * MS, 1u << 1), 0);
	assert_int_equal(run(&r, 200 * MS, 1u << 1), BIT(WORKER_STALLED));
	dpn_health_read(&r.h, &v);
	assert_int_equal(v.nb_stalled, 1);
	assert_int_equal(v.stalled_worker, 1);
	assert_true(v.stalled_ns >= 1000 * MS);
	/* It polls again (once is enough): fine. */
	assert_int_equal(run(&r, 0, 0), 0);
	/* Two stop: both counted, the first named. */
	assert_int_equal(run(&r, 2 * S, (1u << 0) | (1u << 2)),
			 BIT(WORKER_STALLED));
	dpn_health_read(&r.h, &v);
	assert_int_equal(v.nb_stalled, 2);
	assert_int_equal(v.stalled_worker, 0);
}

static void
test_stall_needs_time_not_turns(void **state)
{
	struct rig r;
	unsigned int i;

	(void)state;
	rig_init(&r);
	run(&r, 1 * S, 0);
	/* Many evaluations at (nearly) the same time: a worker that has not
	 * moved for less than the stall time is not stalled, however often
	 * it is looked at. */
	for (i = 0; i < 1000; i++) {
		dpn_health_eval(&r.h, &r.in);
		r.in.now_ns += 100 * 1000;	/* 0.1 ms */
	}
	assert_int_equal(run(&r, 0, 0x7), 0);
}

static void
test_link_and_drain(void **state)
{
	struct rig r;
	struct dpn_health_verdict v;

	(void)state;
	rig_init(&r);
	r.down[1] = true;
	assert_int_equal(run(&r, 0, 0), BIT(LINK_DOWN));
	dpn_health_read(&r.h, &v);
	assert_int_equal(v.link_down_port, 1);
	r.in.drain = true;
	assert_int_equal(run(&r, 0, 0), BIT(LINK_DOWN) | BIT(DRAIN));
	r.down[1] = false;
	r.in.drain = false;
	assert_int_equal(run(&r, 0, 0), 0);
}

/* A verdict nobody refreshes any more is not believed. */
static void
test_stale(void **state)
{
	struct rig r;
	struct dpn_health_verdict v;
	char buf[1024];

	(void)state;
	rig_init(&r);
	run(&r, 1 * S, 0);
	dpn_health_read(&r.h, &v);
	dpn_health_age(&v, r.in.now_ns + 1 * S, 2 * S);
	assert_true(dpn_health_ok(&v));
	dpn_health_age(&v, r.in.now_ns + 3 * S, 2 * S);
	assert_false(dpn_health_ok(&v));
	dpn_health_format(&v, buf, sizeof(buf));
	assert_non_null(strstr(buf, "unhealthy: verdict stale: not evaluated for 3.1 s"));
	dpn_health_json(&v, buf, sizeof(buf));
	assert_non_null(strstr(buf, "{\"healthy\":false,\"failing\":[],\"reasons\":[\"verdict stale"));
}

static void
test_text_and_json(void **state)
{
	struct rig r;
	struct dpn_health_verdict v;
	char buf[2048], small[16];
	int n;

	(void)state;
	rig_init(&r);
	run(&r, 0, 0);
	dpn_health_read(&r.h, &v);
	dpn_health_format(&v, buf, sizeof(buf));
	assert_int_equal(strncmp(buf, "healthy\n", 8), 0);
	assert_non_null(strstr(buf, "drain           ok\n"));

	r.in.offset_ns = 250 * MS;
	r.in.drain = true;
	run(&r, 0, 0);
	dpn_health_read(&r.h, &v);
	dpn_health_format(&v, buf, sizeof(buf));
	assert_string_equal(strtok(buf, "\n"),
		"unhealthy: offset 0.250000 s over 0.100000 s; drain file present");
	n = dpn_health_json(&v, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	assert_non_null(strstr(buf, "{\"healthy\":false,\"failing\":[\"offset\",\"drain\"],"));
	assert_non_null(strstr(buf, "\"reasons\":[\"offset 0.250000 s over 0.100000 s\",\"drain file present\"]"));
	assert_non_null(strstr(buf, "\"drain\":\"failing\""));
	assert_non_null(strstr(buf, "\"link_down\":\"ok\""));
	assert_int_equal(buf[n - 1], '}');
	/* Too small: cut, terminated, and the length it needs. */
	assert_int_equal(dpn_health_json(&v, small, sizeof(small)), n);
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

/* A reader never sees half a verdict: the writer alternates between two
 * verdicts whose fields agree with each other. */
static struct rig race;
static volatile int race_done;

static void *
race_writer(void *arg)
{
	unsigned int i;

	(void)arg;
	for (i = 0; i < 200000; i++) {
		race.in.drain = i & 1;
		race.in.offset_ns = (i & 1) ? 500 * MS : 1 * MS;
		race.in.now_ns += 1000;
		dpn_health_eval(&race.h, &race.in);
	}
	race_done = 1;
	return NULL;
}

static void
test_read_consistent(void **state)
{
	struct dpn_health_verdict v;
	pthread_t t;
	unsigned long reads = 0;

	(void)state;
	rig_init(&race);
	dpn_health_eval(&race.h, &race.in);
	assert_int_equal(pthread_create(&t, NULL, race_writer, NULL), 0);
	while (!race_done && reads < 50000000) {
		dpn_health_read(&race.h, &v);
		assert_true(v.valid);
		if (v.offset_ns == 500 * MS)
			assert_int_equal(v.failing, BIT(OFFSET) | BIT(DRAIN));
		else
			assert_int_equal(v.failing, 0);
		reads++;
	}
	pthread_join(t, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_not_evaluated),
		cmocka_unit_test(test_healthy),
		cmocka_unit_test(test_unsynchronized),
		cmocka_unit_test(test_offset_threshold),
		cmocka_unit_test(test_distance_threshold),
		cmocka_unit_test(test_reference_lost_after_holdover),
		cmocka_unit_test(test_reference_age),
		cmocka_unit_test(test_worker_stall),
		cmocka_unit_test(test_stall_needs_time_not_turns),
		cmocka_unit_test(test_link_and_drain),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_text_and_json),
		cmocka_unit_test(test_read_consistent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
