/*
 * api_versions.c - /api/v1/apps/{appId}/versions: upload a package, list,
 * get, deprecate, delete (tutorial 5.3 and 5.7).
 *
 * An upload is accepted only whole: the body is streamed to <data>/tmp
 * (upload.c), checked (package_check.c), then, inside one transaction, the
 * row is inserted and the file renamed into <data>/packages/<appId>/. A
 * rejected upload leaves neither a row nor a file; a crash between rename and
 * commit leaves a file no row names, which start-up removes (datadir.c).
 */
#include "api_shared.h"
#include "db.h"
#include "log.h"
#include "package_check.h"
#include "routes.h"
#include "server.h"
#include "upload.h"
#include "validate.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define VERSION_COLUMNS "app_id, version, object_key, size, md5, sha256, status, created_at"
#define VERSION_ORDER "ORDER BY v_major DESC, v_minor DESC, v_patch DESC"

static cJSON *version_json(sqlite3 *db, sqlite3_stmt *st)
{
    (void)db;
    cJSON *o = cJSON_CreateObject();
    const char *object = db_text(st, 2);
    const char *slash = strrchr(object, '/');
    cJSON_AddStringToObject(o, "appId", db_text(st, 0));
    cJSON_AddStringToObject(o, "version", db_text(st, 1));
    cJSON_AddStringToObject(o, "fileName", slash ? slash + 1 : object);
    cJSON_AddNumberToObject(o, "size", (double)sqlite3_column_int64(st, 3));
    cJSON_AddStringToObject(o, "md5", db_text(st, 4));
    cJSON_AddStringToObject(o, "sha256", db_text(st, 5));
    cJSON_AddStringToObject(o, "status", db_text(st, 6));
    cJSON_AddItemToObject(o, "createdAt", json_time(sqlite3_column_int64(st, 7)));
    int64_t expires = (int64_t)time(NULL) + server.cfg.url_ttl;
    char url[1400];
    if (oss_sign_url(&server.signer, object, expires, url, sizeof url) == 0)
        cJSON_AddStringToObject(o, "url", url);
    cJSON_AddItemToObject(o, "urlExpiresAt", json_time(expires));
    return o;
}

static cJSON *load_version(sqlite3 *db, const char *app, const char *version)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT " VERSION_COLUMNS " FROM versions WHERE app_id = ? AND version = ?");
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
    cJSON *o = sqlite3_step(st) == SQLITE_ROW ? version_json(db, st) : NULL;
    sqlite3_finalize(st);
    return o;
}

static int app_exists(sqlite3 *db, const char *app)
{
    return db_int(db, "SELECT 1 FROM apps WHERE app_id = ?", app, NULL) == 1;
}

/* Checks the file name against the app; 0 or -1 after answering. */
static int check_names(http_request *r, const char *filename, char *name, char *id, char *version,
                       long parts[3], enum MHD_Result *ret)
{
    const char *app = r->params[0];
    const char *code = package_filename_parse(filename, name, id, version);
    if (code) {
        *ret = reply_error(r, 400, code, "file name \"%.100s\" must be <appName>-<appId>-<version>.tar.gz "
                           "with appName 1..16 letters/digits, appId 16 digits starting 88001000 and "
                           "version three dot-separated numbers", filename);
        return -1;
    }
    version_parse(version, parts);
    sqlite3 *db = db_lock();
    int64_t app_named = db_int(db, "SELECT COUNT(*) FROM apps WHERE app_id = ? AND app_name = ?", app, name);
    int exists = app_exists(db, app);
    char pbuf[3][16];
    for (int i = 0; i < 3; i++)
        snprintf(pbuf[i], sizeof pbuf[i], "%ld", parts[i]);
    sqlite3_stmt *st = db_prepare(db, "SELECT version FROM versions WHERE app_id = ? AND v_major = ? AND v_minor = ? AND v_patch = ?");
    char taken[32] = "";
    if (st) {
        sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
        for (int i = 0; i < 3; i++)
            sqlite3_bind_int64(st, i + 2, parts[i]);
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(taken, sizeof taken, "%s", db_text(st, 0));
        sqlite3_finalize(st);
    }
    db_unlock();
    if (!exists) {
        *ret = reply_error(r, 404, "AppNotFound", "no app %s", app);
        return -1;
    }
    if (strcmp(id, app) != 0 || app_named != 1) {
        *ret = reply_error(r, 400, "FileNameMismatch", "file name \"%.100s\" names app %s/%s, not this app (%s)",
                           filename, name, id, app);
        return -1;
    }
    if (taken[0]) {
        *ret = reply_error(r, 409, "VersionExists", "version %s of app %s already exists", taken, app);
        return -1;
    }
    return 0;
}

/* Inserts the row and moves the file in, all or nothing. Returns 0 or -1. */
static int store_version(http_request *r, const char *object, const char *version, const long parts[3],
                         unsigned *status, const char **code)
{
    upload *u = r->upload;
    char dir[1000], final[1400];
    snprintf(dir, sizeof dir, "%s/%s", server.packages_dir, r->params[0]);
    snprintf(final, sizeof final, "%s/%s", server.packages_dir, object);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        log_msg(LOG_ERROR, "mkdir %s: %s", dir, strerror(errno));
        *status = 500, *code = "StorageError";
        return -1;
    }
    sqlite3 *db = db_lock();
    int ok = db_exec(db, "BEGIN IMMEDIATE") == 0;
    int inserted = 0, renamed = 0;
    if (ok) {
        sqlite3_stmt *st = db_prepare(db, "INSERT INTO versions(app_id, version, v_major, v_minor, v_patch, object_key, "
                                          "size, md5, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        if (st) {
            sqlite3_bind_text(st, 1, r->params[0], -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
            for (int i = 0; i < 3; i++)
                sqlite3_bind_int64(st, 3 + i, parts[i]);
            sqlite3_bind_text(st, 6, object, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 7, upload_size(u));
            sqlite3_bind_text(st, 8, upload_md5(u), -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 9, upload_sha256(u), -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 10, time(NULL));
            int rc = sqlite3_step(st);
            inserted = rc == SQLITE_DONE;
            if (!inserted && (sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_PRIMARYKEY ||
                              sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_UNIQUE))
                *status = 409, *code = "VersionExists";
            sqlite3_finalize(st);
        }
    }
    if (inserted) {
        renamed = rename(upload_path(u), final) == 0;
        if (!renamed)
            log_msg(LOG_ERROR, "rename %s -> %s: %s", upload_path(u), final, strerror(errno));
        else
            upload_claim(u);
    }
    if (renamed && db_exec(db, "COMMIT") == 0) {
        db_unlock();
        return 0;
    }
    if (ok)
        db_exec(db, "ROLLBACK");
    db_unlock();
    if (renamed)
        unlink(final);
    if (!*status)
        *status = 500, *code = "StorageError";
    return -1;
}

enum MHD_Result api_version_upload(http_request *r)
{
    enum MHD_Result ret;
    const char *filename = http_query(r, "filename");
    if (!filename || !*filename)
        filename = upload_part_filename(r->upload);
    /* Browsers may send a path ("C:\fakepath\x.tar.gz"): keep the last part. */
    const char *base = filename;
    for (const char *p = filename; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    if (!*base)
        return reply_error(r, 400, "MissingFileName", "give the package file name as ?filename= "
                           "(or as the multipart file name)");
    char name[17], id[17], version[32];
    long parts[3];
    if (check_names(r, base, name, id, version, parts, &ret) < 0)
        return ret;

    package_limits limits = {server.cfg.max_unpacked_size, server.cfg.max_entries, server.cfg.max_ratio};
    package_verdict v;
    if (package_check(upload_path(r->upload), upload_size(r->upload), &limits, name, id, version, &v) < 0)
        return reply_error(r, 400, v.code, "%s", v.message);

    char object[200];
    snprintf(object, sizeof object, "%s/%s", id, base);
    unsigned status = 0;
    const char *code = NULL;
    if (store_version(r, object, version, parts, &status, &code) < 0)
        return status == 409 ? reply_error(r, 409, code, "version %s of app %s already exists", version, id)
                             : reply_error(r, status, code, "cannot store the package");
    log_msg(LOG_INFO, "stored %s (%lld bytes, %d members, md5 %s)", object, (long long)upload_size(r->upload),
            v.entries, upload_md5(r->upload));
    sqlite3 *db = db_lock();
    cJSON *out = load_version(db, id, version);
    db_unlock();
    return out ? reply_json(r, 201, out) : reply_error(r, 500, "StorageError", "cannot read the version back");
}

enum MHD_Result api_version_list(http_request *r)
{
    const char *app = r->params[0];
    sqlite3 *db = db_lock();
    int exists = app_exists(db, app);
    db_unlock();
    if (!exists)
        return reply_error(r, 404, "AppNotFound", "no app %s", app);
    return api_page(r, "SELECT " VERSION_COLUMNS " FROM versions WHERE app_id = ?1 " VERSION_ORDER " LIMIT ?3 OFFSET ?4",
                    "SELECT COUNT(*) FROM versions WHERE app_id = ?1", app, NULL, version_json);
}

/* Answers 404 for a missing app or version; returns 1 when it did. */
static int not_found(http_request *r, sqlite3 *db, enum MHD_Result *ret)
{
    if (!app_exists(db, r->params[0])) {
        *ret = reply_error(r, 404, "AppNotFound", "no app %s", r->params[0]);
        return 1;
    }
    *ret = reply_error(r, 404, "VersionNotFound", "app %s has no version %s", r->params[0], r->params[1]);
    return 1;
}

enum MHD_Result api_version_get(http_request *r)
{
    enum MHD_Result ret;
    sqlite3 *db = db_lock();
    cJSON *o = load_version(db, r->params[0], r->params[1]);
    if (!o)
        not_found(r, db, &ret);
    db_unlock();
    return o ? reply_json(r, 200, o) : ret;
}

enum MHD_Result api_version_deprecate(http_request *r)
{
    enum MHD_Result ret;
    sqlite3 *db = db_lock();
    int changed = db_change(db, "UPDATE versions SET status = 'deprecated' WHERE app_id = ? AND version = ?",
                            r->params[0], r->params[1]);
    cJSON *o = changed > 0 ? load_version(db, r->params[0], r->params[1]) : NULL;
    if (changed == 0)
        not_found(r, db, &ret);
    db_unlock();
    if (changed < 0 || (changed > 0 && !o))
        return reply_error(r, 500, "StorageError", "cannot deprecate the version");
    return o ? reply_json(r, 200, o) : ret;
}

enum MHD_Result api_version_delete(http_request *r)
{
    enum MHD_Result ret;
    const char *app = r->params[0], *version = r->params[1];
    char object[300] = "";
    sqlite3 *db = db_lock();
    sqlite3_stmt *st = db_prepare(db, "SELECT object_key, status FROM versions WHERE app_id = ? AND version = ?");
    int deprecated = 0;
    if (st) {
        sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            snprintf(object, sizeof object, "%s", db_text(st, 0));
            deprecated = !strcmp(db_text(st, 1), "deprecated");
        }
        sqlite3_finalize(st);
    }
    int changed = 0;
    if (!object[0])
        not_found(r, db, &ret);
    else if (deprecated)
        changed = db_change(db, "DELETE FROM versions WHERE app_id = ? AND version = ? AND status = 'deprecated'", app, version);
    db_unlock();
    if (!object[0])
        return ret;
    if (!deprecated)
        return reply_error(r, 409, "VersionNotDeprecated", "deprecate version %s before deleting it", version);
    if (changed != 1)
        return reply_error(r, 500, "StorageError", "cannot delete the version");
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", server.packages_dir, object);
    if (unlink(path) < 0 && errno != ENOENT)
        log_msg(LOG_WARN, "cannot remove %s: %s (removed at next start)", path, strerror(errno));
    return reply_json(r, 204, NULL);
}
