/* Store search latency over 10,000 listings (make bench-store): the evaluation listings
 * (tests/data/store) varied to 10,000 documents, the evaluation queries run repeatedly;
 * prints index build time and search latency p50 / p99. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "leben/market_store.h"

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	const char *root = getenv("LEBEN_ROOT") ? getenv("LEBEN_ROOT") : ".";
	char path[1024];
	json_error_t je;
	snprintf(path, sizeof path, "%s/tests/data/store/listings.json", root);
	json_t *ls = json_load_file(path, 0, &je);
	snprintf(path, sizeof path, "%s/tests/data/store/queries.json", root);
	json_t *qs = json_load_file(path, 0, &je);
	if (!ls || !qs) {
		fprintf(stderr, "bench_store: cannot read tests/data/store: %s\n", je.text);
		return 1;
	}
	struct lb_store_index *x;
	struct lb_errmsg em;
	if (lb_store_index_open(&x, &em)) {
		fprintf(stderr, "bench_store: %s\n", em.text);
		return 1;
	}
	double t0 = now_ms();
	size_t n = json_array_size(ls);
	for (size_t i = 0; i < 10000; i++) {
		json_t *d = json_deep_copy(json_array_get(ls, i % n));
		char id[65], title[400];
		snprintf(id, sizeof id, "%064zx", i);
		snprintf(title, sizeof title, "%s v%zu",
			 json_string_value(json_object_get(d, "title")), i / n + 1);
		json_object_set_new(d, "id", json_string(id));
		json_object_set_new(d, "title", json_string(title));
		if (lb_store_index_put(x, d, &em)) {
			fprintf(stderr, "bench_store: %s\n", em.text);
			return 1;
		}
		json_decref(d);
	}
	double build = now_ms() - t0;
	size_t nq = json_array_size(qs), runs = nq * 5;
	double *lat = malloc(runs * sizeof *lat);
	for (size_t r = 0; r < runs; r++) {
		const char *q = json_string_value(json_object_get(json_array_get(qs, r % nq), "query"));
		struct lb_store_hit *h;
		size_t nh;
		double s = now_ms();
		if (lb_store_index_search(x, q, 20, &h, &nh, NULL, &em)) {
			fprintf(stderr, "bench_store: %s\n", em.text);
			return 1;
		}
		lat[r] = now_ms() - s;
		lb_free(h);
	}
	qsort(lat, runs, sizeof *lat, cmp);
	printf("store search over %zu listings: index built in %.0f ms; %zu searches: p50 %.2f ms, "
	       "p99 %.2f ms\n",
	       lb_store_index_count(x), build, runs, lat[runs / 2], lat[runs * 99 / 100]);
	free(lat);
	lb_store_index_close(x);
	json_decref(ls);
	json_decref(qs);
	return 0;
}
