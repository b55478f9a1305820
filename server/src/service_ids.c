/*
 * service_ids.c - adding a row under a given or generated id (see
 * service.h): products, groups and tasks.
 */
#include "service.h"

#include <stdio.h>

store_status service_insert_id(char *id, size_t idlen, const char *given, int (*make)(char *id, size_t idlen),
                               store_status (*insert)(const char *id, void *ctx), void *ctx)
{
    store_status s = STORE_ERROR;
    for (int attempt = 0; attempt < (given ? 1 : 10); attempt++) {
        if (given)
            snprintf(id, idlen, "%s", given);
        else if (make(id, idlen) < 0)
            return STORE_ERROR;
        s = insert(id, ctx);
        if (s != STORE_EXISTS)
            break;
    }
    return s == STORE_EXISTS && !given ? STORE_ERROR : s;
}
