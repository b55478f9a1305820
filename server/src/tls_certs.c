/*
 * tls_certs.c - make and keep the local CA and the server certificate
 * (see tls_certs.h). OpenSSL 3; every file is written to a temporary name
 * and renamed, keys with mode 0600, so a crash never leaves half a key.
 */
#include "tls_certs.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CA_DAYS (10 * 365)
#define SERVER_DAYS 825
#define RENEW_BEFORE_DAYS 30
#define NAMES_MAX 4096
#define PEM_MAX (1024 * 1024)

/* Names every emulator certificate carries: local use, and the real cloud's
 * MQTT hosts so that firmware whose DNS points here verifies the name. */
static const char *const FIXED_NAMES[] = {
    "DNS:localhost", "IP:127.0.0.1", "IP:::1",
    "DNS:*.iot-as-mqtt.cn-shanghai.aliyuncs.com", "DNS:*.mqtt.iothub.aliyuncs.com",
};

/* Puts OpenSSL's last error after `what` into err; returns -1. */
static int ssl_fail(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_get_error();
    char reason[256] = "";
    if (e)
        ERR_error_string_n(e, reason, sizeof reason);
    snprintf(err, errlen, "%s%s%s", what, e ? ": " : "", reason);
    ERR_clear_error();
    return -1;
}

/* Appends "KIND:value" to the comma-separated list unless already there. */
static void add_name(char *names, const char *kind, const char *value)
{
    char item[300];
    if ((size_t)snprintf(item, sizeof item, "%s:%s", kind, value) >= sizeof item || !value[0])
        return;
    size_t ilen = strlen(item);
    for (const char *p = names; (p = strstr(p, item)) != NULL; p += ilen)
        if ((p == names || p[-1] == ',') && (p[ilen] == ',' || p[ilen] == '\0'))
            return;
    size_t n = strlen(names);
    if (n + ilen + 2 < NAMES_MAX)
        snprintf(names + n, NAMES_MAX - n, "%s%s", n ? "," : "", item);
}

/* Adds a host: an IP literal as IP:, anything else as DNS:. */
static void add_host(char *names, const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    int ip = inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
    add_name(names, ip ? "IP" : "DNS", host);
}

/* Every address of this machine's interfaces (bound to 0.0.0.0 or ::). */
static void add_local_addresses(char *names, int family)
{
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list) != 0)
        return;
    for (struct ifaddrs *i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr || !(i->ifa_flags & IFF_UP))
            continue;
        char text[INET6_ADDRSTRLEN];
        if (i->ifa_addr->sa_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, text, sizeof text);
        else if (family == AF_INET6 && i->ifa_addr->sa_family == AF_INET6 &&
                 !IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr))
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, text, sizeof text);
        else
            continue;
        add_name(names, "IP", text);
    }
    freeifaddrs(list);
}

/* The subjectAltName list the server certificate must carry for cfg. */
static void wanted_names(const config *cfg, char names[NAMES_MAX])
{
    names[0] = '\0';
    for (size_t i = 0; i < sizeof FIXED_NAMES / sizeof FIXED_NAMES[0]; i++) {
        const char *colon = strchr(FIXED_NAMES[i], ':');
        char kind[8];
        snprintf(kind, sizeof kind, "%.*s", (int)(colon - FIXED_NAMES[i]), FIXED_NAMES[i]);
        add_name(names, kind, colon + 1);
    }
    if (!strcmp(cfg->bind, "0.0.0.0"))
        add_local_addresses(names, AF_INET);
    else if (!strcmp(cfg->bind, "::"))
        add_local_addresses(names, AF_INET6);
    else
        add_host(names, cfg->bind);
    /* The public URL's host: http(s)://host[:port][/...] or [v6]. */
    const char *h = strstr(cfg->public_url, "://");
    if (h) {
        h += 3;
        char host[256];
        size_t n = *h == '[' ? strcspn(h + 1, "]") : strcspn(h, ":/");
        if (n > 0 && n < sizeof host) {
            memcpy(host, *h == '[' ? h + 1 : h, n);
            host[n] = '\0';
            add_host(names, host);
        }
    }
    for (const char *p = cfg->tls_san; *p;) {
        size_t n = strcspn(p, ",");
        char host[256];
        if (n > 0 && n < sizeof host) {
            memcpy(host, p, n);
            host[n] = '\0';
            add_host(names, host);
        }
        p += n + (p[n] == ',');
    }
}

/* Writes data produced by write_fn to path atomically, with mode. */
static int write_file(const char *path, mode_t mode, int (*write_fn)(FILE *, void *), void *obj,
                      char *err, size_t errlen)
{
    char tmp[760];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    int ok = write_fn(f, obj) == 1;
    ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
    if (fclose(f) != 0 || !ok || rename(tmp, path) != 0) {
        unlink(tmp);
        snprintf(err, errlen, "cannot write %s", path);
        return -1;
    }
    return 0;
}

static int write_key(FILE *f, void *key) { return PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL); }
static int write_cert(FILE *f, void *cert) { return PEM_write_X509(f, cert); }

static EVP_PKEY *read_key(const char *path)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    return key;
}

static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    return cert;
}

/* Adds one extension given in OpenSSL's configuration syntax. */
static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = ext && X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* A random positive 128-bit serial number. */
static int set_serial(X509 *cert)
{
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1)
        return 0;
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
    BN_free(bn);
    return ok;
}

/* Version 3, validity from an hour ago for `days`, key, subject and issuer. */
static int set_identity(X509 *cert, EVP_PKEY *key, const char *cn, int days, X509 *issuer)
{
    X509_NAME *name = X509_get_subject_name(cert);
    return X509_set_version(cert, 2) && X509_gmtime_adj(X509_getm_notBefore(cert), -3600) &&
           X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 86400L) && X509_set_pubkey(cert, key) &&
           X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"haas-emu", -1, -1, 0) &&
           X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) &&
           X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
}

/* The extensions of a CA (issuer NULL: self-signed) or of a server
 * certificate with subjectAltName `san` (may be NULL). */
static int set_extensions(X509 *cert, X509 *issuer, const char *san)
{
    if (!issuer)
        return add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
               add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign") &&
               add_ext(cert, cert, NID_subject_key_identifier, "hash");
    return add_ext(cert, issuer, NID_basic_constraints, "critical,CA:FALSE") &&
           add_ext(cert, issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
           add_ext(cert, issuer, NID_ext_key_usage, "serverAuth") &&
           add_ext(cert, issuer, NID_subject_key_identifier, "hash") &&
           add_ext(cert, issuer, NID_authority_key_identifier, "keyid") &&
           (!san || add_ext(cert, issuer, NID_subject_alt_name, san));
}

/*
 * A new certificate for `key` named `cn`, valid `days`, signed by
 * issuer/issuer_key (self-signed when issuer is NULL), with `san` (may be
 * NULL) as subjectAltName. NULL on failure.
 */
static X509 *make_cert(EVP_PKEY *key, const char *cn, int days, X509 *issuer, EVP_PKEY *issuer_key,
                       const char *san)
{
    X509 *cert = X509_new();
    if (!cert || !set_serial(cert) || !set_identity(cert, key, cn, days, issuer) ||
        !set_extensions(cert, issuer, san) || X509_sign(cert, issuer ? issuer_key : key, EVP_sha256()) <= 0) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

/* Reads a small text file (the names a certificate was made for). */
static void read_text(const char *path, char *out, size_t n)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t got = fread(out, 1, n - 1, f);
    out[got] = '\0';
    fclose(f);
}

static int write_text(FILE *f, void *text) { return fputs(text, f) >= 0; }

/* The CA: loaded when both files are there and agree, made otherwise. */
static int load_or_make_ca(const char *dir, X509 **ca, EVP_PKEY **ca_key, tls_files *out, char *err,
                           size_t errlen)
{
    char key_path[720];
    snprintf(out->ca_path, sizeof out->ca_path, "%s/ca.pem", dir);
    snprintf(key_path, sizeof key_path, "%s/ca.key", dir);
    *ca = read_cert(out->ca_path);
    *ca_key = read_key(key_path);
    if (*ca && *ca_key && X509_check_private_key(*ca, *ca_key) == 1)
        return 0;
    if (*ca || *ca_key)
        log_msg(LOG_WARN, "%s or its key is unreadable or does not match: making a new CA "
                          "(devices must be given the new ca.pem)", out->ca_path);
    X509_free(*ca);
    EVP_PKEY_free(*ca_key);
    *ca_key = EVP_RSA_gen(2048);
    *ca = *ca_key ? make_cert(*ca_key, "haas-emu local CA", CA_DAYS, NULL, NULL, NULL) : NULL;
    if (!*ca)
        return ssl_fail(err, errlen, "cannot make the local CA");
    if (write_file(key_path, 0600, write_key, *ca_key, err, errlen) < 0 ||
        write_file(out->ca_path, 0644, write_cert, *ca, err, errlen) < 0)
        return -1;
    log_msg(LOG_INFO, "made a local CA for TLS: %s (hand it to devices, or GET /api/v1/ca.pem)", out->ca_path);
    return 0;
}

/* Is the existing server certificate still right: same names, signed by
 * this CA, matching its key, not about to expire? */
static int server_cert_current(const tls_files *f, X509 *ca, const char *names_path, const char *names)
{
    char had[NAMES_MAX];
    read_text(names_path, had, sizeof had);
    if (strcmp(had, names) != 0)
        return 0;
    X509 *cert = read_cert(f->cert_path);
    EVP_PKEY *key = read_key(f->key_path);
    EVP_PKEY *ca_pub = X509_get0_pubkey(ca);
    time_t renew = time(NULL) + RENEW_BEFORE_DAYS * 86400L;
    int ok = cert && key && ca_pub && X509_check_private_key(cert, key) == 1 && X509_verify(cert, ca_pub) == 1 &&
             X509_cmp_time(X509_get0_notAfter(cert), &renew) > 0;
    X509_free(cert);
    EVP_PKEY_free(key);
    return ok;
}

/* The user's own certificate and key: readable and matching. */
static int use_own_cert(const config *cfg, tls_files *out, char *err, size_t errlen)
{
    if (!cfg->tls_cert[0] || !cfg->tls_key[0]) {
        snprintf(err, errlen, "--tls-cert and --tls-key go together");
        return -1;
    }
    X509 *cert = read_cert(cfg->tls_cert);
    EVP_PKEY *key = read_key(cfg->tls_key);
    int ok = cert && key && X509_check_private_key(cert, key) == 1;
    X509_free(cert);
    EVP_PKEY_free(key);
    if (!ok) {
        ERR_clear_error();
        snprintf(err, errlen, "--tls-cert %s and --tls-key %s must be a readable PEM certificate and its "
                              "private key", cfg->tls_cert, cfg->tls_key);
        return -1;
    }
    snprintf(out->cert_path, sizeof out->cert_path, "%s", cfg->tls_cert);
    snprintf(out->key_path, sizeof out->key_path, "%s", cfg->tls_key);
    out->ca_path[0] = '\0';
    return 0;
}

int tls_certs_prepare(const config *cfg, tls_files *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (cfg->tls_cert[0] || cfg->tls_key[0])
        return use_own_cert(cfg, out, err, errlen);
    char dir[600], names_path[720];
    snprintf(dir, sizeof dir, "%s/tls", cfg->data_dir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(out->cert_path, sizeof out->cert_path, "%s/server.pem", dir);
    snprintf(out->key_path, sizeof out->key_path, "%s/server.key", dir);
    snprintf(names_path, sizeof names_path, "%s/server.names", dir);
    X509 *ca = NULL;
    EVP_PKEY *ca_key = NULL;
    char *names = malloc(NAMES_MAX);
    int rc = names ? load_or_make_ca(dir, &ca, &ca_key, out, err, errlen) : -1;
    if (rc == 0) {
        wanted_names(cfg, names);
        if (!server_cert_current(out, ca, names_path, names)) {
            EVP_PKEY *key = EVP_RSA_gen(2048);
            X509 *cert = key ? make_cert(key, "haas-emu", SERVER_DAYS, ca, ca_key, names) : NULL;
            if (!cert)
                rc = ssl_fail(err, errlen, "cannot make the server certificate");
            else if (write_file(out->key_path, 0600, write_key, key, err, errlen) < 0 ||
                     write_file(out->cert_path, 0644, write_cert, cert, err, errlen) < 0 ||
                     write_file(names_path, 0644, write_text, names, err, errlen) < 0)
                rc = -1;
            else
                log_msg(LOG_INFO, "made a TLS server certificate for %s", names);
            X509_free(cert);
            EVP_PKEY_free(key);
        }
    } else if (!names) {
        snprintf(err, errlen, "out of memory");
    }
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    free(names);
    return rc;
}

char *tls_read_pem(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return NULL;
    }
    size_t size = st.st_size > 0 && st.st_size <= PEM_MAX ? (size_t)st.st_size : 0;
    char *buf = size ? malloc(size + 1) : NULL;
    size_t n = buf ? fread(buf, 1, size, f) : 0;
    fclose(f);
    if (!buf || n != size) {
        free(buf);
        snprintf(err, errlen, "%s is empty, too large or unreadable", path);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}
