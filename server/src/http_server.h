/*
 * http_server.h - start and stop the HTTP server (libmicrohttpd).
 */
#ifndef HAAS_HTTP_SERVER_H
#define HAAS_HTTP_SERVER_H

#include <stddef.h>

/*
 * Listens on bind:port with threads worker threads. Returns the port bound
 * (useful with port 0), or -1 with a message in err.
 */
int http_server_start(const char *bind, int port, int threads, char *err, size_t errlen);

/*
 * The same server over TLS on bind:port (the routes, the console and
 * package downloads alike), presenting cert_pem with key_pem (PEM text,
 * which must stay valid until http_server_stop). Returns the port bound, or
 * -1 with a message in err.
 */
int http_server_start_tls(const char *bind, int port, int threads, const char *cert_pem, const char *key_pem,
                          char *err, size_t errlen);

/* Stops accepting, finishes in-flight requests, frees everything. */
void http_server_stop(void);

#endif
