/*
 * service_result.c - how service calls end (see service.h).
 */
#include "service.h"

#include <stdarg.h>
#include <stdio.h>

const char service_not_text[] = "";

service_status service_ok(service_result *res)
{
    res->status = SERVICE_OK;
    res->code = NULL;
    res->message[0] = '\0';
    return SERVICE_OK;
}

service_status service_fail(service_result *res, service_status status, const char *code, const char *fmt, ...)
{
    res->status = status;
    res->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof res->message, fmt, ap);
    va_end(ap);
    return status;
}

service_status service_storage_error(service_result *res, const char *what)
{
    if (store_disk_full())
        return service_fail(res, SERVICE_FULL, "InsufficientStorage", "cannot %s: the disk is full", what);
    return service_fail(res, SERVICE_ERROR, "StorageError", "cannot %s", what);
}
