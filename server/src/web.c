/*
 * web.c - serve the console's static files from --web-dir (see web.h).
 *
 * Only plain files with a known extension, below the web folder, with no
 * hidden or ".." path segment. The console has no build step: these are the
 * files as they are in web/.
 */
#include "web.h"
#include "routes.h"
#include "server.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
    {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
    {".ico", "image/x-icon"}, {".woff2", "font/woff2"}, {".txt", "text/plain; charset=utf-8"},
};

static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return NULL;
}

static int safe(const char *path)
{
    for (const char *p = path; *p;) {
        if (*p == '.' || *p == '/')
            return 0; /* hidden, "..", or an empty segment */
        const char *e = strchr(p, '/');
        if (!e)
            break;
        p = e + 1;
    }
    return strlen(path) < 200 && !strchr(path, '\\');
}

enum MHD_Result web_serve(http_request *r, const char *path, int *found)
{
    *found = 0;
    if (!server.web_dir[0])
        return MHD_NO;
    if (!*path)
        path = "index.html";
    const char *type = content_type(path);
    if (!type || !safe(path))
        return MHD_NO;
    char full[900];
    snprintf(full, sizeof full, "%s/%s", server.web_dir, path);
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0)
        return MHD_NO;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return MHD_NO;
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((size_t)sb.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    *found = 1;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    return reply_response(r, 200, resp);
}

enum MHD_Result web_index(http_request *r)
{
    int found;
    enum MHD_Result ret = web_serve(r, "", &found);
    return found ? ret : api_root(r);
}

enum MHD_Result web_file(http_request *r)
{
    int found;
    enum MHD_Result ret = web_serve(r, r->params[0], &found);
    return found ? ret : reply_error(r, 404, "NotFound", "no such path: %s", r->path);
}
