/* Fuzz target: query parameter parsing, sort specs and filters. The input is split into
 * "key=value" pairs on '&'; every parse must end in a status, never a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "folio/filter.h"
#include "folio/request.h"
#include "folio/sort.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct folio_param params[32];
    size_t n = 0;
    for (char *p = text; p && *p && n < 32;) {
        char *amp = strchr(p, '&');
        if (amp)
            *amp = '\0';
        char *eq = strchr(p, '=');
        if (eq)
            *eq++ = '\0';
        params[n++] = (struct folio_param){p, eq};
        p = amp ? amp + 1 : NULL;
    }
    static const char *const cols[] = {"id", "name", "price", "category"};
    static const char *const types[] = {"INTEGER", "TEXT", "REAL", ""};
    struct folio_filter_set fs;
    folio_filter_set_init(&fs);
    struct folio_request rq;
    struct folio_request_limits lim = {20, 100};
    struct folio_error err;
    if (folio_request_parse(&rq, params, n, &lim, NULL, NULL, &err) == FOLIO_OK && rq.sort) {
        struct folio_sort s;
        if (folio_sort_parse(&s, rq.sort, cols, 4, &err) == FOLIO_OK) {
            struct folio_buf b;
            folio_buf_init(&b, 1 << 16);
            (void)folio_sort_format(&b, &s, cols);
            folio_buf_clear(&b);
        }
    }
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 4; c++)
            if (strcmp(params[i].key, cols[c]) == 0 &&
                folio_filter_add(&fs, c, types[c], params[i].key, params[i].value, &err) !=
                    FOLIO_OK)
                continue; /* refused filters are expected; the set must stay usable */
    struct folio_buf b;
    folio_buf_init(&b, 1 << 20);
    struct folio_value vals[FOLIO_FILTER_MAX * 4 + FOLIO_FILTER_MAX_VALUES + 4];
    int next = 1;
    (void)folio_filter_where(&b, &fs, cols, FOLIO_PARAM_QNUM, &next, vals,
                             sizeof vals / sizeof vals[0]);
    (void)folio_filter_format(&b, &fs);
    folio_buf_clear(&b);
    folio_filter_set_clear(&fs);
    free(text);
    return 0;
}
