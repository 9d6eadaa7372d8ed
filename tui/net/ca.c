/* net/ca: the CA bundle of the HTTPS clients that take --ca-file (Azure, the public OIDC issuer).
 */
#include <stdlib.h>

#include "idwatch/net.h"

int net_ca_bundle(const char *ca_file, char **pem, size_t *len, struct idw_err *err)
{
    *pem = NULL;
    *len = 0;
    if (!ca_file)
        return 0;
    char *extra;
    size_t extra_len;
    if (file_read_all(ca_file, 16u << 20, &extra, &extra_len, err) != 0)
        return idw_err_prefix(err, "--ca-file");
    struct idw_buf b = {0};
    const char *paths[] = {getenv("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt",
                           "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char *data;
        size_t dl;
        if (paths[i] && file_read_all(paths[i], 16u << 20, &data, &dl, NULL) == 0) {
            buf_append(&b, data, dl);
            buf_puts(&b, "\n");
            free(data);
            break;
        }
    }
    buf_append(&b, extra, extra_len);
    free(extra);
    *pem = b.data;
    *len = b.len;
    return 0;
}
