/*
 * ids.c - random identifiers (see ids.h). Uniform over the alphabet by
 * rejection sampling, so secrets carry their full entropy.
 *
 * Repeatable mode (ids_use_seed, for --clock virtual): the bytes come from
 * splitmix64 over a fixed seed instead of OpenSSL, so two runs of one
 * script make the same ids and secrets. Those are not secret at all: the
 * mode is for tests only, and haas-emu says so at start.
 */
#include "ids.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdbool.h>

static bool repeatable;
static uint64_t state;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void ids_use_seed(uint64_t seed)
{
    state = seed;
    repeatable = true;
}

/* n bytes of splitmix64 (repeatable mode). */
static void seeded_bytes(unsigned char *buf, size_t n)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n; i += 8) {
        uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        for (size_t k = 0; k < 8 && i + k < n; k++)
            buf[i + k] = (unsigned char)(z >> (8 * k));
    }
    pthread_mutex_unlock(&lock);
}

int ids_bytes(unsigned char *buf, size_t n)
{
    if (repeatable) {
        seeded_bytes(buf, n);
        return 0;
    }
    return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

static int random_from(const char *alphabet, unsigned size, char *out, size_t n)
{
    /* Largest multiple of size below 256: bytes above it are redrawn. */
    unsigned limit = 256 - (256 % size);
    size_t filled = 0;
    unsigned char buf[64];
    while (filled < n) {
        if (ids_bytes(buf, sizeof buf) < 0)
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
