/* core: base64 and base64url (RFC 4648) on top of OpenSSL's EVP block codec. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "idwatch/core.h"

/* EVP works on int lengths: go through big inputs in slices (multiples of 3 and of 4). */
#define B64_SLICE_IN 49152u  /* bytes per encode call */
#define B64_SLICE_OUT 65536u /* characters per decode call */

char *b64_encode(const void *data, size_t n, bool url)
{
    const unsigned char *p = data;
    char *out = xmalloc(4 * (n / 3 + 1) + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i += B64_SLICE_IN) {
        size_t k = n - i < B64_SLICE_IN ? n - i : B64_SLICE_IN;
        o += (size_t)EVP_EncodeBlock((unsigned char *)out + o, p + i, (int)k);
    }
    out[o] = '\0';
    if (url) {
        while (o > 0 && out[o - 1] == '=')
            out[--o] = '\0';
        for (size_t i = 0; i < o; i++)
            out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    }
    return out;
}

static bool b64_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int b64_decode(const char *s, size_t len, bool url, unsigned char **out, size_t *out_len)
{
    /* Normalize to padded standard base64: drop whitespace (std), map -_ to +/ (url). EVP
     * decodes an interior '=' as zero bits, so '=' is only allowed as the final padding. */
    char *norm = xmalloc(len + 4);
    size_t m = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!url && b64_is_space(c))
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad)
            goto bad; /* data after padding */
        if (url)
            c = c == '-' ? '+' : c == '_' ? '/' : c;
        norm[m++] = (char)c;
    }
    size_t need = (4 - m % 4) % 4;
    if (m % 4 == 1 || (pad && pad != need))
        goto bad;
    for (size_t i = 0; i < need; i++)
        norm[m + i] = '=';
    size_t total = m + need;

    unsigned char *buf = xmalloc(total / 4 * 3 + 1);
    size_t o = 0;
    for (size_t i = 0; i < total; i += B64_SLICE_OUT) {
        size_t k = total - i < B64_SLICE_OUT ? total - i : B64_SLICE_OUT;
        int r = EVP_DecodeBlock(buf + o, (const unsigned char *)norm + i, (int)k);
        if (r < 0 || (size_t)r != k / 4 * 3) { /* bad character (EVP also trims ends: refuse) */
            free(buf);
            goto bad;
        }
        o += (size_t)r;
    }
    o -= need; /* EVP counts the padding as zero bytes */
    buf[o] = '\0';
    free(norm);
    *out = buf;
    *out_len = o;
    return 0;
bad:
    free(norm);
    return -1;
}
