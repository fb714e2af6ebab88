/*
 * fs_stat.c -- libuv "fs-stat" peer benchmark.
 *
 * Measures: cost of one asynchronous stat through the thread pool.  A
 * 10-byte file is made in $TMPDIR (or /tmp) with mkstemp; 100,000 uv_fs_t
 * (one array) are queued with uv_fs_stat on its path, all before the loop
 * runs; then uv_run(UV_RUN_DEFAULT) until every callback ran (each checks
 * the size and calls uv_fs_req_cleanup).  Default pool of 4 threads, started
 * inside the timed region by the first request.  libuv 1.44 has no io_uring
 * backend, so every stat goes through the pool.  Timed from before the
 * first uv_fs_stat to uv_run's return; reported figure is ns per stat.
 */
#include "bench_common.h"

#include <string.h>
#include <unistd.h>

#define NUM_STATS 100000

static int done;

static void stat_cb(uv_fs_t* req) {
  CHECK(req->result == 0);
  CHECK(req->statbuf.st_size == 10);
  uv_fs_req_cleanup(req);
  done++;
}

int main(void) {
  uv_loop_t* loop = uv_default_loop();
  const char* tmp = getenv("TMPDIR");
  char path[4096];
  uv_fs_t* reqs;
  uint64_t t0, t1;
  int fd, i;

  snprintf(path, sizeof(path), "%s/bench-fs-stat.XXXXXX",
           tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
  fd = mkstemp(path);
  CHECK(fd >= 0);
  CHECK(write(fd, "loop-bench", 10) == 10);
  CHECK(close(fd) == 0);

  reqs = malloc(NUM_STATS * sizeof(reqs[0]));
  CHECK(reqs != NULL);

  t0 = uv_hrtime();
  for (i = 0; i < NUM_STATS; i++)
    CHECK_UV(uv_fs_stat(loop, &reqs[i], path, stat_cb));
  CHECK_UV(uv_run(loop, UV_RUN_DEFAULT));
  t1 = uv_hrtime();

  CHECK(done == NUM_STATS);
  report("fs-stat", t1 - t0, NUM_STATS);

  unlink(path);
  free(reqs);
  return 0;
}
