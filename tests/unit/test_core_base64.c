/* core: base64 and base64url over OpenSSL (RFC 4648 vectors, strictness, round trips). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "idwatch/core.h"

static void expect_encode(const void *data, size_t n, bool url, const char *want)
{
    char *e = b64_encode(data, n, url);
    assert_string_equal(e, want);
    free(e);
}

/* Decodes s (whole string) and checks the result is want (n bytes) and NUL-terminated. */
static void expect_decode(const char *s, bool url, const void *want, size_t n)
{
    unsigned char *out = NULL;
    size_t len = 99;
    assert_int_equal(b64_decode(s, strlen(s), url, &out, &len), 0);
    assert_int_equal(len, n);
    assert_memory_equal(out, want, n);
    assert_int_equal(out[len], '\0');
    free(out);
}

static void expect_reject(const char *s, size_t len, bool url)
{
    unsigned char *out = (unsigned char *)"untouched";
    size_t n = 7;
    assert_int_equal(b64_decode(s, len, url, &out, &n), -1);
    assert_string_equal((char *)out, "untouched");
    assert_int_equal(n, 7);
}

/* RFC 4648 §10: the same vectors, std padded and url unpadded. */
static const char *const rfc_vectors[][3] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rfc_vectors / sizeof rfc_vectors[0]; i++) {
        const char *plain = rfc_vectors[i][0], *std = rfc_vectors[i][1], *url = rfc_vectors[i][2];
        expect_encode(plain, strlen(plain), false, std);
        expect_encode(plain, strlen(plain), true, url);
        /* padding optional both ways */
        expect_decode(std, false, plain, strlen(plain));
        expect_decode(url, false, plain, strlen(plain));
        expect_decode(std, true, plain, strlen(plain));
        expect_decode(url, true, plain, strlen(plain));
    }
}

/* The two alphabets differ in 62 and 63 only. */
static void test_alphabets(void **state)
{
    (void)state;
    static const unsigned char b62[] = {0xfb, 0xef, 0xbe}, b63[] = {0xff, 0xff, 0xff},
                               tail[] = {0xfb, 0xff};
    expect_encode(b62, 3, false, "++++");
    expect_encode(b62, 3, true, "----");
    expect_encode(b63, 3, true, "____");
    expect_encode(tail, 2, false, "+/8=");
    expect_encode(tail, 2, true, "-_8");

    expect_decode("-_8", true, tail, 2);
    expect_decode("+/8=", false, tail, 2);
    expect_decode("+/8", true, tail, 2); /* url tolerates the std characters */
    expect_reject("-_8", 3, false);      /* std does not take the url ones */
    expect_reject("----", 4, false);
    expect_decode("____", true, b63, 3);
}

static void test_padding(void **state)
{
    (void)state;
    expect_decode("Zm9=", false, "fo", 2);
    expect_decode("Zm9", false, "fo", 2);
    expect_reject("Zg=", 3, false);      /* half padding */
    expect_reject("Zg===", 5, false);    /* too much */
    expect_reject("Zm9v=", 5, true);     /* padding where none is due */
    expect_reject("Zg==Zg==", 8, false); /* data after padding (EVP would decode it) */
    expect_reject("Zg=a", 4, true);
    expect_reject("a=bc", 4, false);
    expect_reject("=", 1, false);
    expect_reject("====", 4, false);
    expect_reject("Z", 1, true); /* 4k+1 characters can never be valid */
    expect_reject("Zm9vY", 5, false);
}

static void test_whitespace(void **state)
{
    (void)state;
    expect_decode("Zm9v\nYmFy\r\n", false, "foobar", 6);
    expect_decode("  Zm 9v\tYm E= \v\f", false, "fooba", 5);
    expect_decode("Zg=\n=", false, "f", 1);
    expect_decode(" \n\t", false, "", 0);
    expect_reject("Zm9v\nYmFy", 9, true); /* base64url has no line breaks */
    expect_reject(" Zm9v", 5, true);
    expect_reject("Zm9v ", 5, true);
}

static void test_invalid_characters(void **state)
{
    (void)state;
    expect_reject("Zm9v!A==", 8, false);
    expect_reject("Zm.v", 4, true);
    expect_reject("Zm\0v", 4, false); /* NUL inside the given length */
    expect_reject("Zm9\xc3", 4, true);
    expect_reject("Zm9\x80YmFy", 8, false);
    expect_reject("aGV*bG8=", 8, false);
    /* the length bounds the input: a bad character after it is not read */
    expect_decode("Zm9v", false, "foo", 3);
    unsigned char *out = NULL;
    size_t n = 0;
    assert_int_equal(b64_decode("Zm9v!!", 4, true, &out, &n), 0);
    assert_int_equal(n, 3);
    free(out);
}

static void test_empty(void **state)
{
    (void)state;
    expect_encode("", 0, false, "");
    expect_encode(NULL, 0, true, "");
    unsigned char *out = NULL;
    size_t n = 5;
    assert_int_equal(b64_decode("", 0, true, &out, &n), 0);
    assert_int_equal(n, 0);
    assert_non_null(out);
    assert_int_equal(out[0], '\0');
    free(out);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void round_trip(const unsigned char *data, size_t n, bool url)
{
    char *e = b64_encode(data, n, url);
    size_t el = strlen(e);
    if (url) {
        assert_int_equal(el, n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0));
        assert_null(strpbrk(e, "+/="));
    } else {
        assert_int_equal(el, (n + 2) / 3 * 4);
        assert_null(strpbrk(e, "-_"));
    }
    unsigned char *out = NULL;
    size_t len = 0;
    assert_int_equal(b64_decode(e, el, url, &out, &len), 0);
    assert_int_equal(len, n);
    if (n)
        assert_memory_equal(out, data, n);
    free(out);
    free(e);
}

/* Random bytes of every small length, then sizes past OpenSSL's int-sized slices. */
static void test_round_trips(void **state)
{
    (void)state;
    uint64_t seed = 0x9e3779b97f4a7c15u;
    unsigned char buf[300];
    for (size_t n = 0; n < sizeof buf; n++) {
        for (size_t i = 0; i < n; i++)
            buf[i] = (unsigned char)rng_next(&seed);
        round_trip(buf, n, false);
        round_trip(buf, n, true);
    }
    static const size_t big[] = {49151, 49152, 49153, 200001};
    for (size_t b = 0; b < sizeof big / sizeof big[0]; b++) {
        unsigned char *d = xmalloc(big[b]);
        for (size_t i = 0; i < big[b]; i++)
            d[i] = (unsigned char)rng_next(&seed);
        round_trip(d, big[b], false);
        round_trip(d, big[b], true);
        free(d);
    }
}

/* Slicing must not change the text: a long encoding is the short one repeated. */
static void test_slices_agree(void **state)
{
    (void)state;
    size_t n = 3 * 40000; /* crosses a slice boundary */
    unsigned char *d = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        d[i] = "abc"[i % 3];
    char *e = b64_encode(d, n, false);
    assert_int_equal(strlen(e), n / 3 * 4);
    for (size_t i = 0; i < n / 3; i++)
        assert_memory_equal(e + 4 * i, "YWJj", 4);
    unsigned char *out = NULL;
    size_t len = 0;
    assert_int_equal(b64_decode(e, strlen(e), false, &out, &len), 0);
    assert_int_equal(len, n);
    assert_memory_equal(out, d, n);
    free(out);
    free(e);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_alphabets),
        cmocka_unit_test(test_padding),
        cmocka_unit_test(test_whitespace),
        cmocka_unit_test(test_invalid_characters),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_slices_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
