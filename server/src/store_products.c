/*
 * store_products.c - the products table (see store_products.h).
 */
#include "store_products.h"
#include "db.h"

#define PRODUCT_COLUMNS \
    "p.product_key, p.name, p.created_at, " \
    "(SELECT COALESCE(SUM(n), 0) FROM device_counts c WHERE c.product_key = p.product_key)"

static void read_product(sqlite3_stmt *st, void *out)
{
    store_product *p = out;
    db_copy(p->product_key, sizeof p->product_key, st, 0);
    db_copy(p->name, sizeof p->name, st, 1);
    p->created_at = sqlite3_column_int64(st, 2);
    p->device_count = sqlite3_column_int64(st, 3);
}

store_status store_product_insert(const char *pk, const char *name, int64_t now)
{
    return db_insert("INSERT OR IGNORE INTO products(product_key, name, created_at) VALUES (?1, ?2, ?3)", "ssI", pk,
                     name, now);
}

store_status store_product_get(const char *pk, store_product *out)
{
    return db_one("SELECT " PRODUCT_COLUMNS " FROM products p WHERE p.product_key = ?1", read_product, out, "s", pk);
}

store_status store_product_list(store_page *page)
{
    store_product row;
    return db_page("SELECT " PRODUCT_COLUMNS " FROM products p ORDER BY p.created_at, p.product_key "
                   "LIMIT :limit OFFSET :offset",
                   "SELECT COUNT(*) FROM products", read_product, &row, page, "");
}

store_status store_product_delete(const char *pk)
{
    return db_delete("DELETE FROM products WHERE product_key = ?1", "s", pk);
}
