/* HTTPS through libmicrohttpd's GnuTLS support: the certificate chain and private key
 * are read from their PEM files at every server start, so a reload (SIGHUP, a new server
 * generation) serves renewed certificates without a restart. */
#ifndef FOLIO_SERVER_TLS_H
#define FOLIO_SERVER_TLS_H

#include <stddef.h>

#include "folio/folio.h"

#define FOLIO_TLS_PEM_MAX (1u << 20) /* a PEM file larger than this is refused */

/* Read the PEM file at `path` into *out (NUL-ended, owned: free with folio__tls_pem_free,
 * which wipes it: a private key is a secret). A key file (`secret`) readable by other
 * users is refused. FOLIO_OK; FOLIO_EIO with the reason in `err` (cannot open, not a
 * regular file, too large, not PEM); FOLIO_ENOMEM. Thread-safe. */
folio_status folio__tls_pem_read(const char *path, int secret, char **out,
                                 struct folio_error *err) FOLIO_MUST_CHECK;
void folio__tls_pem_free(char *pem);

/* Whether this libmicrohttpd can serve HTTPS. */
int folio__tls_supported(void);

#endif
