/*
 * port_inflate.c - the gzip inflater of the POSIX port: one zlib stream
 * per port (gzip wrapper, inflateInit2 with 16 + MAX_WBITS), fed in pieces
 * of any size, its output handed to the core's sink in chunks of at most
 * PORT_INFLATE_CHUNK bytes from a buffer inside the port. zlib checks the
 * member's CRC-32 and ISIZE; input after the end of the member (a second
 * member, trailing bytes) is an error, as haas_port.h wants.
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

/* The gzip member ended with `left` bytes of input not used: none is the
 * end of the package; any is a second member or trailing bytes (rule G3 of
 * the package rule list), refused rather than skipped. */
static int stream_ended(struct haas_posix_port *p, size_t left)
{
    if (left == 0) {
        p->z_state = PORT_Z_ENDED;
        return 1;
    }
    port_logf(p, HAAS_LOG_WARN, "inflate: %zu bytes after the end of the gzip stream "
              "(a second gzip member or trailing data)", left);
    p->z_state = PORT_Z_FAILED;
    return HAAS_PORT_ERR_TRAILING;
}

/* One inflate() into the port's buffer, the output handed to the sink.
 * Returns 0 to go on, 1 at the end of the stream, or a negative error. */
static int inflate_step(struct haas_posix_port *p, haas_sink_fn out, void *core)
{
    z_stream *zs = &p->zs;
    zs->next_out = p->zbuf;
    zs->avail_out = sizeof p->zbuf;
    int zr = inflate(zs, Z_NO_FLUSH);
    size_t have = sizeof p->zbuf - zs->avail_out;
    if (zr == Z_NEED_DICT || zr == Z_DATA_ERROR || zr == Z_MEM_ERROR || zr == Z_STREAM_ERROR) {
        /* corrupt deflate data, or a wrong CRC-32 / ISIZE in the trailer */
        port_logf(p, HAAS_LOG_WARN, "inflate: %s", zs->msg ? zs->msg : "corrupt data");
        p->z_state = PORT_Z_FAILED;
        return HAAS_PORT_ERR;
    }
    if (have > 0 && out(core, p->zbuf, have) != 0) {
        p->z_state = PORT_Z_FAILED;
        return HAAS_PORT_ERR_ABORTED;
    }
    if (zr == Z_STREAM_END)
        return 1;
    if (zr == Z_BUF_ERROR && have == 0 && zs->avail_in > 0) {
        /* cannot happen with room in the output buffer, but never spin */
        p->z_state = PORT_Z_FAILED;
        return HAAS_PORT_ERR;
    }
    return 0;
}

static int z_feed(void *ctx, const uint8_t *in, size_t len, haas_sink_fn out, void *core)
{
    struct haas_posix_port *p = ctx;
    if (p->z_state == PORT_Z_ENDED)
        return len == 0 ? 1 : stream_ended(p, len); /* fed again after the end */
    if (p->z_state != PORT_Z_RUNNING || !out || (!in && len))
        return HAAS_PORT_ERR;
    z_stream *zs = &p->zs;
    for (;;) {
        /* zlib counts input in uInt: hand it over in pieces. */
        if (zs->avail_in == 0 && len > 0) {
            uInt piece = len > 0x40000000u ? 0x40000000u : (uInt)len;
            zs->next_in = in;
            zs->avail_in = piece;
            in += piece;
            len -= piece;
        }
        int r = inflate_step(p, out, core);
        if (r == 1)
            return stream_ended(p, zs->avail_in + len);
        if (r < 0)
            return r;
        if (zs->avail_in == 0 && len == 0 && zs->avail_out != 0)
            break; /* all input used, no output pending */
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
