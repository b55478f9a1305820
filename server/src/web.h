/*
 * web.h - the console's static files (web/), served by haas-emu itself.
 */
#ifndef HAAS_WEB_H
#define HAAS_WEB_H

#include "http.h"

/*
 * Answers with the file at path (relative to the web folder, "" meaning
 * index.html) if there is one; returns MHD_NO without answering otherwise
 * (*found = 0), so the caller can answer as it sees fit.
 */
enum MHD_Result web_serve(http_request *r, const char *path, int *found);

#endif
