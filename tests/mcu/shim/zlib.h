/*
 * zlib.h (MCU shim) - the gzip writer the SDK's unit tests build packages
 * with (deflateInit2 with a gzip wrapper, deflateSetHeader with a name,
 * deflateBound, deflate(Z_FINISH) in one call, deflateEnd), answered by a
 * small deflater of this project (tests/mcu/mini_deflate.c: fixed Huffman
 * codes and greedy LZ77 matches), so that the device's inflater decodes
 * literals, lengths and distances on the target too. Inflating is not here:
 * on the MCU the tests' port double uses sdk/port/tiny's inflater.
 */
#ifndef MCU_ZLIB_SHIM_H
#define MCU_ZLIB_SHIM_H

#include <stddef.h>
#include <stdint.h>

typedef unsigned char Bytef;
typedef unsigned int uInt;
typedef unsigned long uLong;

#define Z_OK 0
#define Z_STREAM_END 1
#define Z_STREAM_ERROR (-2)
#define Z_FINISH 4
#define Z_DEFLATED 8
#define MAX_WBITS 15
#define Z_DEFAULT_STRATEGY 0

typedef struct {
    Bytef *name;
} gz_header;

typedef struct {
    const Bytef *next_in;
    uInt avail_in;
    Bytef *next_out;
    uInt avail_out;
    uLong total_out;
    const char *name; /* deflateSetHeader */
} z_stream;

int deflateInit2(z_stream *s, int level, int method, int window_bits, int mem_level, int strategy);
int deflateSetHeader(z_stream *s, gz_header *head);
uLong deflateBound(z_stream *s, uLong len);
int deflate(z_stream *s, int flush);
int deflateEnd(z_stream *s);

#endif
