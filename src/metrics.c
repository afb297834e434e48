/* metrics.c — request counters and latency histograms. */
#include "metrics.h"
#include "http.h"
#include <stdlib.h>
#include <string.h>

static const int statuses[] = {200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 413, 414, 415, 422, 429, 431, 500, 503, 0};
#define NSTATUS (sizeof statuses / sizeof statuses[0]) /* last slot: other */
static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define NBUCKET (sizeof buckets / sizeof buckets[0])

struct route_stats {
	uint64_t count[NSTATUS];
	uint64_t bucket[NBUCKET + 1];
	uint64_t sum_us;
};

static struct route_stats *stats; /* nroutes + 2 */

void metrics_init(void)
{
	if (!stats)
		stats = xcalloc(nroutes + 2, sizeof *stats);
}

static size_t slot_of(int route)
{
	if (route >= 0 && (size_t)route < nroutes)
		return (size_t)route;
	return route == -1 ? nroutes : nroutes + 1;
}

void metrics_record(int route, int status, int64_t micros)
{
	if (!stats)
		return;
	struct route_stats *s = &stats[slot_of(route)];
	size_t i = 0;
	while (statuses[i] && statuses[i] != status)
		i++;
	__atomic_fetch_add(&s->count[i], 1, __ATOMIC_RELAXED);
	double secs = (double)micros / 1e6;
	size_t b = 0;
	while (b < NBUCKET && secs > buckets[b])
		b++;
	__atomic_fetch_add(&s->bucket[b], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->sum_us, (uint64_t)(micros > 0 ? micros : 0), __ATOMIC_RELAXED);
}

static void label(struct buf *o, size_t i)
{
	if (i < nroutes)
		buf_printf(o, "method=\"%s\",route=\"%s\"", routes[i].method, routes[i].path);
	else
		buf_printf(o, "method=\"GET\",route=\"%s\"", i == nroutes ? "static" : "unmatched");
}

void metrics_render(struct buf *o)
{
	metrics_init();
	buf_puts(o, "# HELP carewatch_http_requests_total HTTP requests by route and status.\n"
	            "# TYPE carewatch_http_requests_total counter\n");
	for (size_t i = 0; i < nroutes + 2; i++)
		for (size_t k = 0; k < NSTATUS; k++) {
			uint64_t n = __atomic_load_n(&stats[i].count[k], __ATOMIC_RELAXED);
			if (!n)
				continue;
			buf_puts(o, "carewatch_http_requests_total{");
			label(o, i);
			if (statuses[k])
				buf_printf(o, ",status=\"%d\"} %llu\n", statuses[k], (unsigned long long)n);
			else
				buf_printf(o, ",status=\"other\"} %llu\n", (unsigned long long)n);
		}
	buf_puts(o, "# HELP carewatch_http_request_duration_seconds Request latency.\n"
	            "# TYPE carewatch_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < nroutes + 2; i++) {
		uint64_t total = 0;
		for (size_t b = 0; b <= NBUCKET; b++)
			total += __atomic_load_n(&stats[i].bucket[b], __ATOMIC_RELAXED);
		if (!total)
			continue;
		uint64_t cum = 0;
		for (size_t b = 0; b <= NBUCKET; b++) {
			cum += __atomic_load_n(&stats[i].bucket[b], __ATOMIC_RELAXED);
			buf_puts(o, "carewatch_http_request_duration_seconds_bucket{");
			label(o, i);
			if (b < NBUCKET)
				buf_printf(o, ",le=\"%g\"} %llu\n", buckets[b], (unsigned long long)cum);
			else
				buf_printf(o, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
		}
		buf_puts(o, "carewatch_http_request_duration_seconds_sum{");
		label(o, i);
		buf_printf(o, "} %.6f\n", (double)__atomic_load_n(&stats[i].sum_us, __ATOMIC_RELAXED) / 1e6);
		buf_puts(o, "carewatch_http_request_duration_seconds_count{");
		label(o, i);
		buf_printf(o, "} %llu\n", (unsigned long long)total);
	}
}
