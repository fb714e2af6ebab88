/* uv_echo.c -- the libuv echo server echo-app is compared against.
 *
 * Built against Debian's libuv1-dev (1.44).  As Node.js does internally:
 * one read buffer reused for every read (no allocation per read, no buffer
 * per connection), uv_try_write first, and a uv_write of a copy of the rest
 * only when the kernel did not take everything; reading stops while a
 * connection's write queue is above 64 KiB (backpressure) and resumes
 * below 16 KiB.  TCP_NODELAY on every connection, as echo-app.
 *
 * UDP echo on the same port, as echo-app: each datagram is received into
 * the same loop buffer and sent back to its sender with uv_udp_try_send,
 * or a uv_udp_send of a copy when the socket is full (at most 1024
 * queued; past that the datagram is dropped).
 *
 * Usage: uv_echo PORT   (listens on 127.0.0.1, prints "listening on ...")
 */
#include <uv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HIGH_WATER (64 * 1024)
#define LOW_WATER (16 * 1024)

static uv_loop_t *loop;
static char read_buf[64 * 1024];
static int buf_in_use;

typedef struct {
  uv_write_t req;
  uv_buf_t buf;
} write_req_t;

static void on_close(uv_handle_t *h) { free(h); }

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  /* One buffer for the whole loop: a read is handed back before the next. */
  if (buf_in_use) {
    buf->base = malloc(sizeof(read_buf));
    buf->len = buf->base ? sizeof(read_buf) : 0;
    return;
  }
  buf_in_use = 1;
  buf->base = read_buf;
  buf->len = sizeof(read_buf);
}

static void release(const uv_buf_t *buf) {
  if (buf->base == read_buf)
    buf_in_use = 0;
  else
    free(buf->base);
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void after_write(uv_write_t *req, int status) {
  write_req_t *wr = (write_req_t *)req;
  uv_stream_t *s = req->handle;
  free(wr->buf.base);
  free(wr);
  if (status < 0) {
    if (!uv_is_closing((uv_handle_t *)s)) uv_close((uv_handle_t *)s, on_close);
    return;
  }
  if (s->data && uv_stream_get_write_queue_size(s) <= LOW_WATER &&
      !uv_is_closing((uv_handle_t *)s)) {
    s->data = NULL; /* paused flag */
    uv_read_start(s, alloc_cb, read_cb);
  }
}

static void after_shutdown(uv_shutdown_t *req, int status) {
  (void)status;
  if (!uv_is_closing((uv_handle_t *)req->handle))
    uv_close((uv_handle_t *)req->handle, on_close);
  free(req);
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  if (nread > 0) {
    uv_buf_t b = uv_buf_init(buf->base, (unsigned)nread);
    int n = uv_try_write(s, &b, 1);
    if (n == UV_EAGAIN) n = 0;
    if (n < 0) {
      release(buf);
      uv_close((uv_handle_t *)s, on_close);
      return;
    }
    if (n < nread) {
      write_req_t *wr = malloc(sizeof *wr);
      wr->buf = uv_buf_init(malloc((size_t)(nread - n)), (unsigned)(nread - n));
      memcpy(wr->buf.base, buf->base + n, (size_t)(nread - n));
      if (uv_write(&wr->req, s, &wr->buf, 1, after_write) < 0) {
        free(wr->buf.base);
        free(wr);
        release(buf);
        uv_close((uv_handle_t *)s, on_close);
        return;
      }
      if (uv_stream_get_write_queue_size(s) > HIGH_WATER) {
        uv_read_stop(s);
        s->data = (void *)1;
      }
    }
    release(buf);
    return;
  }
  if (buf->base) release(buf);
  if (nread == UV_EOF) {
    uv_shutdown_t *req = malloc(sizeof *req);
    if (uv_shutdown(req, s, after_shutdown) < 0) {
      free(req);
      uv_close((uv_handle_t *)s, on_close);
    }
  } else if (nread < 0) {
    uv_close((uv_handle_t *)s, on_close);
  }
}

#define UDP_QUEUE 1024

typedef struct {
  uv_udp_send_t req;
  uv_buf_t buf;
} udp_send_t;

static void after_udp_send(uv_udp_send_t *req, int status) {
  (void)status;
  udp_send_t *sr = (udp_send_t *)req;
  free(sr->buf.base);
  free(sr);
}

static void udp_recv_cb(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                        const struct sockaddr *from, unsigned flags) {
  /* nread == 0 with an address is a zero-length datagram. */
  if (nread >= 0 && from != NULL && !(flags & UV_UDP_PARTIAL)) {
    uv_buf_t b = uv_buf_init(buf->base, (unsigned)nread);
    int n = uv_udp_try_send(h, &b, 1, from);
    if (n == UV_EAGAIN && uv_udp_get_send_queue_count(h) < UDP_QUEUE) {
      udp_send_t *sr = malloc(sizeof *sr);
      sr->buf = uv_buf_init(malloc((size_t)nread + 1), (unsigned)nread);
      memcpy(sr->buf.base, buf->base, (size_t)nread);
      if (uv_udp_send(&sr->req, h, &sr->buf, 1, from, after_udp_send) < 0) {
        free(sr->buf.base);
        free(sr);
      }
    }
  }
  if (buf->base) release(buf);
}

static void on_connection(uv_stream_t *server, int status) {
  if (status < 0) return;
  uv_tcp_t *c = malloc(sizeof *c);
  uv_tcp_init(loop, c);
  c->data = NULL;
  if (uv_accept(server, (uv_stream_t *)c) < 0) {
    uv_close((uv_handle_t *)c, on_close);
    return;
  }
  uv_tcp_nodelay(c, 1);
  uv_read_start((uv_stream_t *)c, alloc_cb, read_cb);
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 8080;
  struct sockaddr_in addr;
  uv_tcp_t server;
  loop = uv_default_loop();
  uv_ip4_addr("127.0.0.1", port, &addr);
  uv_tcp_init(loop, &server);
  int r = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
  if (!r) r = uv_listen((uv_stream_t *)&server, 511, on_connection);
  if (r) {
    fprintf(stderr, "error: listen 127.0.0.1:%d: %s\n", port, uv_strerror(r));
    return 1;
  }
  uv_udp_t udp;
  uv_udp_init(loop, &udp);
  r = uv_udp_bind(&udp, (const struct sockaddr *)&addr, 0);
  if (!r) r = uv_udp_recv_start(&udp, alloc_cb, udp_recv_cb);
  if (r) {
    fprintf(stderr, "error: udp bind 127.0.0.1:%d: %s\n", port, uv_strerror(r));
    return 1;
  }
  printf("listening on 127.0.0.1:%d (libuv %s)\n", port, uv_version_string());
  fflush(stdout);
  return uv_run(loop, UV_RUN_DEFAULT);
}
