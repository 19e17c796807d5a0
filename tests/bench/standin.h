/* standin.h - what the load bench's two stand-ins for the daemon (relay.c
 * and lean.c) share: a listener per event loop on one port, and the loops
 * run one per thread.  The kernel spreads the connections over the loops
 * (SO_REUSEPORT), so on two cores two loops are a stand-in's best case. */
#ifndef HOTLINE_BENCH_STANDIN_H
#define HOTLINE_BENCH_STANDIN_H

#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* An evhttp on base, listening on 127.0.0.1:port beside the other loops'. */
static struct evhttp *standin_http(struct event_base *base, int port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct evhttp *http = evhttp_new(base);
    if (!http)
        return NULL;
    struct evconnlistener *lis = evconnlistener_new_bind(
        base, NULL, NULL, LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_FREE, 1024,
        (struct sockaddr *)&sin, sizeof sin);
    if (!lis || !evhttp_bind_listener(http, lis)) {
        if (lis)
            evconnlistener_free(lis);
        evhttp_free(http);
        return NULL;
    }
    return http;
}

static void *standin_dispatch(void *base)
{
    event_base_dispatch(base);
    return NULL;
}

/* Runs bases[1..n-1] on threads of their own and bases[0] on the caller's,
 * until the bench's SIGTERM ends the process (its default action: neither
 * stand-in has anything to flush that it has not already acknowledged). */
static int standin_serve(const char *name, struct event_base **bases, int n)
{
    for (int i = 1; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, standin_dispatch, bases[i]) != 0) {
            fprintf(stderr, "%s: cannot start thread %d\n", name, i);
            return 1;
        }
    }
    standin_dispatch(bases[0]);
    return 0;
}

#endif
