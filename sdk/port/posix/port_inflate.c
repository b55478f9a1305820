/*
 * port_inflate.c - the gzip inflater of the POSIX port: one zlib stream
 * per port (gzip wrapper, inflateInit2 with 16 + MAX_WBITS), fed in pieces
 * of any size, its output handed to the core's sink in chunks of at most
 * PORT_INFLATE_CHUNK bytes from a buffer inside the port.
 */
#define ZLIB_CONST
#include <string.h>

#include "port_internal.h"

static void stop_stream(struct haas_posix_port *p)
{
    if (p->z_state != PORT_Z_IDLE)
        inflateEnd(&p->zs);
    p->z_state = PORT_Z_IDLE;
}

static int z_begin(void *ctx)
{
    struct haas_posix_port *p = ctx;
    stop_stream(p);
    memset(&p->zs, 0, sizeof p->zs);
    if (inflateInit2(&p->zs, 16 + MAX_WBITS) != Z_OK) {
        port_logf(p, HAAS_LOG_ERROR, "inflateInit2 failed");
        return HAAS_PORT_ERR;
    }
    p->z_state = PORT_Z_RUNNING;
    return HAAS_PORT_OK;
}

static int z_feed(void *ctx, const uint8_t *in, size_t len, haas_sink_fn out, void *core)
{
    struct haas_posix_port *p = ctx;
    if (p->z_state == PORT_Z_ENDED)
        return 1;
    if (p->z_state != PORT_Z_RUNNING || !out || (!in && len))
        return HAAS_PORT_ERR;
    z_stream *zs = &p->zs;
    while (len > 0 || zs->avail_in > 0 || zs->avail_out == 0) {
        /* zlib counts input in uInt: hand it over in pieces. */
        if (zs->avail_in == 0 && len > 0) {
            uInt piece = len > 0x40000000u ? 0x40000000u : (uInt)len;
            zs->next_in = in;
            zs->avail_in = piece;
            in += piece;
            len -= piece;
        }
        zs->next_out = p->zbuf;
        zs->avail_out = sizeof p->zbuf;
        int zr = inflate(zs, Z_NO_FLUSH);
        size_t have = sizeof p->zbuf - zs->avail_out;
        if (zr == Z_NEED_DICT || zr == Z_DATA_ERROR || zr == Z_MEM_ERROR || zr == Z_STREAM_ERROR) {
            port_logf(p, HAAS_LOG_WARN, "inflate: %s", zs->msg ? zs->msg : "corrupt data");
            p->z_state = PORT_Z_FAILED;
            return HAAS_PORT_ERR;
        }
        if (have > 0 && out(core, p->zbuf, have) != 0) {
            p->z_state = PORT_Z_FAILED;
            return HAAS_PORT_ERR_ABORTED;
        }
        if (zr == Z_STREAM_END) {
            p->z_state = PORT_Z_ENDED;
            return 1;
        }
        if (zr == Z_BUF_ERROR && zs->avail_in == 0 && len == 0)
            break; /* all input used, no output pending */
        if (zr == Z_BUF_ERROR && have == 0 && zs->avail_in > 0) {
            /* cannot happen with room in the output buffer, but never spin */
            p->z_state = PORT_Z_FAILED;
            return HAAS_PORT_ERR;
        }
        if (zs->avail_out != 0 && zs->avail_in == 0 && len == 0)
            break;
    }
    zs->next_in = NULL;
    return 0;
}

static void z_end(void *ctx)
{
    stop_stream(ctx);
}

void port_inflate_cleanup(struct haas_posix_port *p)
{
    stop_stream(p);
}

void port_inflate_fill(haas_port *out)
{
    out->inflate_begin = z_begin;
    out->inflate_feed = z_feed;
    out->inflate_end = z_end;
}
