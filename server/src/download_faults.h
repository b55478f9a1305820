/*
 * download_faults.h - a package or firmware answer broken as a download
 * fault asks (faults.h): a body that is cut, stalled, slowed, corrupted or
 * shorter than announced. Served from the file through a reader callback
 * instead of sendfile(2); only ever used while a fault rule fires.
 */
#ifndef HAAS_DOWNLOAD_FAULTS_H
#define HAAS_DOWNLOAD_FAULTS_H

#include "faults.h"
#include "http.h"

#include <stdint.h>

/* The answer of length bytes of file fd from offset first, broken as plan
 * says, for connection conn (a stall or the bandwidth cap suspends it
 * meanwhile: http_wait.h); takes fd (closed with the answer). NULL when
 * out of memory (fd closed). */
struct MHD_Response *download_faulty_response(struct MHD_Connection *conn, int fd, int64_t first, int64_t length,
                                              const fault_download *plan);

/* The client's address as text into buf ("" when unknown); returns buf. */
const char *download_client_ip(http_request *r, char *buf, size_t len);

#endif
