/*
 * config.h - haas-emu's settings: defaults, environment variables, flags.
 *
 * Every flag (haas-emu --help lists them) also has an environment variable; a flag
 * wins over the variable, the variable over the default. config_load() checks
 * every value and says which one is wrong; nothing else in the server parses
 * argv or getenv.
 */
#ifndef HAAS_CONFIG_H
#define HAAS_CONFIG_H

#include <stdint.h>

typedef struct {
    char bind[64];            /* address HTTP (and the managed broker) bind to */
    int http_port;
    int mqtt_port;
    char data_dir[512];
    char public_url[512];     /* base of package URLs, always with a port */
    char firmware_url[512];   /* base of firmware URLs, no port: https://<host of public_url> */
    char broker[256];         /* "HOST:PORT" of an external broker, or "" */
    char broker_username[128];/* service account on the broker */
    char broker_password[128];/* "" with the managed broker: generated */
    char mosquitto[512];      /* the managed broker's executable */
    char broker_plugin[512];  /* haas_auth.so ("" = next to haas-emu) */
    char web_dir[512];        /* the console ("" = web/ of the source tree) */
    char api_token[128];      /* required for /api/v1 ("" = kept in the data dir when bound beyond loopback) */
    int rotate_api_token;     /* make a new kept token at this start */
    char mqtt_extra_ports[128]; /* more plain listeners of the managed broker, "443" */
    int mqtts_port;           /* TLS listener of the managed broker (8883; 0 = none) */
    char mqtts_extra_ports[128]; /* more TLS listeners, "443" */
    int https_port;           /* HTTPS listener of the HTTP server (8443; 0 = none) */
    char tls_cert[512];       /* the user's own certificate (PEM), "" = the local CA's */
    char tls_key[512];        /* its private key */
    char tls_san[512];        /* more names for the local certificate, "a.example,10.0.0.2" */
    char seed[512];           /* JSON file of things to create at start */
    int ephemeral;            /* data in a temporary folder removed at exit */
    char oss_key_id[128];
    char oss_key_secret[128]; /* "" = generated once and kept in the db */
    char oss_bucket[64];
    char access_key_id[128];     /* the Alibaba Cloud IoT API's AccessKey pair (aliyun_api.h); */
    char access_key_secret[128]; /* "" = generated once and kept in the db */
    int url_ttl;              /* seconds a signed package URL stays valid */
    int64_t max_package_size; /* bytes of an uploaded .tar.gz */
    int64_t max_unpacked_size;/* bytes of all files inside a package */
    int max_entries;          /* members of a package */
    int max_ratio;            /* unpacked/packed ratio above which a package
                                 is a decompression bomb (when > 1 MiB) */
    char faults[512];         /* JSON file of fault rules to load at start */
    char clock[16];           /* "real" or "virtual" */
    char clock_start[32];     /* where a virtual clock starts (ISO 8601 UTC) */
    int random_seed;          /* the repeatable id stream's seed (--clock virtual) */
    int task_timeout;         /* seconds a pushed task device may take (0 = no timeout) */
    int http_threads;
    int verbose;
    unsigned char given[64];  /* option i was set by a flag or a variable (config_given) */
} config;

/*
 * Fills *cfg from defaults, the environment and argv. Returns 0 to run, 1 when
 * the process should exit successfully (--help, --version), -1 on a bad value
 * (a message naming it has been printed to stderr).
 */
int config_load(config *cfg, int argc, char **argv);

/* --clock-start in Unix seconds, or -1 when it is not ISO 8601 UTC. */
int64_t config_clock_start(const config *cfg);

/* True when `flag` (e.g. "--mqtt-port") was set by the user, by its flag or
 * its variable, rather than left at its default. */
int config_given(const config *cfg, const char *flag);

#endif
