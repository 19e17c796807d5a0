/* sender.c - the outbox's network thread (see sender.h).
 *
 * Why a thread: under load, a reply's HTTP request (libcurl's work and the
 * kernel's loopback or network path) cost about as much of the loop
 * thread's time as storing and matching the message it answers, and every
 * microsecond of it delayed the acknowledgements of the webhooks waiting
 * behind it.  On its own thread it overlaps with them.
 *
 * Two queues guarded by one mutex carry handles across: 'to_send' from the
 * loop thread, 'finished' back to it.  Each side is woken through an
 * eventfd that its own libevent loop watches, written only when its queue
 * goes from empty to not empty, so a burst of a hundred transfers costs one
 * wake-up each way.  libevent's own threading support is not needed: no
 * event is touched from the other thread. */
#include "bot/sender.h"
#include "bot/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct transfer {
    struct transfer *next, *prev;   /* queue, or (in the thread) the running list */
    CURL *easy;
    CURLcode result;
};

struct sock_ctx {
    struct event *ev;
};

struct tqueue {
    struct transfer *head, **tail;
};

struct sender {
    pthread_mutex_t mu;
    struct tqueue to_send;          /* loop thread -> sending thread */
    struct tqueue finished;         /* and back */
    int stop;
    int started;
    pthread_t thread;

    /* the thread's side */
    int thread_fd;                  /* eventfd: work or stop */
    struct event_base *base;
    struct event *wake_ev, *timer;
    CURLM *multi;
    struct transfer *running;       /* added to the multi handle */

    /* the loop thread's side */
    int main_fd;                    /* eventfd: transfers finished */
    struct event *main_ev;
    sender_done_fn done;
    void *arg;
};

static void poke(int fd)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is already non-zero: the reader will wake. */
    if (write(fd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_error("sender_wake", "error=\"%s\"", strerror(errno));
}

static void drain(int fd)
{
    uint64_t n;
    while (read(fd, &n, sizeof n) > 0)
        ;
}

/* Appends t to q, and wakes q's reader (fd) if q was empty: a reader woken
 * takes everything there is. */
static void push(struct sender *s, struct tqueue *q, struct transfer *t, int fd)
{
    t->next = NULL;
    pthread_mutex_lock(&s->mu);
    int wake = q->head == NULL;
    *q->tail = t;
    q->tail = &t->next;
    pthread_mutex_unlock(&s->mu);
    if (wake)
        poke(fd);
}

/* Takes all of q after its wake-up; *stop tells whether to stop. */
static struct transfer *take(struct sender *s, struct tqueue *q, int fd, int *stop)
{
    drain(fd);
    pthread_mutex_lock(&s->mu);
    struct transfer *list = q->head;
    q->head = NULL;
    q->tail = &q->head;
    if (stop)
        *stop = s->stop;
    pthread_mutex_unlock(&s->mu);
    return list;
}

/* ---- the thread: libcurl's multi interface on its own loop --------------- */

static void check_done(struct sender *s)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(s->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode result = msg->data.result;
        struct transfer *t = NULL;
        for (struct transfer *r = s->running; r; r = r->next)
            if (r->easy == easy) {
                t = r;
                break;
            }
        curl_multi_remove_handle(s->multi, easy);
        if (!t)
            continue;   /* cannot happen: every handle added is on the list */
        if (t->prev)
            t->prev->next = t->next;
        else
            s->running = t->next;
        if (t->next)
            t->next->prev = t->prev;
        t->prev = NULL;
        t->result = result;
        push(s, &s->finished, t, s->main_fd);
    }
}

static void on_socket(evutil_socket_t fd, short what, void *arg)
{
    struct sender *s = arg;
    int action = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(s->multi, fd, action, &running);
    check_done(s);
}

static int socket_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)e;
    struct sender *s = userp;
    struct sock_ctx *ctx = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (ctx) {
            event_free(ctx->ev);
            free(ctx);
            curl_multi_assign(s->multi, fd, NULL);
        }
        return 0;
    }
    short kind = EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    if (!ctx) {
        ctx = calloc(1, sizeof *ctx);
        if (!ctx)
            return -1;
        curl_multi_assign(s->multi, fd, ctx);
    } else {
        event_free(ctx->ev);
    }
    ctx->ev = event_new(s->base, fd, kind, on_socket, s);
    if (!ctx->ev)
        return -1;
    event_add(ctx->ev, NULL);
    return 0;
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sender *s = arg;
    int running;
    curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(s);
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    struct sender *s = userp;
    if (timeout_ms < 0) {
        evtimer_del(s->timer);
        return 0;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(s->timer, &tv);
    return 0;
}

/* New work (or the order to stop) from the loop thread. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct sender *s = arg;
    int stop;
    struct transfer *list = take(s, &s->to_send, fd, &stop);
    for (struct transfer *t = list, *next; t; t = next) {
        next = t->next;
        t->next = s->running;
        t->prev = NULL;
        if (s->running)
            s->running->prev = t;
        s->running = t;
        CURLMcode rc = curl_multi_add_handle(s->multi, t->easy);
        if (rc != CURLM_OK) {
            /* Reported like a transfer that failed to start, so the outbox
             * retries the row. */
            s->running = t->next;
            if (s->running)
                s->running->prev = NULL;
            t->result = CURLE_FAILED_INIT;
            push(s, &s->finished, t, s->main_fd);
        }
    }
    if (stop)
        event_base_loopbreak(s->base);
}

static void *thread_main(void *arg)
{
    struct sender *s = arg;
    event_base_dispatch(s->base);
    return NULL;
}

/* ---- the loop thread's side ---------------------------------------------- */

static void on_finished(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct sender *s = arg;
    struct transfer *list = take(s, &s->finished, fd, NULL);
    for (struct transfer *t = list, *next; t; t = next) {
        next = t->next;
        s->done(s->arg, t->easy, t->result);
        free(t);
    }
}

int sender_submit(struct sender *s, CURL *easy)
{
    struct transfer *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    t->easy = easy;
    push(s, &s->to_send, t, s->thread_fd);
    return 0;
}

static void free_list(struct transfer *t)
{
    while (t) {
        struct transfer *next = t->next;
        free(t);
        t = next;
    }
}

void sender_free(struct sender *s)
{
    if (!s)
        return;
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        s->stop = 1;
        pthread_mutex_unlock(&s->mu);
        poke(s->thread_fd);
        pthread_join(s->thread, NULL);
    }
    /* The thread is gone: what it was running is detached here, and its
     * owner (the outbox) frees the handles. */
    for (struct transfer *t = s->running; t; t = t->next)
        curl_multi_remove_handle(s->multi, t->easy);
    free_list(s->running);
    free_list(s->to_send.head);
    free_list(s->finished.head);
    if (s->multi)
        curl_multi_cleanup(s->multi);   /* after the handles: closes the sockets */
    if (s->wake_ev)
        event_free(s->wake_ev);
    if (s->timer)
        event_free(s->timer);
    if (s->main_ev)
        event_free(s->main_ev);
    if (s->base)
        event_base_free(s->base);
    if (s->thread_fd >= 0)
        close(s->thread_fd);
    if (s->main_fd >= 0)
        close(s->main_fd);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

struct sender *sender_new(struct event_base *main_base, long max_per_host, sender_done_fn done,
                          void *arg)
{
    struct sender *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    s->to_send.tail = &s->to_send.head;
    s->finished.tail = &s->finished.head;
    s->done = done;
    s->arg = arg;
    s->thread_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    s->main_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct event_config *cfg = event_config_new();
    if (cfg)
        event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST | EVENT_BASE_FLAG_NOLOCK);
    s->base = cfg ? event_base_new_with_config(cfg) : NULL;
    if (cfg)
        event_config_free(cfg);
    s->multi = curl_multi_init();
    if (s->thread_fd < 0 || s->main_fd < 0 || !s->base || !s->multi)
        goto fail;
    s->wake_ev = event_new(s->base, s->thread_fd, EV_READ | EV_PERSIST, on_wake, s);
    s->timer = evtimer_new(s->base, on_timeout, s);
    s->main_ev = event_new(main_base, s->main_fd, EV_READ | EV_PERSIST, on_finished, s);
    if (!s->wake_ev || !s->timer || !s->main_ev || event_add(s->wake_ev, NULL) != 0 ||
        event_add(s->main_ev, NULL) != 0)
        goto fail;
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
    curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS, max_per_host);
    /* libcurl sizes its connection cache by the transfers added at the
     * moment, so when the sends in flight fell, kept-alive connections were
     * closed and reopened a moment later (connect() was ~3% of the CPU per
     * message under load).  Keep as many as may be in flight per provider. */
    curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, max_per_host * 2);
    if (pthread_create(&s->thread, NULL, thread_main, s) != 0)
        goto fail;
    s->started = 1;
    return s;
fail:
    log_error("sender_start", "error=\"cannot start the sending thread\"");
    sender_free(s);
    return NULL;
}
