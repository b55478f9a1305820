/*
 * http_wait.c - suspended connections resumed at their time (see
 * http_wait.h).
 *
 * A binary heap of (due time, connection), earliest first, under one
 * mutex, and one thread, started at the first wait, that sleeps on a
 * condition variable (CLOCK_MONOTONIC) until the earliest is due, takes
 * every due entry off and resumes those connections outside the mutex.
 * A suspended connection is not processed by libmicrohttpd at all, so it
 * cannot end (and be freed) before it is resumed: the pointers stay valid.
 */
#include "http_wait.h"
#include "log.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

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

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* Takes off every waiter due by `by` into out (room for count); returns how many. */
static int take_due(int64_t by, struct MHD_Connection **out)
{
    int n = 0;
    while (count > 0 && heap[0].due_ms <= by)
        out[n++] = pop();
    return n;
}

static void *run(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "http-wait");
    struct MHD_Connection **due = NULL;
    int due_cap = 0;
    pthread_mutex_lock(&mutex);
    for (;;) {
        if (count == 0) {
            pthread_cond_wait(&changed, &mutex);
            continue;
        }
        int64_t wait = heap[0].due_ms - now_ms();
        if (wait > 0) {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_sec += (time_t)(wait / 1000);
            until.tv_nsec += (long)(wait % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&changed, &mutex, &until);
            continue; /* a new earliest, or the time has come: look again */
        }
        if (due_cap < count) {
            struct MHD_Connection **more = realloc(due, (size_t)count * sizeof *more);
            if (!more) { /* resume one at a time then */
                struct MHD_Connection *c = pop();
                pthread_mutex_unlock(&mutex);
                MHD_resume_connection(c);
                pthread_mutex_lock(&mutex);
                continue;
            }
            due = more;
            due_cap = count;
        }
        int n = take_due(now_ms(), due);
        pthread_mutex_unlock(&mutex);
        for (int i = 0; i < n; i++)
            MHD_resume_connection(due[i]);
        pthread_mutex_lock(&mutex);
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
        heap[count] = (waiter){now_ms() + ms, conn};
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
    flushed = true;
    struct MHD_Connection **all = count ? malloc((size_t)count * sizeof *all) : NULL;
    int n = 0;
    while (count > 0) {
        struct MHD_Connection *c = pop();
        if (all)
            all[n++] = c;
        else
            MHD_resume_connection(c); /* out of memory: under the mutex, as it must */
    }
    pthread_mutex_unlock(&mutex);
    for (int i = 0; i < n; i++)
        MHD_resume_connection(all[i]);
    free(all);
}

int http_wait_count(void)
{
    pthread_mutex_lock(&mutex);
    int n = count;
    pthread_mutex_unlock(&mutex);
    return n;
}
