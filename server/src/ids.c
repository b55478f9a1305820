/*
 * ids.c - random identifiers (see ids.h). Uniform over the alphabet by
 * rejection sampling, so secrets carry their full entropy.
 */
#include "ids.h"

#include <openssl/rand.h>

static int random_from(const char *alphabet, unsigned size, char *out, size_t n)
{
    /* Largest multiple of size below 256: bytes above it are redrawn. */
    unsigned limit = 256 - (256 % size);
    size_t filled = 0;
    unsigned char buf[64];
    while (filled < n) {
        if (RAND_bytes(buf, sizeof buf) != 1)
            return -1;
        for (size_t i = 0; i < sizeof buf && filled < n; i++)
            if (buf[i] < limit)
                out[filled++] = alphabet[buf[i] % size];
    }
    out[n] = '\0';
    return 0;
}

int ids_random_alnum(char *out, size_t n)
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    return random_from(alnum, 62, out, n);
}

int ids_random_hex(char *out, size_t n)
{
    return random_from("0123456789abcdef", 16, out, n);
}

int ids_product_key(char *out)
{
    out[0] = 'a';
    out[1] = '1';
    return ids_random_alnum(out + 2, 9);
}
