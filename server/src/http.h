/*
 * http.h - what a request handler sees: the request, its body, and the calls
 * that answer it. http_server.c runs libmicrohttpd and fills an http_request
 * for each request; routes.c maps method and path to a handler; the api_*.c
 * and download.c files are the handlers.
 *
 * Every handler answers exactly once through one of the reply_* calls and
 * returns what that call returned (an MHD_Result).
 */
#ifndef HAAS_HTTP_H
#define HAAS_HTTP_H

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <stdint.h>

#include "text_buf.h"

#define HTTP_MAX_PARAMS 4
#define HTTP_MAX_JSON_BODY (1024 * 1024)

struct upload;
struct route;

typedef struct http_request {
    struct MHD_Connection *conn;
    const char *method;        /* "GET", "POST", ... ("HEAD" is served as GET) */
    const char *path;          /* decoded path, without the query */
    const struct route *route; /* NULL when nothing matched */
    char params[HTTP_MAX_PARAMS][160]; /* captured {segments} of the route */
    int nparams;

    char *body;                /* JSON routes: the body, NUL-terminated */
    size_t body_len;
    int64_t discarded;         /* bytes dropped after an error was decided */
    struct upload *upload;     /* upload routes: the package being received */

    /* A download to put on the timeline (timeline.h) once it ends: its
     * detail as JSON text without the closing brace, and who it was for. */
    char *timeline_note;
    int64_t started_ms;
    char note_task[48], note_pk[16], note_dn[40];

    /* Work a handler runs off the server's threads (http_run_aside): set
     * while it runs, and when the handler is called again to answer. */
    void *aside;

    /* What a handler keeps for when it is called again after a wait
     * (http_answer_later): NULL until then; freed with the request. */
    void *later;

    /* An error decided while the body was still arriving; sent at the end. */
    unsigned early_status;
    const char *early_code;
    char early_message[300];
} http_request;

/*
 * Runs work(r) on a thread of its own while the connection waits
 * (suspended), so that a long request (a push to 100,000 devices) does not
 * hold up the other connections of its server thread; r->aside is set to
 * aside meanwhile. When work returns, the route's handler is called again
 * with r->aside still set, to answer (and free aside). Returns MHD_YES, or
 * runs work at once (r->aside set as well) when no thread can be started.
 */
enum MHD_Result http_run_aside(http_request *r, void *aside, void (*work)(http_request *r));

/*
 * Answers later: the connection waits ms milliseconds (real time) without
 * holding up its server thread (http_wait.h), then the route's handler is
 * called again with r->later set to later (malloc'ed, freed with the
 * request). Returns MHD_YES; when no wait can be had (out of memory, the
 * server stopping), calls the handler again at once, r->later set.
 */
enum MHD_Result http_answer_later(http_request *r, int64_t ms, void *later);

/* Value of query parameter key (decoded), or NULL. */
const char *http_query(http_request *r, const char *key);

/* Value of request header name, or NULL. */
const char *http_header(http_request *r, const char *name);

/* Answers with body as JSON (NULL = no body) and frees it. */
enum MHD_Result reply_json(http_request *r, unsigned status, cJSON *body);

/*
 * A JSON array built as text one element at a time (text_buf.h, its
 * elements comma-separated): json_list_add() prints an element and frees
 * it at once, so a list of 100,000 task devices costs its text (about 13
 * MB), not a tree of every element (about 70 MB more; haas-emu's peak
 * memory in bench-100k). Start from json_list l = {0}.
 */
typedef text_buf json_list;

/* Appends item (printed, then freed; NULL counts as out of memory). 0 or -1. */
int json_list_add(json_list *l, cJSON *item);

/*
 * Answers with body (an object) and, as its last member named key, the
 * array l holds; frees body and l's text. A 500 when l ran out of memory.
 */
enum MHD_Result reply_json_list(http_request *r, unsigned status, cJSON *body, const char *key, json_list *l);

/* Answers {"code":code,"message":...}. */
enum MHD_Result reply_error(http_request *r, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Answers with a prepared response (adds nothing, destroys it). */
enum MHD_Result reply_response(http_request *r, unsigned status, struct MHD_Response *resp);

/*
 * Parses the body as a JSON object. On failure answers 400 InvalidJson (and
 * stores the MHD result in *result) and returns NULL. Free with cJSON_Delete.
 */
cJSON *http_json_object(http_request *r, enum MHD_Result *result);

/*
 * Reads ?offset=&limit= (defaults 0 and 50, limit at most 500). On a bad
 * value answers 400 InvalidParameter, stores the result and returns -1.
 */
int http_paging(http_request *r, int *offset, int *limit, enum MHD_Result *result);

/* Wraps items in the list envelope {"items","total","offset","limit"}. */
cJSON *http_list(cJSON *items, long total, int offset, int limit);

/* Remembers an error to send once the body has been read (first one wins). */
void http_fail_later(http_request *r, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ISO 8601 UTC text of a Unix time into out (21 bytes), or JSON null. */
cJSON *json_time(int64_t t);

#endif
