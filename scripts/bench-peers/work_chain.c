/*
 * work_chain.c -- libuv "work-chain" peer benchmark.
 *
 * Measures: the latency of one thread-pool round trip (loop -> worker ->
 * loop).  20,000 no-op work items, one at a time: each after-work callback
 * queues the next on the same uv_work_t.  The pool has libuv's default 4
 * threads (UV_THREADPOOL_SIZE is removed from the environment by
 * bench-peers.sh) and starts inside the first uv_queue_work, inside the
 * timed region, as loop-fs's does.  Timed from before the first
 * uv_queue_work to uv_run's return; reported figure is ns per item.
 */
#include "bench_common.h"

#define NUM_ITEMS 20000

static uv_work_t req;
static int done;

static void work_cb(uv_work_t* r) {
  (void) r;
}

static void after_work_cb(uv_work_t* r, int status) {
  CHECK(status == 0);
  done++;
  if (done < NUM_ITEMS)
    CHECK_UV(uv_queue_work(r->loop, r, work_cb, after_work_cb));
}

int main(void) {
  uv_loop_t* loop = uv_default_loop();
  uint64_t t0, t1;

  t0 = uv_hrtime();
  CHECK_UV(uv_queue_work(loop, &req, work_cb, after_work_cb));
  CHECK_UV(uv_run(loop, UV_RUN_DEFAULT));
  t1 = uv_hrtime();

  CHECK(done == NUM_ITEMS);
  report("work-chain", t1 - t0, NUM_ITEMS);
  return 0;
}
