/*
 * server.h - the state every part of haas-emu shares: the settings, the
 * URL signer, the data directory's folders. Filled once by main() before the
 * HTTP server starts and read-only afterwards.
 */
#ifndef HAAS_SERVER_H
#define HAAS_SERVER_H

#include "config.h"
#include "oss_url.h"
#include "tls_certs.h"

#include <time.h>

typedef struct {
    config cfg;
    oss_signer signer;
    char oss_secret[128];    /* the secret signer.key_secret points to */
    char packages_dir[600];  /* <data>/packages: <appId>/<file>.tar.gz */
    char tmp_dir[600];       /* <data>/tmp: uploads in progress */
    char web_dir[600];       /* the console's files, "" when there is none */
    char api_token[128];     /* "" = the management API is open (loopback) */
    volatile int seeding;    /* a --seed file is being applied: not ready yet */
    tls_files tls;           /* certificate files ("" paths: no TLS at all) */
    char *ca_pem;            /* the local CA as PEM text, NULL with the user's own certificate */
    int https_port;          /* the HTTPS listener's port, 0 when there is none */
    time_t started;
} server_state;

extern server_state server;

#endif
