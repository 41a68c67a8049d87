/* The Prefer request header (RFC 7240): see prefer.h. */
#include "server/prefer.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 tchar. */
static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* A token at p: its length (0 when there is none). */
static size_t token_len(const char *p)
{
    size_t n = 0;
    while (is_tchar(p[n]))
        n++;
    return n;
}

/* A word (token or quoted-string) at p, unquoted into out (at most out_size - 1 bytes,
 * longer values are cut: no value folio knows is long). The end of the word, or NULL on
 * a syntax error. */
static const char *word(const char *p, char *out, size_t out_size)
{
    size_t n = 0;
    if (*p != '"') {
        size_t len = token_len(p);
        if (len == 0)
            return NULL;
        for (size_t i = 0; i < len; i++)
            if (n + 1 < out_size)
                out[n++] = p[i];
        out[n] = '\0';
        return p + len;
    }
    for (p++; *p != '"'; p++) {
        if (*p == '\0')
            return NULL;
        if (*p == '\\' && *++p == '\0')
            return NULL;
        if (n + 1 < out_size)
            out[n++] = *p;
    }
    out[n] = '\0';
    return p + 1;
}

/* `name [= word]` at p (after OWS): name span and value; the end, or NULL on an error. */
static const char *name_value(const char *p, const char **name, size_t *name_len, char *value,
                              size_t value_size)
{
    *name = p;
    *name_len = token_len(p);
    value[0] = '\0';
    if (*name_len == 0)
        return NULL;
    const char *q = skip_ows(p + *name_len);
    if (*q != '=')
        return p + *name_len;
    return word(skip_ows(q + 1), value, value_size);
}

enum folio_count folio__prefer_count(const char *p)
{
    while (p != NULL && *p != '\0') {
        const char *name;
        size_t name_len;
        char value[16];
        const char *q = name_value(skip_ows(p), &name, &name_len, value, sizeof value);
        /* Parameters of this preference, up to the next comma. */
        while (q != NULL && *(q = skip_ows(q)) == ';') {
            const char *pn;
            size_t pn_len;
            char pv[16];
            q = skip_ows(q + 1);
            if (*q == ',' || *q == ';' || *q == '\0')
                continue; /* an empty parameter */
            q = name_value(q, &pn, &pn_len, pv, sizeof pv);
        }
        bool ok = q != NULL && (*q == ',' || *q == '\0');
        if (ok && name_len == 5 && strncasecmp(name, "count", 5) == 0) {
            if (strcmp(value, "exact") == 0)
                return FOLIO_COUNT_EXACT;
            if (strcmp(value, "planned") == 0 || strcmp(value, "estimated") == 0 ||
                strcmp(value, "estimate") == 0)
                return FOLIO_COUNT_ESTIMATE;
            if (strcmp(value, "none") == 0)
                return FOLIO_COUNT_NONE;
            return FOLIO_COUNT_DEFAULT;
        }
        if (!ok) { /* skip the malformed element, quotes included */
            bool quoted = false;
            for (q = p; *q != '\0' && (quoted || *q != ','); q++) {
                if (*q == '"')
                    quoted = !quoted;
                else if (*q == '\\' && quoted && q[1] != '\0')
                    q++;
            }
        }
        p = *q == ',' ? q + 1 : q;
    }
    return FOLIO_COUNT_DEFAULT;
}
