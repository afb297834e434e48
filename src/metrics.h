/* metrics.h — Prometheus text metrics: requests by route and status, and a
 * latency histogram. Counters are lock-free atomics; per node. */
#ifndef CW_METRICS_H
#define CW_METRICS_H
#include <stdint.h>
#include "buf.h"

/* Sizes the tables for nroutes routes (+ static files + unmatched). Call once
 * before serving. */
void metrics_init(void);
/* route: index in routes[], or -1 static files, -2 unmatched. */
void metrics_record(int route, int status, int64_t micros);
void metrics_render(struct buf *out);

#endif
