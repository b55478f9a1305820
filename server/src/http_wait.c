/*
 * http_wait.c - suspended connections resumed at their time (see
 * http_wait.h).
 *
 * A binary heap of (due time, connection), earliest first, under one
 * mutex, and one thread, started at the first wait, that sleeps on a
 * condition variable (CLOCK_MONOTONIC) until the earliest is due, then
 * takes it off and resumes its connection outside the mutex.
 * A suspended connection is not processed by libmicrohttpd at all, so it
 * cannot end (and be freed) before it is resumed: the pointers stay valid.
 */
#include "http_wait.h"
#include "clock.h"
#include "log.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct {
    int64_t due_ms;
    struct MHD_Connection *conn;
} waiter;

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool started; /* the thread runs (false: it could not be started) */
static bool flushed; /* http_wait_flush was called */
static waiter *heap;
static int count, capacity;

static void swap(int a, int b)
{
    waiter t = heap[a];
    heap[a] = heap[b];
    heap[b] = t;
}

static void sift_up(int i)
{
    while (i > 0 && heap[(i - 1) / 2].due_ms > heap[i].due_ms) {
        swap(i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void sift_down(int i)
{
    for (;;) {
        int least = i, l = 2 * i + 1, r = l + 1;
        if (l < count && heap[l].due_ms < heap[least].due_ms)
            least = l;
        if (r < count && heap[r].due_ms < heap[least].due_ms)
            least = r;
        if (least == i)
            return;
        swap(i, least);
        i = least;
    }
}

/* The earliest waiter, taken off the heap. */
static struct MHD_Connection *pop(void)
{
    struct MHD_Connection *c = heap[0].conn;
    heap[0] = heap[--count];
    sift_down(0);
    return c;
}

static void *run(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "http-wait");
    pthread_mutex_lock(&mutex);
    for (;;) {
        if (count == 0) {
            pthread_cond_wait(&changed, &mutex);
        } else if (heap[0].due_ms > clock_monotonic_ms()) {
            struct timespec until = clock_monotonic_after(heap[0].due_ms - clock_monotonic_ms());
            pthread_cond_timedwait(&changed, &mutex, &until); /* a new earliest, or its time came */
        } else {
            struct MHD_Connection *c = pop();
            pthread_mutex_unlock(&mutex);
            MHD_resume_connection(c);
            pthread_mutex_lock(&mutex);
        }
    }
    return NULL;
}

static void start(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&changed, &attr);
    pthread_condattr_destroy(&attr);
    pthread_t thread;
    pthread_attr_t tattr;
    pthread_attr_init(&tattr);
    pthread_attr_setdetachstate(&tattr, PTHREAD_CREATE_DETACHED);
    started = pthread_create(&thread, &tattr, run, NULL) == 0;
    pthread_attr_destroy(&tattr);
    if (!started)
        log_msg(LOG_WARN, "no thread for waiting downloads: download faults wait no more");
}

bool http_wait_suspend(struct MHD_Connection *conn, int64_t ms)
{
    if (ms <= 0)
        return false;
    pthread_once(&once, start);
    pthread_mutex_lock(&mutex);
    bool ok = started && !flushed;
    if (ok && count == capacity) {
        int cap = capacity ? capacity * 2 : 64;
        waiter *more = realloc(heap, (size_t)cap * sizeof *more);
        if (more) {
            heap = more;
            capacity = cap;
        } else {
            ok = false;
        }
    }
    if (ok) {
        /* Suspended before the thread can see it: a resume never comes
         * first. */
        MHD_suspend_connection(conn);
        /* + 1: the clock's whole milliseconds lag the instant by up to one,
         * and a wait must never be shorter than asked (a 2,000 ms stall
         * measured 1,999.96 ms by its client once) */
        heap[count] = (waiter){clock_monotonic_ms() + ms + 1, conn};
        sift_up(count++);
        if (heap[0].conn == conn)
            pthread_cond_signal(&changed);
    }
    pthread_mutex_unlock(&mutex);
    return ok;
}

void http_wait_flush(void)
{
    pthread_mutex_lock(&mutex);
    flushed = true; /* no more waits */
    while (count > 0) {
        struct MHD_Connection *c = pop();
        pthread_mutex_unlock(&mutex);
        MHD_resume_connection(c);
        pthread_mutex_lock(&mutex);
    }
    pthread_mutex_unlock(&mutex);
}
