/*
 * api_page.c - the one way lists are answered (see api_shared.h).
 */
#include "api_shared.h"
#include "db.h"

enum MHD_Result api_page(http_request *r, const char *items_sql, const char *count_sql, const char *p1,
                         const char *p2, api_row_fn row)
{
    enum MHD_Result ret;
    int offset, limit;
    if (http_paging(r, &offset, &limit, &ret) < 0)
        return ret;
    sqlite3 *db = db_lock();
    cJSON *items = cJSON_CreateArray();
    sqlite3_stmt *st = db_prepare(db, items_sql);
    if (st) {
        if (p1)
            sqlite3_bind_text(st, 1, p1, -1, SQLITE_TRANSIENT);
        if (p2)
            sqlite3_bind_text(st, 2, p2, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 3, limit);
        sqlite3_bind_int(st, 4, offset);
        while (sqlite3_step(st) == SQLITE_ROW)
            cJSON_AddItemToArray(items, row(db, st));
        sqlite3_finalize(st);
    }
    int64_t total = db_int(db, count_sql, p1, p2);
    db_unlock();
    if (!st || total < 0) {
        cJSON_Delete(items);
        return reply_error(r, 500, "StorageError", "cannot read the list");
    }
    return reply_json(r, 200, http_list(items, (long)total, offset, limit));
}
